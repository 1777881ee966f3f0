"""The ahead-of-time compiled assignment kernels behind ``ldtkit assign`` (the whole-process time budget)."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED

TNTP = SHARED / "data" / "tntp"
needs_tntp = pytest.mark.skipif(not TNTP.exists(), reason=f"{TNTP} not found")
CHICAGO = TNTP / "Chicago-Sketch"


@pytest.fixture(scope="module")
def aot():
    """The compiled module; built here (about 15 s) when setup has not built it."""
    from ldtkit.model.kernels.aot import build_assignment_aot, load_assignment_aot

    mod = load_assignment_aot()
    if mod is None:
        build_assignment_aot()
        mod = load_assignment_aot()
    assert mod is not None, "built, but load_assignment_aot() does not accept it"
    return mod


def _cli(tmp_path, name, *extra):
    from ldtkit.cli import main

    out = tmp_path / f"{name}.csv"
    assert main(["assign", "--tntp", str(CHICAGO), "--gap", "1e-5", "--out", str(out), *extra]) == 0
    return pd.read_csv(out)


@needs_tntp
def test_aot_and_jit_give_the_same_flows(aot, tmp_path, capsys):
    a = _cli(tmp_path, "aot", "--kernels", "aot")
    out_aot = capsys.readouterr().out
    assert "ahead-of-time compiled kernels" in out_aot
    j = _cli(tmp_path, "jit", "--kernels", "jit")
    assert "numba JIT kernels" in capsys.readouterr().out
    np.testing.assert_allclose(a["flow"], j["flow"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(a["cost"], j["cost"], rtol=1e-9)
    # and it is the equilibrium: the Beckmann objective within 1e-6 of the README's optimum
    # (17313018.7387477), flows within 0.2 % RMSE of the best-known ones at this gap (1e-5)
    objective = float(next(ln.split()[1] for ln in out_aot.splitlines() if ln.startswith("objective")))
    assert objective == pytest.approx(17313018.7387477, rel=1e-6)
    ref = pd.read_csv(CHICAGO / "ChicagoSketch_flow.tntp", sep=r"\s+")
    rmse = float(np.sqrt(np.mean((a["flow"].to_numpy() - ref["Volume"].to_numpy()) ** 2)))
    assert rmse <= 2e-3 * ref["Volume"].mean()


@needs_tntp
@pytest.mark.parametrize("method", ["bfw", "fw"])
def test_aot_link_based_methods_match_jit(aot, method):
    from ldtkit.model.assignment import SolverOptions, aot_engine, build_problem, jit_engine, solve
    from ldtkit.model.loaders.tntp import read_net, read_trips

    net = read_net(TNTP / "SiouxFalls")
    zones, trips, _ = read_trips(TNTP / "SiouxFalls")
    c = net.columns
    pb = build_problem(
        node_ids=np.union1d(c["init_node"], c["term_node"]), from_node=c["init_node"], to_node=c["term_node"],
        free_flow_time_min=c["free_flow_time"], capacity_vph=c["capacity"], b=c["b"], power=c["power"],
        fixed_cost_min=np.zeros(net.n_links), allowed=np.ones((1, net.n_links), bool), no_through_nodes=np.zeros(0, np.int64),
        zone_ids=zones, trips={"light": trips}, pcu={"light": 1.0}, source="SiouxFalls",
    )  # fmt: skip
    gap = {"bfw": 1e-4, "fw": 1e-3}[method]  # plain Frank-Wolfe crawls below 1e-3
    options = SolverOptions(method=method, gap=gap, max_iter=300)
    ra = solve(pb, options, engine=aot_engine(aot))
    rj = solve(pb, options, engine=jit_engine(n_threads=1))
    assert ra.iterations == rj.iterations
    np.testing.assert_allclose(ra.flow_pcu, rj.flow_pcu, rtol=1e-9)
    assert ra.gap <= gap


@needs_tntp
def test_aot_path_sets_and_warm_start_match_jit(aot):
    """The exported path sets and a warm start from them are the same with either build."""
    from ldtkit.model.assignment import SolverOptions, WarmStart, aot_engine, jit_engine, problem_from_network, solve
    from ldtkit.model.loaders.tntp import demand_from_tntp, network_from_tntp

    pb = problem_from_network(network_from_tntp(TNTP / "SiouxFalls"), demand_from_tntp(TNTP / "SiouxFalls"))
    runs = {}
    for name, engine in (("aot", aot_engine(aot)), ("jit", jit_engine(n_threads=1))):
        first = solve(pb, SolverOptions(gap=1e-4), engine=engine)
        assert first.paths is not None
        warm = WarmStart(flow_vph=first.flow_vph, paths=first.paths)
        runs[name] = first, solve(pb, SolverOptions(gap=1e-8), warm=warm, engine=engine)
    (fa, wa), (fj, wj) = runs["aot"], runs["jit"]
    assert fa.paths is not None and fj.paths is not None
    np.testing.assert_array_equal(fa.paths.link_row, fj.paths.link_row)
    np.testing.assert_array_equal(fa.paths.flow, fj.paths.flow)
    assert wa.iterations == wj.iterations and wa.gap <= 1e-8
    np.testing.assert_array_equal(wa.flow_pcu, wj.flow_pcu)


@needs_tntp
def test_stale_build_is_refused(aot, monkeypatch, tmp_path, capsys):
    """A module built from other kernel sources is never used: auto falls back to JIT, aot errors."""
    from ldtkit.cli import main
    from ldtkit.model.kernels import aot as _aot

    assert _aot.load_assignment_aot() is aot
    monkeypatch.setattr(_aot, "source_stamp", lambda: -1)
    assert _aot.load_assignment_aot() is None
    sioux = ["assign", "--tntp", str(TNTP / "SiouxFalls"), "--out", str(tmp_path / "f.csv")]
    assert main([*sioux, "--kernels", "aot"]) == 1
    assert "python -m ldtkit.cli.warmup" in capsys.readouterr().err
    assert not (tmp_path / "f.csv").exists()
    assert main(sioux) == 0
    assert "numba JIT kernels" in capsys.readouterr().out


@needs_tntp
@pytest.mark.timed
def test_whole_cli_process_within_2_seconds(aot, tmp_path):
    """The whole ``ldtkit assign`` process on Chicago-Sketch at 1e-5, imports and file reading
    included, within 2 s; and it never imports numba, scipy or pandas."""
    code = (
        "import sys\n"
        "from ldtkit.cli import main\n"
        f"rc = main(['assign', '--tntp', {str(CHICAGO)!r}, '--gap', '1e-5', '--out', {str(tmp_path / 'f.csv')!r}])\n"
        "heavy = sorted(m for m in ('numba', 'scipy', 'pandas') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
        "sys.exit(rc)\n"
    )
    times = []
    for _ in range(3):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        assert out.returncode == 0, out.stderr[-2000:]
    assert "HEAVY []" in out.stdout
    gap = float(next(ln.split()[1] for ln in out.stdout.splitlines() if ln.startswith("gap")))
    assert gap <= 1e-5
    assert min(times) <= 2.0, f"whole process {times} s"


def test_aot_signatures_follow_the_argument_groups():
    """The compiled module's Tuple types have the fields of the NamedTuples the solver passes."""
    from numba.core import sigutils

    from ldtkit.model.assignment import arrays
    from ldtkit.model.kernels.aot import GROUP_TYPES

    for name, numba_type in GROUP_TYPES.items():
        (tuple_type,), _ = sigutils.normalize_signature(f"void({numba_type})")
        assert len(tuple_type) == len(getattr(arrays, name)._fields), name


@needs_tntp
def test_aot_trees_on_threads_give_the_same_solution(aot):
    """The ahead-of-time kernels' trees shared among Python threads: the same flows, bit for bit,
    as on one thread; and the sweeps leave out origins yet reach the target gap."""
    from ldtkit.model.assignment import SolverOptions, aot_engine, build_problem, solve
    from ldtkit.model.assignment.engine import Engine
    from ldtkit.model.loaders.tntp import read_net, read_trips, readme_cost_weights

    net = read_net(CHICAGO)
    zones, trips, _ = read_trips(CHICAGO)
    w = readme_cost_weights(CHICAGO)
    c = net.columns
    pb = build_problem(
        node_ids=np.union1d(np.union1d(c["init_node"], c["term_node"]), zones), from_node=c["init_node"], to_node=c["term_node"],
        free_flow_time_min=c["free_flow_time"], capacity_vph=c["capacity"], b=c["b"], power=c["power"],
        fixed_cost_min=w["toll_weight"] * c["toll"] + w["distance_weight"] * c["length"], allowed=np.ones((1, net.n_links), bool),
        no_through_nodes=np.arange(1, net.first_thru_node), zone_ids=zones, trips={"light": trips}, pcu={"light": 1.0},
    )  # fmt: skip
    trees = []

    class Counting(Engine):
        def shortest_paths(self, subs, *args):  # type: ignore[no-untyped-def]
            trees.append(len(subs))
            Engine.shortest_paths(self, subs, *args)

    options = SolverOptions(gap=1e-5, keep_paths=False, skip_share=0.05)  # on a network this small, not by default
    one = solve(pb, options, engine=Counting(kernels=aot, n_threads=1, compiled_ahead=True))
    three = solve(pb, options, engine=aot_engine(aot, n_threads=3))
    np.testing.assert_array_equal(one.flow_pcu, three.flow_pcu)
    assert one.iterations == three.iterations and one.gap <= 1e-5
    n_sub = len(pb.od.sub_orig)
    # a loading sweep, a full sweep, a measurement: all trees; the sweeps between leave some out
    assert n_sub * 3 <= sum(trees) < n_sub * (one.iterations + 1)
