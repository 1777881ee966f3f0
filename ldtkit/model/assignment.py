"""Static user-equilibrium traffic assignment.

:func:`assign` loads OD demand (one or more vehicle classes with PCU factors) onto a
:class:`~ldtkit.model.network.RoadNetwork` until the relative gap ``(TSTT - SPTT) / TSTT`` is
below ``gap``. Link cost is the BPR function of the total PCU flow,
``t0 * (1 + b * (x / capacity) ** power)``, plus an optional fixed generalized-cost term
(``cost_fixed_min`` column or ``fixed_cost_min=``), e.g. Chicago-Sketch's tolls and
distance.

Methods
-------
``"path"`` (default)
    Origin-based gradient projection on path sets (numba): shortest-path trees of all
    origins in parallel, then Newton flow shifts from costlier paths to the cheapest one
    per OD pair with immediate link-cost updates, plus cheap inner re-equilibration passes.
    Converges to relative gaps of 1e-8 and below; deterministic at any thread count.
``"bfw"``
    Bi-conjugate Frank–Wolfe (Mitradjieva & Lindberg 2013), the classic link-based
    fallback; fine to 1e-4, slow beyond.
``"fw"``
    Plain Frank–Wolfe (for comparison only).

Rules
-----
- Classes come from ``demand.trips``; class ``c`` may use link ``a`` only if the link's
  permission column (:data:`ldtkit.model.traffic.CLASS_PERMISSION`: ``light`` → ``car_allowed``,
  ``heavy`` → ``hgv_allowed``; other classes → ``car_allowed``) is true and its capacity
  is > 0 (zero-capacity links are treated as closed). Barred links keep their row, with
  zero flow.
- Zone nodes are not passed through unless ``network.zone_through`` (TNTP
  first-through-node rule).
- OD pairs without a path are listed in ``result.unassigned`` (origin, destination, class,
  trips); ``on_disconnected="raise"`` (default) raises
  :class:`~ldtkit.errors.DisconnectedDemandError`, ``"drop"`` warns and assigns the rest.
- Intrazonal trips (origin == destination) do not use the network and are not assigned.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from ldtkit.errors import DisconnectedDemandError, InvalidValueError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ldtkit.model.demand import Demand
    from ldtkit.model.network import RoadNetwork

METHODS = ("path", "bfw", "fw")

# Parallel (prange) kernels are entered by one thread at a time: numba's workqueue threading
# layer aborts on concurrent entry, and the scenario runner calls assign() from dask threads.
_PARALLEL_LOCK = threading.Lock()

#: Path-based method: a new shortest path is added, and flow shifted, only where it saves more
#: than ``TOL_FACTOR x current relative gap`` of the OD pair's cost (ties and negligible
#: improvements would otherwise make whole OD pairs flip between near-equal paths).
TOL_FACTOR = 0.1

#: Memory budget (bytes) for the shortest-path trees held at once; more origins are batched.
TREE_MEMORY_BYTES = 256 * 1024 * 1024


def _empty_unassigned() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {
            "origin": pd.Series(dtype="int64"),
            "destination": pd.Series(dtype="int64"),
            "class": pd.Series(dtype=object),
            "trips": pd.Series(dtype="float64"),
        }
    )


@dataclass
class AssignmentResult:
    """Equilibrium link flows and times.

    All arrays align with ``link_id`` (the network's links in order).

    Attributes
    ----------
    flow_vph
        Vehicles per hour per class.
    flow_pcu
        Total flow in PCU per hour.
    time_min
        Congested travel time (BPR), minutes.
    speed_kmh
        Length / congested time (the free speed where the time is 0).
    gap_history
        Relative gap ``(TSTT - SPTT) / TSTT`` measured after each iteration (iteration 1 is the
        all-or-nothing loading at free-flow costs); the last entry is the gap of the returned flows.
    objective
        Beckmann objective (integral of the link cost functions, fixed cost included).
    cost_min
        Generalized link cost (time plus fixed term), minutes.
    path_state
        Path sets and flows (for warm starts with ``method="path"``); ``None`` for link-based methods.
    """

    link_id: np.ndarray
    flow_vph: dict[str, np.ndarray]  # vehicles/h per class
    flow_pcu: np.ndarray  # total PCU/h
    time_min: np.ndarray  # congested travel time
    speed_kmh: np.ndarray  # length / congested time
    gap_history: np.ndarray  # relative gap per iteration, (TSTT - SPTT) / TSTT
    objective: float  # Beckmann objective
    iterations: int
    wall_time_s: float
    unassigned: pd.DataFrame = field(default_factory=_empty_unassigned)
    method: str = ""
    cost_min: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict, repr=False)
    path_state: dict[str, np.ndarray] | None = field(default=None, repr=False)

    @property
    def gap(self) -> float:
        return float(self.gap_history[-1]) if len(self.gap_history) else float("nan")

    def to_dataframe(self) -> pd.DataFrame:
        """One row per link: ``link_id``, ``flow_pcu``, ``<class>_vph``, ``time_min``, ``cost_min``, ``speed_kmh``."""
        import pandas as pd

        df = pd.DataFrame({"link_id": self.link_id, "flow_pcu": self.flow_pcu})
        for c, v in self.flow_vph.items():
            df[f"{c}_vph"] = v
        df["time_min"] = self.time_min
        df["cost_min"] = self.cost_min if self.cost_min is not None else self.time_min
        df["speed_kmh"] = self.speed_kmh
        return df


# --------------------------------------------------------------------------- problem arrays
@dataclass
class _Problem:
    n_nodes: int
    from_idx: np.ndarray
    to_idx: np.ndarray
    indptr: np.ndarray
    adj: np.ndarray
    t0: np.ndarray
    cap: np.ndarray
    b: np.ndarray
    pw: np.ndarray
    fx: np.ndarray
    allowed: np.ndarray  # (n_cls, m) bool
    allowed_grp: np.ndarray  # (n_groups, m) bool: distinct permission rows
    no_through: np.ndarray  # (n,) bool
    classes: list[str]
    pcu: np.ndarray  # (n_cls,)
    node_ids: np.ndarray
    zone_ids: np.ndarray
    # subproblems and OD pairs
    sub_orig: np.ndarray
    sub_grp: np.ndarray
    sub_ptr: np.ndarray
    od_dest: np.ndarray
    od_dem: np.ndarray
    od_sub: np.ndarray
    od_cls: np.ndarray
    intrazonal: float = 0.0


def _build_problem(
    *,
    node_ids: np.ndarray,
    from_node: np.ndarray,
    to_node: np.ndarray,
    t0: np.ndarray,
    cap: np.ndarray,
    b: np.ndarray,
    power: np.ndarray,
    fixed: np.ndarray,
    allowed: np.ndarray,
    no_through_nodes: np.ndarray,
    zone_ids: np.ndarray,
    trips: dict[str, np.ndarray],
    pcu: dict[str, float],
    source: str = "network",
) -> _Problem:
    node_ids = np.asarray(node_ids, dtype=np.int64)
    order = np.argsort(node_ids, kind="stable")
    sorted_ids = node_ids[order]

    def idx_of(ids: np.ndarray, what: str) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
        bad = sorted_ids[pos] != ids
        if bad.any():
            raise InvalidValueError(f"{source}: {what} {ids[bad][:10].tolist()} are not nodes of the network")
        return order[pos].astype(np.int64)

    n = len(node_ids)
    f = idx_of(from_node, "link from_node ids")
    t = idx_of(to_node, "link to_node ids")
    adj = np.argsort(f, kind="stable").astype(np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(f, minlength=n), out=indptr[1:])
    arrs = {}
    for name, v in (("t0", t0), ("cap", cap), ("b", b), ("power", power), ("fixed", fixed)):
        v = np.ascontiguousarray(v, dtype=np.float64)
        bad = ~np.isfinite(v) | (v < 0)
        if bad.any():
            raise InvalidValueError(
                f"{source}: link {name} must be finite and >= 0; {int(bad.sum())} links fail (rows {np.flatnonzero(bad)[:10].tolist()})"
            )
        arrs[name] = v
    classes = list(trips)
    allowed = np.ascontiguousarray(allowed, dtype=np.bool_) & (arrs["cap"] > 0)[None, :]
    zidx = idx_of(zone_ids, "demand zone ids")
    pcu_arr = np.array([float(pcu[c]) for c in classes], dtype=np.float64)
    # classes allowed on exactly the same links share shortest-path trees (one "group")
    _, grp_of_cls = np.unique(allowed, axis=0, return_inverse=True) if len(classes) else (None, np.zeros(0, np.int64))
    grp_of_cls = np.asarray(grp_of_cls, dtype=np.int64).reshape(-1)
    n_grp = int(grp_of_cls.max()) + 1 if len(grp_of_cls) else 0
    allowed_grp = np.zeros((max(n_grp, 1), len(arrs["t0"])), dtype=np.bool_)
    for ci in range(len(classes)):  # loop over classes only
        allowed_grp[grp_of_cls[ci]] = allowed[ci]
    subs_o, subs_g, counts_l, dests, clss, dems = [], [], [], [], [], []
    intrazonal = 0.0
    for g in range(n_grp):  # loop over permission groups only
        oi, dj, cc, vv = [], [], [], []
        for ci in np.flatnonzero(grp_of_cls == g):
            mat = np.asarray(trips[classes[ci]], dtype=np.float64)
            intrazonal += float(np.trace(mat))
            i, j = np.nonzero(mat)
            keep = i != j
            oi.append(i[keep])
            dj.append(j[keep])
            cc.append(np.full(int(keep.sum()), ci, dtype=np.int64))
            vv.append(mat[i[keep], j[keep]])
        i, j, cls_k, dem_k = (np.concatenate(a) for a in (oi, dj, cc, vv))
        if len(i) == 0:
            continue
        srt = np.lexsort((cls_k, j, i))  # by origin, then destination, then class
        i, j, cls_k, dem_k = i[srt], j[srt], cls_k[srt], dem_k[srt]
        uo, start = np.unique(i, return_index=True)
        subs_o.append(zidx[uo])
        subs_g.append(np.full(len(uo), g, dtype=np.int64))
        counts_l.append(np.diff(np.append(start, len(i))))
        dests.append(zidx[j])
        clss.append(cls_k)
        dems.append(dem_k)
    if dests:
        sub_orig = np.concatenate(subs_o)
        sub_grp = np.concatenate(subs_g)
        sub_ptr = np.zeros(len(sub_orig) + 1, np.int64)
        np.cumsum(np.concatenate(counts_l), out=sub_ptr[1:])
        od_dest = np.concatenate(dests)
        od_cls = np.concatenate(clss)
        od_dem = np.concatenate(dems)
    else:
        sub_orig = np.zeros(0, np.int64)
        sub_grp = np.zeros(0, np.int64)
        sub_ptr = np.zeros(1, np.int64)
        od_dest = np.zeros(0, np.int64)
        od_cls = np.zeros(0, np.int64)
        od_dem = np.zeros(0, np.float64)
    od_sub = np.repeat(np.arange(len(sub_orig)), np.diff(sub_ptr))
    no_through = np.zeros(n, dtype=np.bool_)
    if len(no_through_nodes):
        no_through[idx_of(no_through_nodes, "no-through node ids")] = True
    return _Problem(
        n_nodes=n, from_idx=f, to_idx=t, indptr=indptr, adj=adj,
        t0=arrs["t0"], cap=arrs["cap"], b=arrs["b"], pw=arrs["power"], fx=arrs["fixed"],
        allowed=allowed, allowed_grp=allowed_grp, no_through=no_through, classes=classes, pcu=pcu_arr,
        node_ids=node_ids, zone_ids=np.asarray(zone_ids, np.int64),
        sub_orig=sub_orig.astype(np.int64), sub_grp=sub_grp.astype(np.int64), sub_ptr=sub_ptr.astype(np.int64),
        od_dest=od_dest.astype(np.int64), od_dem=od_dem.astype(np.float64), od_sub=od_sub.astype(np.int64),
        od_cls=od_cls.astype(np.int64),
        intrazonal=intrazonal,
    )  # fmt: skip


# --------------------------------------------------------------------------- solver
def _batches(pb: _Problem) -> list[tuple[int, int]]:
    ns = len(pb.sub_orig)
    per = max(1, int(TREE_MEMORY_BYTES // max(1, 4 * pb.n_nodes)))
    return [(lo, min(ns, lo + per)) for lo in range(0, ns, per)] or [(0, 0)]


def _solve(
    pb: _Problem,
    *,
    method: str,
    gap: float,
    max_iter: int,
    on_disconnected: str,
    warm: dict | None = None,
    inner: int | None = None,
    progress: bool = False,
    n_threads: int | None = None,
    kernels: ModuleType | None = None,
    keep_paths: bool = True,
) -> dict[str, Any]:
    """Run the assignment on problem arrays; returns a dict of raw arrays and figures.

    ``kernels`` is the module of numba kernels to call: the JIT-compiled
    :mod:`ldtkit.model.kernels.assignment` (default, parallel) or its ahead-of-time compiled
    copy from :func:`ldtkit.model.kernels.aot.load_assignment_aot` (serial, no numba import;
    used by the ``ldtkit assign`` CLI). ``keep_paths=False`` skips exporting the path sets.
    """
    t_start = time.perf_counter()
    if kernels is None:
        import numba

        from ldtkit.model.kernels import assignment as K

        nthreads = int(n_threads or numba.get_num_threads())
    else:
        K = kernels
        nthreads = 1  # the AOT kernels are serial: one chunk of shortest-path trees
    m = len(pb.t0)
    ncls = len(pb.classes)
    batches = _batches(pb)
    width = max(hi - lo for lo, hi in batches) if batches else 0
    pred = np.empty((max(width, 1), pb.n_nodes), dtype=np.int32)
    od_sp = np.full(len(pb.od_dest), np.inf)
    od_setmin = np.full(len(pb.od_dest), np.inf)
    od_dem = pb.od_dem.copy()
    x = np.zeros(m)
    xc = np.zeros((ncls, m))
    cost = np.empty(m)
    der = np.empty(m)
    args_net = (pb.sub_orig, pb.sub_grp, pb.sub_ptr, pb.od_dest, pb.indptr, pb.adj, pb.to_idx)

    def sp_pass(lo: int, hi: int) -> None:
        if hi > lo:
            with _PARALLEL_LOCK:
                K.shortest_paths(lo, hi, *args_net, cost, pb.allowed_grp, pb.no_through, pred, od_sp, nthreads)

    def set_min() -> None:
        with _PARALLEL_LOCK:
            K.set_min_cost(pool["od_head"], pool["plinks"], pool["p_off"], pool["p_len"], pool["p_next"], cost, od_setmin)

    # ---- connectivity check at free flow (cost of every allowed link is finite)
    K.link_costs(x, pb.t0, pb.cap, pb.b, pb.pw, pb.fx, cost, der)
    unassigned = None
    checked = False
    history: list[float] = []
    # warm start
    pool = None
    if warm is not None:
        if method == "path" and warm.get("path_state") is not None:
            pool = _pool_from_state(pb, warm["path_state"])
            x, xc = pool.pop("x"), pool.pop("xc")
        elif "xc" in warm:
            xc = np.ascontiguousarray(warm["xc"], dtype=np.float64).copy()
            x = (pb.pcu[:, None] * xc).sum(axis=0)
        K.link_costs(x, pb.t0, pb.cap, pb.b, pb.pw, pb.fx, cost, der)
    incomplete = pool is not None and bool(((pool["od_head"] < 0) & (od_dem > 0)).any())
    if pool is None:
        cap0 = max(1024, 2 * len(pb.od_dest))
        pool = {
            "od_head": np.full(len(pb.od_dest), -1, np.int64),
            "plinks": np.empty(max(4096, cap0 * 8), np.int32),
            "p_off": np.empty(cap0, np.int64),
            "p_len": np.empty(cap0, np.int32),
            "p_flow": np.empty(cap0, np.float64),
            "p_next": np.empty(cap0, np.int64),
            "p_hash": np.empty(cap0, np.int64),
            "n_paths": 0,
            "n_plinks": 0,
        }
    stamp = np.zeros(m, np.int64)
    st = 0
    buf = np.empty(pb.n_nodes + 1, np.int32)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=max_iter, desc=f"assign ({method})", leave=False)

    it = 0
    tau_prev = 1.0
    s1 = s2 = s1c = s2c = None
    nprev = 0
    conv = False
    single = len(batches) == 1
    t_sp = t_upd = t_inner = 0.0
    while True:
        # ---- measure: shortest paths at current costs
        t1 = time.perf_counter()
        if method == "path" and single:
            sp_pass(*batches[0])
        elif method == "path":
            for lo, hi in batches:
                sp_pass(lo, hi)
        else:
            y = np.zeros(m)
            yc = np.zeros((ncls, m))
            for lo, hi in batches:
                sp_pass(lo, hi)
                K.aon_load(lo, hi, pb.sub_orig, pb.sub_ptr, pb.od_dest, pb.od_cls, od_dem, pb.pcu, pb.from_idx, pred, y, yc)
        t_sp += time.perf_counter() - t1
        if not checked:
            checked = True
            bad = ~np.isfinite(od_sp) & (od_dem > 0)
            unassigned = _report_disconnected(pb, bad, od_dem, on_disconnected)
            if bad.any():
                od_dem[bad] = 0.0
                if method != "path":  # reload without the dropped pairs
                    y[:] = 0.0
                    yc[:] = 0.0
                    for lo, hi in batches:
                        sp_pass(lo, hi)
                        K.aon_load(lo, hi, pb.sub_orig, pb.sub_ptr, pb.od_dest, pb.od_cls, od_dem, pb.pcu, pb.from_idx, pred, y, yc)
        loaded = x.any()
        if incomplete:  # a warm start left OD pairs without paths: load them before measuring
            incomplete = False
        elif loaded:
            tstt = K.class_tstt(xc, cost)
            sptt = float(np.dot(od_dem, np.where(np.isfinite(od_sp), od_sp, 0.0)))
            rg = (tstt - sptt) / tstt if tstt > 0 else 0.0
            history.append(rg)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(gap=f"{rg:.2e}")
            if rg <= gap:
                conv = True
                break
            if it >= max_iter:
                break
        elif len(od_dem) == 0 or not (od_dem > 0).any():
            history.append(0.0)
            conv = True
            break
        # ---- update
        t2 = time.perf_counter()
        if method == "path":
            # OD pairs whose cheapest known path is within tol of the shortest one wait
            tol = TOL_FACTOR * history[-1] if history else 0.0
            if single:
                set_min()
            for lo, hi in batches:
                if not single:
                    sp_pass(lo, hi)
                    set_min()
                res = K.path_update(
                    lo, hi, pb.sub_orig, pb.sub_ptr, pb.od_dest, pb.od_cls, od_dem, od_sp, od_setmin, pb.pcu, pb.from_idx, pred,
                    pool["od_head"], pool["plinks"], pool["p_off"], pool["p_len"], pool["p_flow"], pool["p_next"], pool["p_hash"],
                    pool["n_paths"], pool["n_plinks"], x, xc, cost, der, pb.t0, pb.cap, pb.b, pb.pw, pb.fx, stamp, st, buf, tol,
                )  # fmt: skip
                (pool["plinks"], pool["p_off"], pool["p_len"], pool["p_flow"], pool["p_next"], pool["p_hash"],
                 pool["n_paths"], pool["n_plinks"], st) = res  # fmt: skip
            t_upd += time.perf_counter() - t2
            t2 = time.perf_counter()
            n_in = inner if inner is not None else _inner_passes(it, history)
            for _ in range(n_in):
                st = K.path_inner(
                    pb.od_cls, pb.pcu, pool["od_head"], pool["plinks"], pool["p_off"], pool["p_len"], pool["p_flow"],
                    pool["p_next"], x, xc, cost, der, pb.t0, pb.cap, pb.b, pb.pw, pb.fx, stamp, st, tol,
                )  # fmt: skip
            # refresh costs exactly (incremental updates accumulate rounding)
            K.link_costs(x, pb.t0, pb.cap, pb.b, pb.pw, pb.fx, cost, der)
            t_inner += time.perf_counter() - t2
        else:
            if not loaded:
                x, xc = y, yc
            else:
                if method == "bfw":
                    k = min(nprev, 2)
                    b0, b1, b2 = K.bfw_direction(x, y, s1 if s1 is not None else y, s2 if s2 is not None else y, der, tau_prev, k)
                else:
                    b0, b1, b2 = 1.0, 0.0, 0.0
                s = b0 * y
                sc = b0 * yc
                if b1:
                    s += b1 * s1
                    sc += b1 * s1c
                if b2:
                    s += b2 * s2
                    sc += b2 * s2c
                tau = K.line_search(x, s, pb.t0, pb.cap, pb.b, pb.pw, pb.fx)
                if tau <= 0.0 and (b1 or b2):  # conjugate direction useless: restart with FW
                    s, sc = y, yc
                    tau = K.line_search(x, s, pb.t0, pb.cap, pb.b, pb.pw, pb.fx)
                    nprev = 0
                x = x + tau * (s - x)
                xc = xc + tau * (sc - xc)
                s2, s2c = s1, s1c
                s1, s1c = s, sc
                nprev += 1
                tau_prev = tau
            K.link_costs(x, pb.t0, pb.cap, pb.b, pb.pw, pb.fx, cost, der)
        it += 1
    if bar is not None:
        bar.close()
    obj = float(K.beckmann(x, pb.t0, pb.cap, pb.b, pb.pw, pb.fx))
    out = {
        "x": x,
        "xc": xc,
        "cost": cost,
        "time": cost - pb.fx,
        "gap_history": np.array(history, dtype=np.float64),
        "objective": obj,
        "iterations": it,
        "converged": conv,
        "unassigned": unassigned,
        "wall_time_s": time.perf_counter() - t_start,
        "sp_time_s": t_sp,
        "update_time_s": t_upd,
        "inner_time_s": t_inner,
        "threads": nthreads,
    }
    if method == "path" and keep_paths:
        out["path_state"] = _export_paths(pb, pool)
    return out


def _inner_passes(it: int, history: list[float]) -> int:
    """Inner re-equilibration passes per iteration: more once the path sets have settled."""
    if it == 0:
        return 1
    return 4


def _report_disconnected(pb: _Problem, bad: np.ndarray, od_dem: np.ndarray, on_disconnected: str):
    """``None`` when every OD pair is connected, else a DataFrame of the pairs (or raise)."""
    if not bad.any():
        return None
    import pandas as pd

    df = pd.DataFrame(
        {
            "origin": pb.node_ids[pb.sub_orig[pb.od_sub[bad]]],
            "destination": pb.node_ids[pb.od_dest[bad]],
            "class": np.array(pb.classes, dtype=object)[pb.od_cls[bad]],
            "trips": od_dem[bad],
        }
    )
    msg = f"{len(df)} OD pairs with demand ({df['trips'].sum():.1f} trips) have no path, e.g. " + ", ".join(
        f"{r.origin}->{r.destination} ({r._3}, {r.trips:.1f})" for r in df.head(5).itertuples()
    )
    if on_disconnected == "raise":
        raise DisconnectedDemandError(msg + "; pass on_disconnected='drop' to assign the rest", pairs=df)
    warnings.warn(msg + "; dropped (see result.unassigned)", stacklevel=4)
    return df


def _export_paths(pb: _Problem, pool: dict) -> dict[str, np.ndarray]:
    """Path sets as plain arrays keyed by node ids and link rows (for warm starts)."""
    from ldtkit.model.kernels.assignment import export_paths

    od, ptr, links, flow = export_paths(pool["od_head"], pool["p_next"], pool["p_off"], pool["p_len"], pool["p_flow"], pool["plinks"])
    return {
        "cls": np.array(pb.classes, dtype=object)[pb.od_cls[od]] if len(od) else np.zeros(0, object),
        "orig": pb.node_ids[pb.sub_orig[pb.od_sub[od]]],
        "dest": pb.node_ids[pb.od_dest[od]],
        "ptr": ptr,
        "link_row": links,
        "flow": flow,
    }


def _pool_from_state(pb: _Problem, state: dict) -> dict:
    """Rebuild the path pool from an earlier solution: paths on now-barred links are dropped,
    flows are rescaled to the new demand; OD pairs left without paths start all-or-nothing."""
    nk = len(pb.od_dest)
    cls_map = {c: i for i, c in enumerate(pb.classes)}
    pcls = np.array([cls_map.get(c, -1) for c in np.unique(state["cls"])]) if len(state["cls"]) else np.zeros(0, int)
    ucls, inv = np.unique(state["cls"], return_inverse=True) if len(state["cls"]) else (np.zeros(0, object), np.zeros(0, int))
    pc = pcls[inv] if len(inv) else np.zeros(0, np.int64)
    # OD keys
    nn = len(pb.node_ids)
    order = np.argsort(pb.node_ids)
    sid = pb.node_ids[order]

    def nidx(ids):
        pos = np.clip(np.searchsorted(sid, ids), 0, len(sid) - 1)
        ok = sid[pos] == ids
        return np.where(ok, order[pos], -1)

    po, pd_ = nidx(state["orig"]), nidx(state["dest"])
    key_new = (pb.od_cls * nn + pb.sub_orig[pb.od_sub]) * nn + pb.od_dest
    korder = np.argsort(key_new)
    ks = key_new[korder]
    key_old = (pc * nn + po) * nn + pd_
    pos = np.clip(np.searchsorted(ks, key_old), 0, max(len(ks) - 1, 0))
    valid = (pc >= 0) & (po >= 0) & (pd_ >= 0) & (len(ks) > 0)
    if len(ks):
        valid &= ks[pos] == key_old
    od_of = np.where(valid, korder[pos] if len(ks) else -1, -1)
    ptr = state["ptr"]
    lens = np.diff(ptr)
    links = state["link_row"].astype(np.int64)
    m = len(pb.t0)
    # links must still exist and be allowed for the path's class
    path_of_link = np.repeat(np.arange(len(lens)), lens)
    lok = links < m
    cls_l = np.repeat(np.where(pc >= 0, pc, 0), lens)
    lok &= pb.allowed[cls_l, np.minimum(links, m - 1)] if len(links) else lok
    bad_paths = np.bincount(path_of_link[~lok], minlength=len(lens)) > 0 if len(links) else np.zeros(len(lens), bool)
    keep = valid & ~bad_paths & (state["flow"] > 0)
    flow = state["flow"].copy()
    flow[~keep] = 0.0
    tot = np.bincount(od_of[keep], weights=flow[keep], minlength=nk)
    scale = np.divide(pb.od_dem, tot, out=np.zeros(nk), where=tot > 0)
    keep &= scale[np.maximum(od_of, 0)] > 0
    kp = np.flatnonzero(keep)
    kp = kp[np.argsort(od_of[kp], kind="stable")]
    newflow = flow[kp] * scale[od_of[kp]]
    klens = lens[kp]
    kptr = np.zeros(len(kp) + 1, np.int64)
    np.cumsum(klens, out=kptr[1:])
    link_mask = np.repeat(keep, lens)
    # reorder link blocks to match kp order
    starts = ptr[kp]
    idx = (np.repeat(starts - kptr[:-1], klens) + np.arange(kptr[-1])) if len(kp) else np.zeros(0, np.int64)
    plinks_k = links[idx].astype(np.int32)
    del link_mask
    ods = od_of[kp]
    p_next = np.full(len(kp), -1, np.int64)
    same = ods[1:] == ods[:-1]
    p_next[:-1][same] = np.arange(1, len(kp))[same]
    od_head = np.full(nk, -1, np.int64)
    first = np.ones(len(kp), bool)
    first[1:] = ~same
    od_head[ods[first]] = np.flatnonzero(first)
    from ldtkit.model.kernels.assignment import _hash_all

    cap_p = max(1024, 2 * len(kp), 4 * nk)
    cap_l = max(4096, 2 * len(plinks_k), 16 * nk)
    pool = {
        "od_head": od_head,
        "plinks": np.empty(cap_l, np.int32),
        "p_off": np.empty(cap_p, np.int64),
        "p_len": np.empty(cap_p, np.int32),
        "p_flow": np.empty(cap_p, np.float64),
        "p_next": np.empty(cap_p, np.int64),
        "p_hash": np.empty(cap_p, np.int64),
        "n_paths": len(kp),
        "n_plinks": len(plinks_k),
    }
    pool["plinks"][: len(plinks_k)] = plinks_k
    pool["p_off"][: len(kp)] = kptr[:-1]
    pool["p_len"][: len(kp)] = klens
    pool["p_flow"][: len(kp)] = newflow
    pool["p_next"][: len(kp)] = p_next
    pool["p_hash"][: len(kp)] = _hash_all(plinks_k, kptr)
    w = np.repeat(newflow, klens)
    lc = np.repeat(pb.od_cls[ods], klens)
    xc = np.zeros((len(pb.classes), m))
    for c in range(len(pb.classes)):  # loop over classes only
        sel = lc == c
        xc[c] = np.bincount(plinks_k[sel], weights=w[sel], minlength=m)
    pool["xc"] = xc
    pool["x"] = (pb.pcu[:, None] * xc).sum(axis=0)
    return pool


# --------------------------------------------------------------------------- public API
def assign(
    network: RoadNetwork,
    demand: Demand,
    *,
    vdf: str = "bpr",
    gap: float = 1e-5,
    max_iter: int = 500,
    method: str = "path",
    warm_start: AssignmentResult | None = None,
    on_disconnected: str = "raise",
    fixed_cost_min: np.ndarray | None = None,
    progress: bool = True,
    inner: int | None = None,
) -> AssignmentResult:
    """Static user-equilibrium assignment of ``demand`` on ``network``.

    Parameters
    ----------
    network
        The road network; links need ``free_flow_time_min``, ``capacity_vph``, ``b``,
        ``power`` and the class permission columns. A ``cost_fixed_min`` column, if present,
        is added to every link's cost (generalized cost, e.g. tolls and distance).
    demand
        OD matrices per class (vehicles/h) between ``demand.zone_ids`` (network node ids),
        with PCU factors ``demand.pcu``.
    vdf
        Volume-delay function; only ``"bpr"`` (per-link ``b`` and ``power``).
    gap
        Target relative gap ``(TSTT - SPTT) / TSTT``.
    max_iter
        Iteration cap (one iteration = shortest paths for every origin + flow update).
    method
        ``"path"`` (origin-based gradient projection, default), ``"bfw"`` (bi-conjugate
        Frank–Wolfe) or ``"fw"``.
    warm_start
        An earlier result on the same (or a scenario of the same) network: path sets and
        flows are reused (links matched by ``link_id``; paths over links now barred are
        dropped; flows are rescaled to the new demand).
    on_disconnected
        ``"raise"`` (default): raise :class:`~ldtkit.errors.DisconnectedDemandError` if an OD
        pair with demand has no path; ``"drop"``: warn, list them in ``result.unassigned``
        and assign the rest.
    fixed_cost_min
        Per-link fixed cost in minutes, overriding the ``cost_fixed_min`` column.
    progress
        Show a tqdm progress bar.
    inner
        Inner re-equilibration passes per iteration for ``method="path"`` (``None``: automatic).

    Returns
    -------
    AssignmentResult

    Examples
    --------
    >>> from ldtkit.model.network import network_from_tntp
    >>> from ldtkit.model.loaders.tntp import demand_from_tntp
    >>> net = network_from_tntp("../shared/data/tntp/SiouxFalls")  # doctest: +SKIP
    >>> res = assign(net, demand_from_tntp("../shared/data/tntp/SiouxFalls"), gap=1e-8)  # doctest: +SKIP
    >>> round(res.objective, 4)  # doctest: +SKIP
    42.3134
    """
    from ldtkit.model.traffic import CLASS_PERMISSION

    if vdf.lower() != "bpr":
        raise InvalidValueError(f"assign: unknown vdf {vdf!r}; expected 'bpr'")
    if method not in METHODS:
        raise InvalidValueError(f"assign: unknown method {method!r}; expected one of {METHODS}")
    if on_disconnected not in ("raise", "drop"):
        raise InvalidValueError(f"assign: on_disconnected must be 'raise' or 'drop', got {on_disconnected!r}")
    if not gap > 0:
        raise InvalidValueError(f"assign: gap must be > 0, got {gap}")
    links = network.links
    src = f"network {network.name!r}"
    if fixed_cost_min is None:
        fixed = links["cost_fixed_min"].to_numpy(np.float64) if "cost_fixed_min" in links.columns else np.zeros(len(links))
    else:
        fixed = np.asarray(fixed_cost_min, dtype=np.float64)
        if fixed.shape != (len(links),):
            raise InvalidValueError(f"assign: fixed_cost_min has shape {fixed.shape}, expected ({len(links)},)")
    classes = list(demand.trips)
    allowed = (
        np.stack([links[CLASS_PERMISSION.get(c, "car_allowed")].to_numpy(bool) for c in classes])
        if classes
        else np.zeros((0, len(links)), bool)
    )
    nodes = network.nodes
    no_through = nodes.loc[nodes["is_zone"], "node_id"].to_numpy(np.int64) if not network.zone_through else np.zeros(0, np.int64)
    pb = _build_problem(
        node_ids=nodes["node_id"].to_numpy(np.int64),
        from_node=links["from_node"].to_numpy(np.int64),
        to_node=links["to_node"].to_numpy(np.int64),
        t0=links["free_flow_time_min"].to_numpy(np.float64),
        cap=links["capacity_vph"].to_numpy(np.float64),
        b=links["b"].to_numpy(np.float64),
        power=links["power"].to_numpy(np.float64),
        fixed=fixed,
        allowed=allowed,
        no_through_nodes=no_through,
        zone_ids=demand.zone_ids,
        trips=demand.trips,
        pcu=demand.pcu,
        source=src,
    )
    link_id = links["link_id"].to_numpy(np.int64)
    warm = None
    if warm_start is not None:
        warm = _warm_arrays(warm_start, link_id, classes)
    out = _solve(pb, method=method, gap=gap, max_iter=max_iter, on_disconnected=on_disconnected, warm=warm, inner=inner, progress=progress)
    t = out["time"]
    length_km = links["length_m"].to_numpy(np.float64) / 1000.0
    free = links["free_speed_kmh"].to_numpy(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(t > 0, length_km / (t / 60.0), free)
    speed = np.where(np.isfinite(speed), speed, 0.0)
    ps = out.get("path_state")
    if ps is not None:
        ps["link_id"] = link_id[ps["link_row"]]
    return AssignmentResult(
        link_id=link_id,
        flow_vph={c: out["xc"][i] for i, c in enumerate(classes)},
        flow_pcu=out["x"],
        time_min=t,
        speed_kmh=speed,
        gap_history=out["gap_history"],
        objective=out["objective"],
        iterations=out["iterations"],
        wall_time_s=out["wall_time_s"],
        unassigned=out["unassigned"] if out["unassigned"] is not None else _empty_unassigned(),
        method=method,
        cost_min=out["cost"],
        meta={
            "converged": out["converged"],
            "target_gap": gap,
            "threads": out["threads"],
            "shortest_path_time_s": out["sp_time_s"],
            "update_time_s": out["update_time_s"],
            "inner_time_s": out["inner_time_s"],
            "intrazonal_trips": pb.intrazonal,
        },
        path_state=ps,
    )


def _warm_arrays(res: AssignmentResult, link_id: np.ndarray, classes: list[str]) -> dict:
    """Map an earlier result onto this network's link rows (by link id)."""
    m = len(link_id)
    order = np.argsort(link_id)
    sid = link_id[order]
    old = np.asarray(res.link_id, dtype=np.int64)
    pos = np.clip(np.searchsorted(sid, old), 0, m - 1)
    ok = sid[pos] == old
    row_of_old = np.where(ok, order[pos], -1)
    xc = np.zeros((len(classes), m))
    for i, c in enumerate(classes):  # loop over classes only
        if c in res.flow_vph:
            xc[i, row_of_old[ok]] = np.asarray(res.flow_vph[c])[ok]
    warm: dict[str, Any] = {"xc": xc}
    ps = res.path_state
    if ps is not None:
        old_rows = ps["link_row"]
        new_rows = np.where(old_rows < len(row_of_old), row_of_old[np.minimum(old_rows, len(row_of_old) - 1)], -1)
        new_rows = np.where(new_rows < 0, m + 1, new_rows)  # marks a vanished link
        warm["path_state"] = {**ps, "link_row": new_rows}
    return warm
