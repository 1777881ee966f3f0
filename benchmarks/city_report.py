"""Benchmark: an OSM extract from ``ldtkit city init`` to the HTML report, as a new user runs it.

Runs ``ldtkit city init DIR --osm FILE``, then the ``ldtkit report`` command it prints (all
models, a cold results cache), each as its own process. Prints the wall time and the CPU time
(user + system, the Jupyter kernel included) of each step and of the whole, and the report
notebook's own cell timings (papermill), so what dominates is visible. On a shared machine the
wall time depends on the load; the CPU time does not.

Usage::

    python benchmarks/city_report.py [--osm ../shared/data/osm/porto.osm.pbf]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LDTKIT = [sys.executable, "-c", "import sys; from ldtkit.cli import main; sys.exit(main(sys.argv[1:]))"]


def timed(argv: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[str, float, float]:
    """Run ``ldtkit argv``; its stdout, wall seconds and CPU seconds (this child and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([*LDTKIT, *argv], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"ldtkit {' '.join(argv)} failed:\n{done.stderr}")
    return done.stdout, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--osm", default=str(ROOT.parent / "shared" / "data" / "osm" / "porto.osm.pbf"), help="the extract")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "LDTKIT_CACHE": str(work / "cache"), "PYTHONPATH": str(ROOT)}
        said, init_wall, init_cpu = timed(["city", "init", "town", "--osm", str(Path(args.osm).resolve())], cwd=work, env=env)
        (command,) = [line.strip() for line in said.splitlines() if line.strip().startswith("ldtkit report ")]
        argv = shlex.split(command)[1:]
        argv[1] = str(ROOT / argv[1])
        _, report_wall, report_cpu = timed([*argv, "--out", "reports"], cwd=work, env=env)
        links = next(line for line in said.splitlines() if line.startswith("network:"))
        print(f"extract     {Path(args.osm).name}: {links}")
        print(f"init        wall {init_wall:5.1f} s  cpu {init_cpu:5.1f} s")
        print(f"report      wall {report_wall:5.1f} s  cpu {report_cpu:5.1f} s   ({command})")
        print(f"total       wall {init_wall + report_wall:5.1f} s  cpu {init_cpu + report_cpu:5.1f} s")
        (executed,) = (work / "reports").glob("*.ipynb")
        for cell in json.loads(executed.read_text(encoding="utf-8"))["cells"]:
            seconds = cell["metadata"].get("papermill", {}).get("duration")
            if seconds and seconds > 0.5:
                print(f"  cell {seconds:5.1f} s  {''.join(cell['source']).splitlines()[0][:70]}")


if __name__ == "__main__":
    main()
