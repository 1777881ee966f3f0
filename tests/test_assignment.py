"""Static user-equilibrium assignment: exactness on the TNTP benchmarks and the assignment rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED

TNTP = SHARED / "data" / "tntp"
needs_tntp = pytest.mark.skipif(not TNTP.exists(), reason=f"{TNTP} not found")


def beckmann_np(flow, links) -> float:
    """Beckmann objective in plain numpy (independent of the numba kernels)."""
    t0 = links["free_flow_time_min"].to_numpy()
    cap = links["capacity_vph"].to_numpy()
    b = links["b"].to_numpy()
    p = links["power"].to_numpy()
    fx = links["cost_fixed_min"].to_numpy() if "cost_fixed_min" in links else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        integral = t0 * flow + np.where(cap > 0, t0 * b * flow * (flow / cap) ** p / (p + 1), 0.0)
    return float(np.sum(integral + fx * flow))


def _load(name):
    from ldtkit.model.loaders.tntp import demand_from_tntp, flows_from_tntp
    from ldtkit.model.network import network_from_tntp

    return network_from_tntp(TNTP / name), demand_from_tntp(TNTP / name), flows_from_tntp(TNTP / name)


# gaps tight enough that the (non-unique where costs are flat) link flows settle; all <= 1e-6
CASES = {"SiouxFalls": 1e-10, "Anaheim": 1e-10, "Chicago-Sketch": 1e-7}
# optimal objectives stated in the READMEs (SiouxFalls's in units of 1e5 vehicle-minutes)
README_OBJECTIVE = {"SiouxFalls": 42.31335287107440 * 1e5, "Chicago-Sketch": 17313018.7387477}


@needs_tntp
@pytest.mark.parametrize("name", list(CASES))
def test_tntp_best_known_flows(name):
    from ldtkit.model.assignment import assign

    net, dem, ref = _load(name)
    assert (ref["init_node"].to_numpy() == net.links["from_node"].to_numpy()).all()
    assert (ref["term_node"].to_numpy() == net.links["to_node"].to_numpy()).all()
    res = assign(net, dem, gap=CASES[name], progress=False)
    assert res.gap <= 1e-6 and res.meta["converged"]
    ref_flow = ref["flow"].to_numpy()
    rmse = np.sqrt(np.mean((res.flow_pcu - ref_flow) ** 2))
    assert rmse <= 1e-3 * ref_flow.mean(), f"RMSE {rmse:.3f} vs mean flow {ref_flow.mean():.1f}"
    obj_ref = beckmann_np(ref_flow, net.links)
    assert res.objective == pytest.approx(obj_ref, rel=1e-6)
    assert res.objective == pytest.approx(beckmann_np(res.flow_pcu, net.links), rel=1e-12)
    if name in README_OBJECTIVE:
        assert res.objective == pytest.approx(README_OBJECTIVE[name], rel=1e-6)
    # gap is (TSTT - SPTT) / TSTT; costs agree with the best-known ones
    np.testing.assert_allclose(res.cost_min, ref["cost"].to_numpy(), rtol=1e-3, atol=1e-6)
    assert len(res.gap_history) == res.iterations  # one gap after each iteration
    assert res.unassigned.empty
    assert np.isfinite(res.speed_kmh).all() and (res.speed_kmh >= 0).all()


@needs_tntp
def test_bfw_fallback_and_fw_converge():
    from ldtkit.model.assignment import assign

    net, dem, ref = _load("SiouxFalls")
    obj_ref = beckmann_np(ref["flow"].to_numpy(), net.links)
    bfw = assign(net, dem, gap=1e-4, method="bfw", progress=False)
    assert bfw.gap <= 1e-4 and bfw.method == "bfw"
    assert bfw.objective == pytest.approx(obj_ref, rel=1e-4)
    # bi-conjugate directions beat plain Frank-Wolfe at the same target
    fw = assign(net, dem, gap=1e-3, method="fw", max_iter=1000, progress=False)
    bfw3 = assign(net, dem, gap=1e-3, method="bfw", progress=False)
    assert fw.gap <= 1e-3 and bfw3.iterations < fw.iterations


@needs_tntp
def test_deterministic_run_to_run():
    from ldtkit.model.assignment import assign

    net, dem, _ = _load("Anaheim")
    a = assign(net, dem, gap=1e-7, progress=False)
    b = assign(net, dem, gap=1e-7, progress=False)
    np.testing.assert_allclose(a.flow_pcu, b.flow_pcu, rtol=1e-9, atol=0)
    assert a.iterations == b.iterations


@needs_tntp
def test_deterministic_across_thread_counts():
    """Shortest paths run in parallel over origins but flows are updated sequentially:
    1 and 2 threads give the same flows."""
    import numba

    from ldtkit.model.assignment import assign

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs at least 2 numba threads (NUMBA_NUM_THREADS)")
    net, dem, _ = _load("Anaheim")
    n = numba.get_num_threads()
    flows = {}
    try:
        for k in (1, 2):
            numba.set_num_threads(k)
            flows[k] = assign(net, dem, gap=1e-7, progress=False).flow_pcu
    finally:
        numba.set_num_threads(n)
    np.testing.assert_allclose(flows[1], flows[2], rtol=1e-9, atol=0)


@needs_tntp
def test_warm_start_same_solution_fewer_iterations():
    from ldtkit.model.assignment import assign

    net, dem, _ = _load("Chicago-Sketch")
    base = assign(net, dem, gap=1e-4, progress=False)
    # scenario: +5 % demand and one freeway link closed, starting from the baseline
    links = net.links.copy()
    inner = (net.links["from_node"] > 387) & (net.links["to_node"] > 387)  # not a zone connector
    closed = int(np.argmax(np.where(inner, base.flow_pcu, -1.0)))
    links.loc[closed, "car_allowed"] = False
    scen = net.with_links(links)
    d2 = dem.scaled(1.05)
    cold = assign(scen, d2, gap=1e-6, progress=False)
    warm = assign(scen, d2, gap=1e-6, warm_start=base, progress=False)
    assert warm.gap <= 1e-6 and cold.gap <= 1e-6
    assert warm.iterations < cold.iterations
    assert warm.flow_pcu[closed] == 0 and cold.flow_pcu[closed] == 0
    assert warm.objective == pytest.approx(cold.objective, rel=1e-6)
    # warm start with link flows only (bfw)
    wb = assign(net, dem, gap=1e-3, method="bfw", warm_start=base, progress=False)
    assert wb.iterations <= 2


# --------------------------------------------------------------------------- hand networks
def _hand_network(links: list[tuple], zones: list[int], *, zone_through=False):
    """links: (id, from, to, t0_min, capacity, car_allowed, hgv_allowed)."""
    import geopandas as gpd

    from ldtkit.model.network import RoadNetwork, conform_links, conform_nodes

    df = pd.DataFrame(
        links, columns=["link_id", "from_node", "to_node", "free_flow_time_min", "capacity_vph", "car_allowed", "hgv_allowed"]
    )
    df["length_m"] = 1000.0
    df["free_speed_kmh"] = 60.0
    nodes = sorted(set(df["from_node"]) | set(df["to_node"]))
    nd = gpd.GeoDataFrame({"node_id": nodes, "is_zone": [n in zones for n in nodes]}, geometry=[None] * len(nodes))
    return RoadNetwork(conform_links(df, source="hand"), conform_nodes(nd, source="hand"), name="hand", zone_through=zone_through)


def _demand(zones, trips: dict, pcu):
    from ldtkit.model.demand import Demand

    nz = len(zones)
    mats = {}
    for cls, pairs in trips.items():
        m = np.zeros((nz, nz))
        for (o, d), v in pairs.items():
            m[zones.index(o), zones.index(d)] = v
        mats[cls] = m
    return Demand(zone_ids=np.array(zones), trips=mats, pcu=pcu)


def test_multiclass_barred_link_equilibrium():
    """Two routes 1-2-4 (short) and 1-3-4 (long); heavy vehicles are barred from 2->4."""
    from ldtkit.model.assignment import assign

    net = _hand_network(
        [
            (10, 1, 2, 5.0, 1000.0, True, True),
            (11, 2, 4, 5.0, 1000.0, True, False),  # heavy barred
            (12, 1, 3, 7.0, 1500.0, True, True),
            (13, 3, 4, 7.0, 1500.0, True, True),
            (14, 2, 3, 1.0, 1000.0, False, False),  # barred for all classes
        ],
        zones=[1, 4],
    )
    dem = _demand([1, 4], {"light": {(1, 4): 1800.0}, "heavy": {(1, 4): 300.0}}, {"light": 1.0, "heavy": 2.5})
    res = assign(net, dem, gap=1e-10, progress=False)
    light, heavy = res.flow_vph["light"], res.flow_vph["heavy"]
    assert heavy[1] == 0.0 and heavy[0] == 0.0  # heavy never enters 1->2 (its only exit is barred)
    assert heavy[2] == pytest.approx(300.0) and heavy[3] == pytest.approx(300.0)
    assert light[4] == 0 and heavy[4] == 0 and res.flow_pcu[4] == 0 and len(res.link_id) == 5
    np.testing.assert_allclose(res.flow_pcu, light + 2.5 * heavy)
    assert light[0] + light[2] == pytest.approx(1800.0)
    # Wardrop for light: both routes used and equally costly
    t = res.time_min
    assert light[0] > 0 and light[2] > 0
    assert t[0] + t[1] == pytest.approx(t[2] + t[3], rel=1e-8)
    # BPR on PCU flows
    expect = 5.0 * (1 + 0.15 * (res.flow_pcu[0] / 1000.0) ** 4)
    assert t[0] == pytest.approx(expect, rel=1e-12)
    assert res.gap <= 1e-10


def test_no_through_traffic_via_zones():
    from ldtkit.model.assignment import assign

    links = [
        (1, 1, 2, 1.0, 1000.0, True, True),
        (2, 2, 3, 1.0, 1000.0, True, True),
        (3, 1, 4, 10.0, 1000.0, True, True),
        (4, 4, 3, 10.0, 1000.0, True, True),
    ]
    dem = _demand([1, 2, 3], {"light": {(1, 3): 100.0}}, {"light": 1.0})
    blocked = assign(_hand_network(links, [1, 2, 3]), dem, gap=1e-8, progress=False)
    np.testing.assert_allclose(blocked.flow_pcu, [0, 0, 100, 100])
    through = assign(_hand_network(links, [1, 2, 3], zone_through=True), dem, gap=1e-8, progress=False)
    np.testing.assert_allclose(through.flow_pcu, [100, 100, 0, 0])


def test_disconnected_pairs_raise_or_drop():
    from ldtkit.errors import DisconnectedDemandError
    from ldtkit.model.assignment import assign

    links = [
        (1, 1, 2, 1.0, 1000.0, True, True),
        (2, 2, 3, 1.0, 1000.0, False, False),  # closed
        (3, 3, 1, 1.0, 1000.0, True, True),
    ]
    net = _hand_network(links, [1, 2, 3])
    dem = _demand([1, 2, 3], {"light": {(1, 2): 50.0, (1, 3): 20.0, (2, 3): 5.0}}, {"light": 1.0})
    with pytest.raises(DisconnectedDemandError, match=r"2 OD pairs.*\(25 trips\).*largest: 1->3 \(light, 20 trips\)") as ei:
        assign(net, dem, progress=False)
    assert sorted(ei.value.pairs["destination"]) == [3, 3]
    for method in ("path", "bfw"):
        with pytest.warns(UserWarning, match="no path"):
            res = assign(net, dem, on_disconnected="drop", method=method, progress=False)
        u = res.unassigned.sort_values("origin").reset_index(drop=True)
        assert u[["origin", "destination"]].values.tolist() == [[1, 3], [2, 3]]
        assert u["trips"].tolist() == [20.0, 5.0] and (u["class"] == "light").all()
        np.testing.assert_allclose(res.flow_pcu, [50.0, 0.0, 0.0])


def test_degenerate_links_never_nan():
    """power 0, free-flow time 0 and zero capacity (treated as closed)."""
    from ldtkit.model.assignment import assign

    links = [
        (1, 1, 2, 0.0, 1000.0, True, True),  # t0 = 0
        (2, 2, 3, 2.0, 0.0, True, True),  # zero capacity: closed
        (3, 2, 4, 1.0, 500.0, True, True),
        (4, 4, 3, 1.0, 500.0, True, True),
        (5, 2, 3, 3.0, 100.0, True, True),
    ]
    net = _hand_network(links, [1, 3])
    L = net.links.copy()
    L.loc[4, "power"] = 0.0  # constant cost 3 * 1.15
    net = net.with_links(L)
    dem = _demand([1, 3], {"light": {(1, 3): 900.0}}, {"light": 1.0})
    res = assign(net, dem, gap=1e-9, progress=False)
    for arr in (res.flow_pcu, res.time_min, res.cost_min, res.speed_kmh):
        assert np.isfinite(arr).all()
    assert res.flow_pcu[1] == 0.0
    assert res.flow_pcu[0] == pytest.approx(900.0)
    assert res.time_min[4] == pytest.approx(3.45)
    # both routes used -> equal cost
    assert res.time_min[2] + res.time_min[3] == pytest.approx(3.45, rel=1e-7)


@needs_tntp
def test_cli_writes_flows_csv(tmp_path, capsys):
    from ldtkit.cli import main

    out = tmp_path / "flows.csv"
    rc = main(["assign", "--tntp", str(TNTP / "SiouxFalls"), "--gap", "1e-6", "--out", str(out)])
    assert rc == 0
    df = pd.read_csv(out)
    assert list(df.columns) == ["init_node", "term_node", "flow", "cost"]
    assert len(df) == 76
    ref = pd.read_csv(TNTP / "SiouxFalls" / "SiouxFalls_flow.tntp", sep=r"\s+")
    np.testing.assert_allclose(df["flow"], ref["Volume"], rtol=0.01)
    text = capsys.readouterr().out
    for word in ("iterations", "gap", "objective", "seconds"):
        assert word in text


@needs_tntp
def test_concurrent_calls_from_threads_agree():
    """The scenario runner calls assign() from dask threads: results must not interfere."""
    import threading

    from ldtkit.model.assignment import assign

    net, dem, _ = _load("SiouxFalls")
    ref = assign(net, dem, gap=1e-8, progress=False)
    out = {}

    def job(i):
        out[i] = assign(net, dem, gap=1e-8, progress=False)

    threads = [threading.Thread(target=job, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 3
    for r in out.values():
        np.testing.assert_array_equal(r.flow_pcu, ref.flow_pcu)


@needs_tntp
@pytest.mark.parametrize("method", ["path", "bfw"])
def test_batched_shortest_path_trees_same_equilibrium(method):
    """With little memory for trees, origins are processed in batches: same equilibrium."""
    from ldtkit.model.assignment import SolverOptions, problem_from_network, solve, tree_batches

    net, dem, ref = _load("SiouxFalls")
    pb = problem_from_network(net, dem)
    tol = 1e-6 if method == "path" else 1e-4
    small = 5 * 4 * net.n_nodes  # 5 origins per batch
    assert len(tree_batches(pb)) == 1 and len(tree_batches(pb, small)) == 5
    full = solve(pb, SolverOptions(method=method, gap=tol))
    batched = solve(pb, SolverOptions(method=method, gap=tol, tree_memory_bytes=small))
    assert batched.gap <= tol
    obj_ref = beckmann_np(ref["flow"].to_numpy(), net.links)
    assert batched.objective == pytest.approx(obj_ref, rel=tol)
    assert full.objective == pytest.approx(obj_ref, rel=tol)


@needs_tntp
def test_two_classes_on_the_same_links_match_one_pcu_class():
    """Light + heavy (PCU 2.5) allowed everywhere = one class carrying the PCU total."""
    from ldtkit.model.assignment import assign
    from ldtkit.model.demand import Demand

    net, dem, _ = _load("SiouxFalls")
    m = dem.trips["light"]
    two = Demand(zone_ids=dem.zone_ids, trips={"light": 0.9 * m, "heavy": 0.1 * m}, pcu={"light": 1.0, "heavy": 2.5})
    one = Demand(zone_ids=dem.zone_ids, trips={"light": 1.15 * m}, pcu={"light": 1.0})
    a = assign(net, two, gap=1e-9, progress=False)
    b = assign(net, one, gap=1e-9, progress=False)
    assert a.objective == pytest.approx(b.objective, rel=1e-8)
    np.testing.assert_allclose(a.flow_pcu, b.flow_pcu, rtol=1e-4, atol=1e-3 * b.flow_pcu.mean())
    np.testing.assert_allclose(a.flow_vph["light"] + 2.5 * a.flow_vph["heavy"], a.flow_pcu)
    assert a.flow_vph["heavy"].sum() > 0


@needs_tntp
@pytest.mark.parametrize(("target", "max_iter"), [(1e-3, 500), (1e-9, 3)])
def test_reported_gap_is_tstt_minus_sptt_over_tstt(target, max_iter):
    """Recompute the relative gap of the returned flows with scipy's Dijkstra: the solver stops
    on a measured gap, whether the target or the iteration cap stops it (never on the gap its
    sweeps estimate)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    from ldtkit.model.assignment import assign

    net, dem, _ = _load("Chicago-Sketch")  # through traffic allowed everywhere (FIRST THRU NODE 1)
    res = assign(net, dem, gap=target, max_iter=max_iter, progress=False)
    assert len(res.gap_history) == res.iterations and (max_iter == 500 or res.iterations == max_iter)
    L = net.links
    n = net.n_nodes
    # parallel links do not occur in Chicago-Sketch, so a sparse matrix holds the costs exactly
    g = csr_matrix((res.cost_min + 1e-300, (L["from_node"] - 1, L["to_node"] - 1)), shape=(n, n))
    nz = len(dem.zone_ids)
    sp = dijkstra(g, indices=np.arange(nz))[:, :nz]
    trips = dem.trips["light"].copy()
    np.fill_diagonal(trips, 0.0)
    sptt = float((trips * sp).sum())
    tstt = float((res.flow_pcu * res.cost_min).sum())
    assert res.gap == pytest.approx((tstt - sptt) / tstt, rel=1e-6)
    assert res.meta["converged"] == (max_iter == 500) and res.gap > 0 and (res.gap <= target) == res.meta["converged"]


@pytest.mark.parametrize(("flag", "value"), [("--gap", "-1"), ("--gap", "nan"), ("--max-iter", "0"), ("--gap", "tight")])
def test_cli_refuses_bad_numbers_by_name(flag, value, tmp_path, capsys):
    from ldtkit.cli import main

    out = tmp_path / "flows.csv"
    with pytest.raises(SystemExit) as exc:
        main(["assign", "--tntp", str(tmp_path), flag, value, "--out", str(out)])
    assert exc.value.code == 2
    assert f"argument {flag}: expected a" in capsys.readouterr().err
    assert not out.exists()


def test_bad_link_parameters_are_named():
    from ldtkit.errors import InvalidValueError
    from ldtkit.model.assignment import build_problem

    kw = dict(
        node_ids=np.array([1, 2]), from_node=np.array([1, 2]), to_node=np.array([2, 1]), free_flow_time_min=np.array([1.0, np.nan]),
        capacity_vph=np.ones(2), b=np.ones(2), power=np.ones(2), fixed_cost_min=np.zeros(2), allowed=np.ones((1, 2), bool),
        no_through_nodes=np.zeros(0, np.int64), zone_ids=np.array([1, 2]), trips={"light": np.ones((2, 2))}, pcu={"light": 1.0},
        source="net.tntp",
    )  # fmt: skip
    with pytest.raises(InvalidValueError, match=r"net.tntp: link t0 must be finite and >= 0; 1 of 2 fail, e.g. \[1\] = nan"):
        build_problem(**kw)
    with pytest.raises(InvalidValueError, match=r"net.tntp: demand zone ids \[3\] are not nodes of the network"):
        build_problem(**{**kw, "free_flow_time_min": np.ones(2), "zone_ids": np.array([1, 3])})


@needs_tntp
def test_warm_start_keeps_paths_of_surviving_links():
    """Path sets export with link ids, and a warm start maps them onto the new link rows."""
    from ldtkit.model.assignment import assign, warm_start_from

    net, dem, _ = _load("SiouxFalls")
    base = assign(net, dem, gap=1e-6, progress=False)
    ps = base.path_state
    assert ps is not None and ps.link_id is not None
    np.testing.assert_array_equal(ps.link_id, net.links["link_id"].to_numpy()[ps.link_row])
    # each OD pair's path flows add up to its demand
    assert ps.flow.sum() == pytest.approx(dem.trips["light"].sum() - np.trace(dem.trips["light"]), rel=1e-9)
    reordered = net.links.iloc[::-1].reset_index(drop=True)
    warm = warm_start_from(base, reordered["link_id"].to_numpy(), ["light"])
    assert warm.paths is not None
    np.testing.assert_array_equal(reordered["link_id"].to_numpy()[warm.paths.link_row], ps.link_id)
    np.testing.assert_allclose(warm.flow_vph[0][::-1], base.flow_vph["light"])
