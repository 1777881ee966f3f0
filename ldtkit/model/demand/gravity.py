"""Trip distribution: Furness balancing and the doubly-constrained gravity model, with its calibration."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ldtkit._validate import finite_nonnegative
from ldtkit.errors import InvalidValueError


def furness(
    seed: npt.ArrayLike, row_totals: npt.ArrayLike, col_totals: npt.ArrayLike, *, tol: float = 1e-9, max_iter: int = 2000
) -> npt.NDArray[np.float64]:
    """Balance ``seed`` so its row and column sums match the targets (Furness / IPF).

    Raises :class:`~ldtkit.errors.InvalidValueError` when the targets are inconsistent
    (different sums, NaN/negative) or a row/column with a positive target has no reachable cell.

    Examples
    --------
    >>> m = furness(np.ones((2, 2)), np.array([3.0, 1.0]), np.array([2.0, 2.0]))
    >>> np.round(m, 6).tolist()
    [[1.5, 1.5], [0.5, 0.5]]
    """
    from ldtkit.model.kernels.demand import furness as furness_kernel  # numba: compiled on first use

    seed = np.ascontiguousarray(seed, dtype=np.float64)
    rows = finite_nonnegative(row_totals, name="row totals", where="furness")
    cols = finite_nonnegative(col_totals, name="column totals", where="furness")
    if not math.isclose(rows.sum(), cols.sum(), rel_tol=1e-9, abs_tol=1e-9):
        raise InvalidValueError(f"furness: row totals sum to {rows.sum():.6g} but column totals to {cols.sum():.6g}")
    dead_r = np.flatnonzero((rows > 0) & (seed.sum(axis=1) <= 0))
    dead_c = np.flatnonzero((cols > 0) & (seed.sum(axis=0) <= 0))
    if len(dead_r) or len(dead_c):
        raise InvalidValueError(
            f"furness: rows {dead_r[:10].tolist()} / columns {dead_c[:10].tolist()} have positive totals "
            "but no reachable destination/origin (zone not connected?)"
        )
    m, _, err = furness_kernel(seed, rows, cols, float(tol), int(max_iter))
    if err > 1e-4:
        raise InvalidValueError(f"furness: did not balance (max relative row error {err:.3g} after {max_iter} iterations)")
    balanced: npt.NDArray[np.float64] = m
    return balanced


def gravity(
    time_min: npt.NDArray[np.float64],
    productions: npt.ArrayLike,
    attractions: npt.ArrayLike,
    *,
    beta: float,
    exclude_diagonal: bool = True,
) -> npt.NDArray[np.float64]:
    """Doubly-constrained gravity model with deterrence ``exp(-beta * time)``.

    Rows sum to ``productions``, columns to ``attractions`` (rescaled to the same total).

    Examples
    --------
    >>> t = np.array([[0.0, 5.0, 10.0], [5.0, 0.0, 5.0], [10.0, 5.0, 0.0]])
    >>> m = gravity(t, np.array([10.0, 10.0, 10.0]), np.array([10.0, 10.0, 10.0]), beta=0.1)
    >>> bool(np.allclose(m.sum(axis=1), 10.0)), bool(m[0, 1] > m[0, 2])
    (True, True)
    """
    p = np.asarray(productions, dtype=np.float64)
    a = np.asarray(attractions, dtype=np.float64)
    if a.sum() > 0:
        a = a * (p.sum() / a.sum())
    with np.errstate(over="ignore", invalid="ignore"):
        seed = np.exp(-beta * time_min)
    seed[~np.isfinite(time_min)] = 0.0
    if exclude_diagonal and seed.shape[0] == seed.shape[1]:
        np.fill_diagonal(seed, 0.0)
    return furness(seed, p, a)


def mean_cost(trips: npt.NDArray[np.float64], cost: npt.NDArray[np.float64]) -> float:
    """Trip-weighted mean of ``cost`` (cells without a finite cost count as 0); NaN without trips.

    Examples
    --------
    >>> mean_cost(np.array([[0.0, 3.0], [1.0, 0.0]]), np.array([[0.0, 2.0], [6.0, np.inf]]))
    3.0
    """
    w = trips.sum()
    c = np.where(np.isfinite(cost), cost, 0.0)
    return float((trips * c).sum() / w) if w > 0 else float("nan")


def calibrate_gravity(
    time_min: npt.NDArray[np.float64],
    productions: npt.ArrayLike,
    attractions: npt.ArrayLike,
    *,
    target_mean: float,
    cost_for_target: npt.NDArray[np.float64] | None = None,
    beta_bounds: tuple[float, float] = (1e-4, 2.0),
) -> tuple[npt.NDArray[np.float64], float]:
    """Doubly-constrained gravity with ``beta`` solved so the mean trip cost hits ``target_mean``.

    Parameters
    ----------
    time_min
        Deterrence cost (free-flow minutes).
    productions, attractions
        Trip ends per zone (row and column totals).
    target_mean
        Target mean of ``cost_for_target`` (e.g. network km) or of ``time_min`` when not given.
    cost_for_target
        The cost whose trip-weighted mean is calibrated (default ``time_min``).
    beta_bounds
        Search interval of ``beta`` (per minute).

    Returns
    -------
    tuple
        ``(matrix, beta)``.

    Raises
    ------
    InvalidValueError
        The target lies outside what the network allows (mean at ``beta`` bounds).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = rng.uniform(2, 30, (20, 20))
    >>> m, beta = calibrate_gravity(t, np.ones(20), np.ones(20), target_mean=12.0)
    >>> round(float((m * t).sum() / m.sum()), 3)
    12.0
    """
    from scipy.optimize import brentq

    cost = time_min if cost_for_target is None else cost_for_target

    def excess(log_beta: float) -> float:
        return mean_cost(gravity(time_min, productions, attractions, beta=math.exp(log_beta)), cost) - target_mean

    lo, hi = math.log(beta_bounds[0]), math.log(beta_bounds[1])
    f_lo, f_hi = excess(lo), excess(hi)
    if f_lo < 0:
        raise InvalidValueError(
            f"gravity calibration: target mean trip length {target_mean:g} exceeds the longest possible "
            f"mean {f_lo + target_mean:.4g} (beta -> 0): lower the target or enlarge the study area"
        )
    if f_hi > 0:
        raise InvalidValueError(
            f"gravity calibration: target mean trip length {target_mean:g} is below the shortest possible "
            f"mean {f_hi + target_mean:.4g} (beta = {beta_bounds[1]:g}): raise the target"
        )
    log_beta = float(brentq(excess, lo, hi, xtol=1e-10, rtol=1e-10))
    beta = math.exp(log_beta)
    return gravity(time_min, productions, attractions, beta=beta), beta
