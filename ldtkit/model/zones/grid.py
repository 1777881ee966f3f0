"""Fallback zoning on a regular grid weighted by street length, for a city with no land-use data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np

from ldtkit.errors import InvalidValueError
from ldtkit.model.road_network import CONNECTOR_CLASS, RoadNetwork
from ldtkit.model.zones.cells import aggregate_to_cells, area_polygon, network_area, rescale_to_total, rescale_zones


def zones_from_network_grid(
    network: RoadNetwork,
    area: Any = None,
    *,
    cell_m: float = 500.0,
    population_total: float,
    jobs_total: float,
    local_classes: Sequence[str] | None = None,
    min_activity: float = 1.0,
) -> gpd.GeoDataFrame:
    """Fallback zoning: a regular grid, residents ∝ length of local streets, jobs ∝ all car-road length.

    A city with no land-use data still gets zones: where there are streets there are people.
    ``local_classes`` are the road classes counted for residents (default: all car links).
    """
    links = network.links[network.links["car_allowed"] & (network.links["road_class"] != CONNECTOR_CLASS)]
    if links.geometry.isna().all():
        raise InvalidValueError(f"network {network.name!r}: links have no geometry; a grid needs coordinates")
    mid = links.geometry.interpolate(0.5, normalized=True)
    L = links["length_m"].to_numpy(np.float64)
    local = np.ones(len(links), bool) if local_classes is None else links["road_class"].astype(str).isin(list(local_classes)).to_numpy()
    poly = network_area(network) if area is None else area_polygon(area, str(network.crs))
    pop = rescale_to_total(L * local, population_total, what="local street length")
    job = rescale_to_total(L, jobs_total, what="street length")
    zones = aggregate_to_cells(
        mid.x.to_numpy(),
        mid.y.to_numpy(),
        pop,
        job,
        area=poly,
        cell_m=cell_m,
        crs=str(network.crs),
        min_activity=min_activity,
        label="grid",
    )
    rescale_zones(zones, population_total, jobs_total)
    zones.attrs["source"] = "network grid"
    return zones
