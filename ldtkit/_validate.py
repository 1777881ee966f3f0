"""Checks shared by every layer: numeric arrays and names.

One home for "finite and non-negative", "a number from a file" and "did you mean": each check returns the clean
value or raises :class:`~ldtkit.errors.InvalidValueError` whose message names where the
values came from, the field, how many entries fail and the first of them.

Examples
--------
>>> finite_nonnegative([1.0, 2.0], name="capacity_vph", where="links.csv")
array([1., 2.])
>>> finite_nonnegative([1.0, -2.0, float("nan")], name="capacity_vph", where="links.csv", ids=[7, 8, 9])
Traceback (most recent call last):
...
ldtkit.errors.InvalidValueError: links.csv: capacity_vph must be finite and >= 0; 2 of 3 fail, e.g. id 8 = -2.0, id 9 = nan
>>> closest(["streat"], ["street", "ids", "bridge"])
['street']
>>> is_number(2.5), is_number(3), is_number(True), is_number("2")
(True, True, False, False)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TypeGuard

import numpy as np
import numpy.typing as npt

from ldtkit.errors import InvalidValueError

_SHOWN = 5


def _fail(
    values: npt.NDArray[np.float64],
    bad: npt.NDArray[np.bool_],
    *,
    name: str,
    where: str,
    ids: Sequence[object] | npt.NDArray[np.generic] | None,
    rule: str,
) -> InvalidValueError:
    pos = np.argwhere(bad)[:_SHOWN]
    if ids is not None and values.ndim == 1:
        labels = [f"id {np.asarray(ids)[p[0]]} = {values[p[0]]}" for p in pos]
    else:
        labels = [f"[{', '.join(str(int(i)) for i in p)}] = {values[tuple(p)]}" for p in pos]
    prefix = f"{where}: " if where else ""
    return InvalidValueError(f"{prefix}{name} must be {rule}; {int(bad.sum())} of {values.size} fail, e.g. {', '.join(labels)}")


def finite(
    values: npt.ArrayLike, *, name: str, where: str = "", ids: Sequence[object] | npt.NDArray[np.generic] | None = None
) -> npt.NDArray[np.float64]:
    """``values`` as a C-contiguous float64 array, or an error if any entry is NaN or infinite.

    Parameters
    ----------
    values
        Any array-like of numbers.
    name
        The field, as the user knows it (``"capacity_vph"``, ``"demand_scale"``).
    where
        The file, table or call the values came from.
    ids
        Optional ids of the entries (e.g. link ids), quoted in the message instead of positions.

    Examples
    --------
    >>> finite([0.5, -1.0], name="bearing_deg")
    array([ 0.5, -1. ])
    """
    arr = np.ascontiguousarray(values, dtype=np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise _fail(arr, bad, name=name, where=where, ids=ids, rule="finite")
    return arr


def finite_nonnegative(
    values: npt.ArrayLike, *, name: str, where: str = "", ids: Sequence[object] | npt.NDArray[np.generic] | None = None
) -> npt.NDArray[np.float64]:
    """``values`` as a C-contiguous float64 array, or an error if any entry is NaN, infinite or < 0.

    Parameters are those of :func:`finite`.

    Examples
    --------
    >>> finite_nonnegative(np.zeros((2, 2)), name="trips", where="od.csv")
    array([[0., 0.],
           [0., 0.]])
    >>> finite_nonnegative([[1.0, -1.0]], name="trips", where="od.csv")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: od.csv: trips must be finite and >= 0; 1 of 2 fail, e.g. [0, 1] = -1.0
    """
    arr = np.ascontiguousarray(values, dtype=np.float64)
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raise _fail(arr, bad, name=name, where=where, ids=ids, rule="finite and >= 0")
    return arr


def is_number(value: object) -> TypeGuard[int | float]:
    """Whether a value read from a file (TOML, JSON) is a number: an int or a float, not a bool
    (which Python counts as an int) and not a string."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def closest(words: Iterable[str], candidates: Iterable[str], *, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The candidates closest to any of ``words`` (case-insensitive), best first, for "did you mean".

    Examples
    --------
    >>> closest(["gapp"], ["gap", "max_iter", "models"])
    ['gap']
    >>> closest(["zzz"], ["gap"])
    []
    """
    by_fold = {c.casefold(): c for c in candidates}
    out: list[str] = []
    for w in words:
        for m in difflib.get_close_matches(str(w).casefold(), list(by_fold), n=n, cutoff=cutoff):
            if by_fold[m] not in out:
                out.append(by_fold[m])
    return out[:n]
