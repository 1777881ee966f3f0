"""City: one folder with a ``city.toml`` and the city's own data files.

A city folder holds everything ldtkit needs to model one city::

    data/ghent/
      city.toml              # the only config file
      wegsegmenten-gent.geojson.zip
      scenarios/*.toml

``city.toml`` has a top-level ``name`` and ``crs`` (a metric CRS used inside the
models) and one table per stage: ``[network]``, ``[focus]``, ``[demand]``,
``[noise]``, ``[air]``, ``[compare]``. Paths in it are relative to the city folder.
:func:`load_city` parses and checks it once into :attr:`City.config`, a
:class:`~ldtkit.study.config.CityConfig`; ``docs/city-config.md`` lists every key.

Examples
--------
>>> from ldtkit.study.city import load_city
>>> city = load_city("ghent")
>>> city.config.network.source, city.config.focus.bbox
('segments', (3.685, 51.03, 3.755, 51.075))
>>> net = city.load_network()  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ldtkit._validate import closest
from ldtkit.errors import ConfigError, InputFileNotFoundError, MissingFieldError
from ldtkit.resources import shipped_cities_dir
from ldtkit.study.config import CityConfig, NetworkConfig, config_paths, parse_city_config, read_toml
from ldtkit.study.config.schema import raise_problems

if TYPE_CHECKING:  # pragma: no cover
    from ldtkit.model.network import RoadNetwork

#: Where shipped city folders live (the repository's ``data/``); override with LDTKIT_DATA.
DATA_DIR = shipped_cities_dir()

#: Files that travel with a named shapefile (its attributes and projection change results too).
SHAPEFILE_SIDECARS = (".dbf", ".shx", ".prj", ".cpg")


@dataclass(frozen=True)
class City:
    """A city folder and its checked ``city.toml``.

    Attributes
    ----------
    name
        Short name, e.g. ``"ghent"``.
    root
        The city folder; relative paths in the config resolve against it.
    crs
        Metric CRS used inside the models (e.g. ``"EPSG:31370"``).
    config
        The typed configuration, every default resolved (:class:`~ldtkit.study.config.CityConfig`).
    toml
        The parsed TOML as written (for tools that want the raw text; the models read ``config``).

    Examples
    --------
    >>> city = load_city("ghent")
    >>> city.name, city.crs, city.root.name, city.config.network.source
    ('ghent', 'EPSG:31370', 'ghent', 'segments')
    >>> network = city.load_network()  # doctest: +SKIP
    """

    name: str
    root: Path
    crs: str
    config: CityConfig = field(compare=False, repr=False)
    toml: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def config_path(self) -> Path:
        return self.root / "city.toml"

    def section(self, key: str) -> dict[str, Any]:
        """The ``[key]`` table as written in the file (empty dict when absent).

        Kept for scripts written before :attr:`config`; code reads the typed :attr:`config`
        (e.g. ``city.config.focus.bbox``), whose defaults are filled in and checked.
        """
        value = self.toml.get(key, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{self.config_path}: [{key}] must be a table, got {type(value).__name__}")
        return value

    def path(self, relative: str | Path, *, field_name: str = "") -> Path:
        """Resolve a path from the config against the city folder, checking it exists."""
        p = Path(relative)
        p = p if p.is_absolute() else (self.root / p)
        if not p.exists():
            what = f"file named by {self.config_path} field {field_name!r}" if field_name else "file"
            raise InputFileNotFoundError(p, what=what)
        return p

    def named_files(self) -> list[Path]:
        """Every existing file the config names (a folder: the files in it; a shapefile: its sidecars too)."""
        files: set[Path] = set()
        for _, rel in config_paths(self.config):
            p = Path(rel) if Path(rel).is_absolute() else self.root / rel
            if p.is_file():
                files.add(p)
                if p.suffix.lower() == ".shp":
                    files.update(q for q in (p.with_suffix(s) for s in SHAPEFILE_SIDECARS) if q.is_file())
            elif p.is_dir():
                files.update(q for q in p.rglob("*") if q.is_file())
        return sorted(files)

    def fingerprint(self) -> str:
        """Content hash of the config and every file it names (for the result cache)."""
        h = hashlib.sha256(self.config_path.read_bytes())
        for f in self.named_files():
            h.update(f.relative_to(self.root).as_posix().encode() if f.is_relative_to(self.root) else f.name.encode())
            h.update(file_digest(f).encode())
        return h.hexdigest()

    def network_config(self) -> NetworkConfig:
        """``[network]``, or :class:`MissingFieldError` when the file has none."""
        if self.config.network is None:
            raise MissingFieldError(self.config_path, "network", expected='a [network] table with source = "osm", "segments", ...')
        return self.config.network

    def load_network(self) -> RoadNetwork:
        """Build the city's :class:`~ldtkit.model.network.RoadNetwork` from ``[network]``."""
        from ldtkit.model.loaders.segments import SegmentAttributes
        from ldtkit.model.network import (
            network_from_osm,
            network_from_segments,
            network_from_shapefiles,
            network_from_tntp,
        )

        net = self.network_config()
        # the parser has checked that each source has its files (path, links/nodes, mapping) and
        # resolved the snapping tolerance of the sources that snap
        snap_m = net.snap_tolerance_m if net.snap_tolerance_m is not None else 0.0
        if net.source == "osm":
            return network_from_osm(
                self.path(str(net.path), field_name="network.path"),
                crs=self.crs,
                name=self.name,
                include_service=net.include_service,
                keep_non_car=net.keep_non_car,
                road_class_defaults=net.road_class_defaults,
                cleanup=net.cleanup,
            )
        if net.source == "segments":
            return network_from_segments(
                self.path(str(net.path), field_name="network.path"),
                dict(net.mapping or {}),
                crs=self.crs,
                name=self.name,
                road_class_defaults=net.road_class_defaults,
                snap_tolerance_m=snap_m,
                default_direction=net.default_direction,
                keep_non_car=net.keep_non_car,
                cleanup=net.cleanup,
                split_at_junctions=net.split_at_junctions,
                layer=net.layer,
                attributes=None
                if net.attributes is None
                else SegmentAttributes(
                    self.path(net.attributes.path, field_name="network.attributes.path"),
                    id=net.attributes.id,
                    speed_kmh=net.attributes.speed_kmh,
                ),
            )
        if net.source == "shapefiles":
            columns: dict[str, str | None] | None = dict(net.columns) if net.columns is not None else None
            return network_from_shapefiles(
                self.path(str(net.links), field_name="network.links"),
                self.path(str(net.nodes), field_name="network.nodes"),
                crs=self.crs,
                name=self.name,
                columns=columns,
                zone_ids=list(net.zone_ids) if net.zone_ids is not None else None,
                capacity_is_per_lane=net.capacity_is_per_lane,
                snap_tolerance_m=snap_m,
                keep_non_car=net.keep_non_car,
                cleanup=net.cleanup,
            )
        return network_from_tntp(
            self.path(str(net.path), field_name="network.path"),
            name=self.name,
            toll_weight=net.toll_weight,
            distance_weight=net.distance_weight,
        )


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks.

    Examples
    --------
    >>> len(file_digest(DATA_DIR / "ghent" / "city.toml"))
    64
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def city_dir(name_or_path: str | Path) -> Path:
    """The folder of a city given by name (under ``data/``) or by path.

    Examples
    --------
    >>> city_dir("ghent").name
    'ghent'
    >>> city_dir("gent")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InputFileNotFoundError: no city folder 'gent' and no shipped city of that name (shipped: athens, ghent, porto); did you mean 'ghent'?
    """
    p = Path(name_or_path)
    if (p / "city.toml").exists():
        return p.resolve()
    if p.name == "city.toml" and p.exists():
        return p.parent.resolve()
    q = DATA_DIR / str(name_or_path)
    if (q / "city.toml").exists():
        return q.resolve()
    known = sorted(d.name for d in DATA_DIR.glob("*") if (d / "city.toml").exists()) if DATA_DIR.exists() else []
    given = str(name_or_path)
    missing = f"folder {given!r} has no city.toml" if p.is_dir() else f"no city folder {given!r}"
    near = closest([p.name], known, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise InputFileNotFoundError(
        p / "city.toml", message=f"{missing} and no shipped city of that name (shipped: {', '.join(known) or 'none'}){hint}"
    )


def load_city(name_or_path: str | Path) -> City:
    """Read and check a city folder's ``city.toml``.

    Parameters
    ----------
    name_or_path
        A shipped city's name (``"ghent"``, ``"athens"``, ``"porto"``) or a folder path.

    Raises
    ------
    InputFileNotFoundError
        No such city folder; the message lists the shipped cities and the closest name.
    UnreadableFormatError
        ``city.toml`` is not valid TOML.
    MissingFieldError, InvalidValueError, ConfigError
        A key is missing, has a bad value or is unknown (the message names the file, the
        section and the key); several problems are raised together as a
        :class:`~ldtkit.study.config.CityConfigError`.

    Examples
    --------
    >>> load_city("athens").config.demand.cell_m
    400.0
    """
    root = city_dir(name_or_path)
    cfg_path = root / "city.toml"
    raw = read_toml(cfg_path)
    config, problems = parse_city_config(raw, source=str(cfg_path))
    raise_problems(str(cfg_path), problems)
    assert config is not None  # no problem means a complete configuration
    return City(name=config.name, root=root, crs=config.crs, config=config, toml=raw)
