"""Run parameters checked at the edges: CLI options and notebook parameters.

Each check returns the clean value or raises :class:`~ldtkit.errors.InvalidValueError` naming
the parameter, where it came from and what is expected, with a closest-match suggestion for
names.

Examples
--------
>>> check_demand_scale("1.1", where="--demand-scale")
1.1
>>> check_demand_scale(0, where="notebook parameter")
Traceback (most recent call last):
...
ldtkit.errors.InvalidValueError: notebook parameter: demand_scale must be a finite number > 0 (1.0 is today's demand; use a scenario to remove traffic), got 0
>>> check_models("traffic,noize", where="--models")
Traceback (most recent call last):
...
ldtkit.errors.InvalidValueError: --models: unknown model 'noize'; did you mean 'noise'? (expected some of traffic, noise, air)
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ldtkit._validate import closest
from ldtkit.errors import InvalidValueError

#: The model domains a run can compute (traffic always runs).
MODEL_NAMES = ("traffic", "noise", "air")
#: What a scenario that leaves OD pairs without a path does.
ON_DISCONNECTED = ("raise", "drop")


def check_demand_scale(value: object, *, where: str, name: str = "demand_scale") -> float:
    """``value`` as a float multiplier of the demand: finite and > 0.

    Zero is refused: a run with no traffic at all is never what is meant.

    Parameters
    ----------
    value
        A number or its text (``"1.1"``).
    where
        The option, file or notebook the value came from, quoted in the message.
    name
        The parameter's name as the user wrote it.

    Examples
    --------
    >>> check_demand_scale(2, where="x")
    2.0
    >>> check_demand_scale("abc", where="-p demand_scale")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: -p demand_scale: demand_scale must be a finite number > 0 (1.0 is today's demand; use a scenario to remove traffic), got 'abc'
    """
    expected = f"{where}: {name} must be a finite number > 0 (1.0 is today's demand; use a scenario to remove traffic), got {value!r}"
    if isinstance(value, bool):
        raise InvalidValueError(expected)
    try:
        scale = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidValueError(expected) from None
    if not (math.isfinite(scale) and scale > 0):
        raise InvalidValueError(expected)
    return scale


def check_models(value: str | Iterable[object], *, where: str) -> tuple[str, ...]:
    """The model names of ``value`` (comma-separated text or a list), each one known.

    Examples
    --------
    >>> check_models(" traffic, air ", where="--models")
    ('traffic', 'air')
    >>> check_models(["traffic", "nosie"], where="-p models")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: -p models: unknown model 'nosie'; did you mean 'noise'? (expected some of traffic, noise, air)
    >>> check_models("", where="--models")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: --models: no model named; expected some of traffic, noise, air
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    names = tuple(str(m).strip() for m in items if str(m).strip())
    listing = ", ".join(MODEL_NAMES)
    if not names:
        raise InvalidValueError(f"{where}: no model named; expected some of {listing}")
    for name in names:
        if name not in MODEL_NAMES:
            near = closest([name], MODEL_NAMES, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise InvalidValueError(f"{where}: unknown model {name!r}{hint} (expected some of {listing})")
    return names


def check_choice(value: object, choices: Iterable[str], *, where: str, name: str) -> str:
    """``value`` if it is one of ``choices``, else an error with the closest one.

    Examples
    --------
    >>> check_choice("dropp", ON_DISCONNECTED, where="-p on_disconnected", name="on_disconnected")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: -p on_disconnected: on_disconnected = 'dropp'; did you mean 'drop'? (expected one of raise, drop)
    """
    options = list(choices)
    if isinstance(value, str) and value in options:
        return value
    near = closest([str(value)], options, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise InvalidValueError(f"{where}: {name} = {value!r}{hint} (expected one of {', '.join(options)})")
