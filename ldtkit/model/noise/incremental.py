"""Incremental noise maps: the energy change at the receptors from the sources whose power changed.

A scenario usually changes the traffic on part of the network only. With the far-field point
sources placed by a fixed reference traffic (the baseline's), the band energy at a receptor is a
sum over the sources of (power x geometric transfer), and the transfer does not depend on the
traffic: the energy is linear in the source powers. So a scenario's energies are the baseline's
plus the same sum taken over the *changes* of power, and only the sources that changed by more
than a tolerance need to be visited, each at the receptors it reaches (within the cutoff).

:func:`energy_change` computes that sum with a kernel that descends the map kernel's pyramid of
source cells (:func:`ldtkit.model.kernels.noise_incremental.change_energy`), fed the power changes
instead of the powers and a pyramid in which the cells without a changed source are empty, so
that the descent never enters them (:func:`ldtkit.model.kernels.noise.changed_cells`). The
geometry of the sum (which cells act as one point, how segments are split) is decided exactly as
in a full map, so with nothing skipped the result equals the difference of two full maps up to
rounding. No source-to-receiver transfer is stored: the memory is that of one map.

Two approximations share the tolerance ``tolerance_db`` (default 0.05 dB), so that every period
level (and Lden) stays within it of a full recompute:

* the source lines whose power changed by at most ``LINE_SHARE x tolerance_db`` in every period
  and band keep their baseline power: the energy they send to a receptor is off by at most that
  factor;
* with the baseline's levels given, the rest is an error budget per receptor and period: a changed
  cell or segment whose contribution is bounded (its absolute power change, A-weighted, times an
  upper bound of the transfer at its least possible distance) within what is left of the budget
  is skipped and its bound charged. The budget is set on the baseline's energy; a receptor whose
  new level turns out too low for what was charged to it is recomputed without skipping.

Examples
--------
>>> import numpy as np
>>> w_base = np.ones((3, 4, 8))
>>> w_new = w_base.copy()
>>> w_new[:, 1] *= 1.005   # +0.02 dB: within the tolerance
>>> w_new[0, 2, 3] = 2.0   # +3 dB in one band of the day period
>>> changed_lines(w_base, w_new, tolerance_db=0.05).tolist()
[False, False, True, False]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numba
import numpy as np
import numpy.typing as npt

from ldtkit.errors import InvalidValueError
from ldtkit.model.kernels import noise as kernels
from ldtkit.model.kernels import noise_incremental as nki
from ldtkit.model.noise.propagation import NoisePropagation
from ldtkit.model.noise.sources import SOURCE_HEIGHT_M
from ldtkit.model.noise.tables import A_WEIGHTING_DB

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: Default tolerance (dB): the largest difference of a period level from a full recompute.
TOLERANCE_DB = 0.05
#: Share of the tolerance given to the source lines whose power hardly changed (they keep their
#: baseline power) when the rest goes to skipping distant changes (:func:`energy_change`).
LINE_SHARE = 0.3
#: Largest share of a receptor block's error budget one skipped cell or segment may take.
MAX_SHARE = 0.02
#: Drop of a receptor's level (dB) from the baseline up to which its error budget (set on the baseline's
#: energy) holds; where the level drops more and the budget was spent, the receptor's block is redone.
BUDGET_DROP_DB = 1.0


@dataclass(frozen=True)
class EnergyChange:
    """Band-energy change at every receptor, (n_receptors, n_periods, 8), linear (10^(L/10)).

    ``n_changed_lines`` source lines (of ``n_lines``) changed by more than the tolerance and were
    evaluated, in ``n_pairs`` point-source evaluations.
    """

    energy: FloatArray
    n_changed_lines: int
    n_lines: int
    n_pairs: int


def changed_lines(w_base: FloatArray, w_new: FloatArray, *, tolerance_db: float = TOLERANCE_DB) -> BoolArray:
    """Which source lines changed power by more than ``tolerance_db`` in any period or band.

    ``w_base`` and ``w_new`` are per-metre line powers (n_periods, n_lines, 8), linear. A line
    that starts or stops emitting has changed (an infinite change in dB).

    Examples
    --------
    >>> import numpy as np
    >>> changed_lines(np.zeros((1, 2, 8)), np.eye(2, 8)[None], tolerance_db=0.1).tolist()
    [True, True]
    """
    if w_base.shape != w_new.shape or w_base.ndim != 3:
        raise InvalidValueError(f"line powers must have the same shape (n_periods, n_lines, 8), got {w_base.shape} and {w_new.shape}")
    if not tolerance_db >= 0:
        raise InvalidValueError(f"tolerance_db must be >= 0, got {tolerance_db}")
    factor = 10.0 ** (tolerance_db / 10.0)
    out: BoolArray = ((w_new > w_base * factor) | (w_new < w_base / factor)).any(axis=(0, 2))
    return out


def energy_change(
    propagation: NoisePropagation,
    w_base: FloatArray,
    w_new: FloatArray,
    *,
    tolerance_db: float = TOLERANCE_DB,
    base_energy: FloatArray | None = None,
    max_share: float | None = None,
) -> EnergyChange:
    """The band-energy change at the receptors when the line powers go from ``w_base`` to ``w_new``.

    ``w_base`` must be the powers whose day period placed the far-field sources of the baseline
    map (its own, as :func:`~ldtkit.model.noise.compute_noise` does by default); they place them
    here too, so that baseline energy + change = the full map of ``w_new`` with the baseline as
    reference (``compute_noise(..., reference_traffic=baseline)``). Every period level is within
    ``tolerance_db`` of that full map; with ``tolerance_db=0`` they are equal up to rounding.

    Without ``base_energy`` the whole tolerance goes to the lines: those whose power changed by at
    most ``tolerance_db`` in every period and band keep their baseline power. With the baseline's
    A-weighted period energies ``base_energy`` (n_receptors, n_periods), :data:`LINE_SHARE` of it
    goes to the lines and the rest to skipping, per receptor block, the changed sources whose
    contribution is bounded below the block's budget (see :mod:`ldtkit.model.kernels.noise_incremental`);
    the receptors whose skipped energy turns out too large for their new level are recomputed
    without skipping. Maps screened by buildings or without a transfer table skip nothing (no bound of their transfer).

    Parameters
    ----------
    propagation
        The :class:`~ldtkit.model.noise.NoisePropagation` of the baseline map.
    w_base, w_new
        Per-metre line powers (n_periods, n_lines, 8), linear.
    tolerance_db
        Largest difference of a period level from the full map.
    base_energy
        The baseline's A-weighted energy per receptor and period, 10^(L/10) (NaN: no level).
    max_share
        Largest share of a block's budget that one skipped cell or segment may take (default :data:`MAX_SHARE`).

    Examples
    --------
    >>> change = energy_change(prop, w_base, w_new, base_energy=e_base)  # doctest: +SKIP
    >>> energy_new = energy_base + change.energy  # doctest: +SKIP
    """
    n_lines = propagation.sources.n_lines
    if w_base.shape[1] != n_lines:
        raise InvalidValueError(f"line powers have {w_base.shape[1]} lines; the propagation has {n_lines}")
    if not tolerance_db >= 0:
        raise InvalidValueError(f"tolerance_db must be >= 0, got {tolerance_db}")
    a = propagation.arrays
    n_rec = len(propagation.receptors)
    if base_energy is not None and base_energy.shape != (n_rec, w_base.shape[0]):
        raise InvalidValueError(f"base_energy has shape {base_energy.shape}; expected ({n_rec}, {w_base.shape[0]})")
    # the budget needs a bound of the transfer: the open field's, from its table
    skipping = base_energy is not None and len(a.obstacles.cell_parts) == 0 and a.table.values.size > 0
    line_tol = LINE_SHARE * tolerance_db if skipping else tolerance_db
    changed = changed_lines(w_base, w_new, tolerance_db=line_tol)
    n_changed = int(changed.sum())
    if n_changed == 0:
        return EnergyChange(np.zeros((n_rec, w_base.shape[0], 8)), 0, n_lines, 0)
    delta = np.where(changed[None, :, None], w_new - w_base, 0.0)
    seg_changed = changed[propagation.sources.seg_line]
    if not skipping:
        return _without_budget(propagation, delta, w_base[0], seg_changed, n_changed)
    assert base_energy is not None
    inputs = _kernel_inputs(propagation, delta, w_base[0], seg_changed)
    order, bstart = a.receptor_order, a.block_start
    npd = w_base.shape[0]
    x = 1.0 - 10.0 ** (-(tolerance_db - line_tol) / 10.0)  # share of a receptor's energy that may be skipped
    # budgets on the baseline's energy, for levels that drop by at most BUDGET_DROP_DB (others are redone)
    allowed = x / (1.0 + x) * 10.0 ** (-BUDGET_DROP_DB / 10.0) * np.nan_to_num(base_energy[order], nan=0.0)
    rows = np.flatnonzero(seg_changed)
    a_weight = 10.0 ** (A_WEIGHTING_DB / 10.0)
    seg_abs = np.einsum("smb,b->sm", np.abs(inputs.w_seg), a_weight) * inputs.segments.length_m[:, None]
    cell_abs = nki.abs_cell_power(seg_abs, a.segments.cell[rows], a.pyramid.level_nx, a.pyramid.level_offset)
    excess, excess_step = _excess_bound(propagation)
    net_abs = np.einsum("cmb,b->cm", np.abs(inputs.clusters.power), a_weight)
    budget = nki.ChangeBudget(
        cell_abs, seg_abs, net_abs, allowed, excess, excess_step, float(MAX_SHARE if max_share is None else max_share)
    )
    r = propagation.receptors
    receivers = kernels.Receivers(r.x[order], r.y[order], r.z[order], a.z_index[order], bstart)
    e, cnt, used = _run(receivers, inputs, budget)
    n_pairs = int(cnt.sum())
    if x > 0:
        # the check: what was skipped at a receptor is within x of its level without the skips
        e_new = np.nan_to_num(base_energy[order], nan=0.0) + np.einsum("rmb,b->rm", e, a_weight)
        bad_r = ((used > 0) & (used > x * (e_new - used))).any(axis=1)
        bad = np.flatnonzero(np.add.reduceat(bad_r.astype(np.int64), bstart[:-1]) > 0)
        if len(bad):
            idx, sub_start = block_rows(bstart, bad)
            sub = kernels.Receivers(receivers.x[idx], receivers.y[idx], receivers.z[idx], receivers.z_index[idx], sub_start)
            e_sub, cnt_sub, _ = _run(sub, inputs, budget._replace(allowed=np.zeros((len(idx), npd))))
            e[idx] = e_sub
            n_pairs += int(cnt_sub.sum())
    energy = np.zeros((n_rec, npd, 8))
    energy[order] = e
    if propagation.inside_building is not None:
        energy[propagation.inside_building] = np.nan
    return EnergyChange(energy, n_changed, n_lines, n_pairs)


def block_rows(block_start: IntArray, blocks: IntArray) -> tuple[IntArray, IntArray]:
    """The rows of the given receptor ``blocks`` (of ``block_start``, rows in block order) and where
    each block starts among them.

    Examples
    --------
    >>> rows, start = block_rows(np.array([0, 2, 5, 6]), np.array([0, 2]))
    >>> rows.tolist(), start.tolist()
    ([0, 1, 5], [0, 2, 3])
    """
    lo, hi = block_start[blocks], block_start[blocks + 1]
    start = np.concatenate([[0], np.cumsum(hi - lo)]).astype(np.int64)
    rows: IntArray = (np.repeat(lo - start[:-1], hi - lo) + np.arange(start[-1])).astype(np.int64)
    return rows, start


def _without_budget(
    propagation: NoisePropagation, delta: FloatArray, w_ref: FloatArray, seg_changed: BoolArray, n_changed: int
) -> EnergyChange:
    """The energy change of ``delta`` summed by the map kernel itself (screened or exact maps: no budget)."""
    a = propagation.arrays
    active = kernels.changed_cells(seg_changed, a.segments.cell, a.pyramid.level_nx, a.pyramid.level_offset)
    # the same pyramid (same opening decisions) with the cells that hold no changed source emptied
    pyramid = a.pyramid._replace(length_m=np.where(active, a.pyramid.length_m, 0.0))
    sparse = replace(propagation, arrays=replace(a, pyramid=pyramid))
    # near the receptors only the changed segments are split into point sources
    energy, n_pairs = sparse.energies(delta, w_reference=w_ref, only_segments=seg_changed)
    return EnergyChange(energy, n_changed, propagation.sources.n_lines, n_pairs)


class _KernelInputs(NamedTuple):
    """The map kernel's arguments that do not depend on the receptors, for power changes."""

    segments: kernels.Segments
    w_seg: FloatArray
    pyramid: kernels.Pyramid
    clusters: kernels.ClusterPowers
    settings: nki.ChangeSettings
    table: kernels.TransferTable


def _kernel_inputs(propagation: NoisePropagation, delta: FloatArray, w_ref: FloatArray, seg_changed: BoolArray) -> _KernelInputs:
    """Power changes per segment and per pyramid cell (far-field points placed by ``w_ref``), with the
    cells that hold no changed segment emptied (the descent never enters them) and only the changed
    segments to split near the receptors."""
    a = propagation.arrays
    s = propagation.sources
    w_seg = np.ascontiguousarray(np.transpose(delta, (1, 0, 2))[s.seg_line])
    clusters = kernels.ClusterPowers(
        *kernels.cluster_power(
            w_seg, np.ascontiguousarray(w_ref[s.seg_line]), a.segments, a.pyramid.level_nx, a.pyramid.level_offset,
            10.0 ** (A_WEIGHTING_DB / 10.0),
        )
    )  # fmt: skip
    active = kernels.changed_cells(seg_changed, a.segments.cell, a.pyramid.level_nx, a.pyramid.level_offset)
    pyramid = a.pyramid._replace(length_m=np.where(active, a.pyramid.length_m, 0.0))
    rows = np.flatnonzero(seg_changed)
    g = a.segments
    n_cells = len(g.cell_start) - 1
    start = np.concatenate([[0], np.cumsum(np.bincount(g.cell[rows], minlength=n_cells))]).astype(np.int64)
    segments = kernels.Segments(g.x0[rows], g.y0[rows], g.x1[rows], g.y1[rows], g.length_m[rows], g.cell[rows], start)
    settings = nki.ChangeSettings(source_height_m=SOURCE_HEIGHT_M, cutoff_m=propagation.cutoff_m, spacing_ratio=propagation.spacing_ratio)
    return _KernelInputs(segments, np.ascontiguousarray(w_seg[rows]), pyramid, clusters, settings, a.table)


def _excess_bound(propagation: NoisePropagation) -> tuple[FloatArray, float]:
    """Upper bounds of the ground and air terms of the transfer (divergence taken out) beyond each
    step of the transfer table: ``(bound, step_m)``, ``bound[j]`` the largest tabulated value at
    ``j·step_m`` or farther over receptor heights and bands (interpolation stays within it)."""
    table = propagation.arrays.table
    per_step = table.values.max(axis=(0, 2))
    return np.ascontiguousarray(np.maximum.accumulate(per_step[::-1])[::-1]), float(table.step_m)


def _run(receivers: kernels.Receivers, inputs: _KernelInputs, budget: nki.ChangeBudget) -> tuple[FloatArray, IntArray, FloatArray]:
    """:func:`ldtkit.model.kernels.noise_incremental.change_energy` with dynamic scheduling of the blocks."""
    previous = numba.set_parallel_chunksize(4)
    try:
        return nki.change_energy(receivers, *inputs, budget)
    finally:
        numba.set_parallel_chunksize(previous)
