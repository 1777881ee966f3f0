"""File I/O helpers: atomic writes of tables and GeoDataFrames.

Every writer goes through :func:`atomic_path`: it writes to a temporary file in the
target folder and renames it into place, so an interrupted run never leaves a
half-written result behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ldtkit.errors import LdtkitError, OutputWriteError, UnreadableFormatError, require_file

if TYPE_CHECKING:  # pandas/geopandas load lazily: `ldtkit assign` writes CSV without them
    import geopandas as gpd
    import pandas as pd


@contextlib.contextmanager
def atomic_path(path: str | Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it onto ``path``.

    An operating-system error while writing or renaming (a full disk, a read-only folder)
    removes the temporary file and raises :class:`~ldtkit.errors.OutputWriteError` naming
    ``path``: the old ``path``, if any, is left as it was, never a partial file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "x.txt").read_text()
    'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # some writers (GDAL) refuse to overwrite an existing empty file
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
            os.replace(tmp_path, path)
        except LdtkitError:  # already clear (e.g. a missing input file read while writing)
            raise
        except OSError as exc:
            raise OutputWriteError.from_os_error(path, exc) from exc
    finally:
        if tmp_path.exists():
            if tmp_path.is_dir():
                import shutil

                shutil.rmtree(tmp_path, ignore_errors=True)
            else:
                tmp_path.unlink()


def write_text_atomic(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame/GeoDataFrame atomically; format from the suffix (.csv, .parquet, .gpkg, .geojson)."""
    import geopandas as gpd
    import pandas as pd

    path = Path(path)
    suffix = path.suffix.lower()
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            pd.DataFrame(df.drop(columns="geometry", errors="ignore")).to_csv(tmp, index=False)
        elif suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        elif suffix in (".gpkg", ".geojson"):
            gpd.GeoDataFrame(df).to_file(tmp, driver="GPKG" if suffix == ".gpkg" else "GeoJSON")
        else:
            raise ValueError(f"{path}: unsupported output format {suffix!r} (use .csv, .parquet, .gpkg or .geojson)")
    return path


def write_geodataframes(path: str | Path, layers: dict[str, gpd.GeoDataFrame], *, metadata: dict[str, Any] | None = None) -> Path:
    """Write named layers to one GeoPackage, or to GeoParquet files ``<stem>.<layer>.parquet``.

    For ``.gpkg`` all layers go in one file (written to a temporary file, then renamed).
    For ``.parquet`` the first layer goes to ``path`` itself and the others to
    ``path.with_suffix(f".{layer}.parquet")``. ``metadata`` is stored as a JSON
    sidecar ``<path>.json``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gpkg":
        with atomic_path(path) as tmp:
            for name, gdf in layers.items():
                _to_gpkg(gdf, tmp, name)
    elif suffix == ".parquet":
        for i, (name, gdf) in enumerate(layers.items()):
            target = path if i == 0 else path.with_suffix(f".{name}.parquet")
            with atomic_path(target) as tmp:
                gdf.to_parquet(tmp, index=False)
    else:
        raise ValueError(f"{path}: unsupported format {suffix!r} (use .gpkg or .parquet)")
    write_text_atomic(Path(str(path) + ".json"), json.dumps(metadata or {}))
    return path


def _to_gpkg(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    out = gdf.copy()
    for col in out.columns:
        if col != out.geometry.name and out[col].dtype == object:
            out[col] = out[col].map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v))  # NaN -> NULL, not "nan"
    out.to_file(path, layer=layer, driver="GPKG")


def read_geodataframes(path: str | Path, layers: list[str]) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, Any]]:
    """Read layers written by :func:`write_geodataframes`; returns (layers, metadata)."""
    import geopandas as gpd

    path = require_file(path)
    suffix = path.suffix.lower()
    out: dict[str, gpd.GeoDataFrame] = {}
    try:
        for i, name in enumerate(layers):
            if suffix == ".gpkg":
                out[name] = gpd.read_file(path, layer=name)
            else:
                target = path if i == 0 else path.with_suffix(f".{name}.parquet")
                out[name] = gpd.read_parquet(target)
    except Exception as exc:  # pyogrio / pyarrow raise many types
        raise UnreadableFormatError(path, expected=f"layers {layers}", detail=str(exc)) from exc
    meta_path = Path(str(path) + ".json")
    metadata = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return out, metadata
