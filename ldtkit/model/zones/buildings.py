"""Zones from OSM building footprints (e.g. Porto, any OSM city): floor area to residents and jobs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from ldtkit.errors import ConfigError
from ldtkit.model.zones.cells import aggregate_to_cells, area_polygon, rescale_to_total, rescale_zones

#: Floor area per resident / per job and default storeys for OSM buildings.
#: - 40 m² gross residential floor area per resident: Portugal's dwellings average ~ 100-110 m² for
#:   ~ 2.5 persons per household (INE Census 2021), i.e. ~ 40 m²/person; similar in most EU cities.
#: - 30 m² gross floor area per job: office planning norms are 15-25 m² net per workplace; shops,
#:   schools, hospitals and storage use more, so 30 m² gross is a blended assumption.
#: - Untagged (``building=yes``) buildings in a city centre are mostly mixed: 70 % residential.
#: - Storeys when ``building:levels`` is missing: 3 (median of tagged central buildings is 3-4).
OSM_BUILDING_DEFAULTS: dict[str, Any] = {
    "m2_per_resident": 40.0,
    "m2_per_job": 30.0,
    "default_levels": 3.0,
    "residential_share_untagged": 0.7,
    "residential_types": [
        "residential", "apartments", "house", "detached", "semidetached_house", "terrace", "dormitory", "bungalow",
    ],
    "ignore_types": [
        "roof", "collapsed", "ruins", "garage", "garages", "shed", "hut", "kiosk", "construction", "carport",
        "bunker", "service", "transformer_tower", "toilets",
    ],
}  # fmt: skip
#: everything else (commercial, office, retail, public, school, hospital, church, industrial, ...) hosts jobs/visits.


def _levels(tag: str | None) -> float:
    try:
        return float(tag.split(";")[0]) if tag else np.nan
    except ValueError:
        return np.nan


def read_osm_buildings(path: str | Path, *, crs: str) -> gpd.GeoDataFrame:
    """Building footprints from an OSM extract: ``building``, ``levels`` (NaN if untagged), area, centroid.

    Closed ways and multipolygon relations tagged ``building`` (outlines that do not close are skipped).
    """
    from ldtkit.model.loaders.osm_areas import read_osm_areas

    areas = read_osm_areas(path, keys=("building",), what="OSM PBF/XML")
    kinds = [t.get("building", "yes") for t in areas.tags]
    levels = [_levels(t.get("building:levels")) for t in areas.tags]
    wkbs = areas.wkb
    geom = shapely.from_wkb(wkbs) if wkbs else np.array([], dtype=object)
    gdf = gpd.GeoDataFrame({"building": kinds, "levels": np.asarray(levels, dtype=np.float64)}, geometry=geom, crs=4326)
    return gdf.to_crs(crs)


def zones_from_osm_buildings(
    buildings: str | Path | gpd.GeoDataFrame,
    area: Any,
    *,
    crs: str,
    cell_m: float = 500.0,
    options: Mapping[str, Any] | None = None,
    population_total: float | None = None,
    jobs_total: float | None = None,
    min_activity: float = 1.0,
) -> gpd.GeoDataFrame:
    """Zones from OSM buildings: footprint × storeys → floor area → residents and jobs.

    Residential floor area / ``m2_per_resident`` gives residents; other floor area /
    ``m2_per_job`` gives jobs (and visits); see :data:`OSM_BUILDING_DEFAULTS` for the
    assumptions and their sources, overridden by ``options``.

    Examples
    --------
    >>> z = zones_from_osm_buildings("data/porto/porto.osm.pbf", area, crs="EPSG:32629")  # doctest: +SKIP
    """
    opt = {**OSM_BUILDING_DEFAULTS, **dict(options or {})}
    unknown = sorted(set(opt) - set(OSM_BUILDING_DEFAULTS))
    if unknown:
        raise ConfigError(f"OSM building options: unknown keys {unknown}; expected {sorted(OSM_BUILDING_DEFAULTS)}")
    b = read_osm_buildings(buildings, crs=crs) if isinstance(buildings, (str, Path)) else buildings.to_crs(crs)
    kind = b["building"].astype(str).to_numpy()
    b = b[~np.isin(kind, list(opt["ignore_types"]))]
    kind = b["building"].astype(str).to_numpy()
    floor = b.geometry.area.to_numpy() * np.where(
        np.isfinite(b["levels"].to_numpy()), np.maximum(b["levels"].to_numpy(), 1.0), float(opt["default_levels"])
    )
    res_share = np.where(
        np.isin(kind, list(opt["residential_types"])), 1.0, np.where(kind == "yes", float(opt["residential_share_untagged"]), 0.0)
    )
    pop = floor * res_share / float(opt["m2_per_resident"])
    job = floor * (1.0 - res_share) / float(opt["m2_per_job"])
    pop = rescale_to_total(pop, population_total, what="residents")
    job = rescale_to_total(job, jobs_total, what="jobs")
    pts = b.geometry.representative_point()
    zones = aggregate_to_cells(
        pts.x.to_numpy(), pts.y.to_numpy(), pop, job, area=area_polygon(area, crs), cell_m=cell_m, crs=crs,
        min_activity=min_activity, label="osm",
    )  # fmt: skip
    rescale_zones(zones, population_total, jobs_total)
    zones.attrs["source"] = "OSM buildings"
    zones.attrs["buildings"] = int(len(b))
    return zones
