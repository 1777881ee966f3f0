"""The ahead-of-time compiled assignment kernels behind ``ldtkit assign`` (issue 3, whole-process line)."""

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
    from ldtkit.model.assignment import _build_problem, _solve
    from ldtkit.model.loaders.tntp import read_net, read_trips

    net = read_net(TNTP / "SiouxFalls")
    zones, trips, _ = read_trips(TNTP / "SiouxFalls")
    c = net.columns
    pb = _build_problem(
        node_ids=np.union1d(c["init_node"], c["term_node"]), from_node=c["init_node"], to_node=c["term_node"],
        t0=c["free_flow_time"], cap=c["capacity"], b=c["b"], power=c["power"], fixed=np.zeros(net.n_links),
        allowed=np.ones((1, net.n_links), bool), no_through_nodes=np.zeros(0, np.int64), zone_ids=zones,
        trips={"light": trips}, pcu={"light": 1.0}, source="SiouxFalls",
    )  # fmt: skip
    gap = {"bfw": 1e-4, "fw": 1e-3}[method]  # plain Frank-Wolfe crawls below 1e-3
    kw = dict(method=method, gap=gap, max_iter=300, on_disconnected="raise")
    ra = _solve(pb, kernels=aot, **kw)
    rj = _solve(pb, n_threads=1, **kw)
    assert ra["iterations"] == rj["iterations"]
    np.testing.assert_allclose(ra["x"], rj["x"], rtol=1e-9)
    assert ra["gap_history"][-1] <= gap


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
def test_whole_cli_process_within_2_seconds(aot, tmp_path):
    """Issue 3: the whole ``ldtkit assign`` process on Chicago-Sketch at 1e-5, imports and
    file reading included, within 2 s; and it never imports numba or scipy."""
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
