"""Compile ldtkit's numba kernels into numba's on-disk cache, as the last step of setup.

The kernels are compiled with ``cache=True``: the first process to call them compiles them
(about a minute for all models on 2 cores) and every later process loads the machine code.
``make setup`` runs this module once so that the first real run does not pay for it:
it runs the small Athens city through traffic, noise and air, which calls every kernel
with the same argument types as any other city. At the same time, in a second process (the
compilers are single-threaded and the machine has two cores or more), it builds the
ahead-of-time compiled assignment kernels that the ``ldtkit assign`` CLI uses
(:mod:`ldtkit.model.kernels.aot`), unless the built module already matches the kernels' source.

``make report`` runs ``--jit`` beside the report: both compile into the same cache, so the
report finds ready what this process compiled first.

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


def warm_kernels(city: str = "athens") -> float:
    """Run ``city`` once through every model without the results cache; return the seconds taken."""
    from ldtkit.study.runner import run

    t0 = time.perf_counter()
    run(city, [], cache_dir=None, progress=False)
    return time.perf_counter() - t0


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


def main(argv: list[str] | None = None) -> int:
    """Warm the numba kernels and/or build the ahead-of-time kernels; exit code 0 (1 if the second process failed)."""
    args = parse_args(argv)
    if args.aot:
        return _aot_main(quiet=args.quiet)
    aot = None
    if not args.jit:  # the ahead-of-time build runs beside the numba warm-up, on the other core
        aot = subprocess.Popen([sys.executable, "-m", "ldtkit.cli.warmup", "--aot", *(["--quiet"] if args.quiet else [])])
    try:
        seconds = warm_kernels()
    finally:  # the second process is waited for, whatever happened here
        aot_failed = aot is not None and aot.wait() != 0
    if not args.quiet:
        print(f"ldtkit: numba kernels compiled and cached in {seconds:.1f} s")
    return int(aot_failed)


if __name__ == "__main__":
    sys.exit(main())
