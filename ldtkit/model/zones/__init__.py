"""Zones of a study area, their population and activity proxies, and their connection to the network.

A zones table is a GeoDataFrame in the network's metric CRS with one row per zone:

``zone`` (str label), ``kind`` (``"internal"`` or ``"external"``), ``population``, ``jobs``,
``x``, ``y`` (where the centroid node goes), geometry (cell polygon; a point for external zones).
External zones also carry ``nodes_out`` / ``nodes_in`` (network node ids their connectors
leave to / come from) and ``weight`` (capacity of the road that crosses the boundary, PCU/h).

One module per kind of open data a city may have, each a builder of internal zones:

- :mod:`~ldtkit.model.zones.corine` — :func:`zones_from_corine`, a CORINE Land Cover raster (e.g. Ghent);
- :mod:`~ldtkit.model.zones.blocks` — :func:`zones_from_blocks`, city-block polygons (e.g. Athens' statistical blocks);
- :mod:`~ldtkit.model.zones.buildings` — :func:`zones_from_osm_buildings`, OSM building footprints × levels
  (e.g. Porto, any OSM city);
- :mod:`~ldtkit.model.zones.grid` — :func:`zones_from_network_grid`, a regular grid weighted by road length (fallback);

and one each for what every zoning shares:

- :mod:`~ldtkit.model.zones.cells` — the study area (:func:`area_polygon`, :func:`network_area`) and the
  aggregation of source points to square cells (:func:`aggregate_to_cells`, :func:`rescale_to_total`);
- :mod:`~ldtkit.model.zones.external` — :func:`external_zones`, where major roads cross the study-area boundary;
- :mod:`~ldtkit.model.zones.connectors` — :func:`connect_zones`, which adds zone centroid nodes and connector
  links to a :class:`~ldtkit.model.road_network.RoadNetwork`.

Each builder aggregates its source to a regular grid of ``cell_m`` cells clipped to the
study area; the centroid of a zone is the activity-weighted mean of its source points.
Assumptions (densities, floor area per resident or job) are module-level tables with
their sources; a city overrides them in ``[demand]`` of its ``city.toml``.

Examples
--------
>>> import numpy as np, shapely
>>> from ldtkit.model.zones import aggregate_to_cells
>>> z = aggregate_to_cells(np.array([100.0]), np.array([100.0]), np.array([10.0]), np.array([0.0]),
...                        area=shapely.box(0, 0, 1000, 1000), cell_m=500, crs="EPSG:3035")
>>> z["zone"].tolist()
['z0_0']
"""

from __future__ import annotations

from ldtkit.model.zones.blocks import zones_from_blocks
from ldtkit.model.zones.buildings import OSM_BUILDING_DEFAULTS, read_osm_buildings, zones_from_osm_buildings
from ldtkit.model.zones.cells import ZONE_COLUMNS, aggregate_to_cells, area_polygon, network_area, rescale_to_total, rescale_zones
from ldtkit.model.zones.connectors import (
    MainComponent,
    connect_zones,
    main_car_component,
    reattach_connectors,
    zones_access_report,
)
from ldtkit.model.zones.corine import CORINE_DENSITY_DEFAULTS, zones_from_corine
from ldtkit.model.zones.external import external_zones, network_external_zones
from ldtkit.model.zones.grid import zones_from_network_grid

__all__ = [
    "CORINE_DENSITY_DEFAULTS",
    "OSM_BUILDING_DEFAULTS",
    "ZONE_COLUMNS",
    "MainComponent",
    "aggregate_to_cells",
    "area_polygon",
    "connect_zones",
    "external_zones",
    "main_car_component",
    "network_area",
    "network_external_zones",
    "reattach_connectors",
    "read_osm_buildings",
    "rescale_to_total",
    "rescale_zones",
    "zones_from_blocks",
    "zones_from_corine",
    "zones_from_network_grid",
    "zones_access_report",
    "zones_from_osm_buildings",
]
