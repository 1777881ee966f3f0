"""A scenario's traffic in every period of the day: one assignment per period, each warm-started
from the baseline's equilibrium of that period when given.

Examples
--------
>>> assignments, traffic = assign_periods(net, demand, gap=1e-4, max_iter=500, on_disconnected="drop")  # doctest: +SKIP
>>> traffic["night"].total_vph.sum()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
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

    Returns
    -------
    tuple
        ``({period: AssignmentResult}, {period: LinkTraffic})``; the path sets keep their link rows only
        (what warm starts read), not the links by id.
    """
    from ldtkit.model.assignment import assign

    results: dict[str, AssignmentResult] = {}
    traffic: dict[str, LinkTraffic] = {}
    for period in PERIODS:  # loop over the three periods only
        warm = warm_start.get(period) if warm_start is not None else None
        try:
            res = assign(
                network, demand.for_period(period), gap=gap, max_iter=max_iter, warm_start=warm,
                on_disconnected=on_disconnected, progress=False, path_link_ids=False,
            )  # fmt: skip
        except DisconnectedDemandError as exc:
            raise DisconnectedDemandError(f"scenario {scenario!r}, {period} period: {exc}", pairs=exc.pairs) from exc
        results[period] = res
        zeros = np.zeros(len(res.link_id))
        traffic[period] = LinkTraffic(
            link_id=res.link_id,
            light_vph=res.flow_vph.get("light", zeros),
            heavy_vph=res.flow_vph.get("heavy", zeros),
            speed_kmh=res.speed_kmh,
        )
    return results, traffic
