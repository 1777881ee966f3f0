"""A scenario's traffic in every period of the day: one assignment per period, each warm-started
from the baseline's equilibrium of that period when given.

The periods are independent problems, so two threads solve them at once (the day in one, the
evening and night in the other): most of an assignment's work (the path updates, the rebuilding
of the warm start's path sets) runs on one core, which leaves the second idle while the periods
are taken in turn (Ghent what-if: the traffic in about the day's time instead of the three
periods'). Each period's result is the same as when solved alone. The periods are taken in turn
when numba's threading layer cannot run parallel kernels from two threads at once (its
``workqueue`` fallback, without OpenMP or TBB).

Examples
--------
>>> assignments, traffic = assign_periods(net, demand, gap=1e-4, max_iter=500, on_disconnected="drop")  # doctest: +SKIP
>>> traffic["night"].total_vph.sum()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from ldtkit.errors import DisconnectedDemandError
from ldtkit.model.traffic import PERIODS, LinkTraffic

if TYPE_CHECKING:  # pragma: no cover
    from ldtkit.model.assignment import AssignmentResult
    from ldtkit.model.demand import Demand
    from ldtkit.model.network import RoadNetwork


def assign_periods(
    network: RoadNetwork,
    demand: Demand,
    *,
    gap: float,
    max_iter: int,
    on_disconnected: str,
    warm_start: Mapping[str, AssignmentResult] | None = None,
    scenario: str = "",
    workers: int | None = None,
) -> tuple[dict[str, AssignmentResult], dict[str, LinkTraffic]]:
    """The equilibrium of ``demand.for_period(p)`` on ``network`` for every period ``p`` of :data:`PERIODS`.

    Parameters
    ----------
    network, demand
        The scenario's network and the city's (daily) demand.
    gap, max_iter, on_disconnected
        As for :func:`~ldtkit.model.assignment.assign`.
    warm_start
        ``{period: AssignmentResult}`` of the baseline: each period starts from its equilibrium and path sets.
    scenario
        Named in the error of a period that leaves OD pairs without a path.
    workers
        Periods solved at once (default: 2, or 1 where numba's parallel kernels are not thread-safe).

    Returns
    -------
    tuple
        ``({period: AssignmentResult}, {period: LinkTraffic})``; the path sets keep their link rows only
        (what warm starts read), not the links by id.
    """
    from ldtkit.model.assignment import assign

    def solve(period: str) -> AssignmentResult:
        warm = warm_start.get(period) if warm_start is not None else None
        try:
            return assign(
                network, demand.for_period(period), gap=gap, max_iter=max_iter, warm_start=warm,
                on_disconnected=on_disconnected, progress=False, path_link_ids=False,
            )  # fmt: skip
        except DisconnectedDemandError as exc:
            raise DisconnectedDemandError(f"scenario {scenario!r}, {period} period: {exc}", pairs=exc.pairs) from exc

    n_workers = workers if workers is not None else (2 if kernels_thread_safe() else 1)
    if n_workers > 1:
        # the longest period first: it runs alone on one thread while the others follow on the second
        with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="ldtkit-period") as pool:
            futures = {p: pool.submit(solve, p) for p in PERIODS}  # loop over the three periods only
            results = {p: f.result() for p, f in futures.items()}
    else:
        results = {p: solve(p) for p in PERIODS}  # loop over the three periods only
    traffic: dict[str, LinkTraffic] = {}
    for period, res in results.items():  # loop over the three periods only
        zeros = np.zeros(len(res.link_id))
        traffic[period] = LinkTraffic(
            link_id=res.link_id,
            light_vph=res.flow_vph.get("light", zeros),
            heavy_vph=res.flow_vph.get("heavy", zeros),
            speed_kmh=res.speed_kmh,
        )
    return results, traffic


def kernels_thread_safe() -> bool:
    """Whether numba's threading layer runs parallel kernels called from several threads at once
    (``omp`` or ``tbb``; its ``workqueue`` fallback aborts the process when two threads do)."""
    from numba.np.ufunc.parallel import _launch_threads, threading_layer

    _launch_threads()  # type: ignore[no-untyped-call]  # numba leaves it unannotated; chooses the layer as the first parallel kernel would
    layer: str = threading_layer()  # type: ignore[no-untyped-call]  # numba leaves it unannotated
    return layer in ("omp", "tbb")
