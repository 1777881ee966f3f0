"""What the ``ldtkit`` sub-command modules share: argument types, the parser plumbing, the
output checks made before any model runs (:func:`writable_dir`, :func:`writable_file`) and the
message for OD pairs left without a path (:func:`disconnected_message`).

Examples
--------
>>> positive(float)("1e-5")
1e-05
>>> positive(int)("0")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: expected a whole number > 0, got '0'
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

#: What a sub-command module's ``add_parser`` receives: the parent parser's sub-command registry.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
#: A sub-command's handler: parsed arguments in, exit code out.
Handler: TypeAlias = Callable[[argparse.Namespace], int]

Number = TypeVar("Number", int, float)


def positive(kind: type[Number]) -> Callable[[str], Number]:
    """An argparse type: a number of ``kind`` that must be > 0 (NaN refused too).

    Parameters
    ----------
    kind
        ``float`` or ``int``.

    Examples
    --------
    >>> positive(float)("1e-5")
    1e-05
    >>> positive(float)("nan")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a number > 0, got 'nan'
    """
    what = {"float": "number", "int": "whole number"}.get(kind.__name__, kind.__name__)

    def parse(text: str) -> Number:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {what} > 0, got {text!r}") from None
        if not value > 0:  # also refuses nan
            raise argparse.ArgumentTypeError(f"expected a {what} > 0, got {text!r}")
        return value

    # argparse names the type in its messages ("invalid float value") by this name
    parse.__name__ = kind.__name__
    return parse


def show_help(parser: argparse.ArgumentParser) -> Handler:
    """The handler of a command group run without its action (``ldtkit network``): print the
    group's help and exit 2, as ``ldtkit`` does without a command.

    Examples
    --------
    >>> group = argparse.ArgumentParser(prog="ldtkit network", add_help=False)
    >>> show_help(group)(argparse.Namespace())
    usage: ldtkit network
    2
    """

    def handler(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return handler


def writable_dir(path: str | Path, *, option: str = "--out", given: str | Path | None = None) -> Path:
    """Check, before any model runs, that folder ``path`` exists or can be created and is writable.

    Creates the folder (and its parents) and writes and removes a probe file in it.

    Parameters
    ----------
    path
        The output folder.
    option
        The option that named it, quoted in the message.
    given
        What the user gave, when it is not ``path`` itself (a file inside it).

    Raises
    ------
    InvalidValueError
        ``path`` or one of its parents is a file, or the folder cannot be created or written;
        the message names ``option`` and the path.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> writable_dir(Path(d) / "out").is_dir()
    True
    >>> f = Path(d) / "a.txt"
    >>> _ = f.write_text("x")
    >>> writable_dir(f / "out")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: --out .../a.txt/out: cannot write there: .../a.txt is a file, not a folder
    """
    from ldtkit.errors import InvalidValueError

    p = Path(path)
    label = f"{option} {given if given is not None else p}"
    for parent in (p, *p.parents):
        if parent.exists():
            if not parent.is_dir():
                raise InvalidValueError(f"{label}: cannot write there: {parent} is a file, not a folder")
            break
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=p, prefix=".ldtkit-write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InvalidValueError(f"{label}: cannot write to the folder {p} ({reason})") from None
    return p


def writable_file(path: str | Path, *, option: str = "--out") -> Path:
    """Check, before any model runs, that file ``path`` can be written: its folder is writable
    (see :func:`writable_dir`) and ``path`` itself is not a folder.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> writable_file(Path(d) / "flows.csv").name
    'flows.csv'
    >>> writable_file(d)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: --out ...: is a folder; expected a file name
    """
    from ldtkit.errors import InvalidValueError

    p = Path(path)
    if p.is_dir():
        raise InvalidValueError(f"{option} {p}: is a folder; expected a file name")
    writable_dir(p.parent, option=option, given=p)
    return p


def disconnected_message(
    pairs: object, *, shown: int = 5, hint: str = "rerun with --drop-disconnected to assign the rest and report the dropped trips"
) -> str:
    """The CLI's message for OD pairs with demand but no path: the largest pairs first and the
    option that assigns the rest.

    Parameters
    ----------
    pairs
        The error's table of pairs (``origin``, ``destination``, ``class``, ``trips``): a
        DataFrame, or a dict of arrays (the solver's, without pandas).
    shown
        How many pairs to list.
    hint
        What to do instead, naming the command's option.

    Examples
    --------
    >>> import pandas as pd
    >>> pairs = pd.DataFrame({"origin": [1, 2, 3], "destination": [9, 9, 8], "class": ["light"] * 3, "trips": [0.01, 12.5, 3.0]})
    >>> print(disconnected_message(pairs, shown=2))
    3 OD pairs with demand (15.5 trips) have no path; the largest: 2->9 (light, 12.5 trips), 3->8 (light, 3 trips); rerun with --drop-disconnected to assign the rest and report the dropped trips
    """
    import numpy as np

    cols: Any = pairs
    if not hasattr(cols, "__contains__") or "trips" not in cols or not len(cols["trips"]):
        return f"some OD pairs with demand have no path; {hint}"
    trips = np.asarray(cols["trips"], dtype=np.float64)
    top = np.argsort(-trips, kind="stable")[:shown]  # ties in table order, as a stable descending sort
    origin, dest = np.asarray(cols["origin"]), np.asarray(cols["destination"])
    cls = np.asarray(cols["class"]).astype(str) if "class" in cols else np.full(len(trips), "")
    listed = ", ".join(f"{origin[i]}->{dest[i]} ({cls[i]}, {trips[i]:.3g} trips)" for i in top)
    return f"{len(trips)} OD pairs with demand ({float(trips.sum()):.1f} trips) have no path; the largest: {listed}; {hint}"
