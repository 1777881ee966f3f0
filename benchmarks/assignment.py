"""Benchmark: ldtkit's static assignment against AequilibraE, same networks, same run.

Prints, for SiouxFalls, Chicago-Sketch and Berlin-Center, the wall time to reach relative
gaps 1e-4 and 1e-5 with ldtkit (``method="path"``) and AequilibraE (``bfw``), both with 2
threads, and their ratio. ldtkit's numba compile / cache-load time is measured separately
(a first call on SiouxFalls) and excluded. Also prints the peak RSS of a fresh process
assigning Berlin-Center to 1e-4, and the wall time of a whole ``ldtkit assign`` process on
Chicago-Sketch at 1e-5: with the ahead-of-time compiled kernels it uses when built
(``python -m ldtkit.cli.warmup``) and, for comparison, with ``--kernels jit``.

AequilibraE is a benchmark-only dependency (``pip install ldtkit[bench]``); without it the
ldtkit figures are printed alone.

Usage::

    python benchmarks/assignment.py [--shared ../shared] [--networks SiouxFalls,Chicago-Sketch,Berlin-Center]
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "2")
THREADS = int(os.environ["NUMBA_NUM_THREADS"])

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
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


def run_ldtkit(net, dem, gap: float) -> dict:
    from ldtkit.model.assignment import assign

    t = time.perf_counter()
    r = assign(net, dem, gap=gap, max_iter=1000, progress=False)
    return {"s": time.perf_counter() - t, "it": r.iterations, "gap": r.gap, "obj": r.objective}


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
    a.execute(log_specification=False)
    s = time.perf_counter() - t
    rep = a.assignment.convergence_report
    return {"s": s, "it": int(rep["iteration"][-1]), "gap": float(rep["rgap"][-1])}


def peak_rss_berlin(shared: Path) -> str:
    code = (
        "import resource, ldtkit.model.assignment as A, ldtkit.model.loaders.tntp as T\n"
        f"p = {str(shared / 'data' / 'tntp' / 'Berlin-Center')!r}\n"
        "r = A.assign(T.network_from_tntp(p), T.demand_from_tntp(p), gap=1e-4, progress=False)\n"
        "print(f'{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB peak RSS, gap {r.gap:.2e}')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    return out.stdout.strip() or out.stderr.strip()[-300:]


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
    ap.add_argument("--networks", default="SiouxFalls,Chicago-Sketch,Berlin-Center")
    ap.add_argument("--skip-aequilibrae", action="store_true")
    args = ap.parse_args(argv)
    shared = _shared(args.shared)
    tntp = shared / "data" / "tntp"

    import numba

    from ldtkit.model.loaders.tntp import demand_from_tntp, network_from_tntp

    print(f"threads: {THREADS} (numba {numba.get_num_threads()}), machine load {os.getloadavg()[0]:.1f}, cores {os.cpu_count()}")
    # compile / cache-load time, measured on SiouxFalls and excluded from the timings below
    sf = network_from_tntp(tntp / "SiouxFalls"), demand_from_tntp(tntp / "SiouxFalls")
    first = run_ldtkit(*sf, 1e-4)["s"]
    again = run_ldtkit(*sf, 1e-4)["s"]
    print(f"ldtkit numba compile/cache-load (first call minus steady state): {first - again:.2f} s")

    why_not = "skipped (--skip-aequilibrae)" if args.skip_aequilibrae else aeq_available()
    if why_not:
        print(f"AequilibraE not available: {why_not} -- printing ldtkit figures alone")
    header = f"{'network':16s} {'gap':>7s} | {'ldtkit s':>9s} {'it':>4s} {'gap reached':>11s} | {'AequilibraE s':>13s} {'it':>5s} {'gap reached':>11s} | {'ratio':>6s}"
    print(header)
    print("-" * len(header))
    for name in args.networks.split(","):
        net, dem = network_from_tntp(tntp / name), demand_from_tntp(tntp / name)
        aeq = aeq_setup(net, dem) if not why_not else None
        for g in GAPS:
            lt = run_ldtkit(net, dem, g)
            line = f"{name:16s} {g:7.0e} | {lt['s']:9.3f} {lt['it']:4d} {lt['gap']:11.2e} |"
            if aeq is not None:
                at = run_aeq(*aeq, g)
                line += f" {at['s']:13.3f} {at['it']:5d} {at['gap']:11.2e} | {at['s'] / lt['s']:5.1f}x"
            else:
                line += f" {'-':>13s} {'-':>5s} {'-':>11s} | {'-':>6s}"
            print(line, flush=True)
    print(f"Berlin-Center to 1e-4 in a fresh process: {peak_rss_berlin(shared)}")
    print(f"whole `ldtkit assign` process, Chicago-Sketch, gap 1e-5: {cli_process_time(shared, 'auto')}")
    print(f"  the same with --kernels jit: {cli_process_time(shared, 'jit')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
