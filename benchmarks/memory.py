"""Memory benchmark: the peak RSS of a Ghent run and the RSS of a dashboard kernel with its results loaded.

Run: ``python benchmarks/memory.py [--cache DIR]``

1. ``ldtkit run ghent`` (baseline and the three bridge scenarios, traffic, noise and air) in a
   child process on an empty results cache: its peak resident set size (the largest a process
   reached, as ``/usr/bin/time -v`` reports it). Target: at most 1 GB.
2. A child process that does what the dashboard notebook's kernel does with the results now in
   the cache: :func:`ldtkit.viz.use_case.run_use_case` (reads them, builds the indicator table
   and the map views) and :func:`~ldtkit.viz.use_case.build_dashboard`: its resident set size
   afterwards and its peak. Target: at most 400 MB.

``--cache DIR`` reuses a cache (the run is then served from it unless the model code changed);
by default a temporary one is made and removed. The load average is printed: with a load above
2 the other processes share the two cores (the memory figures do not depend on it).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DASHBOARD = """
import resource, sys
from ldtkit.study.scenario import load_scenarios
from ldtkit.viz.use_case import build_dashboard, run_use_case
case = run_use_case("ghent", load_scenarios("data/ghent/scenarios"), cache_dir=sys.argv[1])
board = build_dashboard(case)
rss = [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS")][0] / 1024
print(f"{rss:.0f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=None, help="results cache to use (default: a new temporary one)")
    args = ap.parse_args()
    root = Path(__file__).resolve().parents[1]
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    with tempfile.TemporaryDirectory(prefix="ldtkit-memory-") as tmp:
        cache = args.cache or Path(tmp) / "cache"
        env = {**os.environ, "LDTKIT_CACHE": str(cache)}
        t = time.perf_counter()
        cli = [
            sys.executable,
            "-c",
            "from ldtkit.cli import main; raise SystemExit(main())",
            "run",
            "ghent",
            "--out",
            str(Path(tmp) / "out"),
        ]
        subprocess.run(cli, cwd=root, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the only child so far
        print(f"ldtkit run ghent: peak RSS {run_peak:.0f} MB (target <= 1024 MB), {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        kernel = [sys.executable, "-c", DASHBOARD, str(cache)]
        out = subprocess.run(kernel, cwd=root, env=env, check=True, capture_output=True, text=True).stdout
        rss, peak = (float(v) for v in out.split()[-2:])
        print(
            f"dashboard kernel with the Ghent results loaded: RSS {rss:.0f} MB (target <= 400 MB), "
            f"peak {peak:.0f} MB, {time.perf_counter() - t:.0f} s"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
