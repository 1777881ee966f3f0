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

__version__ = "0.1.0"

# Everything loads on first use so that `import ldtkit` (and the CLI) stays fast: geopandas,
# numba kernels and dask are only imported by the commands that need them.
_LAZY = {
    "City": ("city", "City"),
    "load_city": ("city", "load_city"),
    "LdtkitError": ("errors", "LdtkitError"),
    "RoadNetwork": ("network", "RoadNetwork"),
    "network_from_osm": ("network", "network_from_osm"),
    "network_from_segments": ("network", "network_from_segments"),
    "network_from_shapefiles": ("network", "network_from_shapefiles"),
    "network_from_tntp": ("network", "network_from_tntp"),
    "Scenario": ("scenario", "Scenario"),
    "load_scenarios": ("scenario", "load_scenarios"),
    "LinkTraffic": ("traffic", "LinkTraffic"),
    "assign": ("assignment", "assign"),
    "run": ("runner", "run"),
    "compare": ("compare", "compare"),
    "indicators_table": ("compare", "indicators_table"),
    "demand_for_city": ("demand", "demand_for_city"),
    "connect_zones": ("zones", "connect_zones"),
    "read_od": ("demand", "read_od"),
    "write_od": ("demand", "write_od"),
    "compute_noise": ("noise", "compute_noise"),
    "compute_noise_many": ("noise", "compute_noise_many"),
    "line_emission": ("noise", "line_emission"),
    "noise_propagation": ("noise", "noise_propagation"),
    "NoiseMap": ("noise", "NoiseMap"),
    "receptors_grid": ("receptors", "receptors_grid"),
    "receptors_facades": ("receptors", "receptors_facades"),
    "air_transfer": ("air", "air_transfer"),
    "AirMap": ("air", "AirMap"),
    "ScenarioResult": ("runner", "ScenarioResult"),
    "Comparison": ("compare", "Comparison"),
    "compute_air": ("air", "compute_air"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'ldtkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = sorted(_LAZY)
