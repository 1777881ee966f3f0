"""Which compiled kernels run the assignment, and on how many threads.

Two builds of the same kernels (:mod:`ldtkit.model.kernels.assignment`) exist: the numba JIT
one (parallel shortest paths; imports numba, about 0.9 s) and the ahead-of-time compiled one
of :mod:`ldtkit.model.kernels.aot` (serial, imports in milliseconds; what ``ldtkit assign``
uses on small networks). :class:`Engine` holds one of them; :class:`AssignmentKernels` is their
interface; :func:`choose_engine` picks one by the problem size.

Examples
--------
>>> from ldtkit.model.kernels.aot import load_assignment_aot
>>> module = load_assignment_aot()  # doctest: +SKIP
>>> engine = aot_engine(module) if module is not None else jit_engine()  # doctest: +SKIP
"""

from __future__ import annotations

import threading
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

#: Shortest-path work per iteration (nodes x subproblems) from which the parallel JIT kernels
#: beat the serial AOT ones in a whole process: below it numba's start-up (about 1 s) costs more
#: than a second core saves (Chicago-Sketch: 0.36 M; Berlin-Center: 11 M; Austin: 20 M).
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
    """A build of the kernels and the threads its shortest-path pass uses."""

    kernels: AssignmentKernels
    n_threads: int
    compiled_ahead: bool = False

    def contract(self, od: OdPairs, graph: Graph) -> Contracted:
        """The contracted graph the tree searches run on (build it once per problem)."""
        return Contracted._make(self.kernels.contract(od, graph))

    def shortest_paths(self, subs: Int, od: OdPairs, graph: Graph, con: Contracted, cost: Float, trees: Trees) -> None:
        """Trees of subproblems ``subs`` into ``trees`` (one thread at a time enters)."""
        if len(subs):
            with PARALLEL_LOCK:
                self.kernels.shortest_paths(subs, od, graph, con, cost, trees, self.n_threads)

    def set_min_cost(self, subs: Int, od: OdPairs, pool: PathPool, cost: Float, trees: Trees, set_tt: Float) -> None:
        """For the OD pairs of subproblems ``subs``: the cheapest cost within the path set into
        ``trees.od_set_min``, the set's travel cost (flow x cost) into ``set_tt``."""
        if len(subs):
            with PARALLEL_LOCK:
                self.kernels.set_min_cost(subs, od.sub_ptr, pool, cost, trees.od_set_min, set_tt)


def jit_engine(n_threads: int | None = None) -> Engine:
    """The numba JIT kernels, on ``n_threads`` (default: numba's thread count)."""
    import numba

    from ldtkit.model.kernels import assignment as jit_kernels

    return Engine(kernels=cast(AssignmentKernels, jit_kernels), n_threads=int(n_threads or numba.get_num_threads()))


def aot_engine(module: ModuleType) -> Engine:
    """The ahead-of-time compiled kernels of :func:`ldtkit.model.kernels.aot.load_assignment_aot` (serial)."""
    return Engine(kernels=cast(AssignmentKernels, module), n_threads=1, compiled_ahead=True)


def choose_engine(compiled: ModuleType | None, *, n_nodes: int, n_subproblems: int, kernels: str = "auto") -> Engine:
    """The kernels for a problem of ``n_nodes`` nodes and ``n_subproblems`` shortest-path trees.

    ``kernels="auto"``: the ahead-of-time ``compiled`` module (serial, starts in milliseconds)
    when it is given and one iteration's shortest-path work ``n_nodes * n_subproblems`` is below
    :data:`PARALLEL_MIN_WORK`, else the parallel JIT kernels; ``"aot"``: ``compiled`` (required);
    ``"jit"``: the JIT kernels.

    Examples
    --------
    >>> import types
    >>> built = types.ModuleType("built")
    >>> choose_engine(built, n_nodes=933, n_subproblems=387).compiled_ahead  # Chicago-Sketch
    True
    >>> choose_engine(built, n_nodes=933, n_subproblems=387, kernels="jit").compiled_ahead
    False
    >>> choose_engine(built, n_nodes=13_603, n_subproblems=1_462).compiled_ahead  # Austin
    False
    >>> choose_engine(None, n_nodes=933, n_subproblems=387, kernels="aot")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: choose_engine: kernels='aot' needs the compiled module (build it with `python -m ldtkit.cli.warmup`)
    """
    if kernels not in ("auto", "aot", "jit"):
        raise InvalidValueError(f"choose_engine: kernels must be 'auto', 'aot' or 'jit', got {kernels!r}")
    if kernels == "aot":
        if compiled is None:
            raise InvalidValueError("choose_engine: kernels='aot' needs the compiled module (build it with `python -m ldtkit.cli.warmup`)")
        return aot_engine(compiled)
    if kernels == "auto" and compiled is not None and n_nodes * n_subproblems < PARALLEL_MIN_WORK:
        return aot_engine(compiled)
    return jit_engine()
