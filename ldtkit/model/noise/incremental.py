"""Incremental noise maps: the energy change at the receptors from the sources whose power changed.

A scenario usually changes the traffic on part of the network only. With the far-field point
sources placed by a fixed reference traffic (the baseline's), the band energy at a receptor is a
sum over the sources of (power x geometric transfer), and the transfer does not depend on the
traffic: the energy is linear in the source powers. So a scenario's energies are the baseline's
plus the same sum taken over the *changes* of power, and only the sources that changed by more
than a tolerance need to be visited, each at the receptors it reaches (within the cutoff).

:func:`energy_change` computes that sum with the map kernel itself
(:func:`ldtkit.model.kernels.noise.map_energy`), fed the power changes instead of the powers and
a pyramid of source cells in which the cells without a changed source are empty, so that the
descent never enters them (:func:`ldtkit.model.kernels.noise.changed_cells`). The geometry of the
sum (which cells act as one point, how segments are split) is decided exactly as in a full map,
so the result equals the difference of two full maps up to rounding. No source-to-receiver
transfer is stored: the memory is that of one map.

The sources whose power changed by at most ``tolerance_db`` in every period and band keep their
baseline power: the energy they send to a receptor is then off by at most that factor, so every
period level (and Lden) is within ``tolerance_db`` of a full recompute.

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

import numpy as np
import numpy.typing as npt

from ldtkit.errors import InvalidValueError
from ldtkit.model.kernels import noise as kernels
from ldtkit.model.noise.propagation import NoisePropagation

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Default tolerance (dB) on a source line's power below which it keeps its baseline power.
TOLERANCE_DB = 0.05


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
    propagation: NoisePropagation, w_base: FloatArray, w_new: FloatArray, *, tolerance_db: float = TOLERANCE_DB
) -> EnergyChange:
    """The band-energy change at the receptors when the line powers go from ``w_base`` to ``w_new``.

    ``w_base`` must be the powers whose day period placed the far-field sources of the baseline
    map (its own, as :func:`~ldtkit.model.noise.compute_noise` does by default); they place them
    here too, so that baseline energy + change = the full map of ``w_new`` with the baseline as
    reference (``compute_noise(..., reference_traffic=baseline)``). Lines whose power changed by
    at most ``tolerance_db`` in every period and band keep their baseline power, so every level
    is within ``tolerance_db`` of that full map; with ``tolerance_db=0`` they are equal up to
    rounding.

    Parameters
    ----------
    propagation
        The :class:`~ldtkit.model.noise.NoisePropagation` of the baseline map.
    w_base, w_new
        Per-metre line powers (n_periods, n_lines, 8), linear.
    tolerance_db
        Lines whose power changed by at most this in every period and band are not visited.

    Examples
    --------
    >>> change = energy_change(prop, w_base, w_new)  # doctest: +SKIP
    >>> energy_new = energy_base + change.energy  # doctest: +SKIP
    """
    n_lines = propagation.sources.n_lines
    if w_base.shape[1] != n_lines:
        raise InvalidValueError(f"line powers have {w_base.shape[1]} lines; the propagation has {n_lines}")
    changed = changed_lines(w_base, w_new, tolerance_db=tolerance_db)
    n_changed = int(changed.sum())
    if n_changed == 0:
        return EnergyChange(np.zeros((len(propagation.receptors), w_base.shape[0], 8)), 0, n_lines, 0)
    delta = np.where(changed[None, :, None], w_new - w_base, 0.0)
    a = propagation.arrays
    seg_changed = changed[propagation.sources.seg_line]
    active = kernels.changed_cells(seg_changed, a.segments.cell, a.pyramid.level_nx, a.pyramid.level_offset)
    # the same pyramid (same opening decisions) with the cells that hold no changed source emptied
    pyramid = a.pyramid._replace(length_m=np.where(active, a.pyramid.length_m, 0.0))
    sparse = replace(propagation, arrays=replace(a, pyramid=pyramid))
    # near the receptors only the changed segments are split into point sources
    energy, n_pairs = sparse.energies(delta, w_reference=w_base[0], only_segments=seg_changed)
    return EnergyChange(energy, n_changed, n_lines, n_pairs)
