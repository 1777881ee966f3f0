"""How a ``city.toml`` table becomes a frozen dataclass: declared keys, typed values, listed problems.

Each key of a section is a dataclass field declared with :func:`setting`, whose metadata holds
the key's documentation, unit and allowed range. :func:`parse_table` reads a TOML table into
such a dataclass: it converts every value to the field's type, checks its range and records a
problem (naming the file, the section and the key) for each unknown key, missing key or bad
value instead of stopping at the first, so that ``ldtkit city check`` can list them all.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Grid:
...     cell_m: float = setting(25.0, doc="Grid spacing.", unit="m", low=0.0, low_open=True)
>>> problems: list[LdtkitError] = []
>>> parse_table(Grid, {"cell_m": 10}, source="city.toml", section="noise", problems=problems)
Grid(cell_m=10.0)
>>> parse_table(Grid, {"cel_m": 10}, source="city.toml", section="noise", problems=problems)
Grid(cell_m=25.0)
>>> print(problems[0])
city.toml: [noise] unknown key 'cel_m'; did you mean 'cell_m'?
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, Field
from typing import Any, Literal, TypeVar

from ldtkit._validate import closest
from ldtkit.errors import ConfigError, InvalidValueError, LdtkitError, MissingFieldError

T = TypeVar("T")

#: The metadata keys of a :func:`setting` field.
META_DOC, META_UNIT, META_LOW, META_HIGH, META_LOW_OPEN, META_HIGH_OPEN, META_PATH, META_DEFAULT_TEXT, META_APPLIES = (
    "doc", "unit", "low", "high", "low_open", "high_open", "path", "default_text", "applies",
)  # fmt: skip


def setting(
    default: Any = MISSING,
    *,
    doc: str,
    unit: str = "",
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    path: bool = False,
    factory: Any = MISSING,
    default_text: str = "",
    applies: tuple[str, ...] = (),
) -> Any:
    """A dataclass field that is one key of ``city.toml``.

    Parameters
    ----------
    default, factory
        The value when the key is absent (neither: the key is required).
    doc
        What the key means, for people (rendered in ``docs/city-config.md``).
    unit
        Unit of the value (``"m"``, ``"veh/h"``), empty for none.
    low, high, low_open, high_open
        Allowed range of a number (or of every number in a list); ``*_open`` excludes the bound.
    path
        The value is a file path relative to the city folder (hashed into the city's fingerprint).
    default_text
        How the documentation states the default when the value alone does not say it
        (e.g. ``"per zoning"``).
    applies
        The variants (e.g. network sources) the key belongs to; empty: all.
    """
    meta = {
        META_DOC: doc, META_UNIT: unit, META_LOW: low, META_HIGH: high, META_LOW_OPEN: low_open,
        META_HIGH_OPEN: high_open, META_PATH: path, META_DEFAULT_TEXT: default_text, META_APPLIES: applies,
    }  # fmt: skip
    if factory is not MISSING:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


class InvalidSettingError(ConfigError, InvalidValueError):
    """A ``city.toml`` value of the wrong type or outside its range (both a config and a value error)."""


class CityConfigError(ConfigError):
    """Several problems in one ``city.toml``; :attr:`problems` holds each one's own error."""

    def __init__(self, source: str, problems: Sequence[LdtkitError]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problems:\n{lines}")


def raise_problems(source: str, problems: Sequence[LdtkitError]) -> None:
    """Raise the one problem itself, or a :class:`CityConfigError` listing several; nothing if none."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise CityConfigError(source, problems)


def where(source: str, section: str) -> str:
    """``"file: [section]"`` (``"file:"`` for top-level keys), the prefix of every message."""
    return f"{source}: [{section}]" if section else f"{source}:"


def dotted(section: str, key: str) -> str:
    """``section.key``, or ``key`` at the top level."""
    return f"{section}.{key}" if section else key


class BadValue(Exception):
    """A value does not convert to a field's type; ``expected`` says what would."""

    def __init__(self, expected: str) -> None:
        self.expected = expected
        super().__init__(expected)


# ---------------------------------------------------------------- types
def describe_type(tp: Any) -> str:
    """What a value of type ``tp`` looks like in TOML, for messages and the reference.

    Examples
    --------
    >>> describe_type(tuple[float, ...]), describe_type(Literal["a", "b"]), describe_type(float | None)
    ('list of numbers', "one of 'a', 'b'", 'number')
    """
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is float:
        return "number"
    if tp is int:
        return "integer"
    if tp is bool:
        return "true or false"
    if tp is str:
        return "string"
    if tp is Any:
        return "any value"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        parts = [describe_type(a) for a in args if a is not type(None)]
        return " or ".join(parts)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"list of {_plural(describe_type(args[0]))}"
        return f"list of {len(args)} {_plural(describe_type(args[0]))}"
    if origin in (dict, Mapping):
        return f"table of {_plural(describe_type(args[1]))}" if args and args[1] is not Any else "table"
    if dataclasses.is_dataclass(tp):
        return "table"
    return str(tp)


def _plural(text: str) -> str:
    if text.startswith(("list of", "table of", "one of")):
        return text
    return {"number": "numbers", "integer": "integers", "string": "strings", "true or false": "booleans", "table": "tables"}.get(text, text)


def convert(tp: Any, value: Any) -> Any:
    """``value`` (as read from TOML) converted to type ``tp``, or :class:`BadValue`.

    Lists become tuples; integers given for numbers become floats; tables stay dicts.

    Examples
    --------
    >>> convert(tuple[float, ...], [1, 2.5])
    (1.0, 2.5)
    >>> convert(float, "x")
    Traceback (most recent call last):
    ...
    ldtkit.study.config.schema.BadValue: a finite number
    """
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise BadValue("a finite number")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise BadValue("an integer")
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise BadValue("true or false")
    if tp is str:
        if isinstance(value, str):
            return value
        raise BadValue("a string")
    if origin is Literal:
        if value in args:
            return value
        near = closest([str(value)], [str(a) for a in args], n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise BadValue("one of " + ", ".join(repr(a) for a in args) + hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        for option in options:
            try:
                return convert(option, value)
            except BadValue:
                continue
        raise BadValue(describe_type(tp))
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise BadValue(describe_type(tp))
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(convert(args[0], v) for v in value)
        if len(value) != len(args):
            raise BadValue(describe_type(tp))
        return tuple(convert(a, v) for a, v in zip(args, value))
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise BadValue(describe_type(tp))
        key_tp, value_tp = args if args else (str, Any)
        return {convert(key_tp, k): convert(value_tp, v) for k, v in value.items()}
    raise BadValue(describe_type(tp))  # pragma: no cover - a field type this module does not know


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _numbers(v)]
    if isinstance(value, Mapping):
        return [x for v in value.values() for x in _numbers(v)]
    return []


def range_text(f: Field[Any]) -> str:
    """The allowed range of a field as text (``"> 0"``, ``"[0, 1)"``), empty when unbounded.

    Examples
    --------
    >>> range_text(setting(0.5, doc="x", low=0.0, high=1.0, high_open=True))
    '[0, 1)'
    """
    low, high = f.metadata.get(META_LOW), f.metadata.get(META_HIGH)
    lo_open, hi_open = f.metadata.get(META_LOW_OPEN), f.metadata.get(META_HIGH_OPEN)
    if low is not None and high is not None:
        return f"{'(' if lo_open else '['}{low:g}, {high:g}{')' if hi_open else ']'}"
    if low is not None:
        return f"{'>' if lo_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if hi_open else '<='} {high:g}"
    return ""


def check_range(f: Field[Any], value: Any) -> None:
    """:class:`BadValue` when a number of ``value`` lies outside the field's range."""
    low, high = f.metadata.get(META_LOW), f.metadata.get(META_HIGH)
    if low is None and high is None:
        return
    for x in _numbers(value):
        too_low = low is not None and (x <= low if f.metadata.get(META_LOW_OPEN) else x < low)
        too_high = high is not None and (x >= high if f.metadata.get(META_HIGH_OPEN) else x > high)
        if too_low or too_high:
            raise BadValue(f"{'a number' if isinstance(value, (int, float)) else 'numbers'} {range_text(f)}")


def field_types(cls: type) -> dict[str, Any]:
    """The resolved type of each field of a dataclass (annotations are strings here)."""
    return typing.get_type_hints(cls)


def expected_text(f: Field[Any], tp: Any) -> str:
    """What a key expects, for messages: type, range and unit (``"a number in [0, 1)"``, ``"a number > 0 (veh/h)"``)."""
    what = describe_type(tp)
    if what in ("number", "integer", "string"):
        what = f"a {what}"
    rng = range_text(f)
    if rng[:1] in ("[", "("):
        rng = f"in {rng}"
    unit = f.metadata.get(META_UNIT, "")
    return " ".join(x for x in (what, rng, f"({unit})" if unit else "") if x)


def nested_dataclass(tp: Any) -> type | None:
    """The dataclass of a field typed ``SomeConfig`` or ``SomeConfig | None``, else ``None``."""
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return tp
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        for a in typing.get_args(tp):
            if dataclasses.is_dataclass(a) and isinstance(a, type):
                return a
    return None


def unknown_key(source: str, section: str, key: str, known: Sequence[str]) -> ConfigError:
    """The error for a key no field declares, suggesting the closest valid key."""
    near = closest([key], known, n=1)
    hint = f"did you mean {near[0]!r}?" if near else f"expected one of {sorted(known)}"
    what = "unknown key" if section else "unknown top-level key"
    return ConfigError(f"{where(source, section)} {what} {key!r}; {hint}")


def bad_value(source: str, section: str, key: str, value: Any, expected: str) -> InvalidSettingError:
    """The error for a value of the wrong type or outside its range."""
    return InvalidSettingError(f"{where(source, section)} {key} = {value!r}; expected {expected}")


# ---------------------------------------------------------------- tables
def parse_table(
    cls: type[T],
    table: Any,
    *,
    source: str,
    section: str,
    problems: list[LdtkitError],
    skip: Sequence[str] = (),
) -> T | None:
    """A ``cls`` instance from a TOML table, recording every problem in ``problems``.

    Unknown keys, values of the wrong type or range are recorded and the field keeps its default;
    a missing required key (or a sub-table that fails) is recorded and the result is ``None``.
    Fields named in ``skip`` are left to the caller (their default is used).
    """
    if not isinstance(table, Mapping):
        problems.append(ConfigError(f"{source}: [{section}] must be a table, got {type(table).__name__}"))
        return None
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]  # cls is a dataclass type by contract
    types_ = field_types(cls)
    for key in table:
        if key not in fields:
            problems.append(unknown_key(source, section, str(key), list(fields)))
    values: dict[str, Any] = {}
    complete = True
    for name, f in fields.items():
        if name in skip:
            continue
        tp = types_[name]
        sub = nested_dataclass(tp)
        if name not in table:
            if f.default is MISSING and f.default_factory is MISSING:
                problems.append(MissingFieldError(source, dotted(section, name), expected=expected_text(f, tp)))
                complete = False
            continue
        raw = table[name]
        if sub is not None:
            parsed = parse_table(sub, raw, source=source, section=dotted(section, name), problems=problems)
            if parsed is None:
                complete = False
            else:
                values[name] = parsed
            continue
        try:
            value = convert(tp, raw)
            check_range(f, value)
        except BadValue as exc:
            # a choice names the closest valid one; otherwise say type, range and unit together
            expected = exc.expected if "did you mean" in exc.expected else expected_text(f, tp)
            problems.append(bad_value(source, section, name, raw, expected))
            if f.default is MISSING and f.default_factory is MISSING:
                complete = False
            continue
        values[name] = value
    if not complete:
        return None
    return cls(**values)


def given_keys(table: Any) -> frozenset[str]:
    """The keys a TOML table sets (empty for anything that is not a table)."""
    return frozenset(str(k) for k in table) if isinstance(table, Mapping) else frozenset()
