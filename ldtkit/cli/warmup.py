"""Compile ldtkit's numba kernels into numba's on-disk cache, as the last step of setup.

The kernels are compiled with ``cache=True``: the first process to call them compiles them
(about a minute of CPU for all models) and every later process loads the machine code.
``make setup`` runs this module once so that the first real run does not pay for it. numba
compiles on one core, so the work is shared out among processes: one runs the small Athens
city's traffic (a baseline and a warm-started scenario), one its noise and air maps on made-up
traffic (the argument types of any real run), and, unless ``--jit``, one builds the
ahead-of-time compiled assignment kernels that the ``ldtkit assign`` CLI uses
(:mod:`ldtkit.model.kernels.aot`) when the built module does not match the kernels' source.

``make report`` runs ``--jit`` from the moment numba is installed, beside the rest of the
install and the report: all write the same cache, so the report finds ready what was compiled
first.

Usage::

    python -m ldtkit.cli.warmup           # numba kernels, and the ahead-of-time ones beside them
    python -m ldtkit.cli.warmup --jit     # numba kernels only
    python -m ldtkit.cli.warmup --aot     # ahead-of-time assignment kernels only (when missing or stale)

Examples
--------
>>> from ldtkit.cli.warmup import parse_args
>>> parse_args(["--jit", "--quiet"]).jit
True
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

#: The parts of the warm-up that can run in processes of their own: the traffic kernels (demand,
#: assignment, warm-started scenario assignment), and the map kernels (noise, air) fed with
#: made-up traffic so they need no assignment.
PARTS = ("traffic", "maps")


def warm_kernels(city: str = "athens", *, part: str = "all") -> float:
    """Run ``city`` through the models of ``part`` without the results cache; return the seconds taken.

    ``part``: ``"all"`` (both :data:`PARTS`, one after the other, in this process), or one of :data:`PARTS`.

    Examples
    --------
    >>> warm_kernels(part="noise")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: warm_kernels: part must be 'all' or one of ('traffic', 'maps'), got 'noise'
    """
    if part != "all" and part not in PARTS:
        from ldtkit.errors import InvalidValueError

        raise InvalidValueError(f"warm_kernels: part must be 'all' or one of {PARTS}, got {part!r}")
    t0 = time.perf_counter()
    if part in ("all", "traffic"):
        _warm_traffic(city)
    if part in ("all", "maps"):
        _warm_maps(city)
    return time.perf_counter() - t0


def _warm_traffic(city: str) -> None:
    """The baseline and one scenario of ``city``, traffic only: a warm-started assignment calls kernels of its own."""
    from ldtkit.study.city import load_city
    from ldtkit.study.runner import run
    from ldtkit.study.scenario import load_scenarios

    c = load_city(city)
    run(c, load_scenarios(sorted((c.root / "scenarios").glob("*.toml"))[:1]), cache_dir=None, progress=False, models=("traffic",))


def _warm_maps(city: str) -> None:
    """The noise and air maps of ``city`` for the same traffic on every link and period:
    the argument types of a real run, without waiting for an assignment."""
    import numpy as np

    from ldtkit.model.air import compute_air
    from ldtkit.model.noise import compute_noise, noise_propagation, update_noise
    from ldtkit.model.receptors import Receptors
    from ldtkit.model.traffic import PERIODS, LinkTraffic
    from ldtkit.study.runner import noise_maps, prepare_city

    inputs = prepare_city(city, progress=False)
    links = inputs.network.links
    link_id = links["link_id"].to_numpy(np.int64)
    n = len(link_id)
    traffic = {p: LinkTraffic(link_id, np.full(n, 100.0), np.full(n, 5.0), links["free_speed_kmh"].to_numpy(np.float64)) for p in PERIODS}
    base = noise_maps(inputs, {"warm-up": traffic}, traffic)["warm-up"]
    # a scenario's map updated from the baseline's (screened by the city's buildings; one link busier, as a
    # scenario changes a few roads: the blocks it moves are mapped again), and on a few receptors in the
    # open field: the kernel of incremental maps with an error budget
    factor = np.where(np.arange(n) == 0, 2.0, 1.0)
    busier = {p: LinkTraffic(t.link_id, t.light_vph * factor, t.heavy_vph, t.speed_kmh) for p, t in traffic.items()}
    noise_maps(inputs, {"warm-up-scenario": busier}, traffic, baseline_map=base)
    r = inputs.noise_receptors
    assert r is not None
    few = Receptors(r.x[:50], r.y[:50], r.z[:50], r.population[:50], r.crs)
    prop = noise_propagation(inputs.network, few)
    open_field = compute_noise(inputs.network, traffic, few, propagation=prop, progress=False)
    update_noise(inputs.network, open_field, traffic, busier, propagation=prop, error_budget=True)
    compute_air(inputs.network, traffic, inputs.air_receptors, transfer=inputs.air_transfer, config=inputs.city.config.air)


def aot_is_current() -> bool:
    """Whether the ahead-of-time assignment kernels are built from the kernels' current source."""
    from ldtkit.model.kernels.aot import load_assignment_aot

    return load_assignment_aot() is not None


def build_aot() -> float | None:
    """Build the ahead-of-time compiled assignment kernels; return the seconds taken.

    Returns ``None`` (with a message) when they cannot be built here, e.g. without a C
    compiler: ``ldtkit assign`` then uses the JIT kernels and starts about 0.9 s slower.
    """
    from ldtkit.model.kernels.aot import build_assignment_aot

    t0 = time.perf_counter()
    try:
        build_assignment_aot()
    except Exception as exc:  # an optional speed-up: report and go on
        print(f"ldtkit: ahead-of-time kernels not built ({type(exc).__name__}: {exc}); `ldtkit assign` will use numba JIT")
        return None
    return time.perf_counter() - t0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: ``--jit`` / ``--aot`` (default both), ``--quiet``."""
    p = argparse.ArgumentParser(prog="python -m ldtkit.cli.warmup", description="Compile ldtkit's kernels ahead of the first run.")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--jit", action="store_true", help="only the numba kernels (into numba's cache)")
    which.add_argument("--aot", action="store_true", help="only the ahead-of-time assignment kernels of `ldtkit assign`")
    p.add_argument("--part", choices=("all", *PARTS), default="all", help=argparse.SUPPRESS)  # one process's share
    p.add_argument("--quiet", action="store_true", help="print nothing unless something fails")
    return p.parse_args(argv)


def _aot_main(*, quiet: bool) -> int:
    if aot_is_current():
        if not quiet:
            print("ldtkit: ahead-of-time assignment kernels up to date")
        return 0
    seconds = build_aot()
    if seconds is not None and not quiet:
        print(f"ldtkit: ahead-of-time assignment kernels built in {seconds:.1f} s")
    return 0


def _start(*args: str, quiet: bool) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "ldtkit.cli.warmup", *args, *(["--quiet"] if quiet else [])])


def main(argv: list[str] | None = None) -> int:
    """Warm the numba kernels and/or build the ahead-of-time kernels; exit code 0 (1 if a second process failed)."""
    args = parse_args(argv)
    if args.aot:
        return _aot_main(quiet=args.quiet)
    if args.part != "all":
        seconds = warm_kernels(part=args.part)
        if not args.quiet:
            print(f"ldtkit: {args.part} kernels compiled and cached in {seconds:.1f} s")
        return 0
    # the compilers are single-threaded: the traffic kernels, the map kernels and the
    # ahead-of-time build each get a process
    others = [_start("--part", "traffic", quiet=args.quiet)]
    if not args.jit:
        others.append(_start("--aot", quiet=args.quiet))
    try:
        seconds = warm_kernels(part="maps")
    finally:  # the other processes are waited for, whatever happened here
        failed = sum(p.wait() != 0 for p in others)
    if not args.quiet:
        print(f"ldtkit: map kernels compiled and cached in {seconds:.1f} s")
    return int(failed > 0)


if __name__ == "__main__":
    sys.exit(main())
