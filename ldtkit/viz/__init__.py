"""Presentation: maps, dashboards, reports, figures and GIS exports of a study's results.

- :mod:`~ldtkit.viz.maps`: comparative maps, one module per backend (ipyleaflet, deck.gl, static figures);
- :mod:`~ldtkit.viz.dashboard`: read-only Voila dashboards and their report version;
- :mod:`~ldtkit.viz.report`: a use-case notebook run with parameters (papermill) and rendered as HTML;
- :mod:`~ldtkit.viz.use_case`: the steps every use-case notebook shares;
- :mod:`~ldtkit.viz.editor`: a scenario editor for JupyterLab;
- :mod:`~ldtkit.viz.export`: receptor grids as GeoTIFF, point results as GeoPackage, QGIS styles;
- :mod:`~ldtkit.viz.observations`: the count validation table and scatter plot of a report;
- :mod:`~ldtkit.viz.validation_plots`: counted against modelled flows as a figure;
- :mod:`~ldtkit.viz.air_validation`: modelled against measured concentrations as a figure.

Layers import one way: ``cli`` → ``viz`` → ``study`` → ``model`` → the base (``errors``, ``io``,
``resources``, ``_validate``). This layer imports ``study``, ``model`` and the base, never
``cli``; ``lint-imports`` checks it.
"""
