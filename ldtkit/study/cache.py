"""The on-disk result cache of the runner and the content hashes that key it.

Every entry is a folder named by a hash of everything that shapes its result (the city's
files, the scenario's measures, the model options, ldtkit's version and model code), holding
JSON metadata, ``.npz`` arrays and Parquet tables (:mod:`ldtkit.study.result_store`;
``docs/cache.md`` documents the layout). Entries are written atomically; a cross-process lock
beside each entry (``<key>.lock``, ``fcntl.flock``) lets concurrent runs compute a result once;
the cache is kept under a size limit by evicting the least recently used entries.

Examples
--------
>>> content_hash("a", "b") == content_hash("a", "b") != content_hash("ab")
True
>>> len(model_fingerprint())
32
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ldtkit import __version__
from ldtkit._validate import is_number
from ldtkit.errors import InvalidValueError, LdtkitError
from ldtkit.io import atomic_path
from ldtkit.study.result_store import FORMAT, META, UnsupportedEntryError, read_entry, write_entry

__all__ = [
    "DEFAULT_CACHE_MAX_MB",
    "CacheEntry",
    "CachedResults",
    "CacheWriteError",
    "ResultCache",
    "RunKeys",
    "cache_max_mb",
    "content_hash",
    "model_fingerprint",
]

#: Size limit of a cache (MB) when neither ``cache_max_mb`` nor ``LDTKIT_CACHE_MAX_MB`` sets one.
DEFAULT_CACHE_MAX_MB = 2048.0
ENV_MAX_MB = "LDTKIT_CACHE_MAX_MB"
#: Kinds of entries whose arrays are stored uncompressed and memory-mapped when read: the results,
#: of which a dashboard touches only the maps, and the air transfer, which the workers of a cluster
#: on one machine then share through the page cache. Inputs and warm starts are read whole by a run: compressed.
MAPPED_KINDS = frozenset({"result", "air-transfer"})


class CacheWriteError(LdtkitError):
    """A result could not be written to the cache (e.g. the disk is full); no entry is left."""


def cache_max_mb(value: float | None = None, *, name: str = "cache_max_mb") -> float:
    """The cache size limit in MB: ``value``, else ``$LDTKIT_CACHE_MAX_MB``, else 2048.

    ``name`` is how the caller's user gave ``value`` (``--cache-max-mb``), quoted in the error.

    Examples
    --------
    >>> cache_max_mb(300)
    300.0
    >>> cache_max_mb(-1)
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: cache_max_mb = -1; expected a number of megabytes > 0
    """
    where = name
    if value is None:
        raw = os.environ.get(ENV_MAX_MB, "").strip()
        if not raw:
            return DEFAULT_CACHE_MAX_MB
        where = f"environment variable {ENV_MAX_MB}"
        try:
            value = float(raw)
        except ValueError:
            raise InvalidValueError(f"{where} = {raw!r}; expected a number of megabytes > 0") from None
    if not is_number(value) or not value > 0 or value == float("inf"):
        raise InvalidValueError(f"{where} = {value!r}; expected a number of megabytes > 0")
    return float(value)


@dataclass(frozen=True)
class CacheEntry:
    """One entry as ``ldtkit cache info`` lists it."""

    key: str
    size_bytes: int
    last_used: float  #: POSIX time of the last read or write
    kind: str  #: "inputs", "air-transfer", "result" or "warm-start"
    label: str  #: city and scenario
    format: int | None  #: entry format version (None: an old pickle file)


@dataclass(frozen=True)
class RunKeys:
    """The cache keys of one run: city and options, shared inputs, the air transfer on them, baseline,
    its warm start, scenarios."""

    city: str
    inputs: str
    baseline: str
    warm: str
    scenarios: dict[str, str]
    air: str = ""


def _note(message: str) -> None:
    print(f"ldtkit: {message}", file=sys.stderr)


class ResultCache:
    """Results under content-hash keys: one folder per entry, written atomically, bounded in size.

    A partially written entry never exists under its final name (written to a temporary
    folder, then renamed), so an interrupted run or a full disk leaves no corrupt entry; an
    unreadable entry or one of another format version is treated as missing and recomputed
    (with a one-line note). After each write the least recently used entries are evicted
    until the cache holds at most ``max_mb`` megabytes.

    Parameters
    ----------
    root
        The cache folder.
    max_mb
        Size limit in MB (default: ``$LDTKIT_CACHE_MAX_MB``, else 2048).
    notify
        Where one-line notes go (recomputed entries, waiting for a lock); default stderr.

    Examples
    --------
    >>> import tempfile
    >>> cache = ResultCache(tempfile.mkdtemp())
    >>> cache.get("k") is None
    True
    >>> _ = cache.put("k", {"flow_vph": 1.0})
    >>> cache.get("k")
    {'flow_vph': 1.0}
    """

    def __init__(self, root: str | Path, *, max_mb: float | None = None, notify: Callable[[str], None] = _note) -> None:
        self.root = Path(root).absolute()
        self.max_mb = cache_max_mb(max_mb)
        self.notify = notify

    def path(self, key: str) -> Path:
        """The folder of an entry."""
        return self.root / key

    # ------------------------------------------------------------------ entries
    def has(self, key: str) -> bool:
        """Whether an entry of this ldtkit's format is stored under ``key`` (without reading it)."""
        try:
            meta = json.loads((self.path(key) / META).read_text())
        except (OSError, ValueError):
            return False
        return isinstance(meta, dict) and meta.get("format") == FORMAT

    def get(self, key: str) -> Any:
        """The entry under ``key``, or ``None`` when absent, unreadable or of another format."""
        p = self.path(key)
        if not (p / META).is_file():
            return None
        try:
            value = read_entry(p)
        except UnsupportedEntryError as exc:
            self.notify(f"cache entry {key[:12]} not read, recomputing it: {exc}")
            self._discard(key)
            return None
        except Exception as exc:  # truncated or damaged files: recompute
            self.notify(f"cache entry {key[:12]} is damaged ({type(exc).__name__}), recomputing it")
            self._discard(key)
            return None
        with contextlib.suppress(OSError):
            os.utime(p / META)  # last use, for the least-recently-used eviction
        return value

    def put(self, key: str, result: Any, *, kind: str = "result", label: str = "") -> Path:
        """Store ``result`` under ``key`` (atomically), evict old entries beyond the limit, return the folder.

        Raises
        ------
        CacheWriteError
            When the entry cannot be written (disk full, read-only folder, an object the store
            cannot represent); nothing is left under ``key``.
        """
        target = self.path(key)
        if (target / META).is_file():  # same key, same content: stored already (e.g. by a dask worker)
            with contextlib.suppress(OSError):
                os.utime(target / META)
            return target
        try:
            with atomic_path(target, suffix=".tmp") as tmp:
                write_entry(tmp, result, kind=kind, label=label, mmap=kind in MAPPED_KINDS)
                if target.exists():  # damaged, or written meanwhile by a run that did not take the lock
                    self._discard(key)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and (target / META).is_file():
                return target  # another process stored the same result first
            raise CacheWriteError(
                f"cannot write cache entry {target}: {exc.strerror or exc}; free some space, lower the cache limit "
                f"({ENV_MAX_MB}) or run without the cache"
            ) from exc
        except UnsupportedEntryError as exc:
            raise CacheWriteError(f"cannot write cache entry {target}: {exc}") from exc
        self.prune(keep=(key,))
        return target

    def entries(self) -> list[CacheEntry]:
        """Every entry, least recently used first (old pickle files included, format ``None``)."""
        out: list[CacheEntry] = []
        if not self.root.is_dir():
            return out
        for p in self.root.iterdir():
            if p.name.startswith("."):
                continue
            if p.is_dir() and (p / META).is_file():
                try:
                    meta = json.loads((p / META).read_text())
                except (OSError, ValueError):
                    meta = {}
                files = [f for f in p.rglob("*") if f.is_file()]  # the arrays/ folder included
                size = sum(f.stat().st_size for f in files)
                out.append(
                    CacheEntry(
                        p.name, size, (p / META).stat().st_mtime, str(meta.get("kind", "")), str(meta.get("label", "")), meta.get("format")
                    )
                )
            elif p.is_file() and p.suffix == ".pkl":
                st = p.stat()
                out.append(CacheEntry(p.stem, st.st_size, st.st_mtime, "old pickle", "", None))
        return sorted(out, key=lambda e: e.last_used)

    def size_bytes(self) -> int:
        """Total size of the entries."""
        return sum(e.size_bytes for e in self.entries())

    def prune(self, *, max_mb: float | None = None, keep: Iterable[str] = ()) -> list[CacheEntry]:
        """Evict old-format files, then the least recently used entries until at most ``max_mb``
        (default: the cache's limit) remain; entries in ``keep`` or locked by a run stay.
        Returns the evicted entries."""
        limit = (self.max_mb if max_mb is None else cache_max_mb(max_mb)) * 1e6
        keep = set(keep)
        entries = self.entries()
        total = sum(e.size_bytes for e in entries)
        evicted: list[CacheEntry] = []
        for e in sorted(entries, key=lambda e: (e.format is not None, e.last_used)):
            if e.format is not None and total <= limit:
                break
            if e.key in keep or not self._remove(e.key, pickle_file=e.format is None):
                continue
            total -= e.size_bytes
            evicted.append(e)
        return evicted

    def clear(self) -> list[CacheEntry]:
        """Remove every entry not locked by a running computation; returns the removed ones."""
        return [e for e in self.entries() if self._remove(e.key, pickle_file=e.format is None)]

    def _remove(self, key: str, *, pickle_file: bool = False) -> bool:
        """Remove an entry unless a run holds its lock; whether it was removed."""
        with self._try_lock(key) as free:
            if not free:
                return False
            if pickle_file:
                with contextlib.suppress(FileNotFoundError):
                    (self.root / f"{key}.pkl").unlink()
            else:
                self._discard(key)
            with contextlib.suppress(FileNotFoundError):
                (self.root / f".{key}.lock").unlink()  # held by us: a run that opened it meanwhile at worst recomputes
            return True

    def _discard(self, key: str) -> None:
        """Remove an entry's folder: renamed away first, so readers see it whole or not at all."""
        trash = self.root / f".trash-{key}-{os.getpid()}-{time.monotonic_ns()}"
        try:
            os.replace(self.path(key), trash)
        except FileNotFoundError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    # ------------------------------------------------------------------ locks
    def _lock_file(self, key: str) -> IO[bytes]:
        self.root.mkdir(parents=True, exist_ok=True)
        return open(self.root / f".{key}.lock", "ab")

    @contextlib.contextmanager
    def _try_lock(self, key: str) -> Iterator[bool]:
        fh = self._lock_file(key)
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            fh.close()  # closing releases the lock

    @contextlib.contextmanager
    def lock(self, keys: Iterable[str], *, what: str = "") -> Iterator[None]:
        """Hold the cross-process locks of ``keys`` (taken in sorted order, so two runs never
        deadlock); when another run holds one, say so and wait for it.

        Examples
        --------
        >>> import tempfile
        >>> cache = ResultCache(tempfile.mkdtemp())
        >>> _ = cache.put("a", 1.0)
        >>> with cache.lock(["a", "b"]):
        ...     cache.clear()  # a locked entry is not removed
        []
        """
        with contextlib.ExitStack() as stack:
            for key in sorted(set(keys)):
                fh = stack.enter_context(self._lock_file(key))
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    self.notify(f"waiting for another run computing {what or 'cache entry'} {key[:12]} in {self.root}")
                    fcntl.flock(fh, fcntl.LOCK_EX)
            yield


class CachedResults(Mapping[str, Any]):
    """Results by name, read from the cache when asked for and not kept in memory.

    For a long-lived process (a dashboard kernel) that shows what it derived from the results
    and needs a whole result only now and then: each lookup reads the entry again (its arrays
    memory-mapped, a few tenths of a second for a city like Ghent).

    Parameters
    ----------
    cache
        The cache holding the entries.
    keys
        Result name -> cache key, in the order of the mapping.

    Raises
    ------
    KeyError
        On a lookup of a name not in ``keys``, or of an entry no longer in the cache (evicted or
        cleared meanwhile: the message names it and the cache folder).

    Examples
    --------
    >>> import tempfile
    >>> cache = ResultCache(tempfile.mkdtemp())
    >>> _ = cache.put("k1", {"flow_vph": 1.0})
    >>> results = CachedResults(cache, {"baseline": "k1"})
    >>> list(results), results["baseline"]
    (['baseline'], {'flow_vph': 1.0})
    """

    def __init__(self, cache: ResultCache, keys: Mapping[str, str]) -> None:
        self.cache = cache
        self.entry_keys = dict(keys)

    def __getitem__(self, name: str) -> Any:
        key = self.entry_keys[name]
        value = self.cache.get(key)
        if value is None:
            raise KeyError(f"result {name!r} (cache entry {key[:12]}) is no longer in the cache {self.cache.root}; run it again")
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self.entry_keys)

    def __len__(self) -> int:
        return len(self.entry_keys)

    def __contains__(self, name: object) -> bool:
        return name in self.entry_keys

    def __repr__(self) -> str:
        return f"CachedResults({list(self.entry_keys)}, cache={str(self.cache.root)!r})"


#: Modules that only present results or document the configuration (maps, dashboards, reports,
#: CLI, the config reference): editing them keeps the cache.
PRESENTATION_MODULES = ("viz/", "cli/", "study/compare.py", "study/config/reference.py", "model/kernels/aot.py", "resources.py")


@functools.lru_cache(maxsize=1)
def model_fingerprint() -> str:
    """The version of the model code and tables that results depend on: ldtkit's version and
    a hash of its Python sources and bundled data (``ldtkit/**/*.py``, ``ldtkit/model/data/*``), except
    the presentation modules (:data:`PRESENTATION_MODULES`).

    Part of every cache key, so results computed by other model code (an upgrade, a checkout
    of another commit, a local edit) are recomputed rather than reused.

    Examples
    --------
    >>> len(model_fingerprint())
    32
    """
    root = Path(__file__).resolve().parent.parent
    files = sorted(
        p for p in [*root.rglob("*.py"), *(root / "model" / "data").glob("*")]
        if p.is_file() and not p.relative_to(root).as_posix().startswith(PRESENTATION_MODULES)
    )  # fmt: skip
    return content_hash(__version__, *(f"{p.relative_to(root).as_posix()}:{hashlib.sha256(p.read_bytes()).hexdigest()}" for p in files))


def content_hash(*parts: str) -> str:
    """A short (32 hex digits) hash of the parts, in order."""
    h = hashlib.sha256()
    for p in parts:
        h.update(str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:32]
