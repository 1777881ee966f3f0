"""Trip distribution: Furness balancing and the doubly-constrained gravity model, with its calibration."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ldtkit._validate import finite_nonnegative
from ldtkit.errors import InvalidValueError


@dataclass(frozen=True)
class Balanced:
    """A balanced matrix and what had to be relaxed to get it (see :func:`balance`).

    Attributes
    ----------
    matrix
        The balanced matrix (its column sums match the column targets that could be met).
    relaxed_rows, relaxed_cols
        Indices of rows / columns whose target could not be met: no reachable cell, or a
        target that the reachable cells' other totals cannot supply (e.g. a zone reachable one
        way only, or one zone with more than half of all trips when intrazonal cells are 0).
    max_row_error
        Largest relative error left on the rows that were kept.
    """

    matrix: npt.NDArray[np.float64]
    relaxed_rows: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp))
    relaxed_cols: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp))
    max_row_error: float = 0.0

    @property
    def relaxed(self) -> bool:
        """Whether any row or column target was relaxed."""
        return bool(len(self.relaxed_rows) or len(self.relaxed_cols))


def _check_totals(rows: npt.NDArray[np.float64], cols: npt.NDArray[np.float64]) -> None:
    if not math.isclose(rows.sum(), cols.sum(), rel_tol=1e-9, abs_tol=1e-9):
        raise InvalidValueError(f"furness: row totals sum to {rows.sum():.6g} but column totals to {cols.sum():.6g}")


def balance(
    seed: npt.ArrayLike, row_totals: npt.ArrayLike, col_totals: npt.ArrayLike, *, tol: float = 1e-9, max_iter: int = 2000
) -> Balanced:
    """Balance ``seed`` to row and column totals as far as they can be met (Furness / IPF, relaxed).

    Rows and columns with a positive target but no reachable cell are set to 0 and the other
    targets scaled to keep the total. When the remaining targets are still inconsistent with
    the seed's pattern of zeros (the iteration does not converge in ``max_iter``), the
    production-constrained matrix is returned instead: rows meet their targets, columns come
    as close as the seed allows and those that miss theirs by more than 1e-4 are reported.
    Nothing is raised for unreachable targets.

    Examples
    --------
    Zone 0 cannot reach anyone and nobody reaches zone 2: their trips are left out.

    >>> seed = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 1.0], [1.0, 0.0, 1.0]])
    >>> b = balance(seed, np.array([1.0, 1.0, 1.0]), np.array([1.0, 1.0, 1.0]))
    >>> b.relaxed_rows.tolist(), b.relaxed_cols.tolist(), np.round(b.matrix.sum(axis=0), 6).tolist()
    ([0], [1], [1.5, 0.0, 1.5])
    """
    from ldtkit.model.kernels.demand import furness as furness_kernel  # numba: compiled on first use

    seed = np.ascontiguousarray(seed, dtype=np.float64)
    rows = finite_nonnegative(row_totals, name="row totals", where="furness").astype(np.float64)
    cols = finite_nonnegative(col_totals, name="column totals", where="furness").astype(np.float64)
    _check_totals(rows, cols)
    total = float(rows.sum())
    dead_r = np.flatnonzero((rows > 0) & (seed.sum(axis=1) <= 0))
    dead_c = np.flatnonzero((cols > 0) & (seed.sum(axis=0) <= 0))
    if len(dead_r) or len(dead_c):
        rows, cols = rows.copy(), cols.copy()
        rows[dead_r] = 0.0
        cols[dead_c] = 0.0
        if rows.sum() <= 0 or cols.sum() <= 0:
            return Balanced(np.zeros_like(seed), dead_r, dead_c, 0.0)
        rows *= total / rows.sum()
        cols *= total / cols.sum()
    m, _, err = furness_kernel(seed, rows, cols, float(tol), int(max_iter))
    if err <= 1e-4:
        return Balanced(m, dead_r, dead_c, float(err))
    # The targets cannot all be met: fall back to the production-constrained model (rows exact,
    # columns as close as the seed allows) and report the columns that miss their target.
    w = seed * cols[None, :]
    s_row = w.sum(axis=1)
    m = np.where(s_row[:, None] > 0, w * (rows / np.where(s_row > 0, s_row, 1.0))[:, None], 0.0)
    lost = np.flatnonzero((rows > 0) & (s_row <= 0))
    rel = np.abs(m.sum(axis=0) - cols) / np.where(cols > 0, cols, 1.0)
    off = np.flatnonzero(rel > 1e-4)
    return Balanced(m, np.union1d(dead_r, lost), np.union1d(dead_c, off), float(err))


def furness(
    seed: npt.ArrayLike, row_totals: npt.ArrayLike, col_totals: npt.ArrayLike, *, tol: float = 1e-9, max_iter: int = 2000
) -> npt.NDArray[np.float64]:
    """Balance ``seed`` so its row and column sums match the targets (Furness / IPF).

    Raises :class:`~ldtkit.errors.InvalidValueError` when the targets are inconsistent
    (different sums, NaN/negative) or a row/column with a positive target has no reachable
    cell; :func:`balance` relaxes such targets instead.

    Examples
    --------
    >>> m = furness(np.ones((2, 2)), np.array([3.0, 1.0]), np.array([2.0, 2.0]))
    >>> np.round(m, 6).tolist()
    [[1.5, 1.5], [0.5, 0.5]]
    """
    b = balance(seed, row_totals, col_totals, tol=tol, max_iter=max_iter)
    if b.relaxed:
        if b.max_row_error > 1e-4:
            raise InvalidValueError(
                f"furness: did not balance (max relative row error {b.max_row_error:.3g} after {max_iter} iterations); "
                f"rows {b.relaxed_rows[:10].tolist()} cannot reach enough destinations"
            )
        raise InvalidValueError(
            f"furness: rows {b.relaxed_rows[:10].tolist()} / columns {b.relaxed_cols[:10].tolist()} have positive totals "
            "but no reachable destination/origin (zone not connected?)"
        )
    return b.matrix


def gravity(
    time_min: npt.NDArray[np.float64],
    productions: npt.ArrayLike,
    attractions: npt.ArrayLike,
    *,
    beta: float,
    exclude_diagonal: bool = True,
    relax: bool = False,
) -> npt.NDArray[np.float64]:
    """Doubly-constrained gravity model with deterrence ``exp(-beta * time)``.

    Rows sum to ``productions``, columns to ``attractions`` (rescaled to the same total).
    ``relax=True`` balances what can be balanced (:func:`balance`) instead of raising;
    :func:`gravity_balanced` also says which rows and columns were relaxed.

    Examples
    --------
    >>> t = np.array([[0.0, 5.0, 10.0], [5.0, 0.0, 5.0], [10.0, 5.0, 0.0]])
    >>> m = gravity(t, np.array([10.0, 10.0, 10.0]), np.array([10.0, 10.0, 10.0]), beta=0.1)
    >>> bool(np.allclose(m.sum(axis=1), 10.0)), bool(m[0, 1] > m[0, 2])
    (True, True)
    """
    if relax:
        return gravity_balanced(time_min, productions, attractions, beta=beta, exclude_diagonal=exclude_diagonal).matrix
    seed, p, a = _gravity_inputs(time_min, productions, attractions, beta, exclude_diagonal)
    return furness(seed, p, a)


def _gravity_inputs(
    time_min: npt.NDArray[np.float64], productions: npt.ArrayLike, attractions: npt.ArrayLike, beta: float, exclude_diagonal: bool
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    p = np.asarray(productions, dtype=np.float64)
    a = np.asarray(attractions, dtype=np.float64)
    if a.sum() > 0:
        a = a * (p.sum() / a.sum())
    with np.errstate(over="ignore", invalid="ignore"):
        seed = np.exp(-beta * time_min)
    seed[~np.isfinite(time_min)] = 0.0
    if exclude_diagonal and seed.shape[0] == seed.shape[1]:
        np.fill_diagonal(seed, 0.0)
    return seed, p, a


def gravity_balanced(
    time_min: npt.NDArray[np.float64],
    productions: npt.ArrayLike,
    attractions: npt.ArrayLike,
    *,
    beta: float,
    exclude_diagonal: bool = True,
) -> Balanced:
    """:func:`gravity` balanced as far as it can be, with the rows and columns that were relaxed.

    Examples
    --------
    One zone with most of the trips: with no intrazonal trips its column cannot be met in full;
    every zone still sends its trips.

    >>> t = np.array([[0.0, 5.0, 5.0], [5.0, 0.0, 5.0], [5.0, 5.0, 0.0]])
    >>> b = gravity_balanced(t, np.array([8.0, 1.0, 1.0]), np.array([8.0, 1.0, 1.0]), beta=0.1)
    >>> b.relaxed_cols.tolist(), np.round(b.matrix.sum(axis=1), 6).tolist()
    ([0, 1, 2], [8.0, 1.0, 1.0])
    """
    seed, p, a = _gravity_inputs(time_min, productions, attractions, beta, exclude_diagonal)
    return balance(seed, p, a)


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
    relax: bool = False,
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
    relax
        Balance what can be balanced (:func:`balance`), and when the target lies outside what
        the network allows, use the ``beta`` bound that comes closest instead of raising (the
        result's mean then differs from the target: the caller reports it).

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
        return mean_cost(gravity(time_min, productions, attractions, beta=math.exp(log_beta), relax=relax), cost) - target_mean

    lo, hi = math.log(beta_bounds[0]), math.log(beta_bounds[1])
    f_lo, f_hi = excess(lo), excess(hi)
    if relax and (math.isnan(f_lo) or math.isnan(f_hi)):  # no cell can hold a trip (e.g. a single zone)
        return gravity(time_min, productions, attractions, beta=beta_bounds[0], relax=True), beta_bounds[0]
    if relax and (f_lo < 0 or f_hi > 0):
        beta = beta_bounds[0] if f_lo < 0 else beta_bounds[1]
        return gravity(time_min, productions, attractions, beta=beta, relax=True), beta
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
    return gravity(time_min, productions, attractions, beta=beta, relax=relax), beta
