"""Travel demand: zones and OD matrices per vehicle class and period.

(Contract fixed here; the generation pipeline is filled in by the demand work.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ldtkit.errors import ConfigError, EmptyStudyAreaError, InvalidValueError, UnreadableFormatError, require_file

if TYPE_CHECKING:  # pragma: no cover
    from ldtkit.model.network import RoadNetwork


@dataclass(frozen=True)
class Demand:
    """OD matrices between zone centroid nodes, one per vehicle class.

    Attributes
    ----------
    zone_ids
        Node ids (in the network) of the zone centroids, int64, length ``nz``; row/column ``i``
        of every matrix is zone ``zone_ids[i]``.
    trips
        ``{class: (nz, nz) float64}`` in vehicles per hour for the *day* period (mean hour 07–19).
        Classes are ``"light"`` and ``"heavy"`` (TNTP files give ``"light"`` only).
    pcu
        PCU factor per class, e.g. ``{"light": 1.0, "heavy": 2.0}``.
    period_factors
        Hourly demand of each period relative to the day's mean hour, e.g.
        ``{"day": 1.0, "evening": 0.55, "night": 0.15}``.
    meta
        Provenance and reported figures (total trips, mean trip length, ...).
    """

    zone_ids: np.ndarray
    trips: dict[str, np.ndarray]
    pcu: dict[str, float] = field(default_factory=lambda: {"light": 1.0, "heavy": 2.0})
    period_factors: dict[str, float] = field(default_factory=lambda: {"day": 1.0, "evening": 0.55, "night": 0.15})
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        nz = len(self.zone_ids)
        for cls, m in self.trips.items():
            if m.shape != (nz, nz):
                raise InvalidValueError(f"Demand: matrix for class {cls!r} has shape {m.shape}, expected ({nz}, {nz})")
            _check_matrix(m, self.zone_ids, source="Demand", cls=cls)
            if cls not in self.pcu:
                raise InvalidValueError(f"Demand: no PCU factor for class {cls!r} (pcu has {sorted(self.pcu)})")

    @property
    def classes(self) -> list[str]:
        return list(self.trips)

    def total(self) -> float:
        """Total vehicles per hour over all classes."""
        return float(sum(m.sum() for m in self.trips.values()))

    def scaled(self, factor: float) -> Demand:
        """Every matrix multiplied by ``factor``."""
        return replace(self, trips={c: m * factor for c, m in self.trips.items()})

    def to_dataframe(self) -> pd.DataFrame:
        """The non-zero cells in long format: ``origin, destination, class, trips`` (vehicles/h).

        Examples
        --------
        >>> d = Demand(np.array([1, 2]), {"light": np.array([[0.0, 5.0], [3.0, 0.0]])})
        >>> d.to_dataframe().values.tolist()
        [[1, 2, 'light', 5.0], [2, 1, 'light', 3.0]]
        """
        import pandas as pd

        frames = []
        for cls, m in self.trips.items():
            i, j = np.nonzero(m)
            frames.append(pd.DataFrame({"origin": self.zone_ids[i], "destination": self.zone_ids[j], "class": cls, "trips": m[i, j]}))
        if not frames:
            return pd.DataFrame(columns=["origin", "destination", "class", "trips"])
        return pd.concat(frames, ignore_index=True)

    def for_period(self, period: str) -> Demand:
        """The hourly demand of ``period`` (``"day"``, ``"evening"`` or ``"night"``)."""
        if period not in self.period_factors:
            raise InvalidValueError(f"Demand.for_period: unknown period {period!r}; expected one of {sorted(self.period_factors)}")
        return self.scaled(self.period_factors[period])


# ===========================================================================
# Generation pipeline: period profile, skims, gravity, trip generation, OD I/O
# ===========================================================================
#: Default 24-hour profile of motor traffic (share of the daily total in each hour 00-01 ... 23-24).
#: An assumed weekday profile for urban roads with a morning (08h) and an evening (17h) peak. Its
#: day (07-19) / evening (19-23) / night (23-07) hourly shares are 6.6 % / 3.4 % / 0.9 % of the daily
#: total (79 % / 14 % / 7 % of the day's traffic), inside the range of the default hourly shares that Dutch road-noise computations use for
#: urban roads (Reken- en meetvoorschrift geluid 2012: roughly 6.5-7 % per day hour, 3-4 % per
#: evening hour, 0.8-1.1 % per night hour). Override with ``[demand] hourly_profile`` in city.toml.
DEFAULT_HOURLY_PROFILE: tuple[float, ...] = (
    0.006, 0.004, 0.003, 0.003, 0.004, 0.010,  # 00-06
    0.030, 0.066, 0.074, 0.062, 0.059, 0.061,  # 06-12
    0.063, 0.062, 0.063, 0.067, 0.074, 0.076,  # 12-18
    0.066, 0.047, 0.036, 0.030, 0.023, 0.011,  # 18-24
)  # fmt: skip

#: Hours of the END periods (start hour inclusive, hours in order).
PERIOD_HOURS: dict[str, tuple[int, ...]] = {
    "day": tuple(range(7, 19)),
    "evening": tuple(range(19, 23)),
    "night": (23, 0, 1, 2, 3, 4, 5, 6),
}


def period_factors_from_profile(profile: Sequence[float] = DEFAULT_HOURLY_PROFILE) -> dict[str, float]:
    """Mean hourly demand of the evening and night periods relative to the day's mean hour.

    Parameters
    ----------
    profile
        24 non-negative hourly shares (or counts) of daily traffic, hour 0 = 00:00-01:00.

    Returns
    -------
    ``{"day": 1.0, "evening": e, "night": n}``: the factors :class:`Demand` multiplies
    the day-hour matrices with.

    Examples
    --------
    >>> f = period_factors_from_profile([1.0] * 24)
    >>> f == {"day": 1.0, "evening": 1.0, "night": 1.0}
    True
    >>> {k: round(v, 3) for k, v in period_factors_from_profile().items()}
    {'day': 1.0, 'evening': 0.515, 'night': 0.134}
    """
    p = np.asarray(profile, dtype=np.float64)
    if p.shape != (24,):
        raise InvalidValueError(f"hourly profile: expected 24 hourly values, got {p.size}")
    if not np.isfinite(p).all() or (p < 0).any():
        bad = [int(h) for h in np.flatnonzero(~np.isfinite(p) | (p < 0))]
        raise InvalidValueError(f"hourly profile: NaN or negative share at hours {bad}")
    means = {k: float(p[list(h)].mean()) for k, h in PERIOD_HOURS.items()}
    if means["day"] <= 0:
        raise InvalidValueError("hourly profile: no traffic between 07 and 19 (day period)")
    return {k: means[k] / means["day"] for k in ("day", "evening", "night")}


# --------------------------------------------------------------------- skims
@dataclass(frozen=True)
class Skim:
    """Zone-to-zone free-flow shortest paths (by time) on the car network.

    ``time_min[i, j]`` and ``length_km[i, j]`` are the time and length of the fastest path
    from zone ``zone_ids[i]`` to ``zone_ids[j]`` (``inf``/``nan`` where there is none).
    """

    zone_ids: np.ndarray
    time_min: np.ndarray
    length_km: np.ndarray


def skim_free_flow(network: RoadNetwork, *, zone_ids: np.ndarray | None = None, vehicle_class: str = "light") -> Skim:
    """Free-flow time and length between zone centroids, zone nodes not passed through.

    Uses :func:`scipy.sparse.csgraph.dijkstra` on the links the class may use. Unless
    ``network.zone_through``, every zone node is split into an origin copy (its out-links) and
    a destination copy (its in-links), so no path passes *through* a zone centroid (the TNTP
    first-through-node rule). Lengths are summed along the fastest paths.

    Examples
    --------
    >>> from ldtkit.model.network import network_from_tntp  # doctest: +SKIP
    >>> sk = skim_free_flow(network_from_tntp("../shared/data/tntp/SiouxFalls"))  # doctest: +SKIP
    >>> sk.time_min.shape  # doctest: +SKIP
    (24, 24)
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    from ldtkit.model.kernels.demand import path_attribute
    from ldtkit.model.traffic import CLASS_PERMISSION

    zone_ids = network.zone_ids if zone_ids is None else np.asarray(zone_ids, dtype=np.int64)
    if len(zone_ids) == 0:
        raise EmptyStudyAreaError(f"network {network.name!r}: no zone nodes to skim (is_zone is False everywhere)")
    links = network.links
    perm = CLASS_PERMISSION.get(vehicle_class)
    if perm is None:
        raise InvalidValueError(f"skim_free_flow: unknown vehicle class {vehicle_class!r}; expected one of {sorted(CLASS_PERMISSION)}")
    ok = links[perm].to_numpy(bool) & (links["capacity_vph"].to_numpy(np.float64) > 0)
    node_ids = np.sort(network.nodes["node_id"].to_numpy(np.int64))
    n = len(node_ids)
    zpos = np.searchsorted(node_ids, zone_ids)
    if (zpos >= n).any() or (node_ids[np.minimum(zpos, n - 1)] != zone_ids).any():
        missing = zone_ids[(zpos >= n) | (node_ids[np.minimum(zpos, n - 1)] != zone_ids)][:10].tolist()
        raise InvalidValueError(f"network {network.name!r}: zone ids {missing} are not nodes of the network")
    f = np.searchsorted(node_ids, links["from_node"].to_numpy(np.int64)[ok])
    t = np.searchsorted(node_ids, links["to_node"].to_numpy(np.int64)[ok])
    tt = np.maximum(links["free_flow_time_min"].to_numpy(np.float64)[ok], 1e-6)  # csgraph drops zero weights
    ll = links["length_m"].to_numpy(np.float64)[ok] / 1000.0
    # destination copies of zone nodes: n + k (unless the network lets traffic through zones)
    through = bool(network.zone_through)
    if not through:
        dest_copy = np.full(n, -1, dtype=np.int64)
        dest_copy[zpos] = n + np.arange(len(zone_ids))
        t = np.where(dest_copy[t] >= 0, dest_copy[t], t)
    # one edge per node pair: the fastest
    order = np.lexsort((tt, t, f))
    f, t, tt, ll = f[order], t[order], tt[order], ll[order]
    first = np.ones(len(f), dtype=bool)
    first[1:] = (f[1:] != f[:-1]) | (t[1:] != t[:-1])
    f, t, tt, ll = f[first], t[first], tt[first], ll[first]
    size = n if through else n + len(zone_ids)
    g = csr_matrix((tt, (f, t)), shape=(size, size))
    g.sort_indices()
    # the same CSR structure for lengths (no duplicates remain, so data aligns)
    gl = csr_matrix((ll, (f, t)), shape=(size, size))
    gl.sort_indices()
    nz = len(zone_ids)
    time = np.full((nz, nz), np.inf)
    length = np.full((nz, nz), np.nan)
    chunk = max(1, int(2e7 // size))
    targets = zpos.astype(np.int64) if through else np.arange(n, size, dtype=np.int64)
    indptr, heads, data = gl.indptr.astype(np.int64), gl.indices.astype(np.int64), gl.data.astype(np.float64)
    for s0 in range(0, nz, chunk):
        src = zpos[s0 : s0 + chunk]
        dist, pred = dijkstra(g, directed=True, indices=src, return_predecessors=True)
        time[s0 : s0 + chunk] = dist[:, targets]
        length[s0 : s0 + chunk] = path_attribute(pred, src.astype(np.int64), targets, indptr, heads, data)
    np.fill_diagonal(time, 0.0)
    np.fill_diagonal(length, 0.0)
    return Skim(zone_ids=zone_ids, time_min=time, length_km=length)


# ------------------------------------------------------------------- gravity
def furness(seed: np.ndarray, row_totals: np.ndarray, col_totals: np.ndarray, *, tol: float = 1e-9, max_iter: int = 2000) -> np.ndarray:
    """Balance ``seed`` so its row and column sums match the targets (Furness / IPF).

    Raises :class:`InvalidValueError` when the targets are inconsistent (different sums,
    NaN/negative) or a row/column with a positive target has no reachable cell.

    Examples
    --------
    >>> m = furness(np.ones((2, 2)), np.array([3.0, 1.0]), np.array([2.0, 2.0]))
    >>> np.round(m, 6).tolist()
    [[1.5, 1.5], [0.5, 0.5]]
    """
    from ldtkit.model.kernels.demand import furness as _furness

    seed = np.ascontiguousarray(seed, dtype=np.float64)
    rows = np.asarray(row_totals, dtype=np.float64)
    cols = np.asarray(col_totals, dtype=np.float64)
    for name, v in (("row", rows), ("column", cols)):
        if not np.isfinite(v).all() or (v < 0).any():
            raise InvalidValueError(
                f"furness: NaN or negative {name} totals at positions {np.flatnonzero(~np.isfinite(v) | (v < 0))[:10].tolist()}"
            )
    if not math.isclose(rows.sum(), cols.sum(), rel_tol=1e-9, abs_tol=1e-9):
        raise InvalidValueError(f"furness: row totals sum to {rows.sum():.6g} but column totals to {cols.sum():.6g}")
    dead_r = np.flatnonzero((rows > 0) & (seed.sum(axis=1) <= 0))
    dead_c = np.flatnonzero((cols > 0) & (seed.sum(axis=0) <= 0))
    if len(dead_r) or len(dead_c):
        raise InvalidValueError(
            f"furness: rows {dead_r[:10].tolist()} / columns {dead_c[:10].tolist()} have positive totals "
            "but no reachable destination/origin (zone not connected?)"
        )
    m, _, err = _furness(seed, rows, cols, float(tol), int(max_iter))
    if err > 1e-4:
        raise InvalidValueError(f"furness: did not balance (max relative row error {err:.3g} after {max_iter} iterations)")
    return m


def gravity(
    time_min: np.ndarray, productions: np.ndarray, attractions: np.ndarray, *, beta: float, exclude_diagonal: bool = True
) -> np.ndarray:
    """Doubly-constrained gravity model with deterrence ``exp(-beta * time)``.

    Rows sum to ``productions``, columns to ``attractions`` (rescaled to the same total).

    Examples
    --------
    >>> t = np.array([[0.0, 5.0, 10.0], [5.0, 0.0, 5.0], [10.0, 5.0, 0.0]])
    >>> m = gravity(t, np.array([10.0, 10.0, 10.0]), np.array([10.0, 10.0, 10.0]), beta=0.1)
    >>> bool(np.allclose(m.sum(axis=1), 10.0)), bool(m[0, 1] > m[0, 2])
    (True, True)
    """
    p = np.asarray(productions, dtype=np.float64)
    a = np.asarray(attractions, dtype=np.float64)
    if a.sum() > 0:
        a = a * (p.sum() / a.sum())
    with np.errstate(over="ignore", invalid="ignore"):
        seed = np.exp(-beta * time_min)
    seed[~np.isfinite(time_min)] = 0.0
    if exclude_diagonal and seed.shape[0] == seed.shape[1]:
        np.fill_diagonal(seed, 0.0)
    return furness(seed, p, a)


def _mean(m: np.ndarray, cost: np.ndarray) -> float:
    w = m.sum()
    c = np.where(np.isfinite(cost), cost, 0.0)
    return float((m * c).sum() / w) if w > 0 else float("nan")


def calibrate_gravity(
    time_min: np.ndarray,
    productions: np.ndarray,
    attractions: np.ndarray,
    *,
    target_mean: float,
    cost_for_target: np.ndarray | None = None,
    beta_bounds: tuple[float, float] = (1e-4, 2.0),
) -> tuple[np.ndarray, float]:
    """Doubly-constrained gravity with ``beta`` solved so the mean trip cost hits ``target_mean``.

    Parameters
    ----------
    time_min
        Deterrence cost (free-flow minutes).
    target_mean
        Target mean of ``cost_for_target`` (e.g. network km) or of ``time_min`` when not given.

    Returns
    -------
    ``(matrix, beta)``

    Raises
    ------
    InvalidValueError
        The target lies outside what the network allows (mean at ``beta`` bounds).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = rng.uniform(2, 30, (20, 20))
    >>> m, beta = calibrate_gravity(t, np.ones(20), np.ones(20), target_mean=12.0)
    >>> round(float((m * t).sum() / m.sum()), 3)
    12.0
    """
    from scipy.optimize import brentq

    cost = time_min if cost_for_target is None else cost_for_target

    def f(log_beta: float) -> float:
        return _mean(gravity(time_min, productions, attractions, beta=math.exp(log_beta)), cost) - target_mean

    lo, hi = math.log(beta_bounds[0]), math.log(beta_bounds[1])
    f_lo, f_hi = f(lo), f(hi)
    if f_lo < 0:
        raise InvalidValueError(
            f"gravity calibration: target mean trip length {target_mean:g} exceeds the longest possible "
            f"mean {f_lo + target_mean:.4g} (beta -> 0): lower the target or enlarge the study area"
        )
    if f_hi > 0:
        raise InvalidValueError(
            f"gravity calibration: target mean trip length {target_mean:g} is below the shortest possible "
            f"mean {f_hi + target_mean:.4g} (beta = {beta_bounds[1]:g}): raise the target"
        )
    log_beta = brentq(f, lo, hi, xtol=1e-10, rtol=1e-10)
    beta = math.exp(log_beta)
    return gravity(time_min, productions, attractions, beta=beta), beta


# ------------------------------------------------------------------- OD I/O
def _check_matrix(m: np.ndarray, zone_ids: np.ndarray, *, source: str, cls: str) -> None:
    bad = ~np.isfinite(m) | (m < 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InvalidValueError(
            f"{source}: class {cls!r} has {int(bad.sum())} NaN or negative cells, e.g. "
            f"origin zone {int(zone_ids[i])} -> destination zone {int(zone_ids[j])} = {m[i, j]}"
        )


def _check_total(total: float, stated: float, *, source: str, what: str) -> None:
    if not math.isclose(total, stated, rel_tol=1e-5, abs_tol=1e-3):
        raise InvalidValueError(f"{source}: {what} states a total of {stated:.6g} but the cells sum to {total:.6g}")


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
    from ldtkit.io import atomic_path

    if vehicle_class is None:
        m = sum(demand.trips.values())
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


_TNTP_META = re.compile(r"<([^>]+)>\s*([^\n<]*)")


def read_tntp_trips(path: str | Path, *, vehicle_class: str = "light", zone_ids: Sequence[int] | None = None) -> Demand:
    """Read a TNTP ``*_trips.tntp`` file (vehicles/h) into a one-class :class:`Demand`.

    Zones are ``1..<NUMBER OF ZONES>`` unless ``zone_ids`` is given. The stated
    ``<TOTAL OD FLOW>`` must match the sum of the cells.

    Raises
    ------
    UnreadableFormatError
        Not TNTP trips syntax (the message names the file and line).
    InvalidValueError
        Negative or NaN cells, a zone outside ``1..nz``, or a total that does not match.

    Examples
    --------
    >>> d = read_tntp_trips("../shared/data/tntp/SiouxFalls/SiouxFalls_trips.tntp")  # doctest: +SKIP
    >>> d.total()  # doctest: +SKIP
    360600.0
    """
    path = require_file(path, what="TNTP trips file")
    text = path.read_text(errors="replace")
    text = re.sub(r"~[^\n]*", "", text)  # TNTP comments run from '~' to the end of the line
    head, sep, body = text.partition("<END OF METADATA>")
    if not sep:
        raise UnreadableFormatError(path, expected="TNTP trips", detail="no <END OF METADATA> line")
    meta = {k.strip().upper(): v.strip() for k, v in _TNTP_META.findall(head)}
    if "NUMBER OF ZONES" not in meta:
        raise UnreadableFormatError(path, expected="TNTP trips", detail="metadata lacks <NUMBER OF ZONES>")
    nz = int(float(meta["NUMBER OF ZONES"]))
    ids = np.arange(1, nz + 1, dtype=np.int64) if zone_ids is None else np.asarray(zone_ids, dtype=np.int64)
    if len(ids) != nz:
        raise InvalidValueError(f"{path}: <NUMBER OF ZONES> is {nz} but {len(ids)} zone ids were given")
    pos = {int(z): k for k, z in enumerate(ids)}
    m = np.zeros((nz, nz))
    blocks = re.split(r"^\s*Origin\s+", body, flags=re.M)
    if blocks[0].strip():
        raise UnreadableFormatError(
            path, expected="TNTP trips", detail=f"unexpected text before the first 'Origin': {blocks[0].strip()[:40]!r}"
        )
    cell = re.compile(r"(-?\d+)\s*:\s*([^;\s]+)\s*;?")
    for block in blocks[1:]:
        first, _, rest = block.partition("\n")
        try:
            o = int(first.split()[0])
        except (ValueError, IndexError) as exc:
            raise UnreadableFormatError(path, expected="TNTP trips", detail=f"bad origin line {first.strip()[:40]!r}") from exc
        if o not in pos:
            raise InvalidValueError(
                f"{path}: origin zone {o} is not among zones 1..{nz}"
                if zone_ids is None
                else f"{path}: origin zone {o} is not a known zone id"
            )
        pairs = cell.findall(rest)
        leftover = cell.sub("", rest).strip()
        if leftover:
            raise UnreadableFormatError(path, expected="TNTP trips", detail=f"origin {o}: cannot parse {leftover[:40]!r}")
        if not pairs:
            continue
        d = np.array([int(a) for a, _ in pairs])
        try:
            v = np.array([float(b) for _, b in pairs])
        except ValueError as exc:
            raise UnreadableFormatError(path, expected="TNTP trips", detail=f"origin {o}: {exc}") from exc
        unknown = [int(x) for x in d if int(x) not in pos]
        if unknown:
            raise InvalidValueError(f"{path}: origin {o} names unknown destination zones {unknown[:10]}")
        m[pos[o], [pos[int(x)] for x in d]] = v
    _check_matrix(m, ids, source=str(path), cls=vehicle_class)
    if "TOTAL OD FLOW" in meta:
        _check_total(float(m.sum()), float(meta["TOTAL OD FLOW"]), source=str(path), what="<TOTAL OD FLOW>")
    return Demand(zone_ids=ids, trips={vehicle_class: m}, meta={"source": str(path), "format": "tntp"})


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
    from ldtkit.io import atomic_path

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


def read_od_csv(path: str | Path, *, zone_ids: Sequence[int] | None = None, pcu: Mapping[str, float] | None = None) -> Demand:
    """Read a long-format OD table (``origin, destination, class, trips``; ``class`` optional).

    Zones are ``zone_ids`` when given (unknown ids are an error), else the sorted union of
    origins and destinations. Repeated (origin, destination, class) rows are an error.
    """
    path = require_file(path, what="OD csv")
    try:
        df = pd.read_csv(path)
    except Exception as exc:  # pandas raises several types
        raise UnreadableFormatError(path, expected="CSV", detail=str(exc)) from exc
    from ldtkit.errors import MissingFieldError

    for col in ("origin", "destination", "trips"):
        if col not in df.columns:
            raise MissingFieldError(path, col, expected="a column of the long OD table (origin, destination, class, trips)")
    if "class" not in df.columns:
        df["class"] = "light"
    trips = pd.to_numeric(df["trips"], errors="coerce")
    bad = ~np.isfinite(trips.to_numpy(np.float64)) | (trips.to_numpy(np.float64) < 0)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise InvalidValueError(
            f"{path}: {int(bad.sum())} rows with NaN or negative trips, e.g. line {r + 2}: "
            f"origin {df['origin'].iloc[r]} -> destination {df['destination'].iloc[r]} = {df['trips'].iloc[r]!r}"
        )
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
    mats: dict[str, np.ndarray] = {}
    cls_arr = df["class"].astype(str).to_numpy()
    for cls in dict.fromkeys(cls_arr):
        sel = cls_arr == cls
        m = np.zeros((len(ids), len(ids)))
        m[oi[sel], di[sel]] = trips.to_numpy(np.float64)[sel]
        mats[cls] = m
    pcu = dict(pcu) if pcu is not None else {c: (2.0 if c == "heavy" else 1.0) for c in mats}
    return Demand(zone_ids=ids, trips=mats, pcu=pcu, meta={"source": str(path), "format": "csv"})


def write_omx(demand: Demand, path: str | Path) -> Path:
    """Write an OpenMatrix file: one matrix per class (vehicles/h), zone mapping ``"zone_id"``.

    Each matrix carries attributes ``total_vph`` and ``pcu``; the file carries
    ``period_factors`` (JSON) so :func:`read_omx` restores the :class:`Demand`.
    """
    import json

    import openmatrix as omx

    from ldtkit.io import atomic_path

    path = Path(path)
    with atomic_path(path, suffix=".omx") as tmp:
        f = omx.open_file(str(tmp), "w")
        try:
            for cls, m in demand.trips.items():
                f[cls] = m
                f[cls].attrs.total_vph = float(m.sum())
                f[cls].attrs.pcu = float(demand.pcu.get(cls, 1.0))
                f[cls].attrs.units = "vehicles/h (mean day hour 07-19)"
            f.create_mapping("zone_id", np.asarray(demand.zone_ids, dtype=np.int64))
            f.root._v_attrs.period_factors = json.dumps(demand.period_factors)
        finally:
            f.close()
    return path


def read_omx(path: str | Path, *, mapping: str | None = None, classes: Sequence[str] | None = None) -> Demand:
    """Read an OpenMatrix file into a :class:`Demand`.

    Parameters
    ----------
    mapping
        Zone mapping whose keys are the zone node ids (default: ``"zone_id"`` if present,
        else the file's only mapping, else ``1..n``).
    classes
        Matrix names to read (default all). A matrix with a ``total_vph`` attribute must sum to it.
    """
    import json

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
        mats: dict[str, np.ndarray] = {}
        pcu: dict[str, float] = {}
        for c in want:
            node = f[c]
            m = np.asarray(node[:], dtype=np.float64)
            _check_matrix(m, ids, source=str(path), cls=c)
            attrs = node.attrs
            if "total_vph" in attrs._v_attrnames:
                _check_total(float(m.sum()), float(attrs.total_vph), source=str(path), what=f"matrix {c!r} attribute total_vph")
            pcu[c] = float(attrs.pcu) if "pcu" in attrs._v_attrnames else (2.0 if c == "heavy" else 1.0)
            mats[c] = m
        pf_raw = getattr(f.root._v_attrs, "period_factors", None)
        pf = json.loads(pf_raw) if isinstance(pf_raw, str) else None
    finally:
        f.close()
    kw = {"period_factors": pf} if pf else {}
    return Demand(zone_ids=ids, trips=mats, pcu=pcu, meta={"source": str(path), "format": "omx"}, **kw)


def write_od(demand: Demand, path: str | Path, **kwargs: Any) -> Path:
    """Write OD matrices; the format follows the suffix: ``.omx``, ``.csv`` or ``.tntp``."""
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

    Examples
    --------
    >>> d = read_od("../shared/data/tntp/SiouxFalls/SiouxFalls_trips.tntp")  # doctest: +SKIP
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".omx":
        return read_omx(path, **kwargs)
    if suffix == ".csv":
        return read_od_csv(path, **kwargs)
    if suffix == ".tntp":
        return read_tntp_trips(path, **kwargs)
    raise InvalidValueError(f"{path}: unsupported OD format {suffix!r} (use .omx, .csv or .tntp)")


# ------------------------------------------------------------ trip generation
#: Default trip-end weights for a mean day hour: a zone *produces* trips by its residents and
#: (less) by its jobs/visits, and *attracts* them the other way round (home-based trips leave home
#: in the morning and return in the evening; over the 07-19 day the two directions nearly balance,
#: so both ends use both proxies). Override with ``[demand.trip_ends]``.
DEFAULT_TRIP_ENDS: dict[str, dict[str, float]] = {
    "production": {"population": 1.0, "jobs": 0.6},
    "attraction": {"population": 0.6, "jobs": 1.0},
}


def generate_demand(
    network: RoadNetwork,
    zones: pd.DataFrame,
    *,
    total_vph: float,
    heavy_share: float,
    mean_trip_km: float | None = None,
    mean_trip_min: float | None = None,
    external_share: float = 0.0,
    through_share: float = 0.0,
    heavy_external_factor: float = 1.0,
    trip_ends: Mapping[str, Mapping[str, float]] | None = None,
    hourly_profile: Sequence[float] = DEFAULT_HOURLY_PROFILE,
    pcu: Mapping[str, float] | None = None,
) -> Demand:
    """OD matrices (vehicles/h, mean day hour) by a doubly-constrained gravity model.

    The total ``total_vph`` splits into four blocks: internal-internal ``1 - external_share -
    through_share``, internal-external and external-internal ``external_share / 2`` each, and
    external-external (through traffic) ``through_share``. Internal zones produce and attract
    trips by their population and jobs (``trip_ends``, :data:`DEFAULT_TRIP_ENDS`), external zones
    by their ``weight`` (capacity of the crossing road). Each block is balanced by Furness with
    deterrence ``exp(-beta * t)`` on free-flow time ``t``; ``beta`` is calibrated on the internal
    block so that its mean trip length (network km, or minutes) hits the target. Heavy vehicles
    are ``heavy_share`` of all trips, ``heavy_external_factor`` times more frequent on trips with
    an external end than on internal trips.

    Parameters
    ----------
    network
        A network with zone centroids (:func:`ldtkit.model.zones.connect_zones`).
    zones
        Zones table with ``node_id``, ``kind``, ``population``, ``jobs`` and (external) ``weight``
        (``network.meta["zones"]`` after :func:`~ldtkit.model.zones.connect_zones`).

    Returns
    -------
    Demand
        ``meta`` reports ``total_vph``, ``heavy_share``, ``mean_trip_km`` / ``mean_trip_min``
        (internal trips and all trips), ``beta_per_min`` and the block totals.

    Examples
    --------
    >>> net = connect_zones(net, zones)  # doctest: +SKIP
    >>> d = generate_demand(net, net.meta["zones"], total_vph=20000, heavy_share=0.08, mean_trip_km=6)  # doctest: +SKIP
    """
    if (mean_trip_km is None) == (mean_trip_min is None):
        raise ConfigError("generate_demand: give exactly one of mean_trip_km and mean_trip_min")
    for name, v in (
        ("total_vph", total_vph),
        ("heavy_share", heavy_share),
        ("external_share", external_share),
        ("through_share", through_share),
    ):
        if not np.isfinite(v) or v < 0:
            raise InvalidValueError(f"generate_demand: {name} must be a finite number >= 0, got {v!r}")
    if heavy_share >= 1 or external_share + through_share >= 1:
        raise InvalidValueError(
            f"generate_demand: heavy_share ({heavy_share}) must be < 1 and external_share + through_share "
            f"({external_share} + {through_share}) < 1"
        )
    z = zones.reset_index(drop=True)
    for col in ("node_id", "kind"):
        if col not in z.columns:
            raise ConfigError(f"generate_demand: zones table lacks {col!r} (connect the zones to the network first)")
    internal = (z["kind"] == "internal").to_numpy()
    external = ~internal
    if not internal.any():
        raise EmptyStudyAreaError("generate_demand: no internal zone")
    if external_share + through_share > 0 and not external.any():
        raise ConfigError("generate_demand: external/through shares are set but there are no external zones")
    te = {k: {**DEFAULT_TRIP_ENDS[k], **dict((trip_ends or {}).get(k, {}))} for k in DEFAULT_TRIP_ENDS}
    pop = z["population"].to_numpy(np.float64)
    job = z["jobs"].to_numpy(np.float64)
    prod_w = te["production"]["population"] * pop + te["production"]["jobs"] * job
    attr_w = te["attraction"]["population"] * pop + te["attraction"]["jobs"] * job
    ext_w = z["weight"].fillna(0.0).to_numpy(np.float64) if "weight" in z.columns else np.zeros(len(z))
    zone_ids = z["node_id"].to_numpy(np.int64)
    sk = skim_free_flow(network, zone_ids=zone_ids)
    no_path = ~np.isfinite(sk.time_min)
    np.fill_diagonal(no_path, False)
    if no_path.any():
        i, j = np.argwhere(no_path)[0]
        raise InvalidValueError(
            f"generate_demand: {int(no_path.sum())} zone pairs have no car path, e.g. zone {z['zone'].iloc[i]!r} "
            f"(node {zone_ids[i]}) -> zone {z['zone'].iloc[j]!r} (node {zone_ids[j]})"
        )

    T = float(total_vph)
    t_ii = T * (1.0 - external_share - through_share)
    t_ie = t_ei = T * external_share / 2.0
    t_ee = T * through_share
    I = np.flatnonzero(internal)
    E = np.flatnonzero(external)

    def shares(w: np.ndarray, what: str, idx: np.ndarray) -> np.ndarray:
        s = w[idx].sum()
        if s <= 0:
            raise EmptyStudyAreaError(f"generate_demand: {what} weights of the zones sum to 0")
        return w[idx] / s

    tm = sk.time_min
    target_cost = sk.length_km if mean_trip_km is not None else tm
    target = float(mean_trip_km if mean_trip_km is not None else mean_trip_min)
    m_ii, beta = calibrate_gravity(
        tm[np.ix_(I, I)], t_ii * shares(prod_w, "production", I), t_ii * shares(attr_w, "attraction", I),
        target_mean=target, cost_for_target=target_cost[np.ix_(I, I)],
    )  # fmt: skip
    total = np.zeros((len(z), len(z)))
    total[np.ix_(I, I)] = m_ii
    if len(E):
        we = shares(ext_w if ext_w[E].sum() > 0 else np.ones(len(z)), "external", E)
        if t_ie > 0:
            total[np.ix_(I, E)] = gravity(
                tm[np.ix_(I, E)], t_ie * shares(prod_w, "production", I), t_ie * we, beta=beta, exclude_diagonal=False
            )
            total[np.ix_(E, I)] = gravity(
                tm[np.ix_(E, I)], t_ei * we, t_ei * shares(attr_w, "attraction", I), beta=beta, exclude_diagonal=False
            )
        if t_ee > 0:
            if len(E) < 2:
                raise ConfigError("generate_demand: through traffic needs at least two external zones")
            # through traffic: long trips by nature, so no distance deterrence among gateways
            total[np.ix_(E, E)] = gravity(tm[np.ix_(E, E)], t_ee * we, t_ee * we, beta=0.0)
    # heavy vehicles: share h_i on internal trips, k * h_i on trips with an external end
    k = float(heavy_external_factor)
    ext_part = T - t_ii
    h_i = heavy_share * T / (t_ii + k * ext_part) if T > 0 else 0.0
    if k * h_i >= 1:
        raise InvalidValueError(f"generate_demand: heavy_external_factor {k} gives a heavy share >= 1 on external trips")
    hmask = np.full(total.shape, k * h_i)
    hmask[np.ix_(I, I)] = h_i
    heavy = total * hmask
    light = total - heavy
    pf = period_factors_from_profile(hourly_profile)

    def mean_of(m: np.ndarray, c: np.ndarray) -> float:
        return _mean(m, c)

    meta = {
        "total_vph": float(total.sum()),
        "heavy_share": float(heavy.sum() / total.sum()) if total.sum() > 0 else 0.0,
        "mean_trip_km_internal": mean_of(m_ii, sk.length_km[np.ix_(I, I)]),
        "mean_trip_min_internal": mean_of(m_ii, tm[np.ix_(I, I)]),
        "mean_trip_km_all": mean_of(total, sk.length_km),
        "mean_trip_min_all": mean_of(total, tm),
        "beta_per_min": beta,
        "blocks_vph": {"internal": float(total[np.ix_(I, I)].sum()), "in_out": float(total[np.ix_(I, E)].sum() + total[np.ix_(E, I)].sum()) if len(E) else 0.0, "through": float(total[np.ix_(E, E)].sum()) if len(E) else 0.0},
        "targets": {"total_vph": T, "heavy_share": heavy_share, ("mean_trip_km" if mean_trip_km is not None else "mean_trip_min"): target},
        "zones": z,
        "skim": sk,
        "units": "vehicles/h, mean day hour 07-19",
    }  # fmt: skip
    return Demand(
        zone_ids=zone_ids,
        trips={"light": light, "heavy": heavy},
        pcu=dict(pcu) if pcu is not None else {"light": 1.0, "heavy": 2.0},
        period_factors=pf,
        meta=meta,
    )
