"""Shortest-path trees of the assignment kernels against a plain Dijkstra, on networks with the
shapes the tree search contracts: roads through nodes of degree two (one-way and two-way),
dead-end spurs, zones that may not be passed through, parallel links, free links and links
closed to one class."""

from __future__ import annotations

import heapq

import numpy as np
import pytest


def _network(seed: int) -> dict:
    """A random street grid with subdivided roads, spurs, parallel links and zones."""
    rng = np.random.default_rng(seed)
    k = 6
    links: list[tuple[int, int]] = []
    n = k * k

    def new_node() -> int:
        nonlocal n
        n += 1
        return n - 1

    def road(u: int, v: int, two_way: bool, inner: int) -> None:
        chain = [u] + [new_node() for _ in range(inner)] + [v]
        for a, b in zip(chain[:-1], chain[1:], strict=True):
            links.append((a, b))
            if two_way:
                links.append((b, a))

    for i in range(k):
        for j in range(k):
            u = i * k + j
            for v in ([u + 1] if j + 1 < k else []) + ([u + k] if i + 1 < k else []):
                if rng.random() < 0.1:
                    continue  # a missing street
                road(u, v, two_way=rng.random() < 0.8, inner=int(rng.integers(0, 4)))
                if rng.random() < 0.05:
                    links.append((u, v))  # a parallel link
    for _ in range(8):  # dead-end spurs, some of several nodes
        u = int(rng.integers(0, k * k))
        road(u, new_node(), two_way=True, inner=int(rng.integers(0, 3)))
    zones = []
    for _ in range(10):  # zones with connectors to one or two grid nodes
        z = new_node()
        zones.append(z)
        for u in rng.choice(k * k, size=int(rng.integers(1, 3)), replace=False):
            links.append((z, int(u)))
            links.append((int(u), z))
    f = np.array([a for a, _ in links], np.int64)
    t = np.array([b for _, b in links], np.int64)
    m = len(links)
    cost = rng.uniform(0.1, 3.0, m)
    cost[rng.random(m) < 0.05] = 0.0  # free links
    hgv = rng.random(m) > 0.15  # some links closed to the second class
    trips = rng.uniform(0.0, 5.0, (len(zones), len(zones)))
    return {"n": n, "from": f, "to": t, "cost": cost, "hgv": hgv, "zones": np.array(zones), "trips": trips}


def _dijkstra_ref(n: int, f, t, cost, ok, no_through, orig: int) -> np.ndarray:
    """Plain Dijkstra (heapq) where a no-through node other than the origin is a dead end."""
    out: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for a in range(len(f)):
        if ok[a]:
            out[f[a]].append((int(t[a]), float(cost[a])))
    dist = np.full(n, np.inf)
    dist[orig] = 0.0
    heap = [(0.0, orig)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u] or (no_through[u] and u != orig):
            continue
        for v, c in out[u]:
            if d + c < dist[v]:
                dist[v] = d + c
                heapq.heappush(heap, (d + c, v))
    return dist


@pytest.mark.parametrize("seed", range(6))
def test_trees_match_plain_dijkstra(seed):
    from ldtkit.model.assignment import build_problem
    from ldtkit.model.assignment.arrays import Trees
    from ldtkit.model.kernels import assignment as K

    net = _network(seed)
    n, f, t, cost = net["n"], net["from"], net["to"], net["cost"]
    m = len(f)
    pb = build_problem(
        node_ids=np.arange(n), from_node=f, to_node=t, free_flow_time_min=cost, capacity_vph=np.full(m, 1e3),
        b=np.zeros(m), power=np.zeros(m), fixed_cost_min=np.zeros(m), allowed=np.stack([np.ones(m, bool), net["hgv"]]),
        no_through_nodes=net["zones"], zone_ids=net["zones"], trips={"car": net["trips"], "hgv": net["trips"]},
        pcu={"car": 1.0, "hgv": 2.0},
    )  # fmt: skip
    od = pb.od
    n_sub = len(od.sub_orig)
    con = K.contract(od, pb.graph)
    assert len(con[4]) < 0.8 * n  # the search runs on the contracted graph
    trees = Trees.allocate(n_sub, pb.n_nodes, pb.n_od)
    for n_chunks in (1, 3):
        K.shortest_paths(np.arange(n_sub), od, pb.graph, con, cost, trees, n_chunks)
        for s in range(n_sub):
            o, grp = int(od.sub_orig[s]), int(od.sub_grp[s])
            ok = pb.graph.allowed[grp]
            ref = _dijkstra_ref(n, f, t, cost, ok, pb.graph.no_through, o)
            for k in range(od.sub_ptr[s], od.sub_ptr[s + 1]):
                d = int(od.od_dest[k])
                assert trees.od_sp_min[k] == pytest.approx(ref[d], rel=1e-12, abs=1e-12), (seed, s, d)
                if not np.isfinite(ref[d]):
                    continue
                # the tree's path to d: allowed links from o, through no zone, costing the shortest cost
                v, total, steps = d, 0.0, 0
                while v != o:
                    a = int(trees.pred[s, v])
                    assert a >= 0 and ok[a], (seed, s, d, v)
                    total += cost[a]
                    v = int(f[a])
                    assert v == o or not pb.graph.no_through[v]
                    steps += 1
                    assert steps <= m
                assert total == pytest.approx(ref[d], rel=1e-12, abs=1e-12)


def test_contraction_removes_pass_through_nodes_and_dead_ends():
    """A two-way road through two middle nodes becomes one edge each way; a spur disappears."""
    from ldtkit.model.assignment import build_problem
    from ldtkit.model.kernels import assignment as K

    # zones 0 and 5; 0 - 1 - 2 - 3 - 4 - 5 two-way, where 1 and 4 are junctions with spurs 6, 7
    pairs = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (1, 6), (4, 7)]
    f = np.array([a for a, b in pairs] + [b for a, b in pairs])
    t = np.array([b for a, b in pairs] + [a for a, b in pairs])
    m = len(f)
    pb = build_problem(
        node_ids=np.arange(8), from_node=f, to_node=t, free_flow_time_min=np.ones(m), capacity_vph=np.ones(m), b=np.zeros(m),
        power=np.zeros(m), fixed_cost_min=np.zeros(m), allowed=np.ones((1, m), bool), no_through_nodes=[0, 5],
        zone_ids=[0, 5], trips={"car": np.array([[0.0, 1.0], [1.0, 0.0]])}, pcu={"car": 1.0},
    )  # fmt: skip
    c_ptr, c_to, seq_ptr, seq, old_of, new_of, _, _ = K.contract(pb.od, pb.graph)
    assert sorted(old_of.tolist()) == [0, 1, 4, 5]  # 2, 3 contracted; the spurs 6, 7 dropped
    assert new_of[2] == new_of[3] == new_of[6] == new_of[7] == -1
    edges = {(int(old_of[j]), int(old_of[c_to[e]])): [int(a) for a in seq[seq_ptr[e] : seq_ptr[e + 1]]] for j in range(len(old_of)) for e in range(c_ptr[j], c_ptr[j + 1])}  # fmt: skip
    assert sorted(edges) == [(0, 1), (1, 0), (1, 4), (4, 1), (4, 5), (5, 4)]
    assert [(int(f[a]), int(t[a])) for a in edges[(1, 4)]] == [(1, 2), (2, 3), (3, 4)]
    assert [(int(f[a]), int(t[a])) for a in edges[(4, 1)]] == [(4, 3), (3, 2), (2, 1)]
