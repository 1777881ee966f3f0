"""The typed configuration of a city: ``city.toml`` parsed and checked once.

- :mod:`~ldtkit.study.config.sections`: one frozen dataclass per table (:class:`CityConfig`
  holds them all), each key declared with its documentation, default, unit and range;
- :mod:`~ldtkit.study.config.schema`: how a TOML table becomes such a dataclass (types,
  ranges, unknown keys with the closest valid one, every problem listed);
- :mod:`~ldtkit.study.config.parse`: the whole file, keys that depend on each other, the files it names;
- :mod:`~ldtkit.study.config.reference`: ``docs/city-config.md`` and a resolved config as TOML.

Examples
--------
>>> from ldtkit.resources import shipped_cities_dir
>>> cfg = read_city_config(shipped_cities_dir() / "ghent" / "city.toml")
>>> cfg.network.source, cfg.demand.zoning, cfg.noise.ground_g
('segments', 'corine', 0.5)
"""

from ldtkit.study.config.parse import config_paths, parse_city_config, read_city_config, read_toml
from ldtkit.study.config.reference import reference_markdown, resolved_toml
from ldtkit.study.config.schema import CityConfigError, InvalidSettingError
from ldtkit.study.config.sections import (
    BlocksConfig,
    CityConfig,
    CompareConfig,
    ConnectorsConfig,
    CorineConfig,
    DemandConfig,
    ExternalConfig,
    FocusConfig,
    GridConfig,
    NetworkAttributesConfig,
    NetworkConfig,
    NoiseConfig,
    OsmBuildingsConfig,
    TripEndsConfig,
    TripEndWeights,
)

__all__ = [
    "BlocksConfig",
    "CityConfig",
    "CityConfigError",
    "CompareConfig",
    "ConnectorsConfig",
    "CorineConfig",
    "DemandConfig",
    "ExternalConfig",
    "FocusConfig",
    "GridConfig",
    "InvalidSettingError",
    "NetworkAttributesConfig",
    "NetworkConfig",
    "NoiseConfig",
    "OsmBuildingsConfig",
    "TripEndWeights",
    "TripEndsConfig",
    "config_paths",
    "parse_city_config",
    "read_city_config",
    "read_toml",
    "reference_markdown",
    "resolved_toml",
]
