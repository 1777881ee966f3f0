"""Where a study counts its residents for the noise indicators: at their building's façades.

CNOSSOS-EU counts the people of a building at its façades (Directive 2015/996 Annex II as amended by
2021/1226): those of a single dwelling at its most exposed façade, those of an apartment building
shared among its façade points by façade length (:func:`~ldtkit.model.noise.shares_facades`). When a city has buildings (``[noise]
buildings``: OpenStreetMap footprints or city blocks), a study does the same: :func:`facade_receptors`
places receptors in front of the façades of the focus area's buildings
(:func:`~ldtkit.model.receptors.receptors_facades`, 2 m out, at 4 m) and shares the zones' residents
among the residential buildings (:func:`~ldtkit.model.noise.building_population`), once per city;
every scenario's façade map then gives the people per band through
:func:`~ldtkit.model.noise.facade_exposure`. A city without buildings keeps counting at the grid
receptors of its noise map, and so does a city whose residential buildings hold less than
:data:`MIN_PLACED_SHARE` of its zones' residents (an extract with a few mapped buildings only),
or that has none in its focus area (:func:`study_facades`).

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

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from ldtkit.errors import EmptyStudyAreaError, InvalidValueError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

    from ldtkit.model.buildings import Buildings
    from ldtkit.model.network import RoadNetwork
    from ldtkit.model.noise import NoisePropagation
    from ldtkit.model.noise.terrain import Terrain
    from ldtkit.model.receptors import Receptors
    from ldtkit.model.traffic import LinkTraffic
    from ldtkit.study.city import City
    from ldtkit.study.scenario import Scenario

FloatArray = npt.NDArray[np.float64]

#: Height of the façade receptors (m): the END's assessment height.
FACADE_HEIGHT_M: Final = 4.0
#: Distance of the façade receptors in front of the façade (m): the incident sound, without the façade's own reflection.
FACADE_OFFSET_M: Final = 2.0
#: Share of the zones' residents that the residential buildings must take for a study to count people at
#: façades; below it (the rest would be counted nowhere) the people are counted at the grid receptors.
MIN_PLACED_SHARE: Final = 0.9


@dataclass(frozen=True)
class FacadeReceptors:
    """The façade receptors of a study and the residents they count.

    Attributes
    ----------
    receptors
        Façade points of the focus area's lived-in buildings (``ids``: the row in :attr:`population`),
        each carrying an equal share of its building's residents.
    population
        Residents per building of the focus area (row order of the receptors' ``ids``).
    unplaced
        Residents of zones without any residential floor area (in no building; reported).
    placed_share
        Share of all the zones' residents that the city's residential buildings take (1 when ``unplaced`` is 0).
    spacing_m
        Distance between façade points along the outline (m).
    shared
        Per building: whether its residents are shared among its façade points, each share counted at
        its point's level (apartment blocks, untyped footprints), rather than all at its most exposed
        point (single dwellings; :func:`~ldtkit.model.noise.shares_facades`).
    """

    receptors: Receptors
    population: FloatArray
    unplaced: float
    placed_share: float
    spacing_m: float
    shared: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))

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
        When no building with residents lies in ``bounds``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from ldtkit.model.buildings import Buildings
    >>> b = Buildings.from_arrays(["a"], [shapely.box(0, 0, 20, 10)], [6.0], crs="EPSG:32629", kinds=["house"])
    >>> zones = gpd.GeoDataFrame({"population": [12.0]}, geometry=[shapely.box(-5, -5, 25, 15)], crs="EPSG:32629")
    >>> f = facade_receptors(b, zones, bounds=(0.0, 0.0, 20.0, 10.0), spacing_m=10.0)
    >>> len(f.receptors), round(float(f.receptors.population.sum()), 6)  # every 10 m of the 76 m outline 2 m out
    (7, 12.0)
    """
    import geopandas as gpd
    import shapely

    from ldtkit.model.noise import building_population, shares_facades
    from ldtkit.model.receptors import receptors_facades

    if not np.isfinite(spacing_m) or spacing_m <= 0:
        raise InvalidValueError(f"facade_receptors: spacing_m must be a number > 0, got {spacing_m}")
    focus = np.sort(np.asarray(buildings.index.query(shapely.box(*bounds), predicate="intersects"), dtype=np.int64))
    placed = building_population(buildings, zones)
    people = placed.population[focus]
    # points only where people live (an office's façade counts nobody); every building still screens and reflects
    lived = np.flatnonzero(people > 0)
    if len(lived) == 0:
        raise EmptyStudyAreaError(f"facade_receptors: no residential building with residents in the focus area {bounds}")
    frame = gpd.GeoDataFrame({"population": people[lived]}, geometry=buildings.polygons[focus[lived]], crs=buildings.crs)
    rec = receptors_facades(
        frame, crs=buildings.crs, spacing_m=spacing_m, offset_m=FACADE_OFFSET_M, height_m=height_m, population_column="population"
    )
    total = float(placed.population.sum()) + placed.unplaced
    share = float(placed.population.sum()) / total if total > 0 else 0.0
    rec = _own_facade_only(rec, lived[np.asarray(rec.ids, dtype=np.int64)], buildings, focus, people)
    rec = _every_building_counted(rec, buildings.polygons[focus], people)
    return FacadeReceptors(rec, people, placed.unplaced, share, float(spacing_m), shared=shares_facades(buildings)[focus])


def study_facades(
    buildings: Buildings, zones: gpd.GeoDataFrame, *, bounds: tuple[float, float, float, float], spacing_m: float
) -> FacadeReceptors | None:
    """:func:`facade_receptors` when a study counts its people at façades, else ``None`` (grid counting).

    ``None`` when no building with residents lies in ``bounds`` or when the residential buildings take
    less than :data:`MIN_PLACED_SHARE` of the zones' residents.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from ldtkit.model.buildings import Buildings
    >>> b = Buildings.from_arrays(["a"], [shapely.box(0, 0, 20, 10)], [6.0], crs="EPSG:32629", kinds=["office"])
    >>> zones = gpd.GeoDataFrame({"population": [30.0]}, geometry=[shapely.box(-5, -5, 25, 15)], crs="EPSG:32629")
    >>> study_facades(b, zones, bounds=(0.0, 0.0, 20.0, 10.0), spacing_m=5.0) is None  # offices only: nobody placed
    True
    """
    if len(buildings) == 0:
        return None
    try:
        f = facade_receptors(buildings, zones, bounds=bounds, spacing_m=spacing_m)
    except EmptyStudyAreaError:  # nobody lives in the focus area's buildings
        return None
    return f if f.placed_share >= MIN_PLACED_SHARE else None


class StudyInputs(Protocol):
    """What :func:`with_facades` reads of a city's shared inputs (:class:`~ldtkit.study.runner.CityInputs`)."""

    city: City
    network: RoadNetwork
    noise_buildings: Buildings | None
    noise_terrain: Terrain | None
    facades: FacadeReceptors | None
    facade_propagation: NoisePropagation | None


class StudyResult(Protocol):
    """What :func:`with_facades` reads of a scenario's result (:class:`~ldtkit.study.runner.ScenarioResult`, a dataclass)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def scenario(self) -> Scenario: ...

    @property
    def traffic(self) -> dict[str, LinkTraffic]: ...

    @property
    def seconds(self) -> dict[str, float]: ...


R = TypeVar("R", bound=StudyResult)


def with_facades(inputs: StudyInputs, result: R, *, warm_start: StudyResult | None = None) -> R:
    """``result`` with its façade map and the people per building's most exposed façade, in a city with
    buildings (else ``result`` itself).

    The façade map has the grid map's settings (the city's ``[noise]``, buildings, reflections;
    ``warm_start``'s traffic, the baseline's, placing the far-field sources) and is computed in full for
    every scenario, on the propagation geometry prepared once (``inputs.facade_propagation``). An update
    from the baseline's map (as for the grid, :func:`~ldtkit.model.noise.update_noise`) gains little
    here: the changed roads' paths to façades are all evaluated with their reflections, and on the Athens
    façades (58,000 points) updating the wider Great Walk took 37 s where the full map took 27 s.

    Examples
    --------
    >>> closed = with_facades(inputs, closed, warm_start=baseline)  # doctest: +SKIP
    >>> closed.facades.exposure()["Lden >=75"]  # doctest: +SKIP
    """
    from ldtkit.model.noise import compute_noise_many, facade_exposure
    from ldtkit.study.inputs import city_noise_propagation

    f = inputs.facades
    if f is None:
        return result
    t0 = time.perf_counter()
    cfg = inputs.city.config.noise
    if inputs.facade_propagation is None:  # the geometry of every façade map of the city: prepared once
        inputs.facade_propagation = city_noise_propagation(
            inputs.city, inputs.network, f.receptors, buildings=inputs.noise_buildings, terrain=inputs.noise_terrain
        )
    reference = warm_start.traffic if warm_start is not None else result.traffic
    name = result.scenario.name
    m = compute_noise_many(
        inputs.network, {name: result.traffic}, f.receptors, reference_traffic=reference, coefficients=cfg.coefficients,
        surface=cfg.surface, propagation=inputs.facade_propagation,
    )[name]  # fmt: skip
    seconds = {**result.seconds, "noise_facades": time.perf_counter() - t0}
    return replace(result, noise_facades=m, facades=facade_exposure(m, f.population, share_facades=f.shared), seconds=seconds)


def facades_for(
    city: City, network: RoadNetwork, buildings: Buildings, zones: pd.DataFrame | None, *, spacing_m: float
) -> FacadeReceptors | None:
    """The façade receptors of a study of ``city`` (:func:`study_facades` over its focus area, its zones'
    residents); ``None`` (people counted on the grid) without zone residents or buildings that hold them.

    Examples
    --------
    >>> f = facades_for(city, inputs.network, inputs.noise_buildings, inputs.zones, spacing_m=5.0)  # doctest: +SKIP
    """
    from ldtkit.study.inputs import focus_bounds, zone_population

    people = zone_population(city, network, zones)
    if people is None:
        return None
    return study_facades(buildings, people, bounds=focus_bounds(city, network), spacing_m=spacing_m)


def _own_facade_only(
    rec: Receptors, row: npt.NDArray[np.int64], buildings: Buildings, focus: npt.NDArray[np.int64], people: FloatArray
) -> Receptors:
    """``rec`` (of the focus buildings' rows ``row``) without the points nearer to another building than to their
    own (inside it, or in front of its façade): :func:`~ldtkit.model.receptors.receptors_facades` saw the
    lived-in buildings only. Each building's ``people`` are shared again among the points it keeps."""
    import shapely

    from ldtkit.model.receptors import Receptors

    pts = shapely.points(rec.x, rec.y)
    own = shapely.distance(pts, buildings.polygons[focus[row]])
    _, nearest = buildings.index.query_nearest(pts, return_distance=True, all_matches=False)
    keep = own <= nearest + 1e-6
    row = row[keep]
    share = people[row] / np.bincount(row, minlength=len(people))[row]
    return Receptors(
        x=rec.x[keep], y=rec.y[keep], z=rec.z[keep], population=share, crs=rec.crs, kind="facade", ids=row, meta=dict(rec.meta)
    )


def _every_building_counted(rec: Receptors, polygons: npt.NDArray[np.object_], people: FloatArray) -> Receptors:
    """``rec`` plus, for each lived-in building left without a façade point of its own, a point at the nearest
    façade point of another building, carrying its residents.

    A building loses its points when each lies nearer to a neighbour than to itself (a terraced house
    whose points fell at the party walls, a building enclosed by others). Its residents live behind the
    nearest free façade; counting them there keeps every resident in the bands (or below them).
    """
    import shapely

    from ldtkit.model.receptors import Receptors

    row = np.asarray(rec.ids, dtype=np.int64)
    lost = np.flatnonzero((np.bincount(row, minlength=len(people)) == 0) & (people > 0))
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


__all__ = [
    "FACADE_HEIGHT_M",
    "FACADE_OFFSET_M",
    "MIN_PLACED_SHARE",
    "FacadeReceptors",
    "facade_receptors",
    "facades_for",
    "study_facades",
    "with_facades",
]
