"""OD matrices in files: OpenMatrix (``.omx``), long-format CSV (``.csv``) and TNTP trips (``.tntp``).

:func:`read_od` and :func:`write_od` pick the format by the file's suffix. Writes are atomic
(a failed write leaves the old file as it was). The TNTP trips parser is
:func:`ldtkit.model.loaders.tntp.read_trips_file`; :func:`read_tntp_trips` builds a
:class:`~ldtkit.model.demand.Demand` on it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ldtkit._validate import finite_nonnegative
from ldtkit.errors import InvalidValueError, MissingFieldError, UnreadableFormatError, require_file
from ldtkit.io import atomic_path
from ldtkit.model.demand.matrices import Demand, check_od_matrix, check_stated_total, default_pcu
from ldtkit.model.loaders.tntp import read_trips_file

ZoneIds = Sequence[int] | npt.NDArray[np.int64]


# ---------------------------------------------------------------------- TNTP
def write_tntp_trips(demand: Demand, path: str | Path, *, vehicle_class: str | None = None) -> Path:
    """Write one class (or the PCU-free sum of all classes) as a TNTP ``*_trips.tntp`` file.

    Zones are written by their node id, which TNTP expects to be ``1..nz``.

    Examples
    --------
    >>> d = Demand(np.array([1, 2]), {"light": np.array([[0.0, 5.0], [3.0, 0.0]])})
    >>> import tempfile, pathlib
    >>> p = write_tntp_trips(d, pathlib.Path(tempfile.mkdtemp()) / "x_trips.tntp")
    >>> read_tntp_trips(p).total()
    8.0
    """
    if vehicle_class is None:
        m = functools.reduce(np.add, demand.trips.values())
    elif vehicle_class in demand.trips:
        m = demand.trips[vehicle_class]
    else:
        raise InvalidValueError(f"write_tntp_trips: no class {vehicle_class!r} (have {demand.classes})")
    lines = [
        f"<NUMBER OF ZONES> {len(demand.zone_ids)}",
        f"<TOTAL OD FLOW> {float(m.sum()):.6f}",
        "<END OF METADATA>",
        "",
    ]
    for i, o in enumerate(demand.zone_ids):
        lines.append("")
        lines.append(f"Origin \t{int(o)}")
        cells = [f"{int(d):5d} : {m[i, j]:12.6f};" for j, d in enumerate(demand.zone_ids) if m[i, j] > 0]
        for k in range(0, len(cells), 5):
            lines.append("  " + "  ".join(cells[k : k + 5]))
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path


def read_tntp_trips(path: str | Path, *, vehicle_class: str = "light", zone_ids: ZoneIds | None = None) -> Demand:
    """Read a TNTP ``*_trips.tntp`` file (vehicles/h) into a one-class :class:`~ldtkit.model.demand.Demand`.

    Zones are ``1..<NUMBER OF ZONES>`` unless ``zone_ids`` is given. The stated
    ``<TOTAL OD FLOW>`` must match the sum of the cells.

    Raises
    ------
    UnreadableFormatError
        Not TNTP trips syntax (the message names the file and the origin).
    InvalidValueError
        Negative or NaN cells, a zone outside ``1..nz``, or a total that does not match.

    Examples
    --------
    >>> d = read_tntp_trips("TransportationNetworks/SiouxFalls/SiouxFalls_trips.tntp")  # doctest: +SKIP
    >>> d.total()  # doctest: +SKIP
    360600.0
    """
    t = read_trips_file(path, zone_ids=zone_ids)
    if "TOTAL OD FLOW" in t.metadata:
        try:
            stated = float(t.metadata["TOTAL OD FLOW"].split()[0])
        except (ValueError, IndexError) as exc:
            raise UnreadableFormatError(
                t.path, expected="TNTP trips", detail=f"<TOTAL OD FLOW> {t.metadata['TOTAL OD FLOW']!r} is not a number"
            ) from exc
        check_stated_total(float(t.matrix.sum()), stated, source=str(t.path), what="<TOTAL OD FLOW>")
    return Demand(zone_ids=t.zone_ids, trips={vehicle_class: t.matrix}, meta={"source": str(t.path), "format": "tntp"})


# ----------------------------------------------------------------------- CSV
def write_od_csv(demand: Demand, path: str | Path, *, include_zeros: bool = False) -> Path:
    """Write the matrices in long format: ``origin, destination, class, trips`` (vehicles/h).

    Examples
    --------
    >>> d = Demand(np.array([7, 9]), {"light": np.array([[0.0, 5.0], [3.0, 0.0]]), "heavy": np.zeros((2, 2))})
    >>> import tempfile, pathlib
    >>> p = write_od_csv(d, pathlib.Path(tempfile.mkdtemp()) / "od.csv")
    >>> read_od_csv(p, zone_ids=[7, 9]).trips["light"].tolist()
    [[0.0, 5.0], [3.0, 0.0]]
    """
    frames = []
    nz = len(demand.zone_ids)
    o = np.repeat(demand.zone_ids, nz)
    d = np.tile(demand.zone_ids, nz)
    for cls, m in demand.trips.items():
        v = m.ravel()
        keep = np.ones(v.size, bool) if include_zeros else v > 0
        frames.append(pd.DataFrame({"origin": o[keep], "destination": d[keep], "class": cls, "trips": v[keep]}))
    df = pd.concat(frames, ignore_index=True)
    path = Path(path)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format="%.9g")
    return path


def read_od_csv(path: str | Path, *, zone_ids: ZoneIds | None = None, pcu: Mapping[str, float] | None = None) -> Demand:
    """Read a long-format OD table (``origin, destination, class, trips``; ``class`` optional).

    Zones are ``zone_ids`` when given (unknown ids are an error), else the sorted union of
    origins and destinations. Repeated (origin, destination, class) rows are an error.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "od.csv"
    >>> _ = p.write_text("origin,destination,trips\\n1,2,5\\n2,1,-1\\n")
    >>> read_od_csv(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: ...od.csv: trips must be finite and >= 0; 1 of 2 fail, e.g. id 2 -> 1 (line 3) = -1.0
    """
    path = require_file(path, what="OD csv")
    try:
        df = pd.read_csv(path)
    except Exception as exc:  # pandas raises several types
        raise UnreadableFormatError(path, expected="CSV", detail=str(exc)) from exc
    for col in ("origin", "destination", "trips"):
        if col not in df.columns:
            raise MissingFieldError(path, col, expected="a column of the long OD table (origin, destination, class, trips)")
    if "class" not in df.columns:
        df["class"] = "light"
    trips = pd.to_numeric(df["trips"], errors="coerce").to_numpy(np.float64)
    try:
        finite_nonnegative(trips, name="trips", where=str(path))
    except InvalidValueError:
        # name the rows by OD pair and line: the labels cost more than the check, so they are built only now
        labels = [f"{o} -> {d} (line {r + 2})" for r, (o, d) in enumerate(zip(df["origin"], df["destination"]))]
        finite_nonnegative(trips, name="trips", where=str(path), ids=labels)
        raise
    dup = df.duplicated(["origin", "destination", "class"])
    if dup.any():
        r = int(np.flatnonzero(dup)[0])
        raise InvalidValueError(
            f"{path}: repeated OD pair at line {r + 2}: {df['origin'].iloc[r]} -> {df['destination'].iloc[r]} ({df['class'].iloc[r]})"
        )
    o = df["origin"].to_numpy(np.int64)
    d = df["destination"].to_numpy(np.int64)
    ids = np.unique(np.concatenate([o, d])) if zone_ids is None else np.asarray(zone_ids, dtype=np.int64)
    order = np.argsort(ids)
    sorted_ids = ids[order]
    for name, arr in (("origin", o), ("destination", d)):
        p = np.searchsorted(sorted_ids, arr)
        miss = (p >= len(ids)) | (sorted_ids[np.minimum(p, len(ids) - 1)] != arr)
        if miss.any():
            raise InvalidValueError(f"{path}: {name} zone ids {np.unique(arr[miss])[:10].tolist()} are not known zones")
    oi = order[np.searchsorted(sorted_ids, o)]
    di = order[np.searchsorted(sorted_ids, d)]
    mats: dict[str, npt.NDArray[np.float64]] = {}
    cls_arr = df["class"].astype(str).to_numpy()
    for cls in dict.fromkeys(cls_arr):
        sel = cls_arr == cls
        m = np.zeros((len(ids), len(ids)))
        m[oi[sel], di[sel]] = trips[sel]
        mats[str(cls)] = m
    pcu = dict(pcu) if pcu is not None else {c: default_pcu(c) for c in mats}
    return Demand(zone_ids=ids, trips=mats, pcu=pcu, meta={"source": str(path), "format": "csv"})


# ----------------------------------------------------------------- OpenMatrix
def write_omx(demand: Demand, path: str | Path) -> Path:
    """Write an OpenMatrix file: one matrix per class (vehicles/h), zone mapping ``"zone_id"``.

    Each matrix carries attributes ``total_vph`` and ``pcu``; the file carries
    ``period_factors`` (JSON) so :func:`read_omx` restores the :class:`~ldtkit.model.demand.Demand`.
    """
    import openmatrix as omx

    path = Path(path)
    with atomic_path(path, suffix=".omx") as tmp:
        f = omx.open_file(str(tmp), "w")
        try:
            for cls, m in demand.trips.items():
                f[cls] = m
                f[cls].attrs.total_vph = float(m.sum())
                f[cls].attrs.pcu = float(demand.pcu.get(cls, 1.0))
                f[cls].attrs.units = "vehicles/h (mean day hour 07-19)"
            # openmatrix's create_mapping stores UInt32, which wraps OSM node ids (> 2**32) of zone nodes
            if "lookup" not in f.root:
                f.create_group(f.root, "lookup")
            f.create_array(f.root.lookup, "zone_id", obj=np.asarray(demand.zone_ids, dtype=np.int64))
            f.root._v_attrs.period_factors = json.dumps(demand.period_factors)
        finally:
            f.close()
    return path


def read_omx(path: str | Path, *, mapping: str | None = None, classes: Sequence[str] | None = None) -> Demand:
    """Read an OpenMatrix file into a :class:`~ldtkit.model.demand.Demand`.

    Parameters
    ----------
    path
        The ``.omx`` file.
    mapping
        Zone mapping whose keys are the zone node ids (default: ``"zone_id"`` if present,
        else the file's only mapping, else ``1..n``).
    classes
        Matrix names to read (default all). A matrix with a ``total_vph`` attribute must sum to it.
    """
    import openmatrix as omx

    path = require_file(path, what="OpenMatrix file")
    try:
        f = omx.open_file(str(path), "r")
    except Exception as exc:
        raise UnreadableFormatError(path, expected="OpenMatrix (.omx)", detail=str(exc)) from exc
    try:
        names = list(f.list_matrices())
        if not names:
            raise UnreadableFormatError(path, expected="OpenMatrix (.omx)", detail="no matrices")
        want = names if classes is None else list(classes)
        missing = [c for c in want if c not in names]
        if missing:
            raise InvalidValueError(f"{path}: no matrices {missing} (the file has {names})")
        maps = list(f.list_mappings())
        mp = mapping or ("zone_id" if "zone_id" in maps else (maps[0] if len(maps) == 1 else None))
        n = f.shape()[0]
        if mp is None:
            ids = np.arange(1, n + 1, dtype=np.int64)
        elif mp not in maps:
            raise InvalidValueError(f"{path}: no zone mapping {mp!r} (the file has {maps})")
        else:
            ids = np.asarray(f.map_entries(mp), dtype=np.int64)
        mats: dict[str, npt.NDArray[np.float64]] = {}
        pcu: dict[str, float] = {}
        for c in want:
            node = f[c]
            m = np.asarray(node[:], dtype=np.float64)
            check_od_matrix(m, ids, source=str(path), vehicle_class=c)
            attrs = node.attrs
            if "total_vph" in attrs._v_attrnames:
                check_stated_total(float(m.sum()), float(attrs.total_vph), source=str(path), what=f"matrix {c!r} attribute total_vph")
            pcu[c] = float(attrs.pcu) if "pcu" in attrs._v_attrnames else default_pcu(c)
            mats[c] = m
        pf_raw = getattr(f.root._v_attrs, "period_factors", None)
        pf = json.loads(pf_raw) if isinstance(pf_raw, str) else None
    finally:
        f.close()
    meta = {"source": str(path), "format": "omx"}
    if pf:
        return Demand(zone_ids=ids, trips=mats, pcu=pcu, period_factors=pf, meta=meta)
    return Demand(zone_ids=ids, trips=mats, pcu=pcu, meta=meta)


# ----------------------------------------------------------------- by suffix
def write_od(demand: Demand, path: str | Path, **kwargs: Any) -> Path:
    """Write OD matrices; the format follows the suffix: ``.omx``, ``.csv`` or ``.tntp``.

    ``kwargs`` go to :func:`write_omx`, :func:`write_od_csv` or :func:`write_tntp_trips`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = Demand(np.array([7, 9]), {"light": np.array([[0.0, 5.0], [3.0, 0.0]]), "heavy": np.zeros((2, 2))})
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_od(d, folder / "od.omx").name, write_od(d, folder / "od.csv").name
    ('od.omx', 'od.csv')
    >>> read_od(folder / "od.omx").trips["light"].tolist()
    [[0.0, 5.0], [3.0, 0.0]]
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".omx":
        return write_omx(demand, path, **kwargs)
    if suffix == ".csv":
        return write_od_csv(demand, path, **kwargs)
    if suffix == ".tntp":
        return write_tntp_trips(demand, path, **kwargs)
    raise InvalidValueError(f"{path}: unsupported OD format {suffix!r} (use .omx, .csv or .tntp)")


def read_od(path: str | Path, **kwargs: Any) -> Demand:
    """Read OD matrices; the format follows the suffix: ``.omx``, ``.csv`` or ``.tntp``.

    ``kwargs`` go to :func:`read_omx`, :func:`read_od_csv` or :func:`read_tntp_trips`.

    A ``.tntp`` file is a ``*_trips.tntp`` file of the TNTP format, e.g. from a folder
    (``SiouxFalls``, ``Anaheim``, ``Chicago-Sketch``, ...) of the TransportationNetworks
    repository, https://github.com/bstabler/TransportationNetworks (not shipped with ldtkit).

    Examples
    --------
    >>> d = read_od("TransportationNetworks/SiouxFalls/SiouxFalls_trips.tntp")  # doctest: +SKIP
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".omx":
        return read_omx(path, **kwargs)
    if suffix == ".csv":
        return read_od_csv(path, **kwargs)
    if suffix == ".tntp":
        return read_tntp_trips(path, **kwargs)
    raise InvalidValueError(f"{path}: unsupported OD format {suffix!r} (use .omx, .csv or .tntp)")
