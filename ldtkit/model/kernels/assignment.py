"""Numba kernels of the static traffic assignment (:mod:`ldtkit.model.assignment`).

Everything that loops over links, nodes, OD pairs or paths lives here.

Data layout
-----------
- Links are rows ``0..m-1``; nodes ``0..n-1``; forward star ``indptr``/``adj`` (link rows).
- A *subproblem* is one origin and one permission group (classes allowed on the same links
  share shortest-path trees): ``sub_orig[s]``, ``sub_grp[s]``; its OD pairs are
  ``sub_ptr[s]:sub_ptr[s+1]`` of the flat OD arrays ``od_dest`` (node), ``od_cls`` (class)
  and ``od_dem`` (vehicles/h).
- Link cost (minutes) is BPR plus a fixed generalized-cost term:
  ``t0 * (1 + b * (x / cap) ** power) + fixed`` with ``x`` in PCU/h.
- Class permissions: ``allowed[g, a]`` per permission group; nodes with ``no_through`` may
  start or end a path but not be passed through.

Argument groups
---------------
The entry points take their arrays in tuples (numba compiles a ``NamedTuple`` and a plain
tuple of the same fields alike; the ahead-of-time build of :mod:`ldtkit.model.kernels.aot`
declares them as ``Tuple`` types). The field order is that of the ``NamedTuple`` classes of
:mod:`ldtkit.model.assignment.arrays`, which build them; each kernel unpacks its groups first:

- ``vdf`` (``LinkCostParams``): ``(t0, cap, b, power, fixed)``, the link cost function;
- ``graph`` (``Graph``): ``(indptr, adj, from_idx, to_idx, allowed, no_through)``;
- ``od`` (``OdPairs``): ``(sub_orig, sub_grp, sub_ptr, od_dest, od_cls, od_dem, pcu)``;
- ``flows`` (``LinkFlows``): ``(x, xc, cost, der)``: PCU flow, vehicles per class, cost and
  its derivative per link, updated in place;
- ``trees`` (``Trees``): ``(pred, od_sp, od_setmin)``: predecessor links of a batch of
  subproblems, the shortest cost per OD pair and the cheapest cost within its path set;
- ``pool`` (``PathPool``): ``(od_head, plinks, p_off, p_len, p_flow, p_next, p_hash, n_paths,
  n_plinks)``: the path sets, a linked list of paths per OD pair over flat link arrays;
- ``scratch`` (``Scratch``): ``(stamp, buf)``: per-link marks and a path buffer.
- ``con`` (``Contracted``): the graph the tree searches run on, built once per problem by
  :func:`contract`;
- ``subs``: the subproblems a kernel works on, in order (tree ``i`` of a batch is that of ``subs[i]``).

The names are those used inside the kernels; the ``NamedTuple`` fields spell out units
(``flow_pcu``, ``cost_min``, ...).

Path-based method ("path"): origin-based gradient projection. Every OD pair keeps a set of
paths (link lists in a flat pool). Each iteration computes shortest-path trees for all
subproblems in parallel (costs frozen), adds new shortest paths to the sets, and moves flow
from costlier paths to the cheapest by a Newton step, updating link costs at once
(Gauss–Seidel, sequential, hence deterministic); a few cheap inner passes re-equilibrate
the existing path sets without new shortest paths.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange

INF = np.inf

# Types of the arrays and argument groups, for readers and type checkers (numba infers its
# own from the values passed).
F8 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int64]
I4 = npt.NDArray[np.int32]
B1 = npt.NDArray[np.bool_]
VdfArgs = tuple[F8, F8, F8, F8, F8]
GraphArgs = tuple[I8, I8, I8, I8, B1, B1]
OdArgs = tuple[I8, I8, I8, I8, I8, F8, F8]
FlowArgs = tuple[F8, F8, F8, F8]
TreeArgs = tuple[I4, F8, F8]
PoolArgs = tuple[I8, I4, I8, I4, F8, I8, I8, int, int]
ScratchArgs = tuple[I8, I4]
ContractedArgs = tuple[I8, I4, I8, I8, I8, I8, B1, B1]


# --------------------------------------------------------------------------- link functions
@njit(cache=True, inline="always")
def _cost1(x: float, t0: float, cap: float, b: float, p: float, fx: float) -> float:
    if x < 0.0:
        x = 0.0
    if p == 0.0 or b == 0.0 or t0 == 0.0:
        return t0 * (1.0 + b) + fx if p == 0.0 else t0 + fx
    if cap <= 0.0:
        return t0 * 1e6 + fx
    r = x / cap
    if p == 4.0:
        r2 = r * r
        return t0 * (1.0 + b * r2 * r2) + fx
    if p == 1.0:
        return t0 * (1.0 + b * r) + fx
    rp: float = r**p  # float ** float is typed as Any (a negative base would give a complex)
    return t0 * (1.0 + b * rp) + fx


@njit(cache=True, inline="always")
def _der1(x: float, t0: float, cap: float, b: float, p: float) -> float:
    if p == 0.0 or b == 0.0 or t0 == 0.0 or cap <= 0.0:
        return 0.0
    if p == 1.0:
        return t0 * b / cap
    if x <= 0.0:
        return 0.0
    r = x / cap
    if p == 4.0:
        return 4.0 * t0 * b * r * r * r / cap
    rp: float = r ** (p - 1.0)
    return t0 * b * p * rp / cap


@njit(cache=True, nogil=True)
def link_costs(flows: FlowArgs, vdf: VdfArgs) -> None:
    """Fill ``flows``' ``cost`` and ``der`` (d cost / d x) for its PCU flows ``x``."""
    x, cost, der = flows[0], flows[2], flows[3]
    t0, cap, b, pw, fx = vdf
    for a in range(x.shape[0]):
        cost[a] = _cost1(x[a], t0[a], cap[a], b[a], pw[a], fx[a])
        der[a] = _der1(x[a], t0[a], cap[a], b[a], pw[a])


@njit(cache=True, nogil=True)
def beckmann(x: F8, vdf: VdfArgs) -> float:
    """Beckmann objective: sum over links of the integral of the link cost from 0 to x."""
    t0, cap, b, pw, fx = vdf
    tot = 0.0
    for a in range(x.shape[0]):
        xa = max(x[a], 0.0)
        p = pw[a]
        if p == 0.0:
            tot += t0[a] * (1.0 + b[a]) * xa
        elif cap[a] <= 0.0:
            tot += t0[a] * xa
        else:
            tot += t0[a] * xa + t0[a] * b[a] * xa * (xa / cap[a]) ** p / (p + 1.0)
        tot += fx[a] * xa
    return tot


# --------------------------------------------------------------------------- shortest paths
@njit(cache=True, nogil=True)
def _pass_through(v: int, indptr: I8, to_idx: I8, adj: I8, in_from: I8, indeg: I8) -> int:
    """How node ``v`` sits in the graph: 0 a junction (kept), 1 a pass-through node (one way in
    and one out, or a two-way road between the same two neighbours: contracted), 2 a dead end
    (no way in, no way out, or a single neighbour: never on a path between two other nodes)."""
    outdeg = indptr[v + 1] - indptr[v]
    if outdeg == 0 or indeg[v] == 0 or outdeg > 2 or indeg[v] > 2 or outdeg != indeg[v]:
        return 2 if outdeg == 0 or indeg[v] == 0 else 0
    o1 = to_idx[adj[indptr[v]]]
    o2 = to_idx[adj[indptr[v + 1] - 1]]
    i1 = in_from[2 * v]
    i2 = in_from[2 * v + 1] if indeg[v] == 2 else i1
    if o1 == o2 and i1 == i2:
        return 2 if o1 == i1 else (1 if outdeg == 1 else 0)
    if (o1 == i1 and o2 == i2) or (o1 == i2 and o2 == i1):
        return 1 if outdeg == 2 and o1 != o2 and o1 != v and o2 != v else 0
    return 0


@njit(cache=True, nogil=True)
def _contract(od: OdArgs, graph: GraphArgs) -> tuple[I8, I4, I8, I8, I8, I8]:
    """The graph searched for shortest paths: pass-through nodes contracted, dead ends dropped,
    the other nodes renumbered in breadth-first order (neighbours close in memory).

    A node is kept when it starts or ends an OD pair, may not be passed through, or is a
    junction (:func:`_pass_through`). Every edge of the result runs from a kept node to a kept
    node along a chain of links whose inner nodes are pass-through nodes. Returns
    ``(c_ptr, c_to, seq_ptr, seq, old_of, new_of)``: the edges leaving kept node ``j`` are
    ``c_ptr[j]:c_ptr[j + 1]``, edge ``e`` ends at kept node ``c_to[e]`` and follows the links
    ``seq[seq_ptr[e]:seq_ptr[e + 1]]``; kept node ``j`` is node ``old_of[j]`` of the graph,
    ``new_of`` the inverse (-1 for the nodes left out).
    """
    sub_orig, od_dest = od[0], od[3]
    indptr, adj, from_idx, to_idx, no_through = graph[0], graph[1], graph[2], graph[3], graph[5]
    n = indptr.shape[0] - 1
    m = adj.shape[0]
    indeg = np.zeros(n, np.int64)
    in_from = np.full(2 * n, -1, np.int64)  # the first two in-neighbours of each node
    for a in range(m):
        v = to_idx[a]
        if indeg[v] < 2:
            in_from[2 * v + indeg[v]] = from_idx[a]
        indeg[v] += 1
    kind = np.empty(n, np.int64)
    for v in range(n):
        kind[v] = 0 if no_through[v] else _pass_through(v, indptr, to_idx, adj, in_from, indeg)
    for s in range(sub_orig.shape[0]):
        kind[sub_orig[s]] = 0
    for k in range(od_dest.shape[0]):
        kind[od_dest[k]] = 0
    # edges between kept nodes, in the graph's numbering
    e_ptr = np.zeros(n + 1, np.int64)
    e_to = np.empty(m, np.int64)
    e_seq_ptr = np.zeros(m + 1, np.int64)
    e_seq = np.empty(m, np.int64)
    ne = 0
    nl = 0
    for u in range(n):
        if kind[u] == 0:
            for e in range(indptr[u], indptr[u + 1]):
                a = adj[e]
                start = nl
                e_seq[nl] = a
                nl += 1
                prev = u
                v = to_idx[a]
                steps = 0
                while kind[v] == 1 and steps <= n:
                    e2 = indptr[v]
                    if to_idx[adj[e2]] == prev:
                        e2 += 1
                    a = adj[e2]
                    e_seq[nl] = a
                    nl += 1
                    prev = v
                    v = to_idx[a]
                    steps += 1
                if kind[v] != 0:  # a dead end, or a loop of pass-through nodes
                    nl = start
                    continue
                e_to[ne] = v
                ne += 1
                e_seq_ptr[ne] = nl
        e_ptr[u + 1] = ne
    # breadth-first numbering of the kept nodes
    new_of = np.full(n, -1, np.int64)
    old_of = np.empty(n, np.int64)
    nk = 0
    head = 0
    for r in range(n):
        if kind[r] != 0 or new_of[r] >= 0:
            continue
        new_of[r] = nk
        old_of[nk] = r
        nk += 1
        while head < nk:
            u = old_of[head]
            head += 1
            for e in range(e_ptr[u], e_ptr[u + 1]):
                v = e_to[e]
                if new_of[v] < 0:
                    new_of[v] = nk
                    old_of[nk] = v
                    nk += 1
    c_ptr = np.zeros(nk + 1, np.int64)
    c_to = np.empty(ne, np.int32)
    seq_ptr = np.zeros(ne + 1, np.int64)
    seq = np.empty(nl, np.int64)
    q = 0
    ql = 0
    for j in range(nk):
        u = old_of[j]
        for e in range(e_ptr[u], e_ptr[u + 1]):
            c_to[q] = new_of[e_to[e]]
            for i in range(e_seq_ptr[e], e_seq_ptr[e + 1]):
                seq[ql] = e_seq[i]
                ql += 1
            q += 1
            seq_ptr[q] = ql
        c_ptr[j + 1] = q
    return c_ptr, c_to, seq_ptr, seq, old_of[:nk], new_of


@njit(cache=True, nogil=True)
def _dijkstra(
    orig: int, star: tuple[I8, I4, I8, F8, B1], no_through: B1, targets: tuple[I8, int, int, int], work: tuple[F8, I4, I4, F8, I4]
) -> None:
    """One-to-many Dijkstra on a contracted graph (:func:`_contract`) with an indexed 4-ary heap.

    ``star``: ``(c_ptr, c_to, seq_ptr, seq_cost, c_ok)``, the contracted edges with the costs
    of their links (added in turn, so a distance is the same sum as on the whole graph) and
    the permissions of one group. A node that may not be passed through gets its distance without
    entering the heap (only the origin does). The search stops once every destination is
    final: ``targets``: ``(dest_mark, mark, n_heap, n_side)``, the nodes with
    ``dest_mark == mark``, ``n_heap`` of them through nodes (final when settled) and ``n_side``
    not (final once the heap holds nothing closer than the farthest of them).
    ``work``: ``(dist, cpred, pos, hkey, hnode)``: distances and the edge reaching each node
    out (-1: none), each node's heap position (-1: never in it) and the heap.
    """
    c_ptr, c_to, seq_ptr, seq_cost, c_ok = star
    dest_mark, mark, n_heap, n_side = targets
    dist, cpred, pos, hkey, hnode = work
    n = dist.shape[0]
    for i in range(n):
        dist[i] = INF
        cpred[i] = -1
        pos[i] = -1
    dist[orig] = 0.0
    size = 1
    hkey[0] = 0.0
    hnode[0] = orig
    pos[orig] = 0
    remaining = n_heap
    side_reached = 0
    side_max = 0.0
    while size > 0:
        d = hkey[0]
        u = hnode[0]
        size -= 1
        if size > 0:  # the last element sifts down from the root
            k = hkey[size]
            w = hnode[size]
            i = 0
            while True:
                c = 4 * i + 1
                if c >= size:
                    break
                best = c
                bk = hkey[c]
                for j in range(c + 1, min(c + 4, size)):
                    if hkey[j] < bk:
                        bk = hkey[j]
                        best = j
                if bk < k:
                    hkey[i] = bk
                    hnode[i] = hnode[best]
                    pos[hnode[i]] = i
                    i = best
                else:
                    break
            hkey[i] = k
            hnode[i] = w
            pos[w] = i
        if dest_mark[u] == mark:
            remaining -= 1
        if remaining <= 0 and side_reached >= n_side and d >= side_max:
            break
        if no_through[u] and u != orig:
            continue
        for e in range(c_ptr[u], c_ptr[u + 1]):
            if not c_ok[e]:
                continue
            v = c_to[e]
            nd = d
            for i in range(seq_ptr[e], seq_ptr[e + 1]):
                nd += seq_cost[i]
            if nd < dist[v]:
                cpred[v] = e
                if no_through[v]:  # reached, never passed through: kept out of the heap
                    if dest_mark[v] == mark:
                        if dist[v] == INF:
                            side_reached += 1
                        if nd > side_max:
                            side_max = nd
                    dist[v] = nd
                    continue
                dist[v] = nd
                i = pos[v]
                if i < 0:  # push
                    i = size
                    size += 1
                while i > 0:  # sift up
                    par = (i - 1) >> 2
                    if hkey[par] > nd:
                        hkey[i] = hkey[par]
                        hnode[i] = hnode[par]
                        pos[hnode[i]] = i
                        i = par
                    else:
                        break
                hkey[i] = nd
                hnode[i] = v
                pos[v] = i


@njit(cache=True, nogil=True)
def contract(od: OdArgs, graph: GraphArgs) -> ContractedArgs:
    """The graph the tree searches run on, built once per problem: :func:`_contract` plus, per
    permission group, whether each contracted edge may be used (``c_ok``), and per kept node
    whether it may not be passed through (``c_nt``). Returns
    ``(c_ptr, c_to, seq_ptr, seq, old_of, new_of, c_ok, c_nt)``."""
    allowed, no_through = graph[4], graph[5]
    c_ptr, c_to, seq_ptr, seq, old_of, new_of = _contract(od, graph)
    nk = old_of.shape[0]
    ne = c_to.shape[0]
    ncls = allowed.shape[0]
    c_ok = np.empty((ncls, ne), np.bool_)
    for e in range(ne):
        for g in range(ncls):
            ok = True
            for i in range(seq_ptr[e], seq_ptr[e + 1]):
                if not allowed[g, seq[i]]:
                    ok = False
                    break
            c_ok[g, e] = ok
    c_nt = np.empty(nk, np.bool_)
    for j in range(nk):
        c_nt[j] = no_through[old_of[j]]
    return c_ptr, c_to, seq_ptr, seq, old_of.copy(), new_of, c_ok, c_nt


@njit(cache=True, nogil=True, parallel=True)
def shortest_paths(subs: I8, od: OdArgs, graph: GraphArgs, con: ContractedArgs, cost: F8, trees: TreeArgs, n_chunks: int) -> None:
    """Shortest-path trees of subproblems ``subs`` in parallel (costs frozen).

    ``trees.pred[i]`` gets, for subproblem ``subs[i]``, the predecessor link of every node on
    the tree's paths to the nodes that start or end OD pairs (-1 elsewhere); ``trees.od_sp[k]``
    the shortest cost of OD pair ``k`` (inf if unreachable). The search runs on the graph with
    its pass-through nodes contracted (``con``, from :func:`contract`). Each subproblem is
    independent, so the result does not depend on the thread count.
    """
    sub_orig, sub_grp, sub_ptr, od_dest = od[0], od[1], od[2], od[3]
    to_idx = graph[3]
    pred_out, od_sp = trees[0], trees[1]
    c_ptr, c_to, seq_ptr, seq, old_of, new_of, c_ok, c_nt = con
    n = graph[0].shape[0] - 1
    nb = subs.shape[0]
    nch = min(n_chunks, nb)
    nk = old_of.shape[0]
    seq_cost = np.empty(seq.shape[0], np.float64)
    for i in range(seq.shape[0]):
        seq_cost[i] = cost[seq[i]]
    for ch in prange(nch):
        dist = np.empty(nk, np.float64)
        cpred = np.empty(nk, np.int32)
        pos = np.empty(nk, np.int32)
        hkey = np.empty(nk + 1, np.float64)
        hnode = np.empty(nk + 1, np.int32)
        mark = np.full(nk, -1, np.int64)
        for q in range(ch, nb, nch):
            s = subs[q]
            o = new_of[sub_orig[s]]
            n_heap = 0
            n_side = 0
            for k in range(sub_ptr[s], sub_ptr[s + 1]):
                v = new_of[od_dest[k]]
                if mark[v] != s:
                    mark[v] = s
                    if c_nt[v] and v != o:
                        n_side += 1
                    else:
                        n_heap += 1
            star = (c_ptr, c_to, seq_ptr, seq_cost, c_ok[sub_grp[s]])
            _dijkstra(o, star, c_nt, (mark, s, n_heap, n_side), (dist, cpred, pos, hkey, hnode))
            pred = pred_out[q]
            for v in range(n):
                pred[v] = -1
            for j in range(nk):
                e = cpred[j]
                if e >= 0:
                    for i in range(seq_ptr[e], seq_ptr[e + 1]):
                        a = seq[i]
                        pred[to_idx[a]] = a
            for k in range(sub_ptr[s], sub_ptr[s + 1]):
                od_sp[k] = dist[new_of[od_dest[k]]]


@njit(cache=True, nogil=True)
def aon_load(subs: I8, od: OdArgs, graph: GraphArgs, pred_out: I4, y: F8, yc: F8) -> None:
    """All-or-nothing loading of subproblems ``subs`` onto their trees (``pred_out[i]`` that of ``subs[i]``; sequential)."""
    sub_orig, sub_ptr, od_dest, od_cls, od_dem, pcu = od[0], od[2], od[3], od[4], od[5], od[6]
    from_idx = graph[2]
    for j in range(subs.shape[0]):
        s = subs[j]
        pred = pred_out[j]
        o = sub_orig[s]
        for k in range(sub_ptr[s], sub_ptr[s + 1]):
            c = od_cls[k]
            d = od_dem[k]
            if d <= 0.0:
                continue
            v = od_dest[k]
            while v != o:
                a = pred[v]
                if a < 0:
                    break
                y[a] += d * pcu[c]
                yc[c, a] += d
                v = from_idx[a]


# --------------------------------------------------------------------------- Frank-Wolfe family
@njit(cache=True, nogil=True)
def line_search(x: F8, s: F8, vdf: VdfArgs) -> float:
    """Step tau in [0, 1] minimising the Beckmann objective along x + tau (s - x) (bisection on the derivative)."""
    t0, cap, b, pw, fx = vdf
    lo = 0.0
    hi = 1.0

    def g(tau: float) -> float:
        tot = 0.0
        for a in range(x.shape[0]):
            d = s[a] - x[a]
            if d != 0.0:
                tot += d * _cost1(x[a] + tau * d, t0[a], cap[a], b[a], pw[a], fx[a])
        return tot

    if g(1.0) <= 0.0:
        return 1.0
    if g(0.0) >= 0.0:
        return 0.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if g(mid) > 0.0:
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-12:
            break
    return 0.5 * (lo + hi)


@njit(cache=True, nogil=True)
def bfw_direction(x: F8, y: F8, s1: F8, s2: F8, der: F8, tau_prev: float, k: int) -> tuple[float, float, float]:
    """Bi-conjugate Frank-Wolfe weights (beta0, beta1, beta2) for the new target s = b0 y + b1 s1 + b2 s2.

    ``s1``, ``s2``: the previous two targets; ``k``: how many previous targets exist (0, 1, 2).
    Falls back to conjugate FW (one previous target) or plain FW when a weight is undefined.
    """
    if k == 0:
        return 1.0, 0.0, 0.0
    if k == 1 or tau_prev >= 1.0 - 1e-12:
        # conjugate FW: alpha such that (s - x) is H-conjugate to (s1 - x)
        num = 0.0
        den = 0.0
        for a in range(x.shape[0]):
            h = der[a]
            if h == 0.0:
                continue
            d1 = s1[a] - x[a]
            num += d1 * h * (y[a] - x[a])
            den += d1 * h * (y[a] - s1[a])
        if den != 0.0:
            alpha = num / den
            if alpha < 0.0:
                alpha = 0.0
            elif alpha > 0.99999:
                alpha = 0.99999
        else:
            alpha = 0.0
        return 1.0 - alpha, alpha, 0.0
    num_mu = 0.0
    den_mu = 0.0
    num_nu = 0.0
    den_nu = 0.0
    for a in range(x.shape[0]):
        h = der[a]
        if h == 0.0:
            continue
        dbar = tau_prev * s1[a] - x[a] + (1.0 - tau_prev) * s2[a]
        yx = y[a] - x[a]
        num_mu += dbar * h * yx
        den_mu += dbar * h * (s2[a] - s1[a])
        d1 = s1[a] - x[a]
        num_nu += d1 * h * yx
        den_nu += d1 * h * d1
    mu = -num_mu / den_mu if den_mu != 0.0 else 0.0
    if mu < 0.0:
        mu = 0.0
    nu = 0.0
    if den_nu != 0.0:
        nu = -num_nu / den_nu + mu * tau_prev / (1.0 - tau_prev)
    if nu < 0.0:
        nu = 0.0
    b0 = 1.0 / (1.0 + mu + nu)
    return b0, nu * b0, mu * b0


# --------------------------------------------------------------------------- path-based method
@njit(cache=True, inline="always")
def _hash_path(buf: I4, ln: int) -> np.int64:
    h = np.uint64(1469598103934665603)
    for i in range(ln):
        h = (h ^ np.uint64(buf[i] + 1)) * np.uint64(1099511628211)
    return np.int64(h >> np.uint64(1))


@njit(cache=True, nogil=True)
def _compact(need_links: int, lists: tuple[I8, I4, I8, I4, F8, I8, I8]) -> PoolArgs:
    """Copy live paths into fresh arrays (dropping leaked slots), growing them when needed.

    ``lists``: the pool's arrays ``(od_head, plinks, p_off, p_len, p_flow, p_next, p_hash)``.
    Returns a whole pool (``od_head`` is relinked in place).
    """
    od_head, plinks, p_off, p_len, p_flow, p_next, p_hash = lists
    live_p = 0
    live_l = 0
    for k in range(od_head.shape[0]):
        p = od_head[k]
        while p >= 0:
            live_p += 1
            live_l += p_len[p]
            p = p_next[p]
    cap_p = max(p_off.shape[0], 2 * (live_p + 1))
    cap_l = max(plinks.shape[0], 2 * (live_l + need_links))
    nl = np.empty(cap_l, np.int32)
    no = np.empty(cap_p, np.int64)
    nln = np.empty(cap_p, np.int32)
    nf = np.empty(cap_p, np.float64)
    nn = np.empty(cap_p, np.int64)
    nh = np.empty(cap_p, np.int64)
    q = 0
    ql = 0
    for k in range(od_head.shape[0]):
        p = od_head[k]
        prev = -1
        while p >= 0:
            no[q] = ql
            nln[q] = p_len[p]
            nf[q] = p_flow[p]
            nh[q] = p_hash[p]
            nn[q] = -1
            for i in range(p_len[p]):
                nl[ql + i] = plinks[p_off[p] + i]
            ql += p_len[p]
            if prev < 0:
                od_head[k] = q
            else:
                nn[prev] = q
            prev = q
            q += 1
            p = p_next[p]
    return od_head, nl, no, nln, nf, nn, nh, q, ql


@njit(cache=True, inline="always")
def _path_cost(p: int, plinks: I4, p_off: I8, p_len: I4, cost: F8) -> float:
    c = 0.0
    for i in range(p_off[p], p_off[p] + p_len[p]):
        c += cost[plinks[i]]
    return c


@njit(cache=True, nogil=True)
def _shift(
    k: int, cls: int, pcu: float, lists: tuple[I8, I4, I8, I4, F8, I8], flows: FlowArgs, vdf: VdfArgs, stamp: I8, st0: int, tol: float
) -> int:
    """Equilibrate OD pair ``k``'s (class ``cls``, ``pcu`` per vehicle) path set by Newton steps
    towards its cheapest path.

    ``lists``: the pool's arrays ``(od_head, plinks, p_off, p_len, p_flow, p_next)``.
    Paths within ``tol`` (relative) of the cheapest are left alone. Returns the new stamp counter.
    """
    od_head, plinks, p_off, p_len, p_flow, p_next = lists
    x, xc, cost, der = flows
    t0, cap, b, pw, fx = vdf
    xc_c = xc[cls]
    pm = -1
    cmin = INF
    p = od_head[k]
    while p >= 0:
        c = _path_cost(p, plinks, p_off, p_len, cost)
        if c < cmin:
            cmin = c
            pm = p
        p = p_next[p]
    st = st0
    p = od_head[k]
    prev = -1
    while p >= 0:
        nxt = p_next[p]
        if p != pm and p_flow[p] > 0.0:
            cp = _path_cost(p, plinks, p_off, p_len, cost)
            cm = _path_cost(pm, plinks, p_off, p_len, cost)
            if cp - cm > tol * cm:
                st += 1
                for i in range(p_off[pm], p_off[pm] + p_len[pm]):
                    stamp[plinks[i]] = st
                den = 0.0
                for i in range(p_off[p], p_off[p] + p_len[p]):
                    a = plinks[i]
                    if stamp[a] == st:
                        stamp[a] = -st  # shared
                    else:
                        den += der[a]
                for i in range(p_off[pm], p_off[pm] + p_len[pm]):
                    a = plinks[i]
                    if stamp[a] == st:
                        den += der[a]
                fp = p_flow[p]
                if den > 0.0:
                    delta = (cp - cm) / (pcu * den)
                    if delta > fp:
                        delta = fp
                else:
                    delta = fp
                dx = delta * pcu
                for i in range(p_off[p], p_off[p] + p_len[p]):
                    a = plinks[i]
                    if stamp[a] != -st:
                        xa = x[a] - dx
                        if xa < 0.0:
                            xa = 0.0
                        x[a] = xa
                        xc_c[a] -= delta
                        if xc_c[a] < 0.0:
                            xc_c[a] = 0.0
                        cost[a] = _cost1(xa, t0[a], cap[a], b[a], pw[a], fx[a])
                        der[a] = _der1(xa, t0[a], cap[a], b[a], pw[a])
                for i in range(p_off[pm], p_off[pm] + p_len[pm]):
                    a = plinks[i]
                    if stamp[a] == st:
                        xa = x[a] + dx
                        x[a] = xa
                        xc_c[a] += delta
                        cost[a] = _cost1(xa, t0[a], cap[a], b[a], pw[a], fx[a])
                        der[a] = _der1(xa, t0[a], cap[a], b[a], pw[a])
                if delta >= fp:
                    p_flow[p] = 0.0
                else:
                    p_flow[p] = fp - delta
                p_flow[pm] += delta
        # drop paths left without flow (never the cheapest)
        if p != pm and p_flow[p] <= 0.0:
            if prev < 0:
                od_head[k] = nxt
            else:
                p_next[prev] = nxt
        else:
            prev = p
        p = nxt
    return st


@njit(cache=True, nogil=True, parallel=True)
def set_min_cost(subs: I8, sub_ptr: I8, pool: PoolArgs, cost: F8, out: F8, out_tt: F8) -> None:
    """For the OD pairs of subproblems ``subs``, in parallel (read-only): the cheapest path cost
    in the set into ``out`` (inf if empty) and the set's travel cost, sum of path flow x path
    cost, into ``out_tt``."""
    od_head, plinks, p_off, p_len, p_flow, p_next = pool[0], pool[1], pool[2], pool[3], pool[4], pool[5]
    for j in prange(subs.shape[0]):
        s = subs[j]
        for k in range(sub_ptr[s], sub_ptr[s + 1]):
            cmin = INF
            tt = 0.0
            p = od_head[k]
            while p >= 0:
                c = _path_cost(p, plinks, p_off, p_len, cost)
                if c < cmin:
                    cmin = c
                tt += p_flow[p] * c
                p = p_next[p]
            out[k] = cmin
            out_tt[k] = tt


@njit(cache=True, nogil=True)
def path_update(
    subs: I8,
    od: OdArgs,
    graph: GraphArgs,
    trees: TreeArgs,
    pool: PoolArgs,
    flows: FlowArgs,
    vdf: VdfArgs,
    scratch: ScratchArgs,
    st: int,
    tol: float,
) -> tuple[PoolArgs, int]:
    """Add each OD pair's shortest path (from ``trees.pred``, ``pred[i]`` the tree of
    subproblem ``subs[i]``) to its set and equilibrate it (sequential).

    An OD pair without paths gets its whole demand on the new path (all-or-nothing start).
    The tree is traced only where the shortest cost ``od_sp`` beats the cheapest path already
    in the set ``od_setmin`` (both at the costs the trees were computed with) by more than
    ``tol`` (relative); ``tol`` shrinks with the gap, so paths that barely matter wait.
    Returns the pool (its arrays reallocated when they had to grow) and the stamp counter.
    """
    sub_orig, sub_ptr, od_dest, od_cls, od_dem, pcu = od[0], od[2], od[3], od[4], od[5], od[6]
    from_idx = graph[2]
    pred_out, od_sp, od_setmin = trees
    x, xc, cost, der = flows
    t0, cap, b, pw, fx = vdf
    stamp, buf = scratch
    od_head, plinks, p_off, p_len, p_flow, p_next, p_hash, n_paths, n_plinks = pool
    for j in range(subs.shape[0]):
        s = subs[j]
        pred = pred_out[j]
        o = sub_orig[s]
        for k in range(sub_ptr[s], sub_ptr[s + 1]):
            c = od_cls[k]
            dem = od_dem[k]
            if dem <= 0.0:
                continue
            if od_sp[k] >= od_setmin[k] * (1.0 - tol) - 1e-12 * (1.0 + od_sp[k]):
                if od_head[k] >= 0 and p_next[od_head[k]] >= 0:
                    st = _shift(k, c, pcu[c], (od_head, plinks, p_off, p_len, p_flow, p_next), flows, vdf, stamp, st, tol)
                continue
            v = od_dest[k]
            ln = 0
            ok = True
            while v != o:
                a = pred[v]
                if a < 0:
                    ok = False
                    break
                buf[ln] = a
                ln += 1
                v = from_idx[a]
            if not ok:
                continue
            h = _hash_path(buf, ln)
            found = False
            p = od_head[k]
            while p >= 0:
                if p_hash[p] == h and p_len[p] == ln:
                    same = True
                    for i in range(ln):
                        if plinks[p_off[p] + i] != buf[i]:
                            same = False
                            break
                    if same:
                        found = True
                        break
                p = p_next[p]
            if not found:
                if n_plinks + ln > plinks.shape[0] or n_paths + 1 > p_off.shape[0]:
                    grown = _compact(ln, (od_head, plinks, p_off, p_len, p_flow, p_next, p_hash))
                    od_head, plinks, p_off, p_len, p_flow, p_next, p_hash, n_paths, n_plinks = grown
                q = n_paths
                n_paths += 1
                p_off[q] = n_plinks
                p_len[q] = ln
                p_hash[q] = h
                for i in range(ln):
                    plinks[n_plinks + i] = buf[i]
                n_plinks += ln
                first = od_head[k] < 0
                p_next[q] = od_head[k]
                od_head[k] = q
                if first:
                    p_flow[q] = dem
                    dx = dem * pcu[c]
                    for i in range(ln):
                        a = buf[i]
                        x[a] += dx
                        xc[c, a] += dem
                        cost[a] = _cost1(x[a], t0[a], cap[a], b[a], pw[a], fx[a])
                        der[a] = _der1(x[a], t0[a], cap[a], b[a], pw[a])
                    continue
                p_flow[q] = 0.0
            if od_head[k] >= 0 and p_next[od_head[k]] >= 0:
                st = _shift(k, c, pcu[c], (od_head, plinks, p_off, p_len, p_flow, p_next), flows, vdf, stamp, st, tol)
    return (od_head, plinks, p_off, p_len, p_flow, p_next, p_hash, n_paths, n_plinks), st


@njit(cache=True, nogil=True)
def path_inner(od: OdArgs, pool: PoolArgs, flows: FlowArgs, vdf: VdfArgs, scratch: ScratchArgs, st: int, tol: float) -> int:
    """One equilibration pass over every OD pair's existing path set (no new paths)."""
    od_cls, pcu = od[4], od[6]
    lists = (pool[0], pool[1], pool[2], pool[3], pool[4], pool[5])
    od_head, p_next = pool[0], pool[5]
    stamp = scratch[0]
    for k in range(od_head.shape[0]):
        h = od_head[k]
        if h >= 0 and p_next[h] >= 0:
            c = od_cls[k]
            st = _shift(k, c, pcu[c], lists, flows, vdf, stamp, st, tol)
    return st


@njit(cache=True, nogil=True)
def path_excess(pool: PoolArgs, cost: F8) -> float:
    """Sum over paths of flow x (path cost - cheapest cost in its set): the gap within the path sets."""
    od_head, plinks, p_off, p_len, p_flow, p_next = pool[0], pool[1], pool[2], pool[3], pool[4], pool[5]
    tot = 0.0
    for k in range(od_head.shape[0]):
        cmin = INF
        p = od_head[k]
        while p >= 0:
            c = _path_cost(p, plinks, p_off, p_len, cost)
            if c < cmin:
                cmin = c
            p = p_next[p]
        p = od_head[k]
        while p >= 0:
            if p_flow[p] > 0.0:
                tot += p_flow[p] * (_path_cost(p, plinks, p_off, p_len, cost) - cmin)
            p = p_next[p]
    return tot


@njit(cache=True, nogil=True)
def class_tstt(xc: F8, cost: F8) -> float:
    """Total system travel cost: sum over classes and links of vehicles x link cost."""
    tot = 0.0
    for c in range(xc.shape[0]):
        for a in range(xc.shape[1]):
            tot += xc[c, a] * cost[a]
    return tot


@njit(cache=True, nogil=True)
def export_paths(pool: PoolArgs) -> tuple[I8, I8, I4, F8]:
    """Live paths as flat arrays: (OD index per path, link pointer, link rows, flow)."""
    od_head, plinks, p_off, p_len, p_flow, p_next = pool[0], pool[1], pool[2], pool[3], pool[4], pool[5]
    npath = 0
    nl = 0
    for k in range(od_head.shape[0]):
        p = od_head[k]
        while p >= 0:
            npath += 1
            nl += p_len[p]
            p = p_next[p]
    od = np.empty(npath, np.int64)
    ptr = np.zeros(npath + 1, np.int64)
    links = np.empty(nl, np.int32)
    flow = np.empty(npath, np.float64)
    q = 0
    ql = 0
    for k in range(od_head.shape[0]):
        p = od_head[k]
        while p >= 0:
            od[q] = k
            flow[q] = p_flow[p]
            for i in range(p_len[p]):
                links[ql + i] = plinks[p_off[p] + i]
            ql += p_len[p]
            q += 1
            ptr[q] = ql
            p = p_next[p]
    return od, ptr, links, flow


@njit(cache=True, nogil=True)
def hash_paths(plinks: I4, ptr: I8) -> I8:
    """Hash of every path ``q`` (links ``plinks[ptr[q]:ptr[q + 1]]``), as :func:`path_update` stores it."""
    n = ptr.shape[0] - 1
    out = np.empty(n, np.int64)
    for q in range(n):
        out[q] = _hash_path(plinks[ptr[q] : ptr[q + 1]], ptr[q + 1] - ptr[q])
    return out
