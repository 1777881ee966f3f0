"""The road network: the :class:`RoadNetwork` type and its constructors from files.

This is the front door for networks. The type, its table schema and checks live in
:mod:`ldtkit.model.road_network` (which reads no file format); each file format has its
loader in :mod:`ldtkit.model.loaders`. Both are re-exported here:

- :class:`RoadNetwork`, :class:`CSR`, :data:`LINK_COLUMNS`, :data:`NODE_COLUMNS`,
  :data:`CONNECTOR_CLASS`, :func:`conform_links`, :func:`conform_nodes`,
  :func:`check_links_reference_nodes`, :func:`utm_crs_for`;
- :func:`network_from_osm` (``.osm.pbf`` / ``.osm`` / ``.osm.gz``, :mod:`ldtkit.model.loaders.osm`);
- :func:`network_from_segments` (road-segment files such as Ghent's ``wegsegmenten``,
  :mod:`ldtkit.model.loaders.segments`);
- :func:`network_from_shapefiles` (links + nodes files with attributes given, e.g. Athens,
  :mod:`ldtkit.model.loaders.shapefiles`);
- :func:`network_from_tntp` (the TNTP research benchmark format, :mod:`ldtkit.model.loaders.tntp`).

Examples
--------
>>> from ldtkit.model.network import RoadNetwork, network_from_tntp
>>> net = network_from_tntp("TransportationNetworks/SiouxFalls")  # doctest: +SKIP
>>> net.n_links, net.n_nodes  # doctest: +SKIP
(76, 24)
"""

from __future__ import annotations

from ldtkit.model.loaders.osm import network_from_osm
from ldtkit.model.loaders.segments import network_from_segments
from ldtkit.model.loaders.shapefiles import network_from_shapefiles
from ldtkit.model.loaders.tntp import network_from_tntp
from ldtkit.model.road_network import (
    CONNECTOR_CLASS,
    CSR,
    LINK_COLUMNS,
    LINK_DEFAULTS,
    NODE_COLUMNS,
    CrsLike,
    RoadNetwork,
    check_links_reference_nodes,
    conform_links,
    conform_nodes,
    utm_crs_for,
)

__all__ = [
    "CONNECTOR_CLASS",
    "CSR",
    "LINK_COLUMNS",
    "LINK_DEFAULTS",
    "NODE_COLUMNS",
    "CrsLike",
    "RoadNetwork",
    "check_links_reference_nodes",
    "conform_links",
    "conform_nodes",
    "network_from_osm",
    "network_from_segments",
    "network_from_shapefiles",
    "network_from_tntp",
    "utm_crs_for",
]
