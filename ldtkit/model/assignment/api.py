"""``assign``: static user-equilibrium assignment of a :class:`~ldtkit.model.demand.Demand` on a
:class:`~ldtkit.model.network.RoadNetwork` (see :mod:`ldtkit.model.assignment` for the rules)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ldtkit.errors import InvalidValueError
from ldtkit.model.assignment.problem import problem_from_network
from ldtkit.model.assignment.results import AssignmentResult, empty_unassigned
from ldtkit.model.assignment.solver import METHODS, SolverOptions, solve
from ldtkit.model.assignment.warm_start import warm_start_from

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ldtkit.model.demand import Demand
    from ldtkit.model.network import RoadNetwork


def assign(
    network: RoadNetwork,
    demand: Demand,
    *,
    vdf: str = "bpr",
    gap: float = 1e-5,
    max_iter: int = 500,
    method: str = "path",
    warm_start: AssignmentResult | None = None,
    on_disconnected: str = "raise",
    fixed_cost_min: npt.ArrayLike | None = None,
    progress: bool = True,
    inner: int | None = None,
    path_link_ids: bool = True,
) -> AssignmentResult:
    """Static user-equilibrium assignment of ``demand`` on ``network``.

    Parameters
    ----------
    network
        The road network; links need ``free_flow_time_min``, ``capacity_vph``, ``b``,
        ``power`` and the class permission columns. A ``cost_fixed_min`` column, if present,
        is added to every link's cost (generalized cost, e.g. tolls and distance).
    demand
        OD matrices per class (vehicles/h) between ``demand.zone_ids`` (network node ids),
        with PCU factors ``demand.pcu``.
    vdf
        Volume-delay function; only ``"bpr"`` (per-link ``b`` and ``power``).
    gap
        Target relative gap ``(TSTT - SPTT) / TSTT``.
    max_iter
        Iteration cap (one iteration = shortest paths for every origin + flow update).
    method
        ``"path"`` (origin-based gradient projection, default), ``"bfw"`` (bi-conjugate
        Frank–Wolfe) or ``"fw"``.
    warm_start
        An earlier result on the same (or a scenario of the same) network: path sets and
        flows are reused (links matched by ``link_id``; paths over links now barred are
        dropped; flows are rescaled to the new demand).
    on_disconnected
        ``"raise"`` (default): raise :class:`~ldtkit.errors.DisconnectedDemandError` if an OD
        pair with demand has no path; ``"drop"``: warn, list them in ``result.unassigned``
        and assign the rest.
    fixed_cost_min
        Per-link fixed cost in minutes, overriding the ``cost_fixed_min`` column.
    progress
        Show a tqdm progress bar.
    inner
        Inner re-equilibration passes per iteration for ``method="path"`` (``None``: automatic).
    path_link_ids
        Fill ``path_state.link_id`` (every path's links by id). Warm starts and select-link read the
        link rows only: ``False`` spares the copy (Ghent: 55 MB and a tenth of a second per period).

    Returns
    -------
    AssignmentResult

    Examples
    --------
    >>> from ldtkit.model.network import network_from_tntp
    >>> from ldtkit.model.loaders.tntp import demand_from_tntp
    >>> net = network_from_tntp("TransportationNetworks/SiouxFalls")  # doctest: +SKIP
    >>> res = assign(net, demand_from_tntp("TransportationNetworks/SiouxFalls"), gap=1e-8)  # doctest: +SKIP
    >>> round(res.objective, 4)  # doctest: +SKIP
    42.3134
    """
    if vdf.lower() != "bpr":
        raise InvalidValueError(f"assign: unknown vdf {vdf!r}; expected 'bpr'")
    if method not in METHODS:
        raise InvalidValueError(f"assign: unknown method {method!r}; expected one of {METHODS}")
    if on_disconnected not in ("raise", "drop"):
        raise InvalidValueError(f"assign: on_disconnected must be 'raise' or 'drop', got {on_disconnected!r}")
    if not gap > 0:
        raise InvalidValueError(f"assign: gap must be > 0, got {gap}")
    pb = problem_from_network(network, demand, fixed_cost_min=fixed_cost_min)
    links = network.links
    link_id = links["link_id"].to_numpy(np.int64)
    warm = warm_start_from(warm_start, link_id, pb.classes) if warm_start is not None else None
    options = SolverOptions(method=method, gap=gap, max_iter=max_iter, on_disconnected=on_disconnected, inner=inner, progress=progress)
    sol = solve(pb, options, warm=warm)
    t = sol.time_min
    length_km = links["length_m"].to_numpy(np.float64) / 1000.0
    free = links["free_speed_kmh"].to_numpy(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(t > 0, length_km / (t / 60.0), free)
    speed = np.where(np.isfinite(speed), speed, 0.0)
    paths = sol.paths
    if paths is not None and path_link_ids:
        paths = paths.with_link_ids(link_id)
    return AssignmentResult(
        link_id=link_id,
        flow_vph={c: sol.flow_vph[i] for i, c in enumerate(pb.classes)},
        flow_pcu=sol.flow_pcu,
        time_min=t,
        speed_kmh=speed,
        gap_history=sol.gap_history,
        objective=sol.objective,
        iterations=sol.iterations,
        wall_time_s=sol.wall_time_s,
        unassigned=_frame(sol.unassigned) if sol.unassigned is not None else empty_unassigned(),
        method=method,
        cost_min=sol.cost_min,
        meta={
            "converged": sol.converged,
            "target_gap": gap,
            "threads": sol.threads,
            "shortest_path_time_s": sol.times.shortest_paths_s,
            "update_time_s": sol.times.update_s,
            "inner_time_s": sol.times.inner_s,
            "intrazonal_trips": pb.intrazonal_trips,
        },
        path_state=paths,
    )


def _frame(columns: dict[str, npt.NDArray[Any]]) -> pd.DataFrame:
    """The solver's columns of unassigned pairs as the result's DataFrame."""
    import pandas as pd

    return pd.DataFrame(columns)
