"""One iteration of the path-based method (origin-based gradient projection on path sets).

An iteration adds each OD pair's new shortest path to its set and shifts flow from costlier
paths to the cheapest (Newton steps, link costs updated at once), then runs cheap inner passes
over the existing sets. Both forms run the same loop over batches of origins
(:func:`path_sweep`, configured by a :class:`Sweep`):

- :func:`path_iteration` follows a measurement of the gap: with one batch it uses the trees
  that measured it (every origin at the same link costs);
- a sweep takes the origins batch by batch, each batch's trees computed at the costs left by
  the batches before it, so every new path is shortest at the costs it is added to. On
  Austin this reaches a gap of 1e-4 in 5 iterations instead of 8. The gap it returns is
  estimated from those trees (each batch's set costs against its shortest paths, at the
  batch's costs); the solver measures the gap exactly before it stops.

After the first sweep, a sweep leaves out the origins whose path sets were closest to their
shortest paths when their trees were last computed (:func:`sweep_subproblems`): together
they hold at most :data:`SKIP_SHARE` of the estimated excess cost, and on Austin they are most
origins (their share stays small from one sweep to the next). Their path sets are still
re-equilibrated by the inner passes; a measurement computes every tree.

All flow updates are sequential and the batches do not depend on the thread count, hence
the results are deterministic at any thread count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from ldtkit.model.assignment.arrays import Bool, Contracted, Float, Int, LinkFlows, OdPairs, PathPool, Scratch, Trees
from ldtkit.model.assignment.engine import Engine
from ldtkit.model.assignment.problem import AssignmentProblem
from ldtkit.model.assignment.results import StageTimes

#: A new shortest path is added, and flow shifted, only where it saves more than
#: ``TOL_FACTOR x current relative gap`` of the OD pair's cost (ties and negligible
#: improvements would otherwise make whole OD pairs flip between near-equal paths).
TOL_FACTOR = 0.01

#: A sweep leaves out the origins that, by their excess cost when their trees were last
#: computed, hold at most this share of the total (an origin left out counts twice as
#: much the next time, so none waits long).
SKIP_SHARE = 0.05
#: Shortest-path work of a pass (nodes x subproblems) from which the solver leaves origins out
#: by default: on Chicago-Sketch (0.36 M) and a Ghent period (2.1 M) a pass of trees costs
#: about what the path updates do, and leaving origins out saves little; on Berlin-Center
#: (11 M) and Austin (20 M) the trees dominate.
SKIP_MIN_WORK = 5_000_000


@dataclass(frozen=True, slots=True)
class PathMethodState:
    """The path-based method's state between iterations: the path pool, the link-stamp counter
    and, per subproblem, its excess cost (path-set travel cost minus shortest-path travel cost)
    and path-set travel cost when its tree was last computed (``inf`` and 0: not yet), and
    how many sweeps in a row left it out."""

    pool: PathPool
    sub_excess: Float
    sub_tt: Float
    sub_waits: Int
    stamp: int = 0

    @classmethod
    def start(cls, pool: PathPool, n_subproblems: int) -> PathMethodState:
        return cls(
            pool=pool,
            sub_excess=np.full(n_subproblems, np.inf),
            sub_tt=np.zeros(n_subproblems),
            sub_waits=np.zeros(n_subproblems, np.int64),
        )


def sweep_subproblems(state: PathMethodState, share: float = SKIP_SHARE) -> Int:
    """The subproblems a sweep computes trees for, in order: all but those of smallest
    excess (each weighted by 2 ** sweeps it waited) that together hold at most ``share`` of
    the total; all while any excess is unknown or when ``share`` is 0. Counts the waits of
    those left out.

    Examples
    --------
    >>> from ldtkit.model.assignment.arrays import PathPool
    >>> st = PathMethodState.start(PathPool.empty(4), 4)
    >>> sweep_subproblems(st).tolist()  # nothing known yet
    [0, 1, 2, 3]
    >>> st.sub_excess[:] = [60.0, 1.0, 3.0, 36.0]
    >>> sweep_subproblems(st).tolist(), st.sub_waits.tolist()  # 1 and 3 of 100 left out
    ([0, 3], [0, 1, 1, 0])
    >>> sweep_subproblems(st).tolist(), st.sub_waits.tolist()  # having waited, they count 2 and 6
    ([0, 2, 3], [0, 2, 0, 0])
    """
    weight = np.maximum(state.sub_excess, 0.0) * np.exp2(state.sub_waits)
    order = np.argsort(weight, kind="stable")
    cum = np.cumsum(weight[order])
    if share <= 0.0 or len(cum) == 0 or not np.isfinite(cum[-1]) or cum[-1] <= 0.0:
        state.sub_waits[:] = 0
        return np.arange(len(weight))
    n_skip = int(np.searchsorted(cum, share * cum[-1], side="right"))
    state.sub_waits[order[n_skip:]] = 0
    state.sub_waits[order[:n_skip]] += 1
    return np.sort(order[n_skip:])


def split_batches(subs: Int, size: int) -> list[Int]:
    """``subs`` in consecutive batches of at most ``size``.

    Examples
    --------
    >>> [b.tolist() for b in split_batches(np.array([0, 2, 3, 7, 9]), 2)]
    [[0, 2], [3, 7], [9]]
    """
    return [subs[i : i + size] for i in range(0, len(subs), max(1, size))]


def _od_pairs_of(subs: Int, sub_ptr: Int) -> tuple[Int, Int]:
    """The OD pairs of subproblems ``subs``, in order, and for each the position of its subproblem in ``subs``."""
    lens = sub_ptr[subs + 1] - sub_ptr[subs]
    which = np.repeat(np.arange(len(subs)), lens)
    starts = np.cumsum(lens) - lens
    return sub_ptr[subs][which] + np.arange(int(lens.sum())) - starts[which], which


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
    set_tt: Float,
    *,
    con: Contracted,
    batches: list[Int],
    tol: float,
    n_inner: int,
    times: StageTimes,
) -> PathMethodState:
    """Update the path sets and ``flows`` (in place) once after a measurement; returns the new state.

    ``trees`` holds the trees of the only batch when there is one (those that measured the
    gap, at the current costs); with several, each batch's trees are recomputed at the costs
    the batches before it left (the costs have moved since they were measured). ``set_tt`` is
    scratch of one float per OD pair.
    """
    sweep = Sweep(batches=batches, tol=tol, n_inner=n_inner, first_ready=len(batches) == 1)
    new, _ = path_sweep(engine, pb, od, con, flows, state, trees, scratch, set_tt, np.zeros(len(set_tt), bool), sweep=sweep, times=times)
    return new


def _inner(
    engine: Engine, od: OdPairs, flows: LinkFlows, state: PathMethodState, scratch: Scratch, pb: AssignmentProblem, *,
    tol: float, n_inner: int, times: StageTimes,
) -> PathMethodState:  # fmt: skip
    """``n_inner`` re-equilibration passes over the path sets, then the link costs recomputed."""
    t = time.perf_counter()
    st = state.stamp
    for _ in range(n_inner):
        st = engine.kernels.path_inner(od, state.pool, flows, pb.cost_params, scratch, st, tol)
    # refresh costs exactly (incremental updates accumulate rounding)
    engine.kernels.link_costs(flows, pb.cost_params)
    times.inner_s += time.perf_counter() - t
    return replace(state, stamp=st)


@dataclass(frozen=True, slots=True)
class Sweep:
    """How a pass over the origins runs: ``batches``, the subproblems taken in turn, each
    batch's trees at the costs the batches before it left; ``tol``, the relative saving under
    which a new path waits (:data:`TOL_FACTOR` x the gap); ``n_inner``, re-equilibration passes
    at the end; ``first_ready``: the trees of the first batch are given (those that measured
    the gap, at the current costs)."""

    batches: list[Int]
    tol: float
    n_inner: int
    first_ready: bool = False


def path_sweep(
    engine: Engine,
    pb: AssignmentProblem,
    od: OdPairs,
    con: Contracted,
    flows: LinkFlows,
    state: PathMethodState,
    trees: Trees,
    scratch: Scratch,
    set_tt: Float,
    unreached: Bool,
    *,
    sweep: Sweep,
    times: StageTimes,
) -> tuple[PathMethodState, float]:
    """Update the path sets and ``flows`` (in place) batch by batch; returns the new state and
    the relative gap estimated during the sweep.

    The estimate is ``sum(set travel cost - shortest-path travel cost) / sum(set travel cost)``
    over the subproblems, each term at the costs its batch's trees were computed with (for the
    subproblems the sweep leaves out, the terms of the last time their trees were computed).
    ``set_tt`` is scratch of one float per OD pair; ``unreached`` gets, per OD pair, whether it
    has trips and no path. A sweep from empty path sets loads the demand incrementally (each
    batch on its shortest paths at the costs the batches before it left). ``con`` is the
    graph the trees are searched on (:meth:`Engine.contract`).
    """
    K = engine.kernels
    pool, st = state.pool, state.stamp
    for i, subs in enumerate(sweep.batches):
        t = time.perf_counter()
        if not (i == 0 and sweep.first_ready):
            engine.shortest_paths(subs, od, pb.graph, con, flows.cost_min, trees)
        t1 = time.perf_counter()
        times.shortest_paths_s += t1 - t
        engine.set_min_cost(subs, od, pool, flows.cost_min, trees, set_tt)
        ks, which = _od_pairs_of(subs, od.sub_ptr)
        sp = trees.od_sp_min[ks]
        unreached[ks] = ~np.isfinite(sp) & (od.od_trips_vph[ks] > 0)
        tt = set_tt[ks]
        ex = tt - od.od_trips_vph[ks] * np.where(np.isfinite(sp), sp, 0.0)
        state.sub_tt[subs] = np.bincount(which, weights=tt, minlength=len(subs))
        state.sub_excess[subs] = np.bincount(which, weights=ex, minlength=len(subs))
        grown, st = K.path_update(subs, od, pb.graph, trees, pool, flows, pb.cost_params, scratch, st, sweep.tol)
        pool = PathPool._make(grown)
        times.update_s += time.perf_counter() - t1
    new = _inner(engine, od, flows, replace(state, pool=pool, stamp=st), scratch, pb, tol=sweep.tol, n_inner=sweep.n_inner, times=times)
    total = float(state.sub_tt.sum())
    excess = float(state.sub_excess.sum())
    return new, (max(excess, 0.0) / total if total > 0 else 0.0)
