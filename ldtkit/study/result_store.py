"""How one cache entry is written and read: JSON metadata, arrays in ``.npz``, tables in Parquet.

An entry is a folder holding

- ``meta.json``: ``{"format": FORMAT, "ldtkit": version, "kind": ..., "label": ..., "created": time}``;
- ``value.json``: the stored object as a JSON tree, where the
  tree has every array, table and sparse matrix replaced by a
  reference (``{"$array": "a3"}``, ``{"$frame": "t1.parquet"}``, ...), and every result dataclass by
  its class and public fields (``{"$dataclass": "ldtkit.model.traffic:LinkTraffic", "fields": {...}}``);
- the numeric arrays, without pickle: in an entry written with ``mmap=True`` (the runner's
  results) one uncompressed ``.npy`` file each under ``arrays/``, memory-mapped when read, so
  that a reader pays only for the arrays it touches (a dashboard reads the maps, not the
  assignments); otherwise ``arrays.npz`` (numpy's documented format, deflate-compressed as
  ``numpy.savez_compressed`` writes it), read whole;
- ``t<N>.parquet``: the tables (GeoParquet for GeoDataFrames, index kept).

Only classes of the ``ldtkit`` package are rebuilt, field by field, without running any code of
the file. ``docs/cache.md`` documents the layout.

Examples
--------
>>> import tempfile, numpy as np
>>> from pathlib import Path
>>> from ldtkit.model.traffic import LinkTraffic
>>> folder = Path(tempfile.mkdtemp()) / "entry"
>>> t = LinkTraffic(np.arange(3), np.ones(3), np.zeros(3), np.full(3, 50.0))
>>> _ = write_entry(folder, {"day": t})
>>> read_entry(folder)["day"].speed_kmh
array([50., 50., 50.])
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import sys
import time
import zipfile
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from ldtkit import __version__
from ldtkit.errors import LdtkitError

__all__ = ["FORMAT", "META", "UnsupportedEntryError", "load_arrays", "read_entry", "save_arrays", "write_entry"]

#: Version of the entry layout; an entry of another version is not read (it is recomputed).
FORMAT = 2
#: The metadata file of an entry.
META = "meta.json"
#: The stored object as a JSON tree.
VALUE = "value.json"
ARRAYS = "arrays.npz"
#: The folder of an entry's memory-mapped arrays (one ``<name>.npy`` each).
ARRAY_DIR = "arrays"


class UnsupportedEntryError(LdtkitError):
    """A cache entry of another format version, or an object the store cannot write."""


class _Writer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.arrays: dict[str, np.ndarray[Any, Any]] = {}
        self.tables = 0

    def array(self, a: np.ndarray[Any, Any]) -> dict[str, Any]:
        name = f"a{len(self.arrays)}"
        if a.dtype == object:
            if all(isinstance(v, str) for v in a.ravel()):
                self.arrays[name] = a.astype(str)
                return {"$array": name, "object": True}
            import shapely

            if a.size and all(isinstance(v, shapely.Geometry) for v in a.ravel()):  # e.g. building footprints
                self.arrays[name] = shapely.to_wkb(a.ravel(), hex=True).astype(str)
                return {"$array": name, "geometry": True, "shape": list(a.shape)}
            return {"$objects": [self.encode(v) for v in a.ravel()], "shape": list(a.shape)}
        self.arrays[name] = a
        return {"$array": name}

    def table(self, df: Any) -> dict[str, Any]:
        """Numeric, boolean, datetime and geometry columns in Parquet; text and other
        Python-object columns (and an object index) element by element, so that None, NaN
        and lists come back as they were."""
        import geopandas as gpd

        if not all(isinstance(c, str) for c in df.columns) or df.columns.has_duplicates:
            raise UnsupportedEntryError(f"cannot store a table whose column names are not unique strings: {list(df.columns)}")
        self.tables += 1
        name = f"t{self.tables}.parquet"
        geo = False
        if isinstance(df, gpd.GeoDataFrame):
            try:
                geo = df.geometry.name in df.columns
            except AttributeError:  # a GeoDataFrame without an active geometry column
                geo = False
        objects = [c for c in df.columns if df[c].dtype == object]
        out = df.drop(columns=objects)
        node: dict[str, Any] = {"$geoframe" if geo else "$frame": name, "columns": list(df.columns)}
        node["objects"] = {c: self.array(df[c].to_numpy()) for c in objects}
        if out.index.dtype == object:
            node["index"] = self.array(out.index.to_numpy())
            node["index_name"] = self.encode(out.index.name)
            out = out.reset_index(drop=True)
        try:
            out.to_parquet(self.folder / name, index=True)
        except (TypeError, ValueError, ImportError) as exc:  # pyarrow refuses the column types
            raise UnsupportedEntryError(f"cannot store a table with columns {list(df.columns)} in Parquet: {exc}") from exc
        return node

    def encode(self, obj: Any) -> Any:
        import pandas as pd

        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
            return int(obj)
        if isinstance(obj, (float, np.floating)):
            f = float(obj)
            return f if math.isfinite(f) else {"$float": repr(f)}
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, np.ndarray):
            return self.array(obj)
        if isinstance(obj, pd.DataFrame):
            return self.table(obj)
        if isinstance(obj, pd.Series):
            return {"$series": self.table(obj.to_frame(name="value")), "name": self.encode(obj.name)}
        if isinstance(obj, Path):
            return {"$path": str(obj)}
        if isinstance(obj, tuple):
            return {"$tuple": [self.encode(v) for v in obj]}
        if isinstance(obj, list):
            return [self.encode(v) for v in obj]
        if isinstance(obj, dict):
            return {"$dict": [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        if isinstance(obj, MappingProxyType):
            return {"$proxy": [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        if isinstance(obj, (set, frozenset)):
            return {"$frozenset" if isinstance(obj, frozenset) else "$set": [self.encode(v) for v in obj]}
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            cls = type(obj)
            if not cls.__module__.startswith("ldtkit."):
                raise UnsupportedEntryError(f"cannot store an object of class {cls.__module__}.{cls.__qualname__}")
            fields = {f.name: self.encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
            return {"$dataclass": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
        sparse = _sparse(obj)
        if sparse is not None:
            return sparse(self)
        crs = _crs(obj)
        if crs is not None:
            return {"$crs": crs}
        raise UnsupportedEntryError(f"cannot store an object of type {type(obj).__module__}.{type(obj).__qualname__}")


def _sparse(obj: Any) -> Any:
    import scipy.sparse as sp

    if not sp.issparse(obj):
        return None
    csr = obj.tocsr()

    def enc(w: _Writer) -> dict[str, Any]:
        parts = {k: w.array(np.asarray(getattr(csr, k))) for k in ("data", "indices", "indptr")}
        return {"$csr": parts, "shape": list(csr.shape), "kind": "array" if isinstance(obj, sp.sparray) else "matrix"}

    return enc


def _crs(obj: Any) -> str | None:
    try:
        from pyproj import CRS
    except ImportError:  # pragma: no cover
        return None
    return str(obj.to_wkt()) if isinstance(obj, CRS) else None


class _Reader:
    def __init__(self, folder: Path, arrays: dict[str, np.ndarray[Any, Any]]) -> None:
        self.folder = folder
        self.arrays = arrays

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if "$array" in node:
            a = self.arrays[node["$array"]]
            if node.get("geometry"):
                import shapely

                return np.asarray(shapely.from_wkb(a.astype(object)), dtype=object).reshape(node["shape"])
            return a.astype(object) if node.get("object") else a
        if "$objects" in node:
            out = np.empty(len(node["$objects"]), dtype=object)
            for i, v in enumerate(node["$objects"]):  # one by one: numpy would broadcast equal-length lists
                out[i] = self.decode(v)
            return out.reshape(node["shape"])
        if "$frame" in node or "$geoframe" in node:
            return self.table(node)
        if "$series" in node:
            s = self.table(node["$series"])["value"]
            s.name = self.decode(node["name"])
            return s
        if "$float" in node:
            return float(node["$float"])
        if "$path" in node:
            return Path(node["$path"])
        if "$tuple" in node:
            return tuple(self.decode(v) for v in node["$tuple"])
        if "$dict" in node:
            return {self.decode(k): self.decode(v) for k, v in node["$dict"]}
        if "$proxy" in node:
            return MappingProxyType({self.decode(k): self.decode(v) for k, v in node["$proxy"]})
        if "$set" in node:
            return {self.decode(v) for v in node["$set"]}
        if "$frozenset" in node:
            return frozenset(self.decode(v) for v in node["$frozenset"])
        if "$dataclass" in node:
            return self.dataclass(node)
        if "$csr" in node:
            import scipy.sparse as sp

            parts = {k: self.decode(v) for k, v in node["$csr"].items()}
            make = sp.csr_array if node["kind"] == "array" else sp.csr_matrix
            return make((parts["data"], parts["indices"], parts["indptr"]), shape=tuple(node["shape"]))
        if "$crs" in node:
            from pyproj import CRS

            return CRS.from_wkt(node["$crs"])
        raise UnsupportedEntryError(f"{self.folder / META}: unknown node {sorted(node)[:3]}")

    def table(self, node: dict[str, Any]) -> Any:
        import geopandas as gpd
        import pandas as pd

        geo = "$geoframe" in node
        path = self.folder / node["$geoframe" if geo else "$frame"]
        df = gpd.read_parquet(path) if geo else pd.read_parquet(path)
        for col, enc in node["objects"].items():
            df[col] = pd.Series(self.decode(enc), index=df.index, dtype=object)
        if "index" in node:
            df.index = pd.Index(self.decode(node["index"]), dtype=object, name=self.decode(node["index_name"]))
        return df[node["columns"]]

    def dataclass(self, node: dict[str, Any]) -> Any:
        module, _, qualname = node["$dataclass"].partition(":")
        if not module.startswith("ldtkit."):
            raise UnsupportedEntryError(f"{self.folder / META}: refusing to build class {node['$dataclass']}")
        try:
            cls: Any = importlib.import_module(module)
            for part in qualname.split("."):
                cls = getattr(cls, part)
        except (ImportError, AttributeError) as exc:
            raise UnsupportedEntryError(f"{self.folder / META}: class {node['$dataclass']} no longer exists") from exc
        names = {f.name for f in dataclasses.fields(cls)}
        stored = node["fields"]
        if set(stored) != names:
            raise UnsupportedEntryError(f"{self.folder / META}: {qualname} fields changed ({sorted(set(stored) ^ names)})")
        obj = object.__new__(cls)  # as stored: no __init__/__post_init__ side effects
        for name, value in stored.items():
            object.__setattr__(obj, name, self.decode(value))
        return obj


def save_arrays(fh: Any, arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    """Write ``arrays`` to the open binary file ``fh`` as an ``.npz`` archive, deflate level 1.

    The layout of ``numpy.savez_compressed`` (``np.load`` reads it), at zlib's fastest level:
    path sets and link tables shrink about tenfold at a few hundred MB/s.

    Examples
    --------
    >>> import io
    >>> buf = io.BytesIO()
    >>> save_arrays(buf, {"x": np.zeros(100_000)})
    >>> len(buf.getvalue()) < 10_000
    True
    >>> _ = buf.seek(0)
    >>> np.load(buf)["x"].shape
    (100000,)
    """
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, a in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.asanyarray(a), allow_pickle=False)


def save_npy_files(folder: Path, arrays: dict[str, np.ndarray[Any, Any]]) -> None:
    """Write ``arrays`` as uncompressed ``<folder>/<name>.npy`` files (created), for :func:`load_arrays`.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()) / "arrays"
    >>> save_npy_files(folder, {"a0": np.arange(4.0)})
    >>> sorted(p.name for p in folder.iterdir())
    ['a0.npy']
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name, a in arrays.items():
        with open(folder / f"{name}.npy", "wb") as fh:
            np.lib.format.write_array(fh, np.asanyarray(a), allow_pickle=False)


def load_arrays(folder: Path) -> dict[str, np.ndarray[Any, Any]]:
    """The arrays of ``folder`` (from :func:`save_npy_files`), memory-mapped copy-on-write.

    Pages are read from the file when first touched, and count in the process's memory only
    then; writing to an array changes the process's copy, never the file. Empty arrays are read
    as ordinary ones (a file region of length zero cannot be mapped).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> save_npy_files(folder, {"a0": np.arange(4.0), "a1": np.zeros(0)})
    >>> a = load_arrays(folder)
    >>> a["a0"][1:], type(a["a0"]).__name__, a["a1"].shape
    (array([1., 2., 3.]), 'ndarray', (0,))
    """
    out: dict[str, np.ndarray[Any, Any]] = {}
    for path in folder.glob("*.npy"):
        a = np.load(path, mmap_mode="c", allow_pickle=False)
        out[path.stem] = a.view(np.ndarray) if isinstance(a, np.memmap) else a  # plain arrays (numba, pickling); the map stays open
    return out


def write_entry(folder: str | Path, value: Any, *, kind: str = "", label: str = "", mmap: bool = False) -> Path:
    """Write ``value`` into the (new, empty or absent) ``folder``; return the folder.

    The caller makes it atomic (``ldtkit.io.atomic_path`` on the folder). ``mmap``: store the
    arrays uncompressed, one ``.npy`` file each, memory-mapped when read (larger on disk; a
    reader pays only for the arrays it touches); otherwise deflate-compressed in ``arrays.npz``.

    Raises
    ------
    UnsupportedEntryError
        When ``value`` holds an object of a type the store does not know.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    w = _Writer(folder)
    tree = w.encode(value)
    if mmap:
        save_npy_files(folder / ARRAY_DIR, w.arrays)
    else:
        with open(folder / ARRAYS, "wb") as fh:
            save_arrays(fh, w.arrays)
    (folder / VALUE).write_text(json.dumps(tree, separators=(",", ":"), allow_nan=False))
    meta = {"format": FORMAT, "ldtkit": __version__, "kind": kind, "label": label, "created": time.time()}
    (folder / META).write_text(json.dumps(meta, indent=1))
    return folder


def read_entry(folder: str | Path) -> Any:
    """The object stored in ``folder`` by :func:`write_entry`.

    Raises
    ------
    UnsupportedEntryError
        When the entry was written in another format version or names a class that changed.
    """
    folder = Path(folder)
    meta = json.loads((folder / META).read_text())
    if meta.get("format") != FORMAT:
        raise UnsupportedEntryError(f"{folder}: cache format {meta.get('format')!r}, this ldtkit reads format {FORMAT}")
    if (folder / ARRAYS).is_file() or not (folder / ARRAY_DIR).is_dir():
        with np.load(folder / ARRAYS, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    else:
        arrays = load_arrays(folder / ARRAY_DIR)
    value = _Reader(folder, arrays).decode(json.loads((folder / VALUE).read_text()))
    if (pa := sys.modules.get("pyarrow")) is not None:  # Parquet was read: give arrow's spare memory back
        pa.default_memory_pool().release_unused()
    return value
