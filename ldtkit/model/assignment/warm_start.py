"""Warm starts: an earlier solution's flows and path sets carried onto a (changed) problem.

:func:`warm_start_from` maps an :class:`~ldtkit.model.assignment.results.AssignmentResult`
onto this network's link rows by link id; :func:`pool_from_paths` rebuilds the solver's path
pool from its :class:`~ldtkit.model.assignment.results.PathSet` and :func:`paths_from_pool`
exports a pool as one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ldtkit.model.assignment.arrays import Float, Int, PathPool
from ldtkit.model.assignment.engine import Engine
from ldtkit.model.assignment.problem import AssignmentProblem
from ldtkit.model.assignment.results import AssignmentResult, PathSet

#: Path-link entries whose flows are summed at once when a pool is rebuilt (bounds the temporaries).
FLOW_CHUNK_ENTRIES = 1 << 20


@dataclass(frozen=True, slots=True)
class WarmStart:
    """Where the solver starts: link flows per class (``(classes, m)``) and, for the
    path-based method, path sets whose ``link_row`` are this problem's rows (``>= m``: a link
    that no longer exists)."""

    flow_vph: Float
    paths: PathSet | None = None


def warm_start_from(result: AssignmentResult, link_id: Int, classes: list[str] | tuple[str, ...]) -> WarmStart:
    """Map an earlier result onto the link rows of ``link_id`` (links matched by id).

    Examples
    --------
    >>> import numpy as np
    >>> old = AssignmentResult(
    ...     link_id=np.array([5, 9]), flow_vph={"light": np.array([3.0, 4.0])}, flow_pcu=np.array([3.0, 4.0]),
    ...     time_min=np.ones(2), speed_kmh=np.ones(2), gap_history=np.zeros(1), objective=0.0, iterations=1, wall_time_s=0.0,
    ... )
    >>> warm_start_from(old, np.array([9, 7, 5]), ["light"]).flow_vph.tolist()
    [[4.0, 0.0, 3.0]]
    """
    m = len(link_id)
    old = np.asarray(result.link_id, dtype=np.int64)
    paths = result.path_state
    if len(old) == m and np.array_equal(old, link_id):
        # the same links in the same rows (a scenario of the same network): nothing to remap
        xc = np.zeros((len(classes), m))
        for i, c in enumerate(classes):  # loop over classes only
            if c in result.flow_vph:
                xc[i] = result.flow_vph[c]
        return WarmStart(flow_vph=xc, paths=paths)
    order = np.argsort(link_id)
    sid = link_id[order]
    pos = np.clip(np.searchsorted(sid, old), 0, m - 1)
    ok = sid[pos] == old
    row_of_old = np.where(ok, order[pos], -1)
    xc = np.zeros((len(classes), m))
    for i, c in enumerate(classes):  # loop over classes only
        if c in result.flow_vph:
            xc[i, row_of_old[ok]] = np.asarray(result.flow_vph[c])[ok]
    if paths is None:
        return WarmStart(flow_vph=xc)
    old_rows = paths.link_row
    new_rows = np.where(old_rows < len(row_of_old), row_of_old[np.minimum(old_rows, len(row_of_old) - 1)], -1)
    new_rows = np.where(new_rows < 0, m + 1, new_rows)  # marks a vanished link
    return WarmStart(flow_vph=xc, paths=replace(paths, link_row=new_rows))


def _node_positions(node_ids: Int, ids: Int) -> Int:
    """Position of each id in ``node_ids`` (-1: not a node)."""
    order = np.argsort(node_ids)
    sid = node_ids[order]
    pos = np.clip(np.searchsorted(sid, ids), 0, len(sid) - 1)
    return np.where(sid[pos] == ids, order[pos], -1)


def _od_of_paths(pb: AssignmentProblem, paths: PathSet) -> Int:
    """This problem's OD pair of every path (-1: class, origin or destination unknown here)."""
    cls_map = {c: i for i, c in enumerate(pb.classes)}
    pc = np.full(len(paths.cls), -1, np.int64)
    for c, i in cls_map.items():  # loop over classes only (comparing names: sorting the objects is slow)
        pc[paths.cls == c] = i
    nn = pb.n_nodes
    po, pd_ = _node_positions(pb.node_ids, paths.orig), _node_positions(pb.node_ids, paths.dest)
    key_new = (pb.od.od_cls * nn + pb.od_orig) * nn + pb.od.od_dest
    korder = np.argsort(key_new)
    ks = key_new[korder]
    key_old = (pc * nn + po) * nn + pd_
    pos = np.clip(np.searchsorted(ks, key_old), 0, max(len(ks) - 1, 0))
    valid = (pc >= 0) & (po >= 0) & (pd_ >= 0) & (len(ks) > 0)
    if len(ks):
        valid &= ks[pos] == key_old
    return np.where(valid, korder[pos] if len(ks) else -1, -1)


def _usable(pb: AssignmentProblem, paths: PathSet, od_of: Int) -> np.ndarray:
    """Paths of a known OD pair, with flow, over links that still exist and their class may use."""
    m = pb.n_links
    pc = np.where(od_of >= 0, pb.od.od_cls[np.maximum(od_of, 0)], -1)
    bad_paths = np.zeros(len(od_of), bool)
    if len(paths.link_row):
        n_rows = max(m, int(paths.link_row.max()) + 1)  # rows >= m: links that vanished
        for c in np.unique(pc[pc >= 0]):  # loop over classes only
            barred = np.ones(n_rows, bool)
            barred[:m] = ~pb.allowed[c]
            # the paths holding a link barred to class c (few): found from the positions of those links
            holder = np.searchsorted(paths.ptr, np.flatnonzero(barred[paths.link_row]), side="right") - 1
            bad_paths[holder[pc[holder] == c]] = True
    return (od_of >= 0) & ~bad_paths & (paths.flow > 0)


def pool_from_paths(pb: AssignmentProblem, paths: PathSet, engine: Engine) -> tuple[PathPool, Float]:
    """The path pool of an earlier solution, and its link flows per class (``(classes, m)``).

    Paths over links that vanished or are now barred to their class are dropped; the rest
    are rescaled to this problem's demand per OD pair. OD pairs left without paths start
    empty (the solver loads them all-or-nothing).
    """
    nk = pb.n_od
    m = pb.n_links
    od_of = _od_of_paths(pb, paths)
    keep = _usable(pb, paths, od_of)
    flow = paths.flow.copy()
    flow[~keep] = 0.0
    tot = np.bincount(od_of[keep], weights=flow[keep], minlength=nk)
    scale = np.divide(pb.od.od_trips_vph, tot, out=np.zeros(nk), where=tot > 0)
    keep &= scale[np.maximum(od_of, 0)] > 0
    kp = np.flatnonzero(keep)
    lens = np.diff(paths.ptr)
    klens = lens[kp]
    kptr = np.zeros(len(kp) + 1, np.int64)
    np.cumsum(klens, out=kptr[1:])
    ods = od_of[kp]
    in_od_order = bool((ods[1:] >= ods[:-1]).all())  # as exported, when the OD pairs are the same
    if in_od_order and len(kp) == len(keep):  # every path kept: the link blocks as they are
        plinks_k = paths.link_row.astype(np.int32, copy=False)
    elif in_od_order:  # drop the other paths' link blocks (few)
        dp = np.flatnonzero(~keep)
        dlens = lens[dp]
        dstart = np.cumsum(dlens) - dlens
        drop = np.repeat(paths.ptr[dp] - dstart, dlens) + np.arange(dlens.sum())
        plinks_k = np.delete(paths.link_row, drop).astype(np.int32, copy=False)
    else:
        order = np.argsort(ods, kind="stable")
        kp, ods, klens = kp[order], ods[order], klens[order]
        np.cumsum(klens, out=kptr[1:])
        # the kept paths' link blocks, in OD order
        idx = (np.repeat(paths.ptr[kp] - kptr[:-1], klens) + np.arange(kptr[-1])) if len(kp) else np.zeros(0, np.int64)
        plinks_k = paths.link_row[idx].astype(np.int32, copy=False)
    new_flow = flow[kp] * scale[ods]
    p_next = np.full(len(kp), -1, np.int64)
    same = ods[1:] == ods[:-1]
    p_next[:-1][same] = np.arange(1, len(kp))[same]
    od_head = np.full(nk, -1, np.int64)
    first = np.ones(len(kp), bool)
    first[1:] = ~same
    od_head[ods[first]] = np.flatnonzero(first)
    cap_p = max(1024, 2 * len(kp), 4 * nk)
    cap_l = max(4096, 2 * len(plinks_k), 16 * nk)
    pool = PathPool(
        od_head=od_head,
        plinks=np.empty(cap_l, np.int32),
        p_off=np.empty(cap_p, np.int64),
        p_len=np.empty(cap_p, np.int32),
        p_flow=np.empty(cap_p, np.float64),
        p_next=np.empty(cap_p, np.int64),
        p_hash=np.empty(cap_p, np.int64),
        n_paths=len(kp),
        n_plinks=len(plinks_k),
    )
    pool.plinks[: len(plinks_k)] = plinks_k
    pool.p_off[: len(kp)] = kptr[:-1]
    pool.p_len[: len(kp)] = klens
    pool.p_flow[: len(kp)] = new_flow
    pool.p_next[: len(kp)] = p_next
    pool.p_hash[: len(kp)] = engine.kernels.hash_paths(plinks_k, kptr)
    xc = np.zeros((len(pb.classes), m))
    pcls = pb.od.od_cls[ods]
    # link flows summed over chunks of paths: per-entry temporaries of a chunk only (Ghent: 7 million
    # entries, 55 MB per float copy)
    step = max(1, int(FLOW_CHUNK_ENTRIES * len(kp) / max(1, len(plinks_k))))
    for lo in range(0, len(kp), step):  # loop over chunks of paths only
        hi = min(lo + step, len(kp))
        links_c = plinks_k[kptr[lo] : kptr[hi]]
        w_c = np.repeat(new_flow[lo:hi], klens[lo:hi])
        cls_c = pcls[lo:hi]
        for c in np.unique(cls_c):  # loop over classes only
            of_c = cls_c == c
            w_cls = w_c if of_c.all() else np.where(np.repeat(of_c, klens[lo:hi]), w_c, 0.0)
            xc[c] += np.bincount(links_c, weights=w_cls, minlength=m)
    return pool, xc


def paths_from_pool(pb: AssignmentProblem, pool: PathPool, engine: Engine) -> PathSet:
    """The live paths of ``pool`` as a :class:`PathSet` keyed by node ids and link rows."""
    od, ptr, links, flow = engine.kernels.export_paths(pool)
    return PathSet(
        cls=np.array(pb.classes, dtype=object)[pb.od.od_cls[od]] if len(od) else np.zeros(0, object),
        orig=pb.node_ids[pb.od_orig[od]],
        dest=pb.node_ids[pb.od.od_dest[od]],
        ptr=ptr,
        link_row=links,
        flow=flow,
    )
