"""File formats a road network (and TNTP demand) is read from, one module per format.

- :mod:`~ldtkit.model.loaders.osm` — OpenStreetMap extracts (``.osm.pbf``, ``.osm``, ``.osm.gz``);
- :mod:`~ldtkit.model.loaders.segments` — road-segment files with a column mapping (e.g. Ghent);
- :mod:`~ldtkit.model.loaders.shapefiles` — a links file and a nodes file (e.g. Athens);
- :mod:`~ldtkit.model.loaders.tntp` — the TNTP research benchmark format (networks, trips, flows);
- :mod:`~ldtkit.model.loaders.common` — what the geographic loaders share: node snapping,
  direction expansion, cleanup to the largest strongly connected car component.

Each loader builds a :class:`~ldtkit.model.road_network.RoadNetwork`; the usual way in is
:mod:`ldtkit.model.network`, which re-exports the ``network_from_*`` constructors.
"""
