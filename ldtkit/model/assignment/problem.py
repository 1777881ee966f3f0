"""The assignment problem: network and demand as the solver's arrays.

:func:`build_problem` takes plain arrays (node ids, link end nodes, link cost parameters,
permissions, OD matrices); :func:`problem_from_network` reads them from a
:class:`~ldtkit.model.network.RoadNetwork` and a :class:`~ldtkit.model.demand.Demand`.

Examples
--------
>>> import numpy as np
>>> pb = build_problem(
...     node_ids=np.array([1, 2, 3]), from_node=np.array([1, 2]), to_node=np.array([2, 3]),
...     free_flow_time_min=np.array([1.0, 2.0]), capacity_vph=np.array([100.0, 100.0]),
...     b=np.full(2, 0.15), power=np.full(2, 4.0), fixed_cost_min=np.zeros(2),
...     allowed=np.ones((1, 2), bool), no_through_nodes=np.zeros(0, np.int64), zone_ids=np.array([1, 3]),
...     trips={"light": np.array([[0.0, 50.0], [0.0, 0.0]])}, pcu={"light": 1.0},
... )
>>> pb.n_nodes, pb.n_links, pb.od.od_dest.tolist(), pb.od.od_trips_vph.tolist()
(3, 2, [2], [50.0])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ldtkit._validate import finite_nonnegative
from ldtkit.errors import InvalidValueError
from ldtkit.model.assignment.arrays import Bool, Float, Graph, Int, LinkCostParams, OdPairs
from ldtkit.model.traffic import CLASS_PERMISSION

if TYPE_CHECKING:  # pragma: no cover
    from ldtkit.model.demand import Demand
    from ldtkit.model.network import RoadNetwork


@dataclass(frozen=True, slots=True)
class AssignmentProblem:
    """Everything the solver needs, as arrays indexed by link row, node position and OD pair.

    Attributes
    ----------
    graph, cost_params, od
        The kernels' argument groups (:mod:`ldtkit.model.assignment.arrays`).
    classes
        Vehicle class names; class ``c`` of ``od.od_cls`` is ``classes[c]``.
    allowed
        ``(classes, m)``: class may use the link (permission and capacity > 0).
    node_ids, zone_ids
        Network node ids of node positions ``0..n-1``; the demand's zone ids.
    intrazonal_trips
        Trips with origin == destination, which do not use the network.
    """

    graph: Graph
    cost_params: LinkCostParams
    od: OdPairs
    classes: tuple[str, ...]
    allowed: Bool
    node_ids: Int
    zone_ids: Int
    intrazonal_trips: float = 0.0

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_links(self) -> int:
        return len(self.graph.adj)

    @property
    def n_od(self) -> int:
        return len(self.od.od_dest)

    @property
    def od_orig(self) -> Int:
        """Origin node position of every OD pair."""
        return np.repeat(self.od.sub_orig, np.diff(self.od.sub_ptr))


class _NodeIndex:
    """Node id -> position, with an error naming the ids that are not nodes."""

    def __init__(self, node_ids: Int, source: str) -> None:
        self.order = np.argsort(node_ids, kind="stable")
        self.sorted_ids = node_ids[self.order]
        self.source = source

    def __call__(self, ids: npt.ArrayLike, what: str) -> Int:
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.sorted_ids, ids), 0, len(self.sorted_ids) - 1)
        bad = self.sorted_ids[pos] != ids
        if bad.any():
            raise InvalidValueError(f"{self.source}: {what} {ids[bad][:10].tolist()} are not nodes of the network")
        return self.order[pos].astype(np.int64)


def _od_pairs(
    trips: Mapping[str, npt.ArrayLike], classes: list[str], group_of_class: Int, n_groups: int, zone_idx: Int
) -> tuple[OdPairs, float]:
    """OD pairs with demand sorted by permission group, origin, destination and class; and the intrazonal trips."""
    subs_o, subs_g, counts_l, dests, clss, dems = [], [], [], [], [], []
    intrazonal = 0.0
    for g in range(n_groups):  # loop over permission groups only
        oi, dj, cc, vv = [], [], [], []
        for ci in np.flatnonzero(group_of_class == g):
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
        subs_o.append(zone_idx[uo])
        subs_g.append(np.full(len(uo), g, dtype=np.int64))
        counts_l.append(np.diff(np.append(start, len(i))))
        dests.append(zone_idx[j])
        clss.append(cls_k)
        dems.append(dem_k)

    def ints(parts: list[Int]) -> Int:
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    sub_ptr = np.zeros(sum(len(s) for s in subs_o) + 1, np.int64)
    np.cumsum(ints(counts_l), out=sub_ptr[1:])
    od = OdPairs(
        sub_orig=ints(subs_o),
        sub_grp=ints(subs_g),
        sub_ptr=sub_ptr,
        od_dest=ints(dests),
        od_cls=ints(clss),
        od_trips_vph=np.concatenate(dems).astype(np.float64) if dems else np.zeros(0, np.float64),
        pcu=np.zeros(0),  # set by the caller
    )
    return od, intrazonal


def build_problem(
    *,
    node_ids: npt.ArrayLike,
    from_node: npt.ArrayLike,
    to_node: npt.ArrayLike,
    free_flow_time_min: npt.ArrayLike,
    capacity_vph: npt.ArrayLike,
    b: npt.ArrayLike,
    power: npt.ArrayLike,
    fixed_cost_min: npt.ArrayLike,
    allowed: npt.ArrayLike,
    no_through_nodes: npt.ArrayLike,
    zone_ids: npt.ArrayLike,
    trips: Mapping[str, npt.ArrayLike],
    pcu: Mapping[str, float],
    source: str = "network",
) -> AssignmentProblem:
    """The solver's arrays for a network given as plain arrays.

    Parameters
    ----------
    node_ids
        Node ids (any order); links and zones refer to them.
    from_node, to_node
        Link end node ids, one per link row.
    free_flow_time_min, capacity_vph, b, power, fixed_cost_min
        Link cost parameters (finite, >= 0): BPR ``t0 * (1 + b * (x / capacity) ** power)``
        plus a fixed generalized cost, minutes.
    allowed
        ``(classes, links)`` bool, in the order of ``trips``: class may use the link. Links of
        zero capacity are closed to every class.
    no_through_nodes
        Node ids that may start or end a path but not be passed through.
    zone_ids
        Node id of each row/column of the OD matrices.
    trips
        OD matrix per vehicle class (vehicles per hour).
    pcu
        PCU factor per class.
    source
        Named in error messages (file or network).

    Returns
    -------
    AssignmentProblem

    Raises
    ------
    InvalidValueError
        A link or zone refers to an unknown node, or a link parameter is NaN or negative.
    """
    nodes = np.asarray(node_ids, dtype=np.int64)
    node_index = _NodeIndex(nodes, source)
    n = len(nodes)
    f = node_index(from_node, "link from_node ids")
    t = node_index(to_node, "link to_node ids")
    adj = np.argsort(f, kind="stable").astype(np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(f, minlength=n), out=indptr[1:])
    params = LinkCostParams(
        *(
            finite_nonnegative(v, name=f"link {name}", where=source)
            for name, v in (("t0", free_flow_time_min), ("cap", capacity_vph), ("b", b), ("power", power), ("fixed", fixed_cost_min))
        )
    )
    classes = list(trips)
    allowed_cls = np.ascontiguousarray(allowed, dtype=np.bool_) & (params.capacity_pcuh > 0)[None, :]
    zone_idx = node_index(zone_ids, "demand zone ids")
    # classes allowed on exactly the same links share shortest-path trees (one "group")
    # (numbered as np.unique(allowed_cls, axis=0) would, in the rows' lexicographic order, without its slow row view)
    keys = [allowed_cls[ci].tobytes() for ci in range(len(classes))]  # loop over classes only
    distinct = sorted(set(keys))
    group_of_class = np.array([distinct.index(k) for k in keys], dtype=np.int64)
    n_groups = int(group_of_class.max()) + 1 if len(group_of_class) else 0
    allowed_grp = np.zeros((max(n_groups, 1), len(params.free_flow_time_min)), dtype=np.bool_)
    for ci in range(len(classes)):  # loop over classes only
        allowed_grp[group_of_class[ci]] = allowed_cls[ci]
    od, intrazonal = _od_pairs(trips, classes, group_of_class, n_groups, zone_idx)
    od = od._replace(pcu=np.array([float(pcu[c]) for c in classes], dtype=np.float64))
    no_through = np.zeros(n, dtype=np.bool_)
    if len(np.asarray(no_through_nodes)):
        no_through[node_index(no_through_nodes, "no-through node ids")] = True
    return AssignmentProblem(
        graph=Graph(indptr=indptr, adj=adj, from_idx=f, to_idx=t, allowed=allowed_grp, no_through=no_through),
        cost_params=params,
        od=od,
        classes=tuple(classes),
        allowed=allowed_cls,
        node_ids=nodes,
        zone_ids=np.asarray(zone_ids, np.int64),
        intrazonal_trips=intrazonal,
    )


def problem_from_network(network: RoadNetwork, demand: Demand, *, fixed_cost_min: npt.ArrayLike | None = None) -> AssignmentProblem:
    """The solver's arrays for ``demand`` on ``network``.

    Class ``c`` may use a link where its permission column (:data:`~ldtkit.model.traffic.CLASS_PERMISSION`,
    ``car_allowed`` for other classes) is true; zone nodes are not passed through unless
    ``network.zone_through``. ``fixed_cost_min`` (per link) overrides the ``cost_fixed_min``
    column (zero when absent).
    """
    links = network.links
    fixed: Float
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
    return build_problem(
        node_ids=nodes["node_id"].to_numpy(np.int64),
        from_node=links["from_node"].to_numpy(np.int64),
        to_node=links["to_node"].to_numpy(np.int64),
        free_flow_time_min=links["free_flow_time_min"].to_numpy(np.float64),
        capacity_vph=links["capacity_vph"].to_numpy(np.float64),
        b=links["b"].to_numpy(np.float64),
        power=links["power"].to_numpy(np.float64),
        fixed_cost_min=fixed,
        allowed=allowed,
        no_through_nodes=no_through,
        zone_ids=demand.zone_ids,
        trips=demand.trips,
        pcu=demand.pcu,
        source=f"network {network.name!r}",
    )
