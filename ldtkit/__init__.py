"""ldtkit: a Local Digital Twin for a city in a Jupyter notebook.

Traffic (static user-equilibrium assignment), road-traffic noise (CNOSSOS-EU) and
traffic air quality (NOx/NO2, PM) for a baseline and every scenario, with
comparative maps and indicators.

Examples
--------
>>> import ldtkit
>>> city = ldtkit.load_city("ghent")  # doctest: +SKIP
>>> results = ldtkit.run(city, ldtkit.load_scenarios(city.root / "scenarios"))  # doctest: +SKIP
>>> ldtkit.indicators_table(results)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# Everything loads on first use so that `import ldtkit` (and the CLI) stays fast: geopandas,
# numba kernels and dask are only imported by the commands that need them.
_LAZY = {
    "City": ("study.city", "City"),
    "load_city": ("study.city", "load_city"),
    "LdtkitError": ("errors", "LdtkitError"),
    "RoadNetwork": ("model.network", "RoadNetwork"),
    "network_from_osm": ("model.network", "network_from_osm"),
    "network_from_segments": ("model.network", "network_from_segments"),
    "network_from_shapefiles": ("model.network", "network_from_shapefiles"),
    "network_from_tntp": ("model.network", "network_from_tntp"),
    "Scenario": ("study.scenario", "Scenario"),
    "load_scenarios": ("study.scenario", "load_scenarios"),
    "LinkTraffic": ("model.traffic", "LinkTraffic"),
    "assign": ("model.assignment", "assign"),
    "run": ("study.runner", "run"),
    "compare": ("study.compare", "compare"),
    "indicators_table": ("study.compare", "indicators_table"),
    "select_link": ("study.select_link", "select_link"),
    "sample_points": ("study.sample", "sample_points"),
    "demand_for_city": ("study.inputs", "demand_for_city"),
    "connect_zones": ("model.zones", "connect_zones"),
    "read_od": ("model.demand", "read_od"),
    "write_od": ("model.demand", "write_od"),
    "compute_noise": ("model.noise", "compute_noise"),
    "compute_noise_many": ("model.noise", "compute_noise_many"),
    "line_emission": ("model.noise", "line_emission"),
    "noise_propagation": ("model.noise", "noise_propagation"),
    "NoiseMap": ("model.noise", "NoiseMap"),
    "receptors_grid": ("model.receptors", "receptors_grid"),
    "receptors_facades": ("model.receptors", "receptors_facades"),
    "air_transfer": ("model.air", "air_transfer"),
    "AirMap": ("model.air", "AirMap"),
    "ScenarioResult": ("study.runner", "ScenarioResult"),
    "Comparison": ("study.compare", "Comparison"),
    "compute_air": ("model.air", "compute_air"),
}


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562); the module that defines it is in ``_LAZY``.

    The names are functions and classes of the layers' modules, never submodules of
    ``ldtkit`` itself, so importing a module cannot replace one of them.
    """
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'ldtkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's own names and every lazily loaded public name."""
    return sorted([*globals(), *_LAZY])


__all__ = sorted(_LAZY)
