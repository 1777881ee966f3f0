"""Benchmark: ldtkit's static assignment against AequilibraE, same networks, same run.

For SiouxFalls, Chicago-Sketch, Berlin-Center and the Austin region, at relative gaps 1e-4 and
1e-5, prints ldtkit's whole ``ldtkit assign`` process (wall time including start-up and
reading the files, iterations, time per iteration, peak RSS, and which kernels it picked, then
on a line of its own the process's phases: start-up, reading, the kernels' start-up, trees,
path updates, inner passes, writing)
beside AequilibraE ``bfw`` with 2 threads (time of ``execute()`` alone, its graph set-up
excluded, and iterations), and their ratio; and the CPU seconds of each (all threads: the
ldtkit process's user + system time, AequilibraE's process time during ``execute()``), whose
ratio depends less on the machine's load than the wall-time one. OD pairs without a path (Austin has 1,157) are
left out by both.

For the networks of ``--accuracy`` (default Austin) it also runs ldtkit at 1e-5 a second time
(the flows must be identical: determinism) and at 1e-6, and prints the RMSE of the 1e-5
flows against the 1e-6 ones as a share of the mean link flow. Last, the whole ``ldtkit
assign`` process on Chicago-Sketch at 1e-5 with the kernels it picks and with ``--kernels jit``.

tap-b (Algorithm B in C, github.com/spartalab/tap-b) is compared where it is built: ``--tap-b BIN``
names its ``tap`` binary (or set ``TAPB_BIN``). It runs with 2 threads on the same TNTP files at
the same relative gap; its whole process is timed (wall and CPU seconds).

AequilibraE is a benchmark-only dependency (``pip install ldtkit[bench]``); without it the
ldtkit figures are printed alone.

Usage::

    python benchmarks/assignment.py [--shared ../shared] [--networks SiouxFalls,Chicago-Sketch,Berlin-Center,Austin]
        [--accuracy Austin] [--skip-aequilibrae] [--tap-b PATH/TO/tap]
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "2")
THREADS = int(os.environ["NUMBA_NUM_THREADS"])

import argparse  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GAPS = (1e-4, 1e-5)


def _shared(arg: str | None) -> Path:
    for cand in (arg, os.environ.get("LDTKIT_SHARED"), ROOT.parent / "shared", "/work/shared"):
        if cand and (Path(cand) / "data" / "tntp").exists():
            return Path(cand)
    sys.exit("TNTP data not found: pass --shared DIR (the folder holding data/tntp)")


#: ``ldtkit assign`` as its console script runs it, printing the process's peak RSS at the end
_CLI = (
    "import resource, sys\n"
    "from ldtkit.cli import main\n"
    "rc = main(sys.argv[1:])\n"
    "print('peak_rss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    "sys.exit(rc)\n"
)


def run_ldtkit(folder: Path, gap: float, out: Path, kernels: str = "auto") -> dict:
    """A whole ``ldtkit assign`` process: wall time, peak RSS and what it printed."""
    cmd = [sys.executable, "-c", _CLI, "assign", "--tntp", str(folder), "--gap", f"{gap:g}", "--max-iter", "1000"]
    cmd += ["--drop-disconnected", "--kernels", kernels, "--out", str(out)]
    t = time.perf_counter()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    s = time.perf_counter() - t
    ru2 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru2.ru_utime - ru.ru_utime) + (ru2.ru_stime - ru.ru_stime)
    if proc.returncode:
        raise RuntimeError(f"ldtkit assign {folder.name} --gap {gap:g} failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
    lines = dict(ln.split(None, 1) for ln in proc.stdout.splitlines() if len(ln.split(None, 1)) == 2)
    it = int(lines["iterations"])
    assign_s = float(lines["seconds"].split("(assignment", 1)[1].split(")")[0])
    run_s = float(lines["seconds"].split()[0])
    return {
        "s": s,
        "cpu_s": cpu,
        "it": it,
        "s_per_it": assign_s / max(it, 1),
        "gap": float(lines["gap"].split()[0]),
        "rss_mb": int(lines["peak_rss_kb"]) / 1024,
        "kernels": "AOT" if "ahead-of-time" in lines["method"] else "JIT",
        # the interpreter and the imports before `ldtkit assign` starts its clock, then its own phases
        "phases": f"interpreter and imports {s - run_s:.2f} s, {lines['phases']}",
    }


def run_tapb(binary: Path, folder: Path, gap: float, work: Path) -> dict:
    """A whole tap-b process on the TNTP files of ``folder``: wall and CPU seconds."""
    work.mkdir(parents=True, exist_ok=True)
    (net,), (trips,) = sorted(folder.glob("*_net.tntp")), sorted(folder.glob("*_trips.tntp"))
    params = work / "params.txt"
    params.write_text(
        f"<NETWORK FILE> {net.name}\n<TRIPS FILE> {trips.name}\n<FILE PATH> {folder}/\n<DATA PATH> {work}/\n"
        f"<FLOWS FILE> {work / 'flows.txt'}\n<CONVERGENCE GAP> {gap:g}\n<NUMBER OF THREADS> {THREADS}\n<OMIT BECKMANN>\n",
        encoding="utf-8",
    )
    t = time.perf_counter()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([str(binary), str(params)], capture_output=True, text=True, cwd=work)
    s = time.perf_counter() - t
    ru2 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise RuntimeError(f"tap-b {folder.name} --gap {gap:g} failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
    return {"s": s, "cpu_s": (ru2.ru_utime - ru.ru_utime) + (ru2.ru_stime - ru.ru_stime)}


def _flows(path: Path) -> np.ndarray:
    return np.loadtxt(path, delimiter=",", skiprows=1, usecols=2)


def aeq_available() -> str | None:
    try:
        import aequilibrae  # noqa: F401
        from aequilibrae.paths import TrafficAssignment  # noqa: F401
    except Exception as exc:  # pragma: no cover - depends on the environment
        return f"{type(exc).__name__}: {exc}"
    return None


def aeq_setup(net, dem):
    """AequilibraE graph and matrix for the same problem (same fixed cost, same centroid rule)."""
    import pandas as pd
    from aequilibrae.matrix import AequilibraeMatrix
    from aequilibrae.paths import Graph

    L = net.links
    df = pd.DataFrame(
        {
            "link_id": np.arange(1, len(L) + 1),
            "a_node": L["from_node"].to_numpy(),
            "b_node": L["to_node"].to_numpy(),
            "direction": 1,
            "capacity": L["capacity_vph"].to_numpy(),
            # AequilibraE rejects zero free-flow times (connectors): 1e-6 min instead
            "free_flow_time": np.maximum(L["free_flow_time_min"].to_numpy(), 1e-6),
            "b": L["b"].to_numpy(),
            "power": L["power"].to_numpy(),
            "fixed_cost": L["cost_fixed_min"].to_numpy() if "cost_fixed_min" in L else 0.0,
        }
    )
    g = Graph()
    g.network = df
    g.prepare_graph(np.asarray(dem.zone_ids, dtype=np.int64))
    g.set_graph("free_flow_time")
    g.set_skimming([])
    g.set_blocked_centroid_flows(not net.zone_through)
    mat = AequilibraeMatrix()
    nz = len(dem.zone_ids)
    mat.create_empty(zones=nz, matrix_names=["demand"], memory_only=True)
    mat.index[:] = np.asarray(dem.zone_ids)
    mat.matrices[:, :, 0] = dem.trips["light"]
    mat.computational_view(["demand"])
    return g, mat, bool(np.any(df["fixed_cost"] > 0))


def run_aeq(g, mat, has_fixed: bool, gap: float) -> dict:
    import logging

    from aequilibrae.paths import TrafficAssignment, TrafficClass

    logging.getLogger("aequilibrae").setLevel(logging.ERROR)
    tc = TrafficClass("car", g, mat)
    if has_fixed:
        tc.set_fixed_cost("fixed_cost")
    a = TrafficAssignment()
    a.set_classes([tc])
    a.set_vdf("BPR")
    a.set_vdf_parameters({"alpha": "b", "beta": "power"})
    a.set_capacity_field("capacity")
    a.set_time_field("free_flow_time")
    a.set_algorithm("bfw")
    a.max_iter = 5000
    a.rgap_target = gap
    a.set_cores(THREADS)
    t = time.perf_counter()
    c = time.process_time()  # every thread of this process
    a.execute(log_specification=False)
    s = time.perf_counter() - t
    cpu = time.process_time() - c
    rep = a.assignment.convergence_report
    return {"s": s, "cpu_s": cpu, "it": int(rep["iteration"][-1]), "gap": float(rep["rgap"][-1])}


def cli_process_time(shared: Path, kernels: str) -> str:
    """Wall time of whole ``ldtkit assign`` processes (median of 3, after one untimed run)."""
    exe = Path(sys.executable).with_name("ldtkit")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "import sys; from ldtkit.cli import main; sys.exit(main())"]
    cmd += ["assign", "--tntp", str(shared / "data" / "tntp" / "Chicago-Sketch"), "--gap", "1e-5"]
    cmd += ["--kernels", kernels, "--out", "/tmp/ldtkit_bench_flows.csv"]
    times = []
    for _ in range(4):  # the first run may populate the numba cache
        t = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        times.append(time.perf_counter() - t)
        if out.returncode:
            return f"failed: {out.stderr.strip()[-300:]}"
    engine = next((ln.split("(", 1)[-1].rstrip(")") for ln in out.stdout.splitlines() if ln.startswith("method")), "?")
    return f"{sorted(times[1:])[1]:.2f} s median of 3 ({engine}; untimed first run {times[0]:.2f} s)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=None)
    ap.add_argument("--networks", default="SiouxFalls,Chicago-Sketch,Berlin-Center,Austin")
    ap.add_argument("--accuracy", default="Austin", help="networks whose 1e-5 flows are checked (repeat run, 1e-6 run); '' for none")
    ap.add_argument("--skip-aequilibrae", action="store_true")
    ap.add_argument("--tap-b", default=os.environ.get("TAPB_BIN"), help="tap-b's `tap` binary, where it is built (or $TAPB_BIN)")
    args = ap.parse_args(argv)
    shared = _shared(args.shared)
    tntp = shared / "data" / "tntp"

    from ldtkit.model.loaders.tntp import demand_from_tntp, network_from_tntp

    print(f"threads: {THREADS}, machine load {os.getloadavg()[0]:.1f}, cores {os.cpu_count()}")
    tapb = Path(args.tap_b) if args.tap_b else None
    print(f"tap-b: {tapb}" if tapb else "tap-b: not compared (pass --tap-b BIN where it is built)")
    why_not = "skipped (--skip-aequilibrae)" if args.skip_aequilibrae else aeq_available()
    if why_not:
        print(f"AequilibraE not available: {why_not} -- printing ldtkit figures alone")
    header = (
        f"{'network':15s} {'gap':>5s} | {'ldtkit s':>8s} {'CPU s':>6s} {'it':>3s} {'ms/it':>6s} {'gap':>8s} {'RSS MB':>6s} {'kern':>4s} |"
        f" {'AequilibraE s':>13s} {'CPU s':>6s} {'it':>5s} {'s/it':>6s} {'gap':>8s} | {'ratio':>6s} {'CPU ratio':>9s} {'load':>4s}"
    )
    print(header)
    print("-" * len(header))
    out = Path(tempfile.mkdtemp(prefix="ldtkit-bench-"))
    for name in args.networks.split(","):
        aeq = None
        if not why_not:
            net, dem = network_from_tntp(tntp / name), demand_from_tntp(tntp / name)
            aeq = aeq_setup(net, dem)
            del net, dem
        for g in GAPS:
            lt = run_ldtkit(tntp / name, g, out / f"{name}-{g:g}.csv")
            line = (
                f"{name:15s} {g:5.0e} | {lt['s']:8.2f} {lt['cpu_s']:6.2f} {lt['it']:3d} {1e3 * lt['s_per_it']:6.1f} {lt['gap']:8.2e} {lt['rss_mb']:6.0f}"
                f" {lt['kernels']:>4s} |"
            )
            if aeq is not None:
                at = run_aeq(*aeq, g)
                line += f" {at['s']:13.2f} {at['cpu_s']:6.2f} {at['it']:5d} {at['s'] / max(at['it'], 1):6.3f} {at['gap']:8.2e} |"
                line += f" {at['s'] / lt['s']:5.1f}x {at['cpu_s'] / lt['cpu_s']:8.1f}x"
            else:
                line += f" {'-':>13s} {'-':>6s} {'-':>5s} {'-':>6s} {'-':>8s} | {'-':>6s} {'-':>9s}"
            print(line + f" {os.getloadavg()[0]:4.1f}", flush=True)
            print(f"{'':15s} ldtkit phases (wall): {lt['phases']}", flush=True)
            if tapb is not None:
                tb = run_tapb(tapb, tntp / name, g, out / f"tapb-{name}-{g:g}")
                print(
                    f"{'':15s} tap-b: {tb['s']:.2f} s, {tb['cpu_s']:.2f} CPU s:"
                    f" {tb['s'] / lt['s']:.1f}x ldtkit's time, CPU {tb['cpu_s'] / lt['cpu_s']:.1f}x",
                    flush=True,
                )
    for name in filter(None, args.accuracy.split(",")):
        first = out / f"{name}-1e-05.csv"
        if not first.exists():
            run_ldtkit(tntp / name, 1e-5, first)
        again = run_ldtkit(tntp / name, 1e-5, out / f"{name}-1e-05-again.csv")
        same = first.read_bytes() == (out / f"{name}-1e-05-again.csv").read_bytes()
        ref = run_ldtkit(tntp / name, 1e-6, out / f"{name}-1e-06.csv")
        f5, f6 = _flows(first), _flows(out / f"{name}-1e-06.csv")
        rmse = float(np.sqrt(np.mean((f5 - f6) ** 2)) / np.mean(f6))
        print(
            f"{name}: second run at 1e-5 {again['s']:.2f} s, flows {'identical' if same else 'DIFFERENT'}; "
            f"1e-6 in {ref['s']:.2f} s ({ref['it']} iterations); RMSE of the 1e-5 flows against 1e-6: {100 * rmse:.3f} % of the mean flow"
        )
    shutil.rmtree(out, ignore_errors=True)
    print(f"whole `ldtkit assign` process, Chicago-Sketch, gap 1e-5: {cli_process_time(shared, 'auto')}")
    print(f"  the same with --kernels jit: {cli_process_time(shared, 'jit')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
