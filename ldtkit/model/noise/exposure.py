"""Exposure of people in buildings, as the END counts it: the most exposed façade of each dwelling.

Two steps after a façade map (:func:`~ldtkit.model.receptors.receptors_facades` receptors, 2 m in
front of the façades at 4 m, so the façade's own reflection is not counted, screened by the
buildings):

- :func:`building_population`: the zones' residents distributed to the residential buildings in
  each zone by floor area (footprint × storeys, storeys from the height at
  :data:`~ldtkit.model.buildings.LEVEL_HEIGHT_M` each); untagged OSM buildings (``yes``) count with
  the residential share of the OSM zoning, block polygons (no type) fully.
- :func:`facade_exposure`: per building the Lden and Lnight of its most exposed façade point and
  of its quietest (the quiet façade), and :meth:`BuildingExposure.exposure`, the people per END
  band of the most exposed façade.

Examples
--------
>>> import shapely
>>> from ldtkit.model.buildings import Buildings
>>> b = Buildings.from_arrays(["a", "b"], [shapely.box(0, 0, 10, 10), shapely.box(20, 0, 40, 10)], [6.0, 6.0],
...                           crs="EPSG:32629", kinds=["house", "house"])
>>> zones = gpd.GeoDataFrame({"population": [30.0]}, geometry=[shapely.box(-5, -5, 45, 15)], crs="EPSG:32629")
>>> building_population(b, zones).population.tolist()
[10.0, 20.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ldtkit.errors import InvalidValueError, MissingFieldError
from ldtkit.model.buildings import LEVEL_HEIGHT_M
from ldtkit.model.limits import LDEN_BANDS_DB, LNIGHT_BANDS_DB
from ldtkit.model.noise.maps import exposure_counts
from ldtkit.model.zones.buildings import OSM_BUILDING_DEFAULTS

if TYPE_CHECKING:
    from ldtkit.model.buildings import Buildings
    from ldtkit.model.noise.maps import NoiseMap

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BuildingPopulation:
    """Residents per building (``population``, aligned with the buildings), the residential floor area
    that carried them (m²) and the residents of zones without any residential building (not placed)."""

    population: FloatArray
    floor_area_m2: FloatArray
    unplaced: float


def building_population(
    buildings: Buildings,
    zones: gpd.GeoDataFrame,
    *,
    residential_types: Sequence[str] = tuple(OSM_BUILDING_DEFAULTS["residential_types"]),
    share_untagged: float = float(OSM_BUILDING_DEFAULTS["residential_share_untagged"]),
) -> BuildingPopulation:
    """Each zone's ``population`` shared among the residential buildings whose representative point
    lies in it, by residential floor area.

    Floor area is footprint × storeys (height / :data:`~ldtkit.model.buildings.LEVEL_HEIGHT_M`,
    at least one); a building of a ``residential_types`` kind or without a kind (block polygons)
    counts fully, an untagged one (``yes``) with ``share_untagged``, any other kind not at all.
    The residents of a zone without residential floor area are reported in ``unplaced``, never
    silently dropped.
    """
    if "population" not in zones.columns:
        raise MissingFieldError("zones", "population", expected="residents per zone")
    if not 0.0 <= share_untagged <= 1.0:
        raise InvalidValueError(f"building_population: share_untagged must be within [0, 1], got {share_untagged}")
    z = zones.to_crs(buildings.crs) if zones.crs is not None and buildings.crs is not None else zones
    pop = pd.to_numeric(z["population"], errors="coerce").fillna(0.0).to_numpy(np.float64)
    kinds = np.asarray(buildings.kinds if buildings.kinds else ("",) * len(buildings), dtype=object)
    share = np.where(np.isin(kinds, list(residential_types)) | (kinds == ""), 1.0, np.where(kinds == "yes", share_untagged, 0.0))
    storeys = np.maximum(np.round(buildings.height_m / LEVEL_HEIGHT_M), 1.0)
    floor = buildings.footprint_area_m2 * storeys * share
    pts = shapely.point_on_surface(buildings.polygons)
    b_idx, z_idx = shapely.STRtree(z.geometry.to_numpy()).query(pts, predicate="within")
    zone_of = np.full(len(buildings), -1, dtype=np.int64)
    zone_of[b_idx[::-1]] = z_idx[::-1]  # a point on a shared border: the first zone
    inside = zone_of >= 0
    zone_floor = np.bincount(zone_of[inside], weights=floor[inside], minlength=len(z))
    out = np.zeros(len(buildings))
    ok = inside & (floor > 0)
    out[ok] = pop[zone_of[ok]] * floor[ok] / zone_floor[zone_of[ok]]
    unplaced = float(pop[zone_floor <= 0].sum())
    return BuildingPopulation(out, floor, unplaced)


#: OSM building types of one dwelling (or one per floor): their residents count at the most exposed
#: façade (CNOSSOS-EU's first method); other residential buildings, apartment blocks among them,
#: may share their residents among their façade points (its second method, ``share_facades``).
SINGLE_DWELLING_TYPES: tuple[str, ...] = ("house", "detached", "semidetached_house", "terrace", "bungalow")


def _no_points() -> FloatArray:
    return np.zeros(0)


@dataclass(frozen=True)
class BuildingExposure:
    """Per building (rows of the buildings given to the façade receptors): the Lden and Lnight of the
    most exposed façade point and of the quietest one, the number of façade points and the residents.
    Buildings without a façade point have NaN levels.

    ``shared`` (per building) marks the buildings whose residents are shared equally among their façade
    points, each share counted at its point's level (``point_building``, ``point_lden_db``,
    ``point_lnight_db``); the others count at their most exposed façade point."""

    lden_db: FloatArray
    lnight_db: FloatArray
    lden_quiet_db: FloatArray
    lnight_quiet_db: FloatArray
    n_points: npt.NDArray[np.int64]
    population: FloatArray
    meta: dict[str, Any] = field(default_factory=dict, compare=False)
    shared: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    point_building: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    point_lden_db: FloatArray = field(default_factory=_no_points)
    point_lnight_db: FloatArray = field(default_factory=_no_points)

    def exposure(self) -> dict[str, float]:
        """People per END band, Lden 55–59 … ≥ 75, Lnight 50–54 … ≥ 70: at their building's most exposed
        façade, or, in a ``shared`` building, at the façade point whose share they are."""
        shared = self.shared if len(self.shared) == len(self.population) else np.zeros(len(self.population), dtype=bool)
        whole = np.where(shared, 0.0, self.population)
        out = {
            **exposure_counts(self.lden_db, whole, LDEN_BANDS_DB, name="Lden"),
            **exposure_counts(self.lnight_db, whole, LNIGHT_BANDS_DB, name="Lnight"),
        }
        if shared.any():
            b = self.point_building
            share = np.where(shared[b], self.population[b] / np.maximum(self.n_points[b], 1), 0.0)
            parts = {
                **exposure_counts(self.point_lden_db, share, LDEN_BANDS_DB, name="Lden"),
                **exposure_counts(self.point_lnight_db, share, LNIGHT_BANDS_DB, name="Lnight"),
            }
            out = {k: out[k] + parts[k] for k in out}
        return out

    def to_dataframe(self) -> pd.DataFrame:
        """One row per building with its levels, façade points and residents."""
        return pd.DataFrame(
            {
                "lden_db": self.lden_db, "lnight_db": self.lnight_db, "lden_quiet_db": self.lden_quiet_db,
                "lnight_quiet_db": self.lnight_quiet_db, "n_points": self.n_points, "population": self.population,
            }
        )  # fmt: skip


def facade_exposure(noise_map: NoiseMap, population: npt.ArrayLike, *, share_facades: npt.ArrayLike | None = None) -> BuildingExposure:
    """Most exposed and quiet façade levels per building from a map on façade receptors.

    ``noise_map`` must be computed on :func:`~ldtkit.model.receptors.receptors_facades` points
    (their ``ids`` are the building rows); ``population`` gives the residents of every building
    (e.g. :func:`building_population`), aligned with those rows. ``share_facades`` (a flag per
    building, e.g. :func:`shares_facades`) marks the buildings whose residents are shared equally
    among their façade points (points evenly spaced: by façade length), as CNOSSOS-EU assigns the
    residents of apartment buildings; the others, by default all, count at their most exposed point.
    """
    r = noise_map.receptors
    if r.kind != "facade" or r.ids is None:
        raise InvalidValueError(
            f"facade_exposure: the map's receptors are {r.kind!r} points; expected façade receptors (receptors_facades)"
        )
    pop = np.asarray(population, dtype=np.float64)
    row = np.asarray(r.ids, dtype=np.int64)
    if len(row) and row.max() >= len(pop):
        raise InvalidValueError(f"facade_exposure: façade points of building row {int(row.max())}; population has {len(pop)} buildings")
    n = len(pop)

    def _by_building(levels: FloatArray) -> tuple[FloatArray, FloatArray]:
        lv = np.asarray(levels, dtype=np.float64)
        ok = np.isfinite(lv)
        hi = np.full(n, -np.inf)
        lo = np.full(n, np.inf)
        np.maximum.at(hi, row[ok], lv[ok])
        np.minimum.at(lo, row[ok], lv[ok])
        seen = np.isfinite(hi)
        return np.where(seen, hi, np.nan), np.where(seen, lo, np.nan)

    lden_hi, lden_lo = _by_building(noise_map.lden_db)
    lnight_hi, lnight_lo = _by_building(noise_map.lnight_db)
    count = np.bincount(row, minlength=n).astype(np.int64)
    lost = float(pop[~np.isfinite(lden_hi)].sum())
    shared = np.zeros(n, dtype=bool) if share_facades is None else np.asarray(share_facades, dtype=bool)
    if shared.shape != (n,):
        raise InvalidValueError(f"facade_exposure: share_facades has {shared.size} flags; expected one per building ({n})")
    return BuildingExposure(
        lden_hi, lnight_hi, lden_lo, lnight_lo, count, pop, meta={"population_without_facade_level": lost}, shared=shared,
        point_building=row, point_lden_db=np.asarray(noise_map.lden_db, dtype=np.float64),
        point_lnight_db=np.asarray(noise_map.lnight_db, dtype=np.float64),
    )  # fmt: skip


def shares_facades(buildings: Buildings) -> npt.NDArray[np.bool_]:
    """Which buildings share their residents among their façade points: all but those of a
    :data:`SINGLE_DWELLING_TYPES` kind (blocks and untyped footprints share).

    Examples
    --------
    >>> import shapely
    >>> from ldtkit.model.buildings import Buildings
    >>> b = Buildings.from_arrays(["a", "b"], [shapely.box(0, 0, 10, 10), shapely.box(20, 0, 40, 10)], [6.0, 18.0],
    ...                           crs="EPSG:32629", kinds=["house", "apartments"])
    >>> shares_facades(b).tolist()
    [False, True]
    """
    kinds = np.asarray(buildings.kinds if buildings.kinds else ("",) * len(buildings), dtype=object)
    out: npt.NDArray[np.bool_] = ~np.isin(kinds, list(SINGLE_DWELLING_TYPES))
    return out
