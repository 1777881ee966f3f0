"""The configuration for people: the reference of every key (``docs/city-config.md``) and a resolved config as TOML.

:func:`reference_markdown` renders the documentation of ``city.toml`` from the dataclasses of
:mod:`ldtkit.study.config.sections` (and, for ``[air]``, from the model's
:class:`~ldtkit.model.air.AirConfig` docstring); ``docs/city-config.md`` is its output,
regenerated with::

    python -m ldtkit.study.config > docs/city-config.md

:func:`resolved_toml` writes a parsed configuration back as TOML with every value, defaults
included (what ``ldtkit city check`` prints).

Examples
--------
>>> print(reference_markdown().splitlines()[0])
# City configuration: `city.toml`
>>> from ldtkit.study.config.parse import parse_city_config
>>> cfg, _ = parse_city_config({"name": "x", "crs": "EPSG:3857"}, source="x")
>>> print(resolved_toml(cfg).splitlines()[0])
name = "x"
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, Field
from typing import Any

from ldtkit.model.air import AirConfig
from ldtkit.study.config.schema import (
    META_APPLIES,
    META_DEFAULT_TEXT,
    META_DOC,
    META_UNIT,
    describe_type,
    field_types,
    nested_dataclass,
    range_text,
)
from ldtkit.study.config.sections import CityConfig

REGENERATE = "python -m ldtkit.study.config > docs/city-config.md"

_INTRO = f"""\
# City configuration: `city.toml`

<!-- Generated from ldtkit/study/config/sections.py; do not edit by hand. Regenerate with:
     {REGENERATE}
     (tests/test_city_config.py checks that this file equals the generated text.) -->

A city folder holds one `city.toml` and the city's data files; paths in it are relative to the
folder. `ldtkit city check DIR` reads it, prints every value (defaults included) and lists the
problems it finds: an unknown key (with the closest valid one), a value of the wrong type or
outside its range, a missing key, a file that does not exist.

Every table below lists its keys; a key without a default is required (in a table that is
present). Units are in the key names where they apply (`_m`, `_kmh`, `_vph`).
"""


def reference_markdown() -> str:
    """The whole ``docs/city-config.md``: one table per section of ``city.toml``."""
    parts = [_INTRO]
    for title, cls in sections():
        parts.append(_section_markdown(title, cls))
    parts.append(_air_markdown())
    return "\n".join(parts)


def sections() -> Iterator[tuple[str, type]]:
    """``(table name, dataclass)`` of every section, depth first, the top level first (``[air]`` apart)."""
    yield "", CityConfig
    yield from _nested("", CityConfig)


def _nested(prefix: str, cls: type) -> Iterator[tuple[str, type]]:
    types_ = field_types(cls)
    for f in dataclasses.fields(cls):
        sub = nested_dataclass(types_[f.name])
        if sub is not None and sub is not AirConfig:
            name = f"{prefix}{f.name}"
            yield name, sub
            yield from _nested(f"{name}.", sub)


def _section_markdown(title: str, cls: type) -> str:
    heading = "## Top level" if not title else f"## `[{title}]`"
    summary = re.sub(r"^``\[?[\w.]+\]?``: ", "", (cls.__doc__ or "").strip().splitlines()[0])
    summary = markdown(summary[:1].upper() + summary[1:])
    rows = ["| key | type | default | range | meaning |", "|---|---|---|---|---|"]
    types_ = field_types(cls)
    for f in dataclasses.fields(cls):
        tp = types_[f.name]
        doc = f.metadata.get(META_DOC, "")
        applies = f.metadata.get(META_APPLIES)
        if applies:
            doc = f"{doc} *({', '.join(applies)})*"
        unit = f.metadata.get(META_UNIT, "")
        rng = " ".join(x for x in (range_text(f), unit) if x)
        rows.append(f"| `{f.name}` | {describe_type(tp)} | {_default_text(f)} | {rng} | {_cell(doc)} |")
    return f"{heading}\n\n{_cell(summary)}\n\n" + "\n".join(rows) + "\n"


def _default_text(f: Field[Any]) -> str:
    if f.metadata.get(META_DEFAULT_TEXT):
        return _cell(str(f.metadata[META_DEFAULT_TEXT]))
    if f.default is MISSING and f.default_factory is MISSING:
        return "**required**"
    factory = f.default_factory
    value = factory() if callable(factory) else f.default
    if value is None:
        return "not set"
    if dataclasses.is_dataclass(value):
        return "see below"
    return _cell(f"`{toml_value(value)}`")


def markdown(text: str) -> str:
    """reStructuredText inline markup of docstrings as Markdown (literals, cross-references).

    Examples
    --------
    >>> markdown("see :func:`~ldtkit.model.noise.noise_propagation` and ``cell_m``")
    'see `noise_propagation` and `cell_m`'
    """
    text = re.sub(r":\w+:`~[\w.]*?\.?(\w+)`", r"`\1`", text)
    text = re.sub(r":\w+:`([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _air_markdown() -> str:
    docs = attribute_docs(AirConfig.__doc__ or "")
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    types_ = field_types(AirConfig)
    default = AirConfig()
    for f in dataclasses.fields(AirConfig):
        value = getattr(default, f.name)
        shown = "see the model" if dataclasses.is_dataclass(value) else f"`{toml_value(value)}`"
        if f.name == "background_nox_ugm3":
            shown = "1.3 × `background_no2_ugm3`"
        rows.append(f"| `{f.name}` | {describe_type(types_[f.name])} | {_cell(shown)} | {_cell(markdown(docs.get(f.name, '')))} |")
    return (
        "## `[air]`\n\n"
        "Parameters of the dispersion and chemistry model: the fields of `ldtkit.model.air.AirConfig` "
        "(`[air.fleet]`: the fields of `ldtkit.model.air.Fleet`).\n\n" + "\n".join(rows) + "\n"
    )


def attribute_docs(docstring: str) -> dict[str, str]:
    """The ``Attributes`` section of a numpydoc docstring as ``{name: text}``.

    An entry naming several attributes (``a, b``) or a pattern (``background_*_ugm3``) is given
    to each name it covers when looked up; here the names are returned as written.

    Examples
    --------
    >>> attribute_docs('''Doc.
    ...
    ...     Attributes
    ...     ----------
    ...     a, b
    ...         The a and b.
    ...     ''')
    {'a': 'The a and b.', 'b': 'The a and b.'}
    """
    lines = docstring.splitlines()
    out: dict[str, str] = {}
    try:
        start = next(i for i, ln in enumerate(lines) if ln.strip() == "Attributes") + 2
    except StopIteration:
        return out
    names: list[str] = []
    text: list[str] = []
    indent = None

    def flush() -> None:
        for n in names:
            out[n] = " ".join(text)

    for ln in lines[start:]:
        if not ln.strip():
            continue
        cur = len(ln) - len(ln.lstrip())
        if indent is None:
            indent = cur
        if cur == indent:
            if ln.strip().endswith("--") or ln.strip() in ("Examples", "Notes"):
                break
            flush()
            names, text = [n.strip() for n in ln.strip().split(",")], []
        elif cur > indent:
            text.append(ln.strip())
        else:
            break
    flush()
    return _expand_patterns(out)


def _expand_patterns(docs: dict[str, str]) -> dict[str, str]:
    out = dict(docs)
    for name in [n for n in docs if "*" in n]:
        rx = re.compile("^" + re.escape(name).replace(r"\*", r"\w+") + "$")
        for f in dataclasses.fields(AirConfig):
            if rx.match(f.name):
                out.setdefault(f.name, docs[name])
    return out


# ---------------------------------------------------------------- resolved values as TOML
def toml_value(value: Any) -> str:
    """One value in TOML syntax (inline tables for mappings).

    Examples
    --------
    >>> toml_value((1.0, "a", True)), toml_value({"light": 1.0})
    ('[1.0, "a", true]', '{ light = 1.0 }')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return toml_value({f.name: getattr(value, f.name) for f in dataclasses.fields(value) if getattr(value, f.name) is not None})
    return toml_value(str(value))


def _key(key: Any) -> str:
    k = str(key)
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else toml_value(k)


def resolved_toml(config: CityConfig) -> str:
    """Every value of ``config`` as TOML, defaults included; unset optional keys as comments."""
    out: list[str] = []
    _table_toml(config, "", out)
    return "\n".join(out).strip() + "\n"


def _table_toml(obj: Any, name: str, out: list[str]) -> None:
    if name:
        out.extend(["", f"[{name}]"])
    source = getattr(obj, "source", None) if name == "network" else None
    subtables = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        applies = f.metadata.get(META_APPLIES)
        if source is not None and applies and source not in applies:
            continue
        if dataclasses.is_dataclass(value) and not isinstance(value, type) and f.name != "fleet":
            subtables.append((f.name, value))
        elif value is None:
            out.append(f"# {f.name}: not set")
        else:
            out.append(f"{_key(f.name)} = {toml_value(value)}")
    for sub, value in subtables:
        _table_toml(value, f"{name}.{sub}" if name else sub, out)
