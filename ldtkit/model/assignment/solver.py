"""The equilibrium loop: measure the gap at the current costs, stop or update, repeat.

Each iteration
1. computes shortest-path trees of every subproblem at the current link costs (and, for the
   link-based methods, loads the demand all-or-nothing onto them);
2. on the first iteration only, checks that every OD pair with demand has a path
   (``on_disconnected``);
3. measures the relative gap ``(TSTT - SPTT) / TSTT`` and stops when it is below the target
   or the iteration cap is reached;
4. updates the flows: :func:`~ldtkit.model.assignment.path_based.path_iteration` or
   :func:`~ldtkit.model.assignment.link_based.link_based_iteration`.

From a cold start, the path method loads the demand by a sweep
(:func:`~ldtkit.model.assignment.path_based.path_sweep`) and goes on sweeping, the trees of a
sweep serving both to estimate the gap and to grow the path sets; it measures the gap as above
when the estimate predicts the target or the iteration cap is reached, and stops only on a
measured gap. From a warm start it measures the gap on every iteration.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ldtkit.errors import DisconnectedDemandError, InvalidValueError
from ldtkit.model.assignment.arrays import Bool, Contracted, Float, Int, LinkFlows, OdPairs, PathPool, Scratch, Trees
from ldtkit.model.assignment.engine import Engine, jit_engine
from ldtkit.model.assignment.link_based import Directions, Target, link_based_iteration
from ldtkit.model.assignment.path_based import (
    SKIP_MIN_WORK,
    SKIP_SHARE,
    TOL_FACTOR,
    PathMethodState,
    Sweep,
    inner_passes,
    path_iteration,
    path_sweep,
    split_batches,
    sweep_subproblems,
)
from ldtkit.model.assignment.problem import AssignmentProblem
from ldtkit.model.assignment.results import Solution, StageTimes
from ldtkit.model.assignment.warm_start import WarmStart, paths_from_pool, pool_from_paths

METHODS = ("path", "bfw", "fw")

#: Memory budget (bytes) for the shortest-path trees held at once; more origins are batched.
TREE_MEMORY_BYTES = 256 * 1024 * 1024

#: Subproblems per batch of a sweep of the path method, at most: the trees of a batch are
#: computed in parallel at the same costs, and the batches in turn at the costs the batch before
#: left. Smaller batches follow the costs more closely; larger ones keep every core busy.
SWEEP_BATCH = 64
#: Batches per sweep, at least (smaller batches on networks with few origins).
SWEEP_MIN_BATCHES = 22


def sweep_batch_size(n_subproblems: int) -> int:
    """Subproblems per batch of a sweep: :data:`SWEEP_BATCH`, or fewer so that a sweep has at
    least :data:`SWEEP_MIN_BATCHES` batches. It does not depend on the thread count.

    Examples
    --------
    >>> sweep_batch_size(1462), sweep_batch_size(387), sweep_batch_size(24)  # Austin, Chicago-Sketch, SiouxFalls
    (64, 18, 2)
    """
    return max(1, min(SWEEP_BATCH, -(-n_subproblems // SWEEP_MIN_BATCHES)))


@dataclass(frozen=True, slots=True)
class SolverOptions:
    """How to solve: ``method`` (one of :data:`METHODS`), target relative ``gap``, iteration cap
    and what to do with OD pairs without a path (``"raise"`` or ``"drop"``).

    ``inner``: inner re-equilibration passes per iteration of the path method (``None``:
    automatic); ``keep_paths``: export the path sets (warm starts); ``tree_memory_bytes``:
    budget for the shortest-path trees held at once (more origins are batched);
    ``skip_share``: share of the excess cost whose origins a sweep may leave out
    (:func:`~ldtkit.model.assignment.path_based.sweep_subproblems`; ``None``: automatic,
    :data:`~ldtkit.model.assignment.path_based.SKIP_SHARE` on networks where the trees
    dominate, 0 elsewhere).
    """

    method: str = "path"
    gap: float = 1e-5
    max_iter: int = 500
    on_disconnected: str = "raise"
    inner: int | None = None
    progress: bool = False
    keep_paths: bool = True
    tree_memory_bytes: int = TREE_MEMORY_BYTES
    skip_share: float | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidValueError(f"SolverOptions: unknown method {self.method!r}; expected one of {METHODS}")
        if self.on_disconnected not in ("raise", "drop"):
            raise InvalidValueError(f"SolverOptions: on_disconnected must be 'raise' or 'drop', got {self.on_disconnected!r}")
        if not self.gap > 0:
            raise InvalidValueError(f"SolverOptions: gap must be > 0, got {self.gap}")
        if self.skip_share is not None and not 0 <= self.skip_share < 1:
            raise InvalidValueError(f"SolverOptions: skip_share must be in [0, 1), got {self.skip_share}")


def tree_batches(pb: AssignmentProblem, tree_memory_bytes: int = TREE_MEMORY_BYTES) -> list[tuple[int, int]]:
    """Subproblem ranges ``(lo, hi)`` whose trees (4 bytes per node each) fit the memory budget.

    Examples
    --------
    >>> import numpy as np
    >>> from ldtkit.model.assignment import build_problem
    >>> pb = build_problem(
    ...     node_ids=np.arange(4), from_node=np.array([0, 1]), to_node=np.array([1, 2]), free_flow_time_min=np.ones(2),
    ...     capacity_vph=np.ones(2), b=np.ones(2), power=np.ones(2), fixed_cost_min=np.zeros(2), allowed=np.ones((1, 2), bool),
    ...     no_through_nodes=[], zone_ids=np.arange(3), trips={"light": np.ones((3, 3))}, pcu={"light": 1.0},
    ... )
    >>> tree_batches(pb), tree_batches(pb, tree_memory_bytes=32)
    ([(0, 3)], [(0, 2), (2, 3)])
    """
    ns = len(pb.od.sub_orig)
    per = max(1, int(tree_memory_bytes // max(1, 4 * pb.n_nodes)))
    return [(lo, min(ns, lo + per)) for lo in range(0, ns, per)] or [(0, 0)]


def _unassigned_pairs(pb: AssignmentProblem, bad: Bool, od_trips_vph: Float, on_disconnected: str) -> dict[str, npt.NDArray[Any]] | None:
    """``None`` when every OD pair is connected, else the pairs' columns (or raise). Columns of
    arrays, not a DataFrame: ``ldtkit assign`` on a network with such pairs does without pandas."""
    if not bad.any():
        return None
    pairs = {
        "origin": pb.node_ids[pb.od_orig[bad]],
        "destination": pb.node_ids[pb.od.od_dest[bad]],
        "class": np.array(pb.classes, dtype=object)[pb.od.od_cls[bad]],
        "trips": od_trips_vph[bad],
    }
    top = np.argsort(-pairs["trips"], kind="stable")[:5]  # the largest first: what matters
    msg = f"{len(pairs['trips'])} OD pairs with demand ({pairs['trips'].sum():.3g} trips) have no path; the largest: "
    msg += ", ".join(f"{pairs['origin'][i]}->{pairs['destination'][i]} ({pairs['class'][i]}, {pairs['trips'][i]:.3g} trips)" for i in top)
    if on_disconnected == "raise":
        import pandas as pd

        raise DisconnectedDemandError(msg + "; pass on_disconnected='drop' to assign the rest", pairs=pd.DataFrame(pairs))
    warnings.warn(msg + "; dropped (see result.unassigned)", stacklevel=4)  # the caller of assign()
    return pairs


def _measure(
    engine: Engine, pb: AssignmentProblem, od: OdPairs, con: Contracted, cost: Float, trees: Trees, batches: list[Int], method: str
) -> Target | None:
    """Shortest paths at ``cost`` into ``trees`` (the last batch's trees stay); for the link-based
    methods also the all-or-nothing loading onto them."""
    if method == "path":
        for subs in batches:
            engine.shortest_paths(subs, od, pb.graph, con, cost, trees)
        return None
    target = Target.zeros(pb.n_links, len(pb.classes))
    for subs in batches:
        engine.shortest_paths(subs, od, pb.graph, con, cost, trees)
        engine.kernels.aon_load(subs, od, pb.graph, trees.pred, target.flow_pcu, target.flow_vph)
    return target


def relative_gap(engine: Engine, flows: LinkFlows, od: OdPairs, trees: Trees) -> float:
    """``(TSTT - SPTT) / TSTT`` at the current flows and the trees' shortest costs (0 without travel)."""
    tstt = engine.kernels.class_tstt(flows.flow_vph, flows.cost_min)
    sptt = float(np.dot(od.od_trips_vph, np.where(np.isfinite(trees.od_sp_min), trees.od_sp_min, 0.0)))
    return (tstt - sptt) / tstt if tstt > 0 else 0.0


def _start(engine: Engine, pb: AssignmentProblem, warm: WarmStart | None, method: str) -> tuple[LinkFlows, PathPool | None]:
    """Initial flows (costs filled) and, for a path-based warm start, the path pool."""
    flows = LinkFlows.zeros(pb.n_links, len(pb.classes))
    engine.kernels.link_costs(flows, pb.cost_params)
    if warm is None:
        return flows, None
    pool = None
    if method == "path" and warm.paths is not None:
        pool, xc = pool_from_paths(pb, warm.paths, engine)
    else:
        xc = np.ascontiguousarray(warm.flow_vph, dtype=np.float64).copy()
    flows = flows._replace(flow_pcu=(pb.od.pcu[:, None] * xc).sum(axis=0), flow_vph=xc)
    engine.kernels.link_costs(flows, pb.cost_params)
    return flows, pool


def solve(pb: AssignmentProblem, options: SolverOptions, *, warm: WarmStart | None = None, engine: Engine | None = None) -> Solution:
    """Solve ``pb`` to user equilibrium.

    Parameters
    ----------
    pb
        The problem arrays (:func:`~ldtkit.model.assignment.problem.build_problem`).
    options
        Method, target gap, iteration cap, disconnected-pair rule, ...
    warm
        Start from these flows (and path sets, for ``method="path"``).
    engine
        The kernels to run: default the numba JIT ones on numba's threads
        (:func:`~ldtkit.model.assignment.engine.jit_engine`).

    Raises
    ------
    DisconnectedDemandError
        An OD pair with demand has no path and ``options.on_disconnected == "raise"``.
    """
    t_start = time.perf_counter()
    engine = engine if engine is not None else jit_engine()
    K = engine.kernels
    method = options.method
    ranges = tree_batches(pb, options.tree_memory_bytes)
    batches = [np.arange(lo, hi) for lo, hi in ranges]
    tree_slots = max(hi - lo for lo, hi in ranges)
    trees = Trees.allocate(tree_slots, pb.n_nodes, pb.n_od)
    con = engine.contract(pb.od, pb.graph)
    skip_share = options.skip_share
    if skip_share is None:  # where a pass of trees is cheap, leaving origins out saves less than it slows
        skip_share = SKIP_SHARE if pb.n_nodes * len(pb.od.sub_orig) >= SKIP_MIN_WORK else 0.0
    set_tt = np.zeros(pb.n_od)
    od = pb.od._replace(od_trips_vph=pb.od.od_trips_vph.copy())  # dropped pairs are zeroed in this copy
    flows, warm_pool = _start(engine, pb, warm, method)
    # a warm start that left OD pairs without paths loads them before the first measurement
    incomplete = warm_pool is not None and bool(((warm_pool.od_head < 0) & (od.od_trips_vph > 0)).any())
    path_state = PathMethodState.start(warm_pool if warm_pool is not None else PathPool.empty(pb.n_od), len(pb.od.sub_orig))
    scratch = Scratch.allocate(pb.n_links, pb.n_nodes)
    directions = Directions()
    times = StageTimes(setup_s=time.perf_counter() - t_start)
    history: list[float] = []
    unassigned = None
    bar = None
    if options.progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=options.max_iter, desc=f"assign ({method})", leave=False)
    it = 0
    converged = False
    # a cold start of the path method loads the demand by a sweep; after that, sweeps until
    # the gap they estimate (of the flows they start from) predicts the target, then a
    # measurement. A warm start measures the gap on every iteration.
    exact = method != "path" or warm is not None or not (od.od_trips_vph > 0).any()
    unreached = np.zeros(pb.n_od, dtype=bool)
    while True:
        if not exact:  # path method: one sweep, the gap estimated from its own trees
            subs = sweep_subproblems(path_state, skip_share)
            sweep = Sweep(
                batches=split_batches(subs, min(tree_slots, sweep_batch_size(len(subs)))),
                tol=TOL_FACTOR * history[-1] if history else 0.0,
                n_inner=options.inner if options.inner is not None else inner_passes(it),
            )
            path_state, estimate = path_sweep(
                engine, pb, od, con, flows, path_state, trees, scratch, set_tt, unreached, sweep=sweep, times=times
            )
            if it == 0:  # the loading sweep: no gap yet; the pairs without a path are known
                unassigned = _unassigned_pairs(pb, unreached, od.od_trips_vph, options.on_disconnected)
                od.od_trips_vph[unreached] = 0.0
                path_state.sub_excess[:] = np.inf  # the sets were empty: the next sweep computes every tree
                it += 1
                exact = it >= options.max_iter
                continue
            # the estimate is that of the flows the sweep started from: measure when the
            # sweep's own flows, at the rate the gap fell, should be at the target
            predicted = estimate * min(1.0, estimate / history[-1]) if history and history[-1] > 0 else estimate
            history.append(estimate)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(gap=f"{estimate:.2e}")
            it += 1
            exact = predicted <= options.gap or it >= options.max_iter
            continue
        t = time.perf_counter()
        target = _measure(engine, pb, od, con, flows.cost_min, trees, batches, method)
        times.shortest_paths_s += time.perf_counter() - t
        if it == 0:
            bad = ~np.isfinite(trees.od_sp_min) & (od.od_trips_vph > 0)
            unassigned = _unassigned_pairs(pb, bad, od.od_trips_vph, options.on_disconnected)
            if bad.any():
                od.od_trips_vph[bad] = 0.0
                if method != "path":  # reload without the dropped pairs
                    target = _measure(engine, pb, od, con, flows.cost_min, trees, batches, method)
        if incomplete:
            incomplete = False
        elif flows.flow_pcu.any():
            rg = relative_gap(engine, flows, od, trees)
            history.append(rg)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(gap=f"{rg:.2e}")
            if rg <= options.gap:
                converged = True
                break
            if it >= options.max_iter:
                break
        elif len(od.od_trips_vph) == 0 or not (od.od_trips_vph > 0).any():
            history.append(0.0)
            converged = True
            break
        if target is None:
            path_state = path_iteration(
                engine, pb, od, flows, path_state, trees, scratch, set_tt,
                con=con, batches=batches,
                tol=TOL_FACTOR * history[-1] if history else 0.0,  # OD pairs within tol of their shortest path wait
                n_inner=options.inner if options.inner is not None else inner_passes(it),
                times=times,
            )  # fmt: skip
            # sweeps follow, on a cold start: a warm start is near its equilibrium, where a
            # sweep saves no pass and its estimate would lag a measurement by one
            exact = warm is not None
        else:
            t = time.perf_counter()
            flows, directions = link_based_iteration(K, pb.cost_params, flows, target, directions, method=method)
            times.update_s += time.perf_counter() - t
        it += 1
    if bar is not None:
        bar.close()
    return Solution(
        flow_pcu=flows.flow_pcu,
        flow_vph=flows.flow_vph,
        cost_min=flows.cost_min,
        time_min=flows.cost_min - pb.cost_params.fixed_cost_min,
        gap_history=np.array(history, dtype=np.float64),
        objective=float(K.beckmann(flows.flow_pcu, pb.cost_params)),
        iterations=it,
        converged=converged,
        unassigned=unassigned,
        wall_time_s=time.perf_counter() - t_start,
        times=times,
        threads=engine.n_threads,
        paths=paths_from_pool(pb, path_state.pool, engine) if method == "path" and options.keep_paths else None,
    )
