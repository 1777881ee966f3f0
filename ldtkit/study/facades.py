"""Where a study counts its residents for the noise indicators: at their building's most exposed façade.

The END counts the people of a dwelling at the most exposed façade of their building (Directive
2002/49/EC Annex VI; CNOSSOS-EU's assessment method). When a city has buildings (``[noise]
buildings``: OpenStreetMap footprints or city blocks), a study does the same: :func:`facade_receptors`
places receptors in front of the façades of the focus area's buildings
(:func:`~ldtkit.model.receptors.receptors_facades`, 2 m out, at 4 m) and shares the zones' residents
among the residential buildings (:func:`~ldtkit.model.noise.building_population`), once per city;
every scenario's façade map then gives the people per band through
:func:`~ldtkit.model.noise.facade_exposure`. A city without buildings keeps counting at the grid
receptors of its noise map.

Examples
--------
>>> import geopandas as gpd, shapely
>>> from ldtkit.model.buildings import Buildings
>>> b = Buildings.from_arrays(["a", "b"], [shapely.box(0, 0, 20, 10), shapely.box(40, 0, 60, 10)], [6.0, 6.0],
...                           crs="EPSG:32629", kinds=["house", "house"])
>>> zones = gpd.GeoDataFrame({"population": [30.0]}, geometry=[shapely.box(-5, -5, 65, 15)], crs="EPSG:32629")
>>> f = facade_receptors(b, zones, bounds=(-10.0, -10.0, 30.0, 20.0), spacing_m=5.0)
>>> f.n_buildings, float(f.population.sum()), f.receptors.kind
(1, 15.0, 'facade')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from ldtkit.errors import InvalidValueError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

    from ldtkit.model.buildings import Buildings
    from ldtkit.model.receptors import Receptors

FloatArray = npt.NDArray[np.float64]

#: Height of the façade receptors (m): the END's assessment height.
FACADE_HEIGHT_M: Final = 4.0
#: Distance of the façade receptors in front of the façade (m): the incident sound, without the façade's own reflection.
FACADE_OFFSET_M: Final = 2.0


@dataclass(frozen=True)
class FacadeReceptors:
    """The façade receptors of a study and the residents they count.

    Attributes
    ----------
    receptors
        Façade points of the focus area's buildings (``ids``: the row in :attr:`population`),
        each carrying an equal share of its building's residents.
    population
        Residents per building of the focus area (row order of the receptors' ``ids``).
    unplaced
        Residents of zones without any residential floor area (counted nowhere; reported).
    spacing_m
        Distance between façade points along the outline (m).
    """

    receptors: Receptors
    population: FloatArray
    unplaced: float
    spacing_m: float

    @property
    def n_buildings(self) -> int:
        """Buildings of the focus area (with or without residents)."""
        return len(self.population)


def facade_receptors(
    buildings: Buildings,
    zones: gpd.GeoDataFrame,
    *,
    bounds: tuple[float, float, float, float],
    spacing_m: float,
    height_m: float = FACADE_HEIGHT_M,
) -> FacadeReceptors:
    """Façade receptors of the buildings that intersect ``bounds`` and their residents.

    Parameters
    ----------
    buildings
        Every building of the city (they all count for the zones' floor area).
    zones
        Polygons with a ``population`` column in the buildings' CRS or any CRS set on them
        (:func:`~ldtkit.study.inputs.zone_population`).
    bounds
        ``(xmin, ymin, xmax, ymax)`` of the focus area in the buildings' CRS.
    spacing_m
        Distance between façade points along each outline (m).
    height_m
        Height of the points above ground (m).

    Raises
    ------
    InvalidValueError
        When ``spacing_m`` is not a positive number.
    EmptyStudyAreaError
        When no building polygon lies in ``bounds``.
    """
    import geopandas as gpd
    import shapely

    from ldtkit.model.noise import building_population
    from ldtkit.model.receptors import receptors_facades

    if not np.isfinite(spacing_m) or spacing_m <= 0:
        raise InvalidValueError(f"facade_receptors: spacing_m must be a number > 0, got {spacing_m}")
    focus = np.sort(np.asarray(buildings.index.query(shapely.box(*bounds), predicate="intersects"), dtype=np.int64))
    placed = building_population(buildings, zones)
    people = placed.population[focus]
    frame = gpd.GeoDataFrame({"population": people}, geometry=buildings.polygons[focus], crs=buildings.crs)
    rec = receptors_facades(
        frame, crs=buildings.crs, spacing_m=spacing_m, offset_m=FACADE_OFFSET_M, height_m=height_m, population_column="population"
    )
    return FacadeReceptors(_every_building_counted(rec, frame.geometry.to_numpy(), people), people, placed.unplaced, float(spacing_m))


def _every_building_counted(rec: Receptors, polygons: npt.NDArray[np.object_], people: FloatArray) -> Receptors:
    """``rec`` plus, for each building left without a façade point of its own, a point at the nearest
    façade point of another building, carrying its residents.

    A building loses its points when each lies nearer to a neighbour than to itself (a terraced house
    whose points fell at the party walls, a building enclosed by others). Its residents live behind the
    nearest free façade; counting them there keeps every resident in the bands (or below them).
    """
    import shapely

    from ldtkit.model.receptors import Receptors

    row = np.asarray(rec.ids, dtype=np.int64)
    lost = np.flatnonzero(np.bincount(row, minlength=len(people)) == 0)
    if len(lost) == 0:
        return rec
    _, nearest = shapely.STRtree(shapely.points(rec.x, rec.y)).query_nearest(polygons[lost], all_matches=False)
    return Receptors(
        x=np.concatenate([rec.x, rec.x[nearest]]),
        y=np.concatenate([rec.y, rec.y[nearest]]),
        z=np.concatenate([rec.z, rec.z[nearest]]),
        population=np.concatenate([rec.population, people[lost]]),
        crs=rec.crs,
        kind="facade",
        ids=np.concatenate([row, lost]),
        meta={**rec.meta, "buildings_at_a_neighbour_facade": int(len(lost))},
    )


__all__ = ["FACADE_HEIGHT_M", "FACADE_OFFSET_M", "FacadeReceptors", "facade_receptors"]
