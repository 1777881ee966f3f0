"""City: one folder with a ``city.toml`` and the city's own data files.

A city folder holds everything ldtkit needs to model one city::

    data/ghent/
      city.toml              # the only config file
      wegsegmenten-gent.geojson.zip
      scenarios/*.toml

``city.toml`` has a top-level ``name`` and ``crs`` (a metric CRS used inside the
models) and one table per stage: ``[network]``, ``[focus]``, ``[demand]``,
``[noise]``, ``[air]``. Paths in it are relative to the city folder.

Examples
--------
>>> from ldtkit.study.city import load_city
>>> city = load_city("ghent")  # doctest: +SKIP
>>> net = city.load_network()  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from ldtkit.errors import ConfigError, InputFileNotFoundError, MissingFieldError, UnreadableFormatError
from ldtkit.resources import shipped_cities_dir

#: Where shipped city folders live (the repository's ``data/``); override with LDTKIT_DATA.
DATA_DIR = shipped_cities_dir()


@dataclass(frozen=True)
class City:
    """A parsed ``city.toml``.

    Attributes
    ----------
    name
        Short name, e.g. ``"ghent"``.
    root
        The city folder; relative paths in the config resolve against it.
    crs
        Metric CRS used inside the models (e.g. ``"EPSG:31370"``).
    config
        The whole parsed TOML, one table per stage.
    """

    name: str
    root: Path
    crs: str
    config: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def config_path(self) -> Path:
        return self.root / "city.toml"

    def section(self, key: str) -> dict[str, Any]:
        """The ``[key]`` table of the config (empty dict when absent)."""
        value = self.config.get(key, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{self.config_path}: [{key}] must be a table, got {type(value).__name__}")
        return value

    def require(self, section: str, key: str, *, expected: str = "") -> Any:
        """``config[section][key]`` or a :class:`MissingFieldError` naming the file and field."""
        sec = self.section(section)
        if key not in sec:
            raise MissingFieldError(self.config_path, f"{section}.{key}", expected=expected)
        return sec[key]

    def path(self, relative: str | Path, *, field_name: str = "") -> Path:
        """Resolve a path from the config against the city folder, checking it exists."""
        p = Path(relative)
        p = p if p.is_absolute() else (self.root / p)
        if not p.exists():
            what = f"file named by {self.config_path} field {field_name!r}" if field_name else "file"
            raise InputFileNotFoundError(p, what=what)
        return p

    def fingerprint(self) -> str:
        """Content hash of the config and every file it names (for the result cache)."""
        h = hashlib.sha256(self.config_path.read_bytes())
        for f in sorted(self._named_files()):
            h.update(f.name.encode())
            h.update(_file_digest(f).encode())
        return h.hexdigest()

    def _named_files(self) -> set[Path]:
        files: set[Path] = set()

        def walk(obj: Any) -> None:
            if isinstance(obj, dict):
                for v in obj.values():
                    walk(v)
            elif isinstance(obj, list):
                for v in obj:
                    walk(v)
            elif isinstance(obj, str) and ("/" in obj or "." in obj):
                p = self.root / obj
                if p.is_file():
                    files.add(p)

        walk(self.config)
        return files

    def load_network(self):
        """Build the city's :class:`~ldtkit.model.network.RoadNetwork` from ``[network]``."""
        from ldtkit.model.network import (
            network_from_osm,
            network_from_segments,
            network_from_shapefiles,
            network_from_tntp,
        )

        net = self.section("network")
        source = self.require("network", "source", expected='one of "osm", "segments", "shapefiles", "tntp"')
        opts = {k: v for k, v in net.items() if k not in ("source", "path", "links", "nodes", "mapping")}
        if source == "osm":
            return network_from_osm(
                self.path(self.require("network", "path"), field_name="network.path"), crs=self.crs, name=self.name, **opts
            )
        if source == "segments":
            mapping = self.require("network", "mapping", expected="a table mapping columns to link fields")
            return network_from_segments(
                self.path(self.require("network", "path"), field_name="network.path"), mapping, crs=self.crs, name=self.name, **opts
            )
        if source == "shapefiles":
            return network_from_shapefiles(
                self.path(self.require("network", "links"), field_name="network.links"),
                self.path(self.require("network", "nodes"), field_name="network.nodes"),
                crs=self.crs,
                name=self.name,
                **opts,
            )
        if source == "tntp":
            return network_from_tntp(self.path(self.require("network", "path"), field_name="network.path"), name=self.name)
        raise ConfigError(f"{self.config_path}: network.source = {source!r}; expected one of 'osm', 'segments', 'shapefiles', 'tntp'")


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def city_dir(name_or_path: str | Path) -> Path:
    """The folder of a city given by name (under ``data/``) or by path."""
    p = Path(name_or_path)
    if (p / "city.toml").exists():
        return p.resolve()
    if p.name == "city.toml" and p.exists():
        return p.parent.resolve()
    q = DATA_DIR / str(name_or_path)
    if (q / "city.toml").exists():
        return q.resolve()
    known = sorted(d.name for d in DATA_DIR.glob("*") if (d / "city.toml").exists()) if DATA_DIR.exists() else []
    raise InputFileNotFoundError(p / "city.toml", what=f"city config (no city folder {str(name_or_path)!r}; shipped cities: {known})")


def load_city(name_or_path: str | Path) -> City:
    """Read a city folder's ``city.toml``.

    Parameters
    ----------
    name_or_path
        A shipped city's name (``"ghent"``, ``"athens"``, ``"porto"``) or a folder path.

    Raises
    ------
    InputFileNotFoundError
        No such city folder; the message lists the shipped cities.
    UnreadableFormatError
        ``city.toml`` is not valid TOML.
    MissingFieldError
        ``name`` or ``crs`` is missing.
    """
    root = city_dir(name_or_path)
    cfg_path = root / "city.toml"
    try:
        config = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UnreadableFormatError(cfg_path, expected="TOML", detail=str(exc)) from exc
    for key in ("name", "crs"):
        if key not in config:
            raise MissingFieldError(cfg_path, key, expected="a top-level key")
    return City(name=str(config["name"]), root=root, crs=str(config["crs"]), config=config)
