"""Read a ``city.toml`` into a :class:`~ldtkit.study.config.sections.CityConfig`, once, checking everything.

:func:`parse_city_config` returns the configuration and the list of problems (unknown keys
with the closest valid one, values of the wrong type or range, missing keys, keys that do not
fit together); :func:`read_city_config` raises them. Defaults that depend on another key (the
snapping tolerance on the network source, the zone cell on the zoning, the external zones on
the shares) are resolved here, so the configuration holds every value the models use.

Examples
--------
>>> cfg, problems = parse_city_config({"name": "x", "crs": "EPSG:31370", "noise": {"cutof_m": 5}}, source="x/city.toml")
>>> [str(p) for p in problems]
["x/city.toml: [noise] unknown key 'cutof_m'; did you mean 'cutoff_m'?"]
>>> cfg.noise.ground_g
0.5
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ldtkit._validate import is_number
from ldtkit.errors import ConfigError, LdtkitError, MissingFieldError, UnreadableFormatError
from ldtkit.model.air import AirConfig
from ldtkit.model.loaders.segments import REQUIRED_CLASS_KEYS
from ldtkit.study.config.schema import (
    META_APPLIES,
    META_PATH,
    BadValue,
    InvalidSettingError,
    bad_value,
    convert,
    field_types,
    given_keys,
    parse_table,
    raise_problems,
    unknown_key,
)
from ldtkit.study.config.sections import (
    CELL_M_BY_ZONING,
    DIRECTION_MEANINGS,
    SEGMENT_MAPPING_KEYS,
    SNAP_TOLERANCE_M_BY_SOURCE,
    CityConfig,
    DemandConfig,
    NetworkConfig,
)
from ldtkit.study.scenario import check_direction
from ldtkit.study.scenario_keys import PICKING_KEYS, SELECTOR_KEYS

#: Keys of a ``[compare.watch]`` selector: the scenario selectors and ``direction``.
WATCH_KEYS = (*SELECTOR_KEYS, "direction")


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed TOML of ``path``, or :class:`UnreadableFormatError` naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UnreadableFormatError(path, expected="TOML", detail=str(exc)) from exc


def read_city_config(path: str | Path) -> CityConfig:
    """The checked configuration of a ``city.toml`` file.

    Raises
    ------
    UnreadableFormatError
        Not valid TOML.
    MissingFieldError, InvalidValueError, ConfigError
        The one problem found; several are raised together as a
        :class:`~ldtkit.study.config.schema.CityConfigError` (a :class:`ConfigError`) listing each.
    """
    path = Path(path)
    config, problems = parse_city_config(read_toml(path), source=str(path))
    raise_problems(str(path), problems)
    assert config is not None  # no problem means a complete configuration
    return config


_MESSAGE = re.compile(r"^: (?:\[(?P<section>[^\]]+)\] )?(?:unknown (?:top-level )?key '(?P<unknown>[^']+)'|(?P<key>[\w.-]+) = )")
_HEADER = re.compile(r"^\s*\[\[?\s*(?P<name>[^\]]+?)\s*\]\]?\s*(?:#.*)?$")


def _bare(name: str) -> str:
    return ".".join(part.strip().strip('"').strip("'") for part in name.split("."))


def toml_line(text: str, section: str, key: str) -> int | None:
    """The 1-based line of ``key`` in table ``section`` of a TOML text (``""``: the top level).

    Finds ``key = ...`` under the ``[section]`` header, or inside an inline table
    ``name = { key = ... }`` under the parent's header. ``None`` when not found.

    Examples
    --------
    >>> text = 'name = "x"\\ncrs = "EPSG:1"\\n[network.road_class_defaults]\\n"3" = { lanes = "one" }\\n'
    >>> toml_line(text, "", "crs"), toml_line(text, "network.road_class_defaults.3", "lanes")
    (2, 4)
    >>> toml_line(text, "noise", "cutoff_m") is None
    True
    """
    current = ""
    parent, _, last = section.rpartition(".")
    key_re = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*=""")
    inline_re = re.compile(rf"""^\s*["']?{re.escape(last)}["']?\s*=\s*\{{(?:.*,)?\s*["']?{re.escape(key)}["']?\s*=""")
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = _bare(header.group("name"))
        elif current == section and key_re.match(line) or section and current == parent and inline_re.match(line):
            return number
    return None


def table_line(text: str, section: str) -> tuple[str, int] | None:
    """The table of a TOML text nearest to ``section`` (itself, else its closest parent) and its 1-based line.

    Finds the table's ``[header]``, or ``name = { ... }`` when it is an inline table. ``None``
    when the text has neither ``section`` nor any of its parents.

    Examples
    --------
    >>> text = 'name = "x"\\n[demand]\\ncell_m = 1\\n[network.road_class_defaults]\\n"3" = { lanes = 1 }\\n'
    >>> table_line(text, "demand"), table_line(text, "demand.external")
    (('demand', 2), ('demand', 2))
    >>> table_line(text, "network.road_class_defaults.3"), table_line(text, "noise") is None
    (('network.road_class_defaults.3', 5), True)
    """
    name = section
    while name:
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header and _bare(header.group("name")) == name:
                return name, number
        parent, _, last = name.rpartition(".")
        number_inline = toml_line(text, parent, last)
        if number_inline is not None:
            return name, number_inline
        name = parent
    return None


def with_line_numbers(problems: Sequence[LdtkitError], text: str, *, source: str) -> list[LdtkitError]:
    """``problems`` with ``(line N)`` added to each message about a key found in ``text``.

    A missing key has no line: its message gets the line of the table it belongs in, when the
    text has that table.

    Examples
    --------
    >>> from ldtkit.study.config.schema import bad_value
    >>> [p] = with_line_numbers([bad_value("c.toml", "", "crs", "x", "a CRS")], 'name = "a"\\ncrs = "x"\\n', source="c.toml")
    >>> str(p)
    "c.toml: crs = 'x'; expected a CRS (line 2)"
    >>> [p] = with_line_numbers([MissingFieldError("c.toml", "demand.zoning")], 'name = "a"\\n[demand]\\n', source="c.toml")
    >>> str(p)
    "c.toml: missing required field 'demand.zoning' (in [demand], line 2)"
    """
    out: list[LdtkitError] = []
    for problem in problems:
        message = str(problem)
        if type(problem) is MissingFieldError and problem.source == source and not problem.where:
            table = table_line(text, problem.field.rpartition(".")[0])
            if table is not None:
                problem = MissingFieldError(source, problem.field, expected=problem.expected, where=f"in [{table[0]}], line {table[1]}")
            out.append(problem)
            continue
        m = _MESSAGE.match(message[len(source) :]) if message.startswith(source) else None
        cls = type(problem)
        if m is None or cls not in (ConfigError, InvalidSettingError):
            out.append(problem)
            continue
        section = m.group("section") or ""
        key = m.group("unknown") or m.group("key")
        if "." in key and not section:  # a dotted top-level name: [network] mapping.x
            section, _, key = key.rpartition(".")
        line = toml_line(text, section, key)
        out.append(problem if line is None else cls(f"{message} (line {line})"))
    return out


def parse_city_config(raw: Mapping[str, Any], *, source: str) -> tuple[CityConfig | None, list[LdtkitError]]:
    """The configuration of a parsed ``city.toml`` and every problem found in it.

    Parameters
    ----------
    raw
        The TOML document as :mod:`tomllib` returns it.
    source
        The file, quoted in every message.

    Returns
    -------
    (CityConfig or None, list of LdtkitError)
        ``None`` when a required key is missing or unusable; the problems in file order, each
        with its line number when ``source`` is the file and the key is found in it.
    """
    problems: list[LdtkitError] = []
    config = parse_table(CityConfig, raw, source=source, section="", problems=problems, skip=("air",))
    air = parse_air(raw.get("air", {}), source=source, problems=problems)
    network_raw = raw.get("network", {})
    demand_raw = raw.get("demand", {})
    if config is None:
        return None, _located(problems, source)
    network = config.network
    if network is not None:
        network = check_network(network, given_keys(network_raw), source=source, problems=problems)
    demand = config.demand
    if demand is not None:
        demand = check_demand(demand, given_keys(demand_raw), network, source=source, problems=problems)
    check_crs(config.crs, source=source, problems=problems)
    check_focus(config, source=source, problems=problems)
    check_watch(config.compare.watch, source=source, problems=problems)
    return dataclasses.replace(config, network=network, demand=demand, air=air), _located(problems, source)


def _located(problems: list[LdtkitError], source: str) -> list[LdtkitError]:
    """The problems with their line numbers when ``source`` is the file they come from."""
    path = Path(source)
    if not problems or not path.is_file():
        return problems
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return problems
    return with_line_numbers(problems, text, source=source)


def parse_air(table: Any, *, source: str, problems: list[LdtkitError]) -> AirConfig:
    """``[air]`` as the model's :class:`~ldtkit.model.air.AirConfig` (its defaults where a problem is found)."""
    if not isinstance(table, Mapping):
        problems.append(ConfigError(f"{source}: [air] must be a table, got {type(table).__name__}"))
        return AirConfig()
    types_ = field_types(AirConfig)
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in types_:
            problems.append(unknown_key(source, "air", str(key), list(types_)))
        elif key == "fleet":  # a table the model's Fleet.from_dict checks key by key
            values[key] = raw
        else:
            try:
                values[key] = convert(types_[key], raw)
            except BadValue as exc:
                problems.append(bad_value(source, "air", str(key), raw, exc.expected))
    try:
        return AirConfig.from_dict(values)
    except (LdtkitError, TypeError, ValueError) as exc:
        problems.append(InvalidSettingError(f"{source}: {exc}"))
        return AirConfig()


# ---------------------------------------------------------------- sections
def check_network(network: NetworkConfig, given: frozenset[str], *, source: str, problems: list[LdtkitError]) -> NetworkConfig:
    """Keys that belong to another source, the keys this source needs, the segment mapping."""
    own: list[str] = []
    for f in dataclasses.fields(NetworkConfig):
        applies = f.metadata.get(META_APPLIES) or ()
        if not applies or network.source in applies:
            own.append(f.name)
        elif f.name in given:
            problems.append(
                ConfigError(
                    f"{source}: [network] key {f.name!r} does not apply to source {network.source!r}; its keys are {own_keys(network.source)}"
                )
            )
    needs = {"osm": ("path",), "segments": ("path", "mapping"), "shapefiles": ("links", "nodes"), "tntp": ("path",)}[network.source]
    for key in needs:
        if getattr(network, key) is None:
            what = "a table mapping columns to link fields" if key == "mapping" else f"a path (source = {network.source!r})"
            problems.append(MissingFieldError(source, f"network.{key}", expected=what))
    if network.mapping is not None:
        check_mapping(network.mapping, source=source, problems=problems)
    if network.road_class_defaults is not None:
        # a segment file's table replaces the loader's; OpenStreetMap's only overrides some values
        required = REQUIRED_CLASS_KEYS if network.source == "segments" else ()
        check_road_class_defaults(network.road_class_defaults, source=source, problems=problems, required=required)
    if network.snap_tolerance_m is None and network.source in SNAP_TOLERANCE_M_BY_SOURCE:
        network = dataclasses.replace(network, snap_tolerance_m=SNAP_TOLERANCE_M_BY_SOURCE[network.source])
    return network


def own_keys(source: str) -> list[str]:
    """The ``[network]`` keys of one source."""
    return [f.name for f in dataclasses.fields(NetworkConfig) if not f.metadata.get(META_APPLIES) or source in f.metadata[META_APPLIES]]


def check_mapping(mapping: Mapping[str, Any], *, source: str, problems: list[LdtkitError]) -> None:
    """``[network.mapping]``: known keys; column names or ``{column, value}`` flags; direction codes."""
    section = "network.mapping"
    for key, spec in mapping.items():
        if key not in SEGMENT_MAPPING_KEYS:
            problems.append(unknown_key(source, section, key, SEGMENT_MAPPING_KEYS))
        elif key == "direction_codes":
            if not isinstance(spec, Mapping):
                problems.append(bad_value(source, section, key, spec, "a table: meaning -> code or list of codes"))
                continue
            for meaning, codes in spec.items():
                if meaning not in DIRECTION_MEANINGS:
                    problems.append(unknown_key(source, f"{section}.direction_codes", meaning, DIRECTION_MEANINGS))
                elif not (isinstance(codes, str) or (isinstance(codes, list) and all(isinstance(c, str) for c in codes))):
                    problems.append(bad_value(source, f"{section}.direction_codes", meaning, codes, "a code or a list of codes (strings)"))
        elif isinstance(spec, Mapping):
            if key not in ("bridge", "tunnel"):
                problems.append(bad_value(source, section, key, spec, "a column name"))
            elif not isinstance(spec.get("column"), str) or set(spec) - {"column", "value"}:
                problems.append(bad_value(source, section, key, spec, "a column name or {column = ..., value = ...}"))
        elif not isinstance(spec, str):
            problems.append(bad_value(source, section, key, spec, "a column name"))


def check_demand(
    demand: DemandConfig, given: frozenset[str], network: NetworkConfig | None, *, source: str, problems: list[LdtkitError]
) -> DemandConfig:
    """Keys of ``[demand]`` that depend on each other; resolves ``cell_m`` and the external source."""
    if (demand.mean_trip_km is None) == (demand.mean_trip_min is None):
        problems.append(ConfigError(f"{source}: [demand] give exactly one of mean_trip_km and mean_trip_min"))
    if demand.external_share + demand.through_share >= 1.0:
        problems.append(
            InvalidSettingError(
                f"{source}: [demand] external_share + through_share = {demand.external_share} + {demand.through_share}; expected < 1"
            )
        )
    if len(demand.hourly_profile) != 24:
        problems.append(bad_value(source, "demand", "hourly_profile", list(demand.hourly_profile), "24 hourly shares"))
    zoning_table = {"corine": ("corine", "raster"), "blocks": ("blocks", "path")}.get(demand.zoning)
    if zoning_table is not None and getattr(demand, zoning_table[0]) is None:
        problems.append(MissingFieldError(source, f"demand.{'.'.join(zoning_table)}", expected=f"a path (zoning = {demand.zoning!r})"))
    if demand.zoning == "osm_buildings" and demand.osm.path is None and (network is None or network.path is None):
        problems.append(MissingFieldError(source, "demand.osm.path", expected="an OSM extract (or [network] path)"))
    if demand.zoning == "grid":
        for key in ("population_total", "jobs_total"):
            if getattr(demand, key) is None:
                problems.append(MissingFieldError(source, f"demand.{key}", expected="a number (zoning = 'grid')"))
    external = demand.external
    if external.source is None:
        external = dataclasses.replace(external, source="gateways" if (demand.external_share or demand.through_share) else "none")
    if external.source == "gateways" and external.road_classes is None:
        problems.append(
            MissingFieldError(source, "demand.external.road_classes", expected="the classes of major roads (source = 'gateways')")
        )
    cell_m = demand.cell_m if demand.cell_m is not None else CELL_M_BY_ZONING[demand.zoning]
    return dataclasses.replace(demand, external=external, cell_m=cell_m)


def check_crs(crs: str, *, source: str, problems: list[LdtkitError]) -> None:
    """``crs``: a coordinate reference system pyproj knows, projected in metres.

    Examples
    --------
    >>> problems: list[LdtkitError] = []
    >>> check_crs("EPSG:99999", source="x/city.toml", problems=problems)
    >>> print(problems[0])
    x/city.toml: crs = 'EPSG:99999'; expected a coordinate reference system pyproj knows, e.g. 'EPSG:31370' (unknown EPSG code)
    >>> check_crs("EPSG:4326", source="x/city.toml", problems=problems)
    >>> print(problems[1])
    x/city.toml: crs = 'EPSG:4326'; expected a projected CRS in metres (the models measure distances), not a geographic one
    """
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        parsed = CRS.from_user_input(crs)
    except CRSError as exc:
        text = str(exc)
        reason = "unknown EPSG code" if "EPSG" in text.upper() and "crs not found" in text.lower() else text.splitlines()[0][:120]
        problems.append(bad_value(source, "", "crs", crs, f"a coordinate reference system pyproj knows, e.g. 'EPSG:31370' ({reason})"))
        return
    if parsed.is_geographic:
        problems.append(bad_value(source, "", "crs", crs, "a projected CRS in metres (the models measure distances), not a geographic one"))


#: Keys of one ``[network.road_class_defaults.<class>]`` table and the values each must hold.
ROAD_CLASS_KEYS: dict[str, str] = {
    "speed_kmh": "a number > 0 (km/h)",
    "lanes": "a number > 0 (lanes per direction)",
    "capacity_per_lane_vph": "a number >= 0 (vehicles per hour and lane; 0 for classes without cars)",
    "car": "true or false",
    "hgv": "true or false",
    "walk": "true or false",
    "label": "a text",
}


def check_road_class_defaults(table: Mapping[str, Any], *, source: str, problems: list[LdtkitError], required: Sequence[str] = ()) -> None:
    """``[network.road_class_defaults]``: per class, known keys with numbers > 0, booleans or a label, and the ``required`` ones.

    Examples
    --------
    >>> problems: list[LdtkitError] = []
    >>> check_road_class_defaults({"primary": {"lanes": "one", "speed": 50}}, source="x/city.toml", problems=problems, required=["speed_kmh"])
    >>> for p in problems:
    ...     print(p)
    x/city.toml: missing required field 'network.road_class_defaults.primary.speed_kmh' (expected a number > 0 (km/h))
    x/city.toml: [network.road_class_defaults.primary] lanes = 'one'; expected a number > 0 (lanes per direction)
    x/city.toml: [network.road_class_defaults.primary] unknown key 'speed'; did you mean 'speed_kmh'?
    """
    for cls, spec in table.items():
        section = f"network.road_class_defaults.{cls}"
        if not isinstance(spec, Mapping):
            problems.append(bad_value(source, "network.road_class_defaults", str(cls), spec, "a table of " + ", ".join(ROAD_CLASS_KEYS)))
            continue
        problems.extend(MissingFieldError(source, f"{section}.{key}", expected=ROAD_CLASS_KEYS[key]) for key in required if key not in spec)
        for key, value in spec.items():
            expected = ROAD_CLASS_KEYS.get(key)
            if expected is None:
                problems.append(unknown_key(source, section, str(key), list(ROAD_CLASS_KEYS)))
            elif key in ("car", "hgv", "walk"):
                if not isinstance(value, bool):
                    problems.append(bad_value(source, section, key, value, expected))
            elif key == "label":
                if not isinstance(value, str):
                    problems.append(bad_value(source, section, key, value, expected))
            elif not _positive_number(value, zero_ok=key == "capacity_per_lane_vph"):
                problems.append(bad_value(source, section, key, value, expected))


def _positive_number(value: object, *, zero_ok: bool) -> bool:
    """A finite int or float (not a bool) > 0, or >= 0 with ``zero_ok``."""
    import math

    if not is_number(value) or not math.isfinite(value):
        return False
    return value >= 0 if zero_ok else value > 0


def check_focus(config: CityConfig, *, source: str, problems: list[LdtkitError]) -> None:
    """``[focus] bbox``: WGS84 degrees, minimum before maximum."""
    bbox = config.focus.bbox
    if bbox is None:
        return
    lon0, lat0, lon1, lat1 = bbox
    if not (-180 <= lon0 < lon1 <= 180 and -90 <= lat0 < lat1 <= 90):
        problems.append(bad_value(source, "focus", "bbox", list(bbox), "[lon_min, lat_min, lon_max, lat_max] in WGS84 degrees, min < max"))


def check_watch(watch: Mapping[str, Any], *, source: str, problems: list[LdtkitError]) -> None:
    """``[compare.watch]``: each label a scenario selector that picks links."""
    for label, selector in watch.items():
        section = f"compare.watch.{label!r}"
        if not isinstance(selector, Mapping):
            problems.append(bad_value(source, "compare.watch", label, selector, "a selector table, e.g. {street = ..., bridge = true}"))
            continue
        for key in selector:
            if key not in WATCH_KEYS:
                problems.append(unknown_key(source, section, key, WATCH_KEYS))
        if "direction" in selector:
            try:
                check_direction(selector["direction"], context=f"{source}: [{section}]")
            except ConfigError as exc:
                problems.append(exc)
        if not any(k in selector for k in PICKING_KEYS):
            problems.append(ConfigError(f"{source}: [{section}] selects nothing; give one of {list(PICKING_KEYS)}"))


# ---------------------------------------------------------------- paths
def config_paths(config: CityConfig) -> Iterator[tuple[str, str]]:
    """``(dotted key, relative path)`` of every file the configuration names.

    Examples
    --------
    >>> cfg, _ = parse_city_config({"name": "x", "crs": "EPSG:3857", "focus": {"boundary": "b.geojson"}}, source="x")
    >>> list(config_paths(cfg))
    [('focus.boundary', 'b.geojson')]
    """
    yield from _paths(config, "")


def _paths(obj: Any, prefix: str) -> Iterator[tuple[str, str]]:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value) and not isinstance(value, AirConfig):
            yield from _paths(value, f"{key}.")
        elif isinstance(value, str) and f.metadata.get(META_PATH) and value != "network":
            yield key, value
