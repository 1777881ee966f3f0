"""The on-disk result cache of the runner and the content hashes that key it.

Results are pickled under a hash of everything that shapes them (the city's files, the
scenario's measures, the model options, ldtkit's version and model code), written atomically,
so a rerun is instant, an edited scenario recomputes only itself, results of other code are
never served and an interrupted run leaves no corrupt entry.

Examples
--------
>>> content_hash("a", "b") == content_hash("a", "b") != content_hash("ab")
True
>>> len(model_fingerprint())
32
"""

from __future__ import annotations

import functools
import hashlib
import pickle
from pathlib import Path
from typing import Any

from ldtkit import __version__
from ldtkit.io import atomic_path


class ResultCache:
    """Pickled :class:`~ldtkit.study.runner.ScenarioResult` objects under a content-hash key, written atomically.

    A partially written entry never exists under its final name (write to a temporary
    file, then rename), so an interrupted run leaves no corrupt entry; an unreadable
    entry is treated as missing and recomputed.

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

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """The file of an entry."""
        return self.root / f"{key}.pkl"

    def get(self, key: str) -> Any:
        """The entry under ``key``, or ``None`` when absent or unreadable."""
        p = self.path(key)
        if not p.exists():
            return None
        try:
            with open(p, "rb") as fh:
                return pickle.load(fh)
        except Exception:  # truncated or from an incompatible version: recompute
            return None

    def put(self, key: str, result: Any) -> Path:
        """Store ``result`` under ``key`` (atomically) and return its file."""
        with atomic_path(self.path(key)) as tmp, open(tmp, "wb") as fh:
            pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
        return self.path(key)


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
