"""The assignment's arrays in the groups the numba kernels take them.

Each group is a :class:`~typing.NamedTuple` of arrays: numba compiles a kernel for it like for
any tuple, the ahead-of-time build (:mod:`ldtkit.model.kernels.aot`) declares it as a
``Tuple`` type, and Python code reads its fields by name. The field order is the kernels'
contract (:mod:`ldtkit.model.kernels.assignment` unpacks by position): add fields at the end
and update both.

Indices: links are rows ``0..m-1`` of the network, nodes ``0..n-1`` (positions in
``node_ids``), OD pairs ``0..K-1`` grouped by *subproblem* (one origin and one permission
group; classes allowed on the same links share shortest-path trees).

Examples
--------
>>> flows = LinkFlows.zeros(n_links=3, n_classes=2)
>>> flows.flow_vph.shape, flows.flow_pcu.tolist()
((2, 3), [0.0, 0.0, 0.0])
>>> pool = PathPool.empty(n_od=4)
>>> pool.n_paths, pool.od_head.tolist()
(0, [-1, -1, -1, -1])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

Float = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]
Int32 = npt.NDArray[np.int32]
Bool = npt.NDArray[np.bool_]


class LinkCostParams(NamedTuple):
    """The link cost function: BPR plus a fixed term, ``t0 * (1 + b * (x / cap) ** power) + fixed``.

    ``x`` is the PCU flow per hour; the cost is in minutes.
    """

    free_flow_time_min: Float
    capacity_pcuh: Float
    b: Float
    power: Float
    fixed_cost_min: Float


class Graph(NamedTuple):
    """The network as a forward star, with who may use which link."""

    indptr: Int  #: (n + 1,) links leaving node ``v`` are ``adj[indptr[v]:indptr[v + 1]]``
    adj: Int  #: (m,) link rows sorted by from node
    from_idx: Int  #: (m,) from node of each link
    to_idx: Int  #: (m,) to node of each link
    allowed: Bool  #: (groups, m) link usable by the permission group (closed links never)
    no_through: Bool  #: (n,) node that may start or end a path but not be passed through


class OdPairs(NamedTuple):
    """OD pairs with demand, grouped by subproblem (origin x permission group)."""

    sub_orig: Int  #: (S,) origin node of each subproblem
    sub_grp: Int  #: (S,) permission group of each subproblem
    sub_ptr: Int  #: (S + 1,) OD pairs of subproblem ``s`` are ``sub_ptr[s]:sub_ptr[s + 1]``
    od_dest: Int  #: (K,) destination node
    od_cls: Int  #: (K,) vehicle class
    od_trips_vph: Float  #: (K,) vehicles per hour (the solver zeroes dropped pairs in its copy)
    pcu: Float  #: (classes,) passenger-car units per vehicle


class LinkFlows(NamedTuple):
    """Link loads and costs; the kernels update the arrays in place."""

    flow_pcu: Float  #: (m,) total PCU per hour
    flow_vph: Float  #: (classes, m) vehicles per hour per class
    cost_min: Float  #: (m,) link cost at ``flow_pcu``
    cost_slope: Float  #: (m,) d cost / d flow_pcu

    @classmethod
    def zeros(cls, n_links: int, n_classes: int) -> LinkFlows:
        """No flow; costs to be filled by ``link_costs``."""
        return cls(np.zeros(n_links), np.zeros((n_classes, n_links)), np.empty(n_links), np.empty(n_links))


class Trees(NamedTuple):
    """Shortest-path trees of one batch of subproblems, and the costs they give per OD pair."""

    pred: Int32  #: (batch, n) predecessor link of every node (-1: not reached)
    od_sp_min: Float  #: (K,) shortest path cost (inf: no path)
    od_set_min: Float  #: (K,) cheapest path cost within the OD pair's path set

    @classmethod
    def allocate(cls, batch: int, n_nodes: int, n_od: int) -> Trees:
        return cls(np.empty((max(batch, 1), n_nodes), dtype=np.int32), np.full(n_od, np.inf), np.full(n_od, np.inf))


class PathPool(NamedTuple):
    """The path sets of the path-based method: a linked list of paths per OD pair.

    Path ``p`` has links ``plinks[p_off[p]:p_off[p] + p_len[p]]``, flow ``p_flow[p]`` (vehicles
    per hour) and hash ``p_hash[p]``; the paths of OD pair ``k`` are ``od_head[k]``,
    ``p_next[od_head[k]]``, ... until -1. Slots ``0..n_paths-1`` and ``plinks[:n_plinks]`` are
    used (some by dropped paths, reclaimed when the arrays grow).
    """

    od_head: Int
    plinks: Int32
    p_off: Int
    p_len: Int32
    p_flow: Float
    p_next: Int
    p_hash: Int
    n_paths: int
    n_plinks: int

    @classmethod
    def empty(cls, n_od: int) -> PathPool:
        """No paths yet, with room for about two per OD pair."""
        cap = max(1024, 2 * n_od)
        return cls(
            od_head=np.full(n_od, -1, np.int64),
            plinks=np.empty(max(4096, cap * 8), np.int32),
            p_off=np.empty(cap, np.int64),
            p_len=np.empty(cap, np.int32),
            p_flow=np.empty(cap, np.float64),
            p_next=np.empty(cap, np.int64),
            p_hash=np.empty(cap, np.int64),
            n_paths=0,
            n_plinks=0,
        )


class Contracted(NamedTuple):
    """The graph the tree searches run on (built once per problem by the ``contract`` kernel):
    pass-through nodes contracted, dead ends dropped, kept nodes renumbered."""

    c_ptr: Int  #: (kept + 1,) edges leaving kept node ``j`` are ``c_ptr[j]:c_ptr[j + 1]``
    c_to: Int32  #: (edges,) kept node each edge ends at
    seq_ptr: Int  #: (edges + 1,) edge ``e`` follows links ``seq[seq_ptr[e]:seq_ptr[e + 1]]``
    seq: Int  #: link rows of the edges, in order
    old_of: Int  #: (kept,) node of the graph of each kept node
    new_of: Int  #: (n,) kept node of each node (-1: left out)
    edge_ok: Bool  #: (groups, edges) edge usable by the permission group
    no_through: Bool  #: (kept,) kept node that may not be passed through


class Scratch(NamedTuple):
    """Work arrays of the path updates."""

    link_stamp: Int  #: (m,) marks links of the path pair being equilibrated
    path_buf: Int32  #: (n + 1,) the path being traced

    @classmethod
    def allocate(cls, n_links: int, n_nodes: int) -> Scratch:
        return cls(np.zeros(n_links, np.int64), np.empty(n_nodes + 1, np.int32))
