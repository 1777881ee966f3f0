"""Origin–destination matrix estimation to traffic counts, with the equilibrium assignment in the loop.

:func:`calibrate_demand` adjusts a prior OD matrix so that the user-equilibrium link flows match
counted flows. It first sets the level of the prior: one global scale ``s``, the vehicles
counted over those the prior's equilibrium puts on the counted links (``s = sum_a c_a / sum_a v_a``;
``fit_scale``). A prior's level is often off as a whole (a synthesised or an old matrix) and every count measures
it, where each cell is seen by a few counts only; left to the cell factors, the level would be
corrected on the cells that cross counted links and kept everywhere else. The scale is fitted
once, before the cells, and not with them: fitted together, a free scale trades off against the
cells' pull towards the prior and can lift every cell the counts never see (measured: a city
whose counts were 0.7 % above its model in total got a scale of 1.4). Then each outer iteration

1. assigns the current matrix to equilibrium (path-based, warm-started from the previous
   iteration) and reads the link–OD flows ``F[a, k]`` of its path sets: the vehicles per hour of
   OD cell ``k`` on link ``a``;
2. linearises the counted links' flows in the cell factors ``u`` of the scaled prior,
   ``g = s * u * g_prior`` (``d v_a / d u_k = F[a, k] / u_k``), and solves the regularised least
   squares problem (bi-level, Tikhonov towards the scaled prior)

   ``min_u  sum_a (w_a (v_a(u) - c_a))**2 + damping**2 * sum_k (u_k - 1)**2``

   in its dual form (one dense solve of the size of the counts; residuals on the GEH scale, so
   every count weighs as its GEH does);
3. steps towards that solution, ``g = g_prior * s * max(u, min_factor)``, re-solves the equilibrium
   and accepts the step only if the objective above (at the new equilibrium) went down, else
   halves the step (backtracking line search: route choice bends the equilibrium flows away from
   the fixed-proportion model, and full steps can oscillate); repeats until an update moves less
   than ``tol`` of the trips, no step lowers the objective, or ``max_iter`` is reached.

Cells without prior demand stay empty (the structure of the prior is kept); every class of a
cell is scaled by the same factor and counts compare with the vehicles per hour of all classes.
Everything is deterministic: the assignment is, and the least squares step is a direct solve.

Examples
--------
>>> import numpy as np
>>> from ldtkit.model.demand import Demand
>>> from ldtkit.model.network import network_from_tntp
>>> net = network_from_tntp("TransportationNetworks/SiouxFalls")  # doctest: +SKIP
>>> geh(np.array([110.0]), np.array([100.0])).round(3).tolist()
[0.976]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ldtkit._validate import finite_nonnegative
from ldtkit.errors import InvalidValueError
from ldtkit.model.assignment import AssignmentResult, PathSet, assign

if TYPE_CHECKING:  # pragma: no cover
    from scipy.sparse import csr_matrix

    from ldtkit.model.demand import Demand
    from ldtkit.model.network import RoadNetwork

Float = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]


def geh(model_vph: npt.ArrayLike, observed_vph: npt.ArrayLike) -> Float:
    """The GEH statistic ``sqrt(2 (m - c)^2 / (m + c))`` of hourly flows (0 where both are 0).

    Examples
    --------
    >>> geh([100.0, 0.0, 50.0], [100.0, 0.0, 0.0]).round(3).tolist()
    [0.0, 0.0, 10.0]
    """
    m = np.asarray(model_vph, dtype=np.float64)
    c = np.asarray(observed_vph, dtype=np.float64)
    s = m + c
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.sqrt(np.where(s > 0, 2.0 * (m - c) ** 2 / np.where(s > 0, s, 1.0), 0.0))
    return out


@dataclass(frozen=True, slots=True)
class CalibrationStep:
    """One outer iteration: fit on the counted links after the assignment of the iteration's matrix.

    With ``fit_scale``, the first row is the prior's fit and the move of its global scale (when it
    moves more than ``tol``); the cell iterations follow."""

    iteration: int
    geh_below_5_share: float  #: share of counted links with GEH < 5
    rmse_counted_vph: float  #: root mean square error on the counted links
    matrix_change: float  #: trips the update computed from this assignment moves, as a share of the prior's (NaN: the last row)
    assignment_gap: float  #: relative gap of the assignment
    seconds: float  #: wall time of the update and of the next assignment(s)
    step: float  #: share of the Gauss-Newton step taken (1 full, 0.5, 0.25, ... after backtracking; 0: none lowers the objective; NaN: the last row)


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """A calibrated demand, its equilibrium and how the calibration converged.

    Attributes
    ----------
    demand
        The calibrated OD matrices (same zones, classes and PCU factors as the prior).
    factor
        ``(nz, nz)`` calibrated / prior trips per cell (the scale where the prior is empty).
    scale
        The global scale of the prior that the calibration fitted first (1 without ``fit_scale``);
        ``factor`` includes it.
    assignment
        The equilibrium of ``demand`` (its flows are those the statistics are measured on).
    prior_assignment
        The equilibrium of the prior matrix.
    steps
        The convergence report, one :class:`CalibrationStep` per assignment.
    converged
        The last update moved less than ``tol`` of the prior's trips, or no step lowered the objective.
    seconds
        Wall time of the calibration, the prior's assignment included.
    unreached_link_ids
        Counted links with a positive count that no trip uses at the calibrated equilibrium
        (their count cannot be fitted: no OD pair's route passes them).
    """

    demand: Demand
    factor: Float
    scale: float
    assignment: AssignmentResult
    prior_assignment: AssignmentResult
    steps: tuple[CalibrationStep, ...]
    converged: bool
    seconds: float
    unreached_link_ids: Int  #: counted links (count > 0) that no trip uses at the calibrated equilibrium

    def share_within(self, bound: float = 0.5) -> float:
        """Share of the non-empty cells whose factor is within ``1 ± bound`` (cells never empty, see ``min_factor``)."""
        cells = np.asarray(sum(self.demand.trips.values()), dtype=np.float64) > 0
        if not cells.any():
            return 1.0
        f = self.factor[cells]
        return float(np.mean((f >= 1.0 - bound) & (f <= 1.0 + bound)))

    def report(self) -> str:
        """The convergence report as text, one line per iteration.

        Examples
        --------
        >>> print(res.report())  # doctest: +SKIP
        iteration  GEH<5   RMSE counted  max change  gap
        """
        lines = ["iteration  GEH<5 share  RMSE counted (veh/h)  matrix change  assignment gap   step  seconds"]
        for s in self.steps:
            lines.append(
                f"{s.iteration:9d}  {s.geh_below_5_share:11.3f}  {s.rmse_counted_vph:20.2f}  "
                f"{s.matrix_change:13.4f}  {s.assignment_gap:14.2e}  {s.step:5.3f}  {s.seconds:7.2f}"
            )
        lines.append(
            f"converged: {self.converged}; global scale of the prior: {self.scale:.4f}; "
            f"cells within ±50 % of the prior: {self.share_within(0.5):.3f}"
        )
        if len(self.unreached_link_ids):
            ids = self.unreached_link_ids[:10].tolist()
            lines.append(f"{len(self.unreached_link_ids)} counted links carry no modelled traffic (no route uses them): {ids}")
        return "\n".join(lines)


def _vehicle_flow(res: AssignmentResult) -> Float:
    return np.asarray(sum(res.flow_vph.values()), dtype=np.float64)


def link_od_flows(paths: PathSet, zone_ids: Int, counted_rows: Int) -> tuple[Float, Int, Int]:
    """Vehicles per hour of every OD cell on every counted link, from a path-based solution.

    Returns ``(flow, row, cell)`` in coordinate form: ``flow[i]`` vehicles/h of OD cell
    ``cell[i]`` (``origin position * nz + destination position``) use counted link number
    ``row[i]`` (the position in ``counted_rows``); entries of the same link and cell are summed.

    Examples
    --------
    >>> import numpy as np
    >>> ps = PathSet(cls=np.array(["light", "light"], dtype=object), orig=np.array([1, 1]), dest=np.array([3, 3]),
    ...              ptr=np.array([0, 2, 3]), link_row=np.array([0, 2, 1]), flow=np.array([6.0, 4.0]))
    >>> f, r, k = link_od_flows(ps, np.array([1, 3]), np.array([1, 2]))
    >>> f.tolist(), r.tolist(), k.tolist()
    ([4.0, 6.0], [0, 1], [1, 1])
    """
    nz = len(zone_ids)
    n_links_in_path = np.diff(paths.ptr)
    order = np.argsort(zone_ids, kind="stable")
    zs = zone_ids[order]
    oi = order[np.clip(np.searchsorted(zs, paths.orig), 0, nz - 1)]
    di = order[np.clip(np.searchsorted(zs, paths.dest), 0, nz - 1)]
    cell_of_path = oi.astype(np.int64) * nz + di
    link_row = np.asarray(paths.link_row, dtype=np.int64)
    path_of_entry = np.repeat(np.arange(len(paths.flow)), n_links_in_path)
    # counted position of every path link (-1: not counted)
    max_row = int(max(link_row.max(initial=-1), counted_rows.max(initial=-1))) + 1
    pos = np.full(max_row, -1, dtype=np.int64)
    pos[counted_rows] = np.arange(len(counted_rows))
    cpos = pos[link_row]
    keep = (cpos >= 0) & (paths.flow[path_of_entry] > 0)
    rows = cpos[keep]
    cells = cell_of_path[path_of_entry[keep]]
    flows = paths.flow[path_of_entry[keep]]
    key = rows * (nz * nz) + cells
    uniq, inv = np.unique(key, return_inverse=True)
    summed = np.bincount(inv, weights=flows, minlength=len(uniq)).astype(np.float64)
    return summed, (uniq // (nz * nz)).astype(np.int64), (uniq % (nz * nz)).astype(np.int64)


def _tikhonov(a: csr_matrix, b: Float, damping: float) -> Float:
    """``argmin ||a x - b||^2 + damping^2 ||x||^2`` in its dual form ``a.T (a a.T + damping^2 I)^-1 b``:
    one dense solve of the size of the counts (far fewer than the OD cells)."""
    import scipy.linalg

    gram = (a @ a.T).toarray() + damping**2 * np.eye(a.shape[0])
    y = scipy.linalg.solve(gram, b, assume_a="pos")
    return np.asarray(a.T @ y, dtype=np.float64)


def calibrate_demand(
    network: RoadNetwork,
    prior: Demand,
    *,
    counted_rows: npt.ArrayLike,
    count_vph: npt.ArrayLike,
    damping: float = 0.05,
    min_factor: float = 0.05,
    max_iter: int = 12,
    max_halvings: int = 3,
    tol: float = 0.003,
    gap: float = 1e-4,
    fit_scale: bool = True,
    source: str = "counts",
) -> CalibrationResult:
    """Estimate the OD matrix that reproduces ``count_vph`` on the links ``counted_rows`` at equilibrium.

    Parameters
    ----------
    network
        The road network (as for :func:`~ldtkit.model.assignment.assign`).
    prior
        The prior demand; the result keeps its zones, classes and empty cells.
    counted_rows
        Row positions in ``network.links`` of the counted links (each at most once).
    count_vph
        Counted vehicles per hour (all classes), one per counted row.
    damping
        Weight of the regularisation towards the prior, on the GEH scale: a cell factor ``u``
        costs as much as a count missed by ``damping * |u - 1|`` GEH units.
    min_factor
        Smallest factor of a cell (a cell is never emptied).
    max_iter
        Outer iterations (Gauss-Newton steps, each with its equilibrium re-solved).
    max_halvings
        Backtracking: a step that does not lower the objective (the weighted squared count
        residuals plus the regularisation) at the re-solved equilibrium is halved, at most this
        many times; when none lowers it the calibration stops (a local minimum).
    tol
        Stop when an update moves less than ``tol`` of the prior's trips
        (``sum |g_new - g| / sum g_prior``).
    gap
        Relative gap of each assignment.
    fit_scale
        First fit a global scale of the prior to the counts (the first row of the convergence
        report when it moves the prior by more than ``tol``), then the cell factors towards it
        (False: the cell factors alone, every one of them regularised towards the prior).
    source
        What the counts are called in error messages (a file name).

    Returns
    -------
    CalibrationResult

    Raises
    ------
    InvalidValueError
        Counts that are negative or not finite, rows that are not links or are repeated, or
        positive counts with a prior without trips.

    Examples
    --------
    >>> from ldtkit.model.loaders.tntp import demand_from_tntp
    >>> net = network_from_tntp("TransportationNetworks/SiouxFalls")  # doctest: +SKIP
    >>> res = calibrate_demand(net, demand_from_tntp("TransportationNetworks/SiouxFalls"),  # doctest: +SKIP
    ...                        counted_rows=[0, 5], count_vph=[4500.0, 8000.0])
    >>> res.steps[-1].geh_below_5_share  # doctest: +SKIP
    1.0
    """
    from scipy.sparse import csr_matrix

    t0 = time.perf_counter()
    rows = np.asarray(counted_rows, dtype=np.int64)
    m = len(network.links)
    link_ids = network.links["link_id"].to_numpy()
    c = finite_nonnegative(count_vph, name="count", where=source, ids=link_ids[np.clip(rows, 0, max(m - 1, 0))])
    if rows.shape != c.shape:
        raise InvalidValueError(f"{source}: {len(rows)} counted links but {len(c)} counts")
    bad = (rows < 0) | (rows >= m)
    if bad.any():
        raise InvalidValueError(f"{source}: link rows {rows[bad][:10].tolist()} are not links of the network ({m} links)")
    uniq, n = np.unique(rows, return_counts=True)
    if (n > 1).any():
        ids = network.links["link_id"].to_numpy()[uniq[n > 1]]
        raise InvalidValueError(f"{source}: links {ids[:10].tolist()} are counted more than once; give one count per link")
    if not (damping > 0 and 0 < min_factor < 1 and max_iter >= 1 and tol > 0 and max_halvings >= 0):
        raise InvalidValueError("calibrate_demand: need damping > 0, 0 < min_factor < 1, max_iter >= 1, max_halvings >= 0 and tol > 0")
    zone_ids = np.asarray(prior.zone_ids, dtype=np.int64)
    nz = len(zone_ids)
    g0 = np.asarray(sum(prior.trips.values()), dtype=np.float64).ravel()
    if not g0.sum() > 0 and (c > 0).any():
        raise InvalidValueError(
            f"{source}: the prior has no trips, so no count can be matched (counted links {link_ids[rows[c > 0]][:10].tolist()}); "
            "check the period of the counts and of the demand"
        )
    w = 1.0 / np.sqrt(np.maximum(c, 1.0))
    u = np.ones(nz * nz)
    scale = 1.0
    steps: list[CalibrationStep] = []
    res = assign(network, prior, gap=gap, progress=False)
    prior_res = res
    converged = False

    def fit(r: AssignmentResult) -> tuple[Float, float, float]:
        v = _vehicle_flow(r)[rows]
        share = float(np.mean(geh(v, c) < 5.0)) if len(c) else 1.0
        return v, share, float(np.sqrt(np.mean((v - c) ** 2))) if len(c) else 0.0

    def objective(v: Float, uu: Float) -> float:
        return float(np.sum((w * (v - c)) ** 2) + damping**2 * np.sum((uu - 1.0) ** 2))

    v, share, rmse = fit(res)
    if fit_scale and v.sum() > 0:
        t_it = time.perf_counter()
        level = max(float(np.sum(c) / np.sum(v)), min_factor)
        if abs(level - 1.0) >= tol:
            res = assign(network, prior.scaled(level), gap=gap, warm_start=res, progress=False)
            steps.append(CalibrationStep(0, share, rmse, abs(level - 1.0), res.gap, time.perf_counter() - t_it, 1.0))
            scale = level
            v, share, rmse = fit(res)
    obj = objective(v, u)
    for it in range(len(steps), len(steps) + max_iter):
        t_it = time.perf_counter()
        if res.path_state is None:  # pragma: no cover - assign(method="path") keeps its paths
            raise InvalidValueError("calibrate_demand: the assignment returned no path sets")
        f, r, k = link_od_flows(res.path_state, zone_ids, rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            jac = w[r] * f * np.where(u[k] > 0, 1.0 / u[k], 0.0)
        cols, kk = np.unique(k, return_inverse=True)
        a = csr_matrix((jac, (r, kk)), shape=(len(rows), len(cols)))
        rhs = w * (c - v) + a @ (u[cols] - 1.0)
        x = _tikhonov(a, rhs, damping)
        direction = np.zeros_like(u)
        direction[cols] = 1.0 + x - u[cols]
        # Gauss-Newton step with backtracking: route choice makes the equilibrium flows bend away
        # from the fixed-proportion model, so a full step can overshoot; accept a step only when
        # the re-solved equilibrium lowers the objective, else halve it (at most max_halvings times)
        step, accepted = 1.0, False
        for _ in range(max_halvings + 1):
            u_try = np.maximum(u + step * direction, min_factor)
            res_try = assign(network, prior.scaled(scale * u_try.reshape(nz, nz)), gap=gap, warm_start=res, progress=False)
            v_try, share_try, rmse_try = fit(res_try)
            obj_try = objective(v_try, u_try)
            if obj_try < obj:
                accepted = True
                break
            step /= 2.0
        change = float(np.abs(scale * (u_try - u)) @ g0 / max(float(g0.sum()), 1e-300)) if accepted else 0.0
        steps.append(CalibrationStep(it, share, rmse, change, res.gap, time.perf_counter() - t_it, step if accepted else 0.0))
        if not accepted:  # no step along the direction lowers the objective: a (local) minimum
            converged = True
            break
        u, res, v, share, rmse, obj = u_try, res_try, v_try, share_try, rmse_try, obj_try
        if change < tol:
            converged = True
            break
    steps.append(CalibrationStep(len(steps), share, rmse, float("nan"), res.gap, 0.0, float("nan")))
    factor = scale * u.reshape(nz, nz)
    unreached = link_ids[rows[(_vehicle_flow(res)[rows] <= 0) & (c > 0)]]
    return CalibrationResult(
        demand=replace(prior.scaled(factor), meta={**prior.meta, "calibrated": True}),
        factor=factor,
        scale=scale,
        assignment=res,
        prior_assignment=prior_res,
        steps=tuple(steps),
        converged=converged,
        seconds=time.perf_counter() - t0,
        unreached_link_ids=np.asarray(unreached, dtype=np.int64),
    )


@dataclass(frozen=True, slots=True)
class KnownTruth:
    """A calibration experiment with a known answer, on a TNTP network with best-known flows.

    Attributes
    ----------
    network
        The TNTP network.
    truth
        The true demand (the TNTP trips).
    flow_vph
        The best-known equilibrium flow of every link (network row order).
    counted_rows
        The links whose flows serve as counts (sorted rows).
    prior
        The true matrix with every cell multiplied by a lognormal factor.
    """

    network: RoadNetwork
    truth: Demand
    flow_vph: Float
    counted_rows: Int
    prior: Demand

    @property
    def count_vph(self) -> Float:
        """The counts: the best-known flows of the counted links."""
        return self.flow_vph[self.counted_rows]

    def figures(self, result: CalibrationResult) -> dict[str, float]:
        """How well ``result`` recovers the truth.

        ``geh_share_counted``: counted links with GEH < 5; ``uncounted_rmse_reduction``: how much the
        flow RMSE on the uncounted links falls from the prior's equilibrium to the calibrated one;
        ``within_50pct``: cells within ±50 % of the prior.
        """
        rows = self.counted_rows
        flow = self.flow_vph
        unc = np.setdiff1d(np.arange(len(flow)), rows)
        rmse_prior = float(np.sqrt(np.mean((result.prior_assignment.flow_pcu[unc] - flow[unc]) ** 2)))
        rmse_cal = float(np.sqrt(np.mean((result.assignment.flow_pcu[unc] - flow[unc]) ** 2)))
        return {
            "counted": float(len(rows)),
            "geh_share_counted": float(np.mean(geh(result.assignment.flow_pcu[rows], flow[rows]) < 5)),
            "rmse_prior_vph": rmse_prior,
            "rmse_calibrated_vph": rmse_cal,
            "uncounted_rmse_reduction": 1.0 - rmse_cal / rmse_prior,
            "within_50pct": result.share_within(0.5),
        }


def known_truth(folder: str | Path, *, counted_share: float = 0.2, prior_sigma: float = 0.3, seed: int = 17) -> KnownTruth:
    """Counts from the best-known flows on a seeded random share of the links, and a disturbed prior.

    The prior is the true matrix with each cell multiplied by a seeded lognormal factor
    (``sigma = prior_sigma``): a calibration should fit the counted links and bring the uncounted
    ones closer to the best-known flows. ``folder`` is a TNTP folder with ``*_net``, ``*_trips``
    and ``*_flow`` files.

    Examples
    --------
    >>> kt = known_truth("TransportationNetworks/SiouxFalls")  # doctest: +SKIP
    >>> res = calibrate_demand(kt.network, kt.prior, counted_rows=kt.counted_rows, count_vph=kt.count_vph)  # doctest: +SKIP
    >>> kt.figures(res)["geh_share_counted"]  # doctest: +SKIP
    1.0
    """
    from ldtkit.model.demand import Demand
    from ldtkit.model.loaders.tntp import demand_from_tntp, flows_from_tntp
    from ldtkit.model.network import network_from_tntp

    if not (0 < counted_share <= 1 and prior_sigma >= 0):
        raise InvalidValueError(f"known_truth: need 0 < counted_share <= 1 and prior_sigma >= 0, got {counted_share}, {prior_sigma}")
    net = network_from_tntp(folder)
    true = demand_from_tntp(folder)
    flow = flows_from_tntp(folder)["flow"].to_numpy(dtype=np.float64)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(flow), size=round(counted_share * len(flow)), replace=False)).astype(np.int64)
    g = true.trips["light"]
    prior = Demand(true.zone_ids, {"light": g * rng.lognormal(0.0, prior_sigma, g.shape)}, pcu={"light": 1.0})
    return KnownTruth(network=net, truth=true, flow_vph=flow, counted_rows=rows, prior=prior)
