"""Exceptions raised by ldtkit.

Every error names the file, field or id concerned and what was expected, so
that a city analyst can fix the input without reading a traceback.

Examples
--------
>>> from ldtkit.errors import MissingFieldError
>>> str(MissingFieldError("links.shp", "capacity", expected="a numeric column"))
"links.shp: missing required field 'capacity' (expected a numeric column)"
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class LdtkitError(Exception):
    """Base class of every error ldtkit raises on bad input or an impossible request.

    Catch it to handle any such problem; each subclass also derives from the matching built-in
    exception (``FileNotFoundError``, ``KeyError``, ``ValueError``) where there is one.

    Examples
    --------
    >>> try:
    ...     require_file("/nonexistent/roads.geojson", what="road-segment file")
    ... except LdtkitError as exc:
    ...     print(type(exc).__name__, isinstance(exc, FileNotFoundError), exc)
    InputFileNotFoundError True road-segment file not found: /nonexistent/roads.geojson
    """


class InputFileNotFoundError(LdtkitError, FileNotFoundError):
    """An input file named in a config or call does not exist.

    The message is ``"<what> not found: <path>"``, or ``message`` when that says more (it then
    names what was looked for itself).
    """

    def __init__(self, path: str | Path, *, what: str = "input file", message: str = "") -> None:
        self.path = str(path)
        super().__init__(message or f"{what} not found: {self.path}")


class UnreadableFormatError(LdtkitError):
    """A file exists but cannot be parsed in the expected format."""

    def __init__(self, path: str | Path, *, expected: str, detail: str = "") -> None:
        self.path = str(path)
        msg = f"{self.path}: cannot read as {expected}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)


class MissingFieldError(LdtkitError, KeyError):
    """A required column or config key is missing.

    ``where`` says where in the source it belongs, when known (``"in [demand], line 8"``).
    """

    def __init__(self, source: str | Path, field: str, *, expected: str = "", where: str = "") -> None:
        self.source = str(source)
        self.field = field
        self.expected = expected
        self.where = where
        msg = f"{self.source}: missing required field {field!r}"
        if expected:
            msg += f" (expected {expected})"
        if where:
            msg += f" ({where})"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class InvalidValueError(LdtkitError, ValueError):
    """A field holds values outside what the model accepts (NaN, negative, unknown code)."""


class EmptyStudyAreaError(LdtkitError):
    """A study area, selection or filter leaves nothing to work on."""


class ConfigError(LdtkitError):
    """A city or scenario config is inconsistent (e.g. a mapping names a missing column)."""


class SelectorError(LdtkitError):
    """A scenario selector matches nothing; the message lists the closest candidates."""


class DisconnectedDemandError(LdtkitError):
    """Some OD pairs with demand have no path (e.g. after a closure)."""

    def __init__(self, message: str, *, pairs: pd.DataFrame | None = None) -> None:
        self.pairs = pairs
        super().__init__(message)


class OutputWriteError(LdtkitError, OSError):
    """An output could not be written (disk full, read-only folder); no partial file is left.

    Keeps the ``errno`` and ``strerror`` of the operating system's error.

    Examples
    --------
    >>> import errno
    >>> exc = OutputWriteError.from_os_error("out/links.gpkg", OSError(errno.ENOSPC, "No space left on device"))
    >>> str(exc), exc.errno == errno.ENOSPC
    ('cannot write out/links.gpkg: No space left on device; nothing was written there', True)
    """

    @classmethod
    def from_os_error(cls, path: str | Path, exc: OSError) -> OutputWriteError:
        out = cls(f"cannot write {path}: {exc.strerror or exc}; nothing was written there")
        out.errno, out.strerror, out.filename = exc.errno, exc.strerror, str(path)
        return out

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def require_file(path: str | Path, *, what: str = "input file") -> Path:
    """Return ``Path(path)`` or raise :class:`InputFileNotFoundError` naming it.

    Examples
    --------
    >>> require_file("/nonexistent.pbf", what="OSM extract")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InputFileNotFoundError: OSM extract not found: /nonexistent.pbf
    """
    p = Path(path)
    if not p.exists():
        raise InputFileNotFoundError(p, what=what)
    return p
