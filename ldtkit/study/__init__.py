"""A city's study: its configuration and inputs, scenarios, the runs, their cache and their comparison.

- :mod:`~ldtkit.study.config`: ``city.toml`` parsed and checked once, every key typed and documented;
- :mod:`~ldtkit.study.city`: a city folder (:func:`~ldtkit.study.city.load_city`) and its network;
- :mod:`~ldtkit.study.city_init`: a runnable city folder from an OpenStreetMap extract;
- :mod:`~ldtkit.study.inputs`: a city's zones, connectors and baseline demand from its configuration;
- :mod:`~ldtkit.study.scenario_keys`: the keys of a scenario file and what each does;
- :mod:`~ldtkit.study.scenario`: scenarios read from TOML, their link selectors, applied to a network;
- :mod:`~ldtkit.study.use_cases`: the scenarios of the use-case notebooks (a bridge closure, a pedestrianisation);
- :mod:`~ldtkit.study.options`: the model options of a run (part of every cache key);
- :mod:`~ldtkit.study.periods`: a scenario's traffic in every period of the day;
- :mod:`~ldtkit.study.runner`: the baseline and scenarios run (traffic, noise, air), cached and in parallel;
- :mod:`~ldtkit.study.shared`: what the scenarios of a run share, computed or read once;
- :mod:`~ldtkit.study.cluster`: tasks handed to a dask cluster as its workers become free;
- :mod:`~ldtkit.study.memory`: the process memory of the runner's threads;
- :mod:`~ldtkit.study.cache`: the on-disk result cache and the content hashes that key it;
- :mod:`~ldtkit.study.result_store`: how one cache entry is written and read;
- :mod:`~ldtkit.study.convergence`: which assignments stopped at their iteration cap;
- :mod:`~ldtkit.study.facades`: residents counted at their building's façades for the noise indicators;
- :mod:`~ldtkit.study.indicators`: the indicator registry, every indicator declared once;
- :mod:`~ldtkit.study.compare`: a scenario against the baseline: link differences and indicators;
- :mod:`~ldtkit.study.select_link`: where the traffic on chosen links comes from and goes to;
- :mod:`~ldtkit.study.sample`: levels at given points;
- :mod:`~ldtkit.study.observations`: traffic counts and measurements matched to the model, validation statistics;
- :mod:`~ldtkit.study.standards`: NGSI-LD entities, their upsert client, a DCAT-AP catalogue.

Layers import one way: ``cli`` → ``viz`` → ``study`` → ``model`` → the base (``errors``, ``io``,
``resources``, ``_validate``). This layer imports ``model`` and the base, never ``viz`` or
``cli``; ``lint-imports`` checks it.
"""
