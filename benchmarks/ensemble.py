"""Benchmark: an ensemble of 16 Ghent scenarios on a local dask cluster of 1 and of 2 workers.

Each scenario closes one of Ghent's bridges (Rooigemlaan, Palinghuizen, Kongostraat) or one of
its main roads (the class 1-2 links of a street) to motor traffic. The baseline and the shared
inputs (network, zones, demand, receptors) are computed once, untimed, into a result cache;
each cluster then starts from a copy of that cache, so it computes the 16 scenarios and
nothing else. Every worker is a process with one thread and ``NUMBA_NUM_THREADS=1``.

Prints the wall time of each cluster size, the speed-up of 2 workers over 1 and the
per-scenario compute time (the ``seconds`` each result records, summed over its models).

Usage::

    python benchmarks/ensemble.py [--models traffic[,noise,air]] [--workers 1,2]
"""

from __future__ import annotations

import os

# the workers inherit the environment: one numba thread each (set before numba is imported)
os.environ["NUMBA_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BRIDGES = ["Rooigemlaan", "Palinghuizen", "Kongostraat"]
MAIN_ROADS = [
    "Kortrijksesteenweg",
    "John Kennedylaan",
    "Brusselsesteenweg",
    "Antwerpsesteenweg",
    "Deinsesteenweg",
    "Drongensesteenweg",
    "Victor Braeckmanlaan",
    "Krijgslaan",
    "Brugsevaart",
    "Gasmeterlaan",
    "Charles de Kerchovelaan",
    "Kasteellaan",
    "Heernislaan",
]


def scenarios() -> list:
    """The 16 closures: 3 bridges, then 13 main roads (their class 1 and 2 links)."""
    from ldtkit.study.scenario import Scenario

    def slug(s: str) -> str:
        return s.lower().replace(" ", "-")

    out = [
        Scenario.from_dict(
            {"name": f"close-bridge-{slug(b)}", "measures": [{"action": "close", "street": b, "bridge": True, "direction": "both"}]}
        )
        for b in BRIDGES
    ]
    out += [
        Scenario.from_dict(
            {"name": f"close-{slug(r)}", "measures": [{"action": "close", "street": r, "road_class": ["1", "2"], "direction": "both"}]}
        )
        for r in MAIN_ROADS
    ]
    assert len(out) == 16
    return out


def _import_runner() -> None:
    import ldtkit.study.runner  # noqa: F401


def run_on_cluster(n_workers: int, cache: Path, models: tuple[str, ...], todo: list) -> tuple[float, dict[str, float]]:
    """Wall time of the ensemble on ``n_workers`` single-threaded worker processes, and each
    scenario's compute seconds."""
    from distributed import Client, LocalCluster

    from ldtkit.study.runner import run

    with (
        LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.run(_import_runner)  # imports are part of start-up, not of the ensemble
        t = time.perf_counter()
        res = run("ghent", todo, client=client, cache_dir=cache, models=models, progress=False)
        wall = time.perf_counter() - t
    return wall, {s.name: float(sum(res[s.name].seconds.values())) for s in todo}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="traffic", help="comma-separated models (default traffic; traffic,noise,air for all)")
    ap.add_argument("--workers", default="1,2", help="cluster sizes to compare (default 1,2)")
    args = ap.parse_args(argv)
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    sizes = [int(w) for w in args.workers.split(",")]

    from ldtkit.study.runner import run

    todo = scenarios()
    print(f"{len(todo)} Ghent scenarios, models {','.join(models)}; machine load {os.getloadavg()[0]:.1f}, cores {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="ldtkit-ensemble-") as tmp:
        base_cache = Path(tmp) / "base"
        t = time.perf_counter()
        run("ghent", [], cache_dir=base_cache, models=models, progress=False)  # inputs and baseline, untimed below
        print(f"baseline and shared inputs (once, cached): {time.perf_counter() - t:.1f} s")
        walls: dict[int, float] = {}
        for n in sizes:
            cache = Path(tmp) / f"workers-{n}"
            shutil.copytree(base_cache, cache)
            walls[n], per = run_on_cluster(n, cache, models, todo)
            secs = list(per.values())
            print(
                f"{n} worker(s): {walls[n]:.1f} s for {len(todo)} scenarios ({walls[n] / len(todo):.2f} s each on the wall clock); "
                f"compute per scenario median {statistics.median(secs):.2f} s, min {min(secs):.2f} s, max {max(secs):.2f} s; "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            if n == sizes[0]:
                for name, s in per.items():
                    print(f"    {name:36s} {s:6.2f} s")
        if 1 in walls and 2 in walls:
            print(f"speed-up, 2 workers against 1: {walls[1] / walls[2]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
