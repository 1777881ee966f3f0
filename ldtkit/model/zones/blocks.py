"""Zones from city-block polygons (e.g. Athens' statistical blocks): residents by built block area."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from ldtkit.errors import ConfigError, UnreadableFormatError, require_file
from ldtkit.model.zones.cells import aggregate_to_cells, area_polygon


def zones_from_blocks(
    blocks: str | Path | gpd.GeoDataFrame,
    area: Any,
    *,
    crs: str,
    cell_m: float = 400.0,
    residents_per_ha: float | None = None,
    population_total: float | None = None,
    jobs_per_resident: float = 1.0,
    max_block_area_m2: float | None = None,
    min_activity: float = 1.0,
) -> gpd.GeoDataFrame:
    """Zones from city-block polygons: residents proportional to built block area.

    Parameters
    ----------
    blocks
        Polygons of the city's blocks (e.g. the 6,816 statistical blocks of the municipality of Athens).
    area
        The study area (blocks whose centroid lies outside are ignored).
    residents_per_ha
        Residents per hectare of block area; or give ``population_total`` for the *whole*
        blocks file (e.g. the municipality's census population), spread by block area.
    jobs_per_resident
        Jobs (and visits) per resident in the study area (> 1 in a central business district).
    max_block_area_m2
        Blocks larger than this are open space (parks, hills, archaeological sites) with no residents.
    """
    if isinstance(blocks, (str, Path)):
        path = require_file(blocks, what="city blocks file")
        try:
            blocks = gpd.read_file(path)
        except Exception as exc:
            raise UnreadableFormatError(path, expected="a vector file of block polygons", detail=str(exc)) from exc
    b = blocks.to_crs(crs)
    a_m2 = b.geometry.area.to_numpy()
    if max_block_area_m2 is not None:
        a_m2 = np.where(a_m2 > max_block_area_m2, 0.0, a_m2)
    if residents_per_ha is None:
        if population_total is None:
            raise ConfigError("zones_from_blocks: give residents_per_ha or population_total")
        residents_per_ha = float(population_total) / (a_m2.sum() / 1e4)
    pop = a_m2 / 1e4 * residents_per_ha
    job = pop * float(jobs_per_resident)
    pts = b.geometry.representative_point()
    zones = aggregate_to_cells(
        pts.x.to_numpy(), pts.y.to_numpy(), pop, job, area=area_polygon(area, crs), cell_m=cell_m, crs=crs,
        min_activity=min_activity, label="blk",
    )  # fmt: skip
    zones.attrs["source"] = "city blocks"
    zones.attrs["residents_per_ha"] = residents_per_ha
    return zones
