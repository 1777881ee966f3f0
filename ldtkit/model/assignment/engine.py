"""Which compiled kernels run the assignment, and on how many threads.

Two builds of the same kernels (:mod:`ldtkit.model.kernels.assignment`) exist: the numba JIT
one (parallel shortest paths; imports numba, about 0.9 s, and loads each kernel from numba's
cache at its first call) and the ahead-of-time compiled one of :mod:`ldtkit.model.kernels.aot`
(serial functions that release the GIL, imports in milliseconds; what ``ldtkit assign`` uses,
its trees on several Python threads on large networks). :class:`Engine` holds one of them;
:class:`AssignmentKernels` is their interface; :func:`choose_engine` picks one.

Examples
--------
>>> from ldtkit.model.kernels.aot import load_assignment_aot
>>> module = load_assignment_aot()  # doctest: +SKIP
>>> engine = aot_engine(module) if module is not None else jit_engine()  # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol, cast

from ldtkit.errors import InvalidValueError
from ldtkit.model.assignment.arrays import (
    Bool,
    Contracted,
    Float,
    Graph,
    Int,
    Int32,
    LinkCostParams,
    LinkFlows,
    OdPairs,
    PathPool,
    Scratch,
    Trees,
)

#: Shortest-path work per iteration (nodes x subproblems) from which :func:`choose_engine`
#: runs the trees on several threads: below it, as on Chicago-Sketch (0.36 M), a pass takes
#: milliseconds (Berlin-Center: 11 M; Austin: 20 M).
PARALLEL_MIN_WORK = 2_000_000

# Parallel (prange) kernels are entered by one thread at a time: numba's workqueue threading
# layer aborts on concurrent entry, and the scenario runner calls assign() from dask threads.
PARALLEL_LOCK = threading.Lock()


class AssignmentKernels(Protocol):
    """The kernels the solver calls (see :mod:`ldtkit.model.kernels.assignment` for what each does)."""

    def link_costs(self, flows: LinkFlows, vdf: LinkCostParams, /) -> None: ...
    def beckmann(self, x: Float, vdf: LinkCostParams, /) -> float: ...
    def class_tstt(self, xc: Float, cost: Float, /) -> float: ...
    def contract(self, od: OdPairs, graph: Graph, /) -> tuple[Int, Int32, Int, Int, Int, Int, Bool, Bool]: ...
    def shortest_paths(
        self, subs: Int, od: OdPairs, graph: Graph, con: Contracted, cost: Float, trees: Trees, n_chunks: int, /
    ) -> None: ...
    def set_min_cost(self, subs: Int, sub_ptr: Int, pool: PathPool, cost: Float, out: Float, out_tt: Float, /) -> None: ...
    def aon_load(self, subs: Int, od: OdPairs, graph: Graph, pred: Int32, y: Float, yc: Float, /) -> None: ...
    def line_search(self, x: Float, s: Float, vdf: LinkCostParams, /) -> float: ...
    def bfw_direction(
        self, x: Float, y: Float, s1: Float, s2: Float, der: Float, tau_prev: float, k: int, /
    ) -> tuple[float, float, float]: ...
    def path_update(
        self,
        subs: Int,
        od: OdPairs,
        graph: Graph,
        trees: Trees,
        pool: PathPool,
        flows: LinkFlows,
        vdf: LinkCostParams,
        scratch: Scratch,
        st: int,
        tol: float,
        /,
    ) -> tuple[tuple[Int, Int32, Int, Int32, Float, Int, Int, int, int], int]: ...
    def path_inner(
        self, od: OdPairs, pool: PathPool, flows: LinkFlows, vdf: LinkCostParams, scratch: Scratch, st: int, tol: float, /
    ) -> int: ...
    def export_paths(self, pool: PathPool, /) -> tuple[Int, Int, Int32, Float]: ...
    def hash_paths(self, plinks: Int32, ptr: Int, /) -> Int: ...


@dataclass(frozen=True, slots=True)
class Engine:
    """A build of the kernels and the threads its shortest-path pass uses.

    The JIT kernels run their parallel loops on numba's threads; the ahead-of-time ones, which
    are serial and release the GIL, run on ``n_threads`` Python threads, each on a contiguous
    share of the subproblems (each tree is independent: the results are the same).
    """

    kernels: AssignmentKernels
    n_threads: int
    compiled_ahead: bool = False

    def contract(self, od: OdPairs, graph: Graph) -> Contracted:
        """The contracted graph the tree searches run on (build it once per problem)."""
        return Contracted._make(self.kernels.contract(od, graph))

    def _shares(self, subs: Int) -> list[tuple[int, int]]:
        """Contiguous shares ``(lo, hi)`` of ``subs``, one per thread of the ahead-of-time kernels."""
        n = min(self.n_threads, len(subs)) if self.compiled_ahead else 1
        cuts = [len(subs) * i // n for i in range(n + 1)]
        return list(zip(cuts[:-1], cuts[1:], strict=True))

    def _on_threads(self, shares: list[tuple[int, int]], run: Callable[[int, int], None]) -> None:
        if len(shares) == 1:
            run(*shares[0])
            return
        with ThreadPoolExecutor(max_workers=len(shares) - 1, thread_name_prefix="ldtkit-trees") as pool:
            rest = [pool.submit(run, *share) for share in shares[1:]]
            run(*shares[0])
            for done in rest:
                done.result()  # a share's error is raised here, not left in its thread

    def shortest_paths(self, subs: Int, od: OdPairs, graph: Graph, con: Contracted, cost: Float, trees: Trees) -> None:
        """Trees of subproblems ``subs`` into ``trees`` (one thread at a time enters)."""
        if not len(subs):
            return

        def run(lo: int, hi: int) -> None:
            part = trees._replace(pred=trees.pred[lo:hi])
            self.kernels.shortest_paths(subs[lo:hi], od, graph, con, cost, part, 1 if self.compiled_ahead else self.n_threads)

        with PARALLEL_LOCK:
            self._on_threads(self._shares(subs), run)

    def set_min_cost(self, subs: Int, od: OdPairs, pool: PathPool, cost: Float, trees: Trees, set_tt: Float) -> None:
        """For the OD pairs of subproblems ``subs``: the cheapest cost within the path set into
        ``trees.od_set_min``, the set's travel cost (flow x cost) into ``set_tt``."""
        if not len(subs):
            return

        def run(lo: int, hi: int) -> None:
            self.kernels.set_min_cost(subs[lo:hi], od.sub_ptr, pool, cost, trees.od_set_min, set_tt)

        with PARALLEL_LOCK:
            self._on_threads(self._shares(subs), run)


def jit_engine(n_threads: int | None = None) -> Engine:
    """The numba JIT kernels, on ``n_threads`` (default: numba's thread count)."""
    import numba

    from ldtkit.model.kernels import assignment as jit_kernels

    return Engine(kernels=cast(AssignmentKernels, jit_kernels), n_threads=int(n_threads or numba.get_num_threads()))


def default_threads() -> int:
    """Threads for the kernels: ``NUMBA_NUM_THREADS`` when set (as numba's), else the CPUs this process may use."""
    return max(1, int(os.environ.get("NUMBA_NUM_THREADS") or len(os.sched_getaffinity(0))))


def aot_engine(module: ModuleType, n_threads: int = 1) -> Engine:
    """The ahead-of-time compiled kernels of :func:`ldtkit.model.kernels.aot.load_assignment_aot`,
    their trees on ``n_threads`` Python threads."""
    return Engine(kernels=cast(AssignmentKernels, module), n_threads=n_threads, compiled_ahead=True)


def choose_engine(compiled: ModuleType | None, *, n_nodes: int, n_subproblems: int, kernels: str = "auto") -> Engine:
    """The kernels for a problem of ``n_nodes`` nodes and ``n_subproblems`` shortest-path trees.

    ``kernels="auto"``: the ahead-of-time ``compiled`` module (starts in milliseconds) when it is
    given, else the parallel JIT kernels; ``"aot"``: ``compiled`` (required); ``"jit"``: the JIT
    kernels. The ahead-of-time kernels run the trees on :func:`default_threads` threads when one
    iteration's shortest-path work ``n_nodes * n_subproblems`` reaches :data:`PARALLEL_MIN_WORK`,
    else on one.

    Examples
    --------
    >>> import types
    >>> built = types.ModuleType("built")
    >>> choose_engine(built, n_nodes=933, n_subproblems=387).compiled_ahead  # Chicago-Sketch
    True
    >>> choose_engine(built, n_nodes=933, n_subproblems=387, kernels="jit").compiled_ahead
    False
    >>> e = choose_engine(built, n_nodes=13_603, n_subproblems=1_462)  # Austin
    >>> e.compiled_ahead, e.n_threads == default_threads()
    (True, True)
    >>> choose_engine(None, n_nodes=13_603, n_subproblems=1_462).compiled_ahead  # nothing built
    False
    >>> choose_engine(None, n_nodes=933, n_subproblems=387, kernels="aot")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: choose_engine: kernels='aot' needs the compiled module (build it with `python -m ldtkit.cli.warmup`)
    """
    if kernels not in ("auto", "aot", "jit"):
        raise InvalidValueError(f"choose_engine: kernels must be 'auto', 'aot' or 'jit', got {kernels!r}")
    if kernels == "aot" and compiled is None:
        raise InvalidValueError("choose_engine: kernels='aot' needs the compiled module (build it with `python -m ldtkit.cli.warmup`)")
    if kernels == "jit" or compiled is None:
        return jit_engine()
    return aot_engine(compiled, n_threads=default_threads() if n_nodes * n_subproblems >= PARALLEL_MIN_WORK else 1)
