"""The models: pure functions on arrays, tables and dataclasses, knowing nothing of studies or files of a city.

- :mod:`~ldtkit.model.road_network`: the :class:`~ldtkit.model.road_network.RoadNetwork` type, its link and node columns;
- :mod:`~ldtkit.model.network`: the network type with its ``network_from_*`` constructors;
- :mod:`~ldtkit.model.loaders`: the file formats a network is read from (OpenStreetMap, segments, shapefiles, TNTP);
- :mod:`~ldtkit.model.zones`: zones, their population and activity, their connectors to the network;
- :mod:`~ldtkit.model.demand`: OD matrices per vehicle class and period, and how to build, read and write them;
- :mod:`~ldtkit.model.assignment`: static user-equilibrium traffic assignment;
- :mod:`~ldtkit.model.traffic`: traffic per link and period, handed from the assignment to noise and air;
- :mod:`~ldtkit.model.calibration`: OD matrix estimation to traffic counts;
- :mod:`~ldtkit.model.receptors`: where noise and air quality are computed, with population weights;
- :mod:`~ldtkit.model.buildings`: building footprints and heights for noise propagation;
- :mod:`~ldtkit.model.noise`: CNOSSOS-EU road-traffic noise: emission, propagation, Lden maps, exposure;
- :mod:`~ldtkit.model.air`: traffic air quality: emissions, dispersion, NO2 and PM maps;
- :mod:`~ldtkit.model.limits`: the reporting bands and limit values the models, indicators and maps share;
- :mod:`~ldtkit.model.kernels`: the numba kernels (arrays in, arrays out; they import no other ldtkit module);
- ``data/``: the CNOSSOS-EU coefficients and vehicle emission factors, as CSV tables.

Layers import one way: ``cli`` → ``viz`` → ``study`` → ``model`` → the base (``errors``, ``io``,
``resources``, ``_validate``). This layer imports only the base; ``lint-imports`` checks it.
"""
