"""One iteration of the path-based method (origin-based gradient projection on path sets).

The shortest-path trees of the iteration are in ``trees``; :func:`path_iteration` adds each OD
pair's new shortest path to its set and shifts flow from costlier paths to the cheapest
(Newton steps, link costs updated at once), then runs cheap inner passes over the existing
sets. All flow updates are sequential, hence deterministic at any thread count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ldtkit.model.assignment.arrays import LinkFlows, OdPairs, PathPool, Scratch, Trees
from ldtkit.model.assignment.engine import Engine
from ldtkit.model.assignment.problem import AssignmentProblem
from ldtkit.model.assignment.results import StageTimes

#: A new shortest path is added, and flow shifted, only where it saves more than
#: ``TOL_FACTOR x current relative gap`` of the OD pair's cost (ties and negligible
#: improvements would otherwise make whole OD pairs flip between near-equal paths).
TOL_FACTOR = 0.1


@dataclass(frozen=True, slots=True)
class PathMethodState:
    """The path-based method's state between iterations: the path pool and the link-stamp counter."""

    pool: PathPool
    stamp: int = 0


def inner_passes(iteration: int) -> int:
    """Inner re-equilibration passes per iteration: more once the path sets have settled.

    Examples
    --------
    >>> inner_passes(0), inner_passes(5)
    (1, 4)
    """
    return 1 if iteration == 0 else 4


def path_iteration(
    engine: Engine,
    pb: AssignmentProblem,
    od: OdPairs,
    flows: LinkFlows,
    state: PathMethodState,
    trees: Trees,
    scratch: Scratch,
    *,
    batches: list[tuple[int, int]],
    tol: float,
    n_inner: int,
    times: StageTimes,
) -> PathMethodState:
    """Update the path sets and ``flows`` (in place) once; returns the new path-set state.

    ``trees`` holds the trees of the only batch when there is one; with several, each batch's
    trees are recomputed here (costs have moved since they were measured).
    """
    K = engine.kernels
    single = len(batches) == 1
    pool, st = state.pool, state.stamp
    t = time.perf_counter()
    if single:
        engine.set_min_cost(pool, flows.cost_min, trees)
    for lo, hi in batches:
        if not single:
            engine.shortest_paths(lo, hi, od, pb.graph, flows.cost_min, trees)
            engine.set_min_cost(pool, flows.cost_min, trees)
        grown, st = K.path_update(lo, hi, od, pb.graph, trees, pool, flows, pb.cost_params, scratch, st, tol)
        pool = PathPool._make(grown)
    times.update_s += time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(n_inner):
        st = K.path_inner(od, pool, flows, pb.cost_params, scratch, st, tol)
    # refresh costs exactly (incremental updates accumulate rounding)
    K.link_costs(flows, pb.cost_params)
    times.inner_s += time.perf_counter() - t
    return PathMethodState(pool=pool, stamp=st)
