"""Compile ldtkit's numba kernels into numba's on-disk cache, as the last step of setup.

The kernels are compiled with ``cache=True``: the first process to call them compiles them
(about a minute for all models on 2 cores) and every later process loads the machine code.
``make setup`` runs this module once so that the first real run does not pay for it:
it runs the small Athens city through traffic, noise and air, which calls every kernel
with the same argument types as any other city. It then builds the ahead-of-time compiled
assignment kernels that the ``ldtkit assign`` CLI uses (:mod:`ldtkit.model.kernels.aot`).

Usage::

    python -m ldtkit.cli.warmup
"""

from __future__ import annotations

import sys
import time


def warm_kernels(city: str = "athens") -> float:
    """Run ``city`` once through every model without the results cache; return the seconds taken."""
    from ldtkit.study.runner import run

    t0 = time.perf_counter()
    run(city, [], cache_dir=None, progress=False)
    return time.perf_counter() - t0


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


def main() -> int:
    seconds = warm_kernels()
    print(f"ldtkit: numba kernels compiled and cached in {seconds:.1f} s")
    aot = build_aot()
    if aot is not None:
        print(f"ldtkit: ahead-of-time assignment kernels built in {aot:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
