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

from .city import City, load_city  # noqa: E402
from .errors import LdtkitError  # noqa: E402
from .network import (  # noqa: E402
    RoadNetwork,
    network_from_osm,
    network_from_segments,
    network_from_shapefiles,
    network_from_tntp,
)
from .scenario import Scenario, load_scenarios  # noqa: E402
from .traffic import LinkTraffic  # noqa: E402


def __getattr__(name: str):
    # Heavy modules (numba kernels, dask) load on first use so `import ldtkit` stays fast.
    lazy = {
        "assign": ("assignment", "assign"),
        "run": ("runner", "run"),
        "compare": ("compare", "compare"),
        "indicators_table": ("compare", "indicators_table"),
        "demand_for_city": ("demand", "demand_for_city"),
        "compute_noise": ("noise", "compute_noise"),
        "compute_air": ("air", "compute_air"),
    }
    if name in lazy:
        import importlib

        module, attr = lazy[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'ldtkit' has no attribute {name!r}")


__all__ = [
    "City", "LdtkitError", "LinkTraffic", "RoadNetwork", "Scenario", "assign", "compare", "compute_air",
    "compute_noise", "demand_for_city", "indicators_table", "load_city", "load_scenarios", "network_from_osm",
    "network_from_segments", "network_from_shapefiles", "network_from_tntp", "run",
]
