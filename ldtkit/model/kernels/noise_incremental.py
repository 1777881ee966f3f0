"""Numba kernel of an incremental noise map: the energy change at the receptors, within an error budget.

:func:`change_energy` sums, like :func:`ldtkit.model.kernels.noise.map_energy` for an open-field
map with a transfer table, the energy that the source power *changes* send to every receptor,
descending the same pyramid of source cells once per receptor block. In addition every receptor
holds an error budget (A-weighted energy, per period): a cell or segment whose largest possible
contribution fits what every receptor of the block has left is skipped for the block and its
bound charged to them. The bound of a group of sources seen from at least ``d`` (projected) by
receptors at height difference ``dz`` from the sources is

    sum_b A_b |dW_b| * X(d) / ((d^2 + dz^2) * 10^1.1)

with ``|dW_b|`` the summed absolute power change (x length) of its changed segments, ``A_b`` the
A-weighting and ``X(d)`` an upper bound of the ground and air terms of the transfer (the divergence
20 lg d + 11 taken out) at ``d`` or farther; a far-field cell evaluated at its power centroid takes
its curvature correction (at most 2) as well. A cell that the block sees as one point sends it
exactly its net change (the signed sum over its segments, where a shift of traffic between two
of its roads cancels) from its power centroid, so its bound takes ``|sum dW_b|`` and the
centroid's distance instead, and its curvature correction there, at most 1 + 4 (m_xx + m_yy + |m_xy|) / d^2
with m the central second moments of its power about the centroid. The skipped energy at a receptor
is thus at most what was charged to it.

Only hot loops live here; :mod:`ldtkit.model.noise.incremental` prepares the budgets and checks them."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from ldtkit.model.kernels.noise import (
    DIV_CONSTANT,
    NB,
    ClusterPowers,
    Pyramid,
    Receivers,
    Segments,
    TransferTable,
    descent_start,
    push_children,
    split_segment,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Largest curvature correction of a far-field cell evaluated as one point (the clamp of the map kernel).
CLUSTER_CORRECTION_MAX = 2.0


class ChangeSettings(NamedTuple):
    """Source height, cutoff (projected) and the point-source spacing ratio, as in the map they update."""

    source_height_m: float
    cutoff_m: float
    spacing_ratio: float


class ChangeBudget(NamedTuple):
    """What a map of power changes may leave out, per receptor and period (A-weighted energy).

    ``cell_abs`` (n_cells, n_periods) and ``seg_abs`` (n_segments, n_periods) are the A-weighted
    absolute power changes (x length) of every pyramid cell and of every segment evaluated;
    ``net_abs`` (n_cells, n_periods) the A-weighted absolute net change of every cell (per band);
    ``allowed`` (n_receptors in block order, n_periods) the energy each receptor may lose or gain
    by skipped sources; a single skip takes at most ``max_share`` of it (so that the budget is not
    spent on the first large contributions met). ``excess[j]`` bounds the ground and air terms of
    the transfer at every projected distance of at least ``j·excess_step_m``.
    """

    cell_abs: FloatArray
    seg_abs: FloatArray
    net_abs: FloatArray
    allowed: FloatArray
    excess: FloatArray
    excess_step_m: float
    max_share: float


@njit(cache=True)
def abs_cell_power(seg_abs: FloatArray, seg_cell: IntArray, level_nx: IntArray, level_offset: IntArray) -> FloatArray:
    """Sum of ``seg_abs`` (n_segments, n_periods) over the segments of every pyramid cell (all levels).

    Segment ``s`` lies in level-0 cell ``seg_cell[s]``.
    """
    npd = seg_abs.shape[1]
    out = np.zeros((level_offset[-1], npd))
    nx0 = level_nx[0]
    for s in range(seg_abs.shape[0]):
        iy = seg_cell[s] // nx0
        ix = seg_cell[s] % nx0
        for k in range(level_nx.shape[0]):
            ci = level_offset[k] + (iy >> k) * level_nx[k] + (ix >> k)
            for m in range(npd):
                out[ci, m] += seg_abs[s, m]
    return out


@njit(cache=True)
def _excess(d: float, budget: ChangeBudget) -> float:
    """Bound of the ground and air terms at projected distances of at least ``d``."""
    j = min(int(d / budget.excess_step_m), budget.excess.shape[0] - 1)
    return float(budget.excess[j])


@njit(cache=True)
def _skip_block(group_abs: FloatArray, row: int, factor: float, share_of: FloatArray, room: FloatArray, used: FloatArray) -> bool:
    """Skip a group for the whole block if its bound ``factor * group_abs[row, m]`` is within
    ``share_of[m]`` and the block's ``room[m]`` in every period; if so charge every receptor (``used``)."""
    npd = room.shape[0]
    for m in range(npd):
        bound = factor * group_abs[row, m]
        if bound > share_of[m] or bound > room[m]:
            return False
    for m in range(npd):
        bound = factor * group_abs[row, m]
        room[m] -= bound
        for i in range(used.shape[0]):
            used[i, m] += bound
    return True


@njit(cache=True)
def _room(allowed: FloatArray, used: FloatArray, room: FloatArray) -> None:
    """room[m] = what every receptor of the block has left of its budget."""
    for m in range(room.shape[0]):
        room[m] = math.inf
        for i in range(allowed.shape[0]):
            room[m] = min(room[m], allowed[i, m] - used[i, m])


@njit(cache=True, fastmath=True)
def _add_table(d2w: float, dz2: float, weight: float, inv_step: float, tab: FloatArray, zi: int, tl: FloatArray) -> None:
    """tl[b] += weight x transfer of one point source at projected squared distance ``d2w``, the ground
    and air terms interpolated in row ``zi`` (receptor height) of ``tab``."""
    xq = math.sqrt(d2w) * inv_step
    iq = int(xq)
    fr = xq - iq
    div = weight / ((d2w + dz2) * DIV_CONSTANT)
    fr0 = div * (1.0 - fr)
    fr1 = div * fr
    for b in range(NB):
        tl[b] += fr0 * tab[zi, iq, b] + fr1 * tab[zi, iq + 1, b]


@njit(cache=True, fastmath=True)
def _apply(acc: FloatArray, i: int, w: FloatArray, row: int, tl: FloatArray) -> None:
    """acc[i, m, b] += w[row, m, b] x tl[b]."""
    for m in range(w.shape[1]):
        for b in range(NB):
            acc[i, m, b] += w[row, m, b] * tl[b]


@njit(cache=True, fastmath=True)
def _block_change(
    bx: FloatArray,
    by: FloatArray,
    bz: FloatArray,
    bzi: IntArray,
    segments: Segments,
    w_seg: FloatArray,
    pyramid: Pyramid,
    clusters: ClusterPowers,
    settings: ChangeSettings,
    table: TransferTable,
    budget: ChangeBudget,
    allowed: FloatArray,
    acc: FloatArray,
    cnt: IntArray,
    used: FloatArray,
    stack: IntArray,
) -> None:
    """Accumulate into ``acc`` (n_block, n_periods, 8) the energy change at a block of nearby receptors,
    skipping what fits their budgets ``allowed`` (charged to ``used``, both (n_block, n_periods)).

    The descent and the point sources are those of :func:`ldtkit.model.kernels.noise.map_energy`
    (a cell seen from at least ``theta·rho`` by the whole block is one point at its power centroid,
    nearer cells are opened, level-0 segments are split per receptor), so that with a zero budget
    the result is the map kernel's on the same powers.
    """
    sx0, sy0, sx1, sy1, slen, seg_start = segments.x0, segments.y0, segments.x1, segments.y1, segments.length_m, segments.cell_start
    lv_nx, lv_off = pyramid.level_nx, pyramid.level_offset
    cl_x, cl_y, cl_rho, cl_len = pyramid.x, pyramid.y, pyramid.rho_m, pyramid.length_m
    theta = pyramid.theta
    w_cl, cl_px, cl_py, cl_mom = clusters.power, clusters.x, clusters.y, clusters.moments
    zs, cutoff, ratio = settings.source_height_m, settings.cutoff_m, settings.spacing_ratio
    share = budget.max_share
    npd = w_seg.shape[1]
    room = np.empty(npd)
    _room(allowed, used, room)
    share_of = np.empty(npd)
    can_skip = False
    for m in range(npd):
        share_of[m] = share * room[m]
        can_skip = can_skip or room[m] > 0.0
    nb = bx.shape[0]
    tab = table.values
    inv_step = 1.0 / table.step_m
    cut2 = cutoff * cutoff
    tl = np.empty(NB)
    dz2s = np.empty(nb)
    dz2min = math.inf
    for i in range(nb):
        dz2s[i] = (bz[i] - zs) * (bz[i] - zs)
        dz2min = min(dz2min, dz2s[i])
    cx, cy, rb, sp = descent_start(bx, by, pyramid, cutoff, stack)
    while sp > 0:
        sp -= 1
        k = stack[sp, 0]
        iy = stack[sp, 1]
        ix = stack[sp, 2]
        ci = lv_off[k] + iy * lv_nx[k] + ix
        if cl_len[ci] <= 0.0:
            continue
        dxc = cx - cl_x[ci]
        dyc = cy - cl_y[ci]
        dc = math.sqrt(dxc * dxc + dyc * dyc)
        rho = cl_rho[ci]
        if dc - rb - rho > cutoff:
            continue
        point = dc - rb >= theta * rho
        if can_skip:
            if point:  # its net change from its power centroid, with the curvature correction it gets there
                dlo = max(math.sqrt((cx - cl_px[ci]) ** 2 + (cy - cl_py[ci]) ** 2) - rb, 0.0)
                den = dlo * dlo + dz2min
                spread = cl_mom[ci, 0] + cl_mom[ci, 2] + abs(cl_mom[ci, 1])
                factor = min(CLUSTER_CORRECTION_MAX, 1.0 + 4.0 * spread / den) * _excess(dlo, budget) / (den * DIV_CONSTANT)
                group_abs = budget.net_abs
            else:  # its segments' changes from anywhere in the cell
                dlo = max(dc - rb - rho, 0.0)
                factor = CLUSTER_CORRECTION_MAX * _excess(dlo, budget) / ((dlo * dlo + dz2min) * DIV_CONSTANT)
                group_abs = budget.cell_abs
            if _skip_block(group_abs, ci, factor, share_of, room, used):
                continue
        if point:
            # the whole cell is one point source at its power centroid for every receptor of the block
            for i in range(nb):
                ex = bx[i] - cl_px[ci]
                ey = by[i] - cl_py[ci]
                d2w = ex * ex + ey * ey
                if d2w > cut2:
                    continue
                dd = d2w + dz2s[i]
                corr = (
                    1.0
                    - (cl_mom[ci, 0] + cl_mom[ci, 2]) / dd
                    + 4.0 * (ex * ex * cl_mom[ci, 0] + 2.0 * ex * ey * cl_mom[ci, 1] + ey * ey * cl_mom[ci, 2]) / (dd * dd)
                )
                corr = min(max(corr, 0.5), CLUSTER_CORRECTION_MAX)
                cnt[i] += 1
                for b in range(NB):
                    tl[b] = 0.0
                _add_table(d2w, dz2s[i], corr, inv_step, tab, bzi[i], tl)
                _apply(acc, i, w_cl, ci, tl)
            continue
        if k > 0:
            sp = push_children(stack, sp, k, iy, ix, pyramid)
            continue
        for s in range(seg_start[ci], seg_start[ci + 1]):
            ax = sx0[s]
            ay = sy0[s]
            ex = sx1[s] - ax
            ey = sy1[s] - ay
            length = slen[s]
            l2 = ex * ex + ey * ey
            if can_skip:
                # the segment's distance from the block centre, less the block's radius
                t = 0.0
                if l2 > 0.0:
                    t = min(max(((cx - ax) * ex + (cy - ay) * ey) / l2, 0.0), 1.0)
                dlo = max(math.sqrt((cx - ax - t * ex) ** 2 + (cy - ay - t * ey) ** 2) - rb, 0.0)
                if _skip_block(budget.seg_abs, s, _excess(dlo, budget) / ((dlo * dlo + dz2min) * DIV_CONSTANT), share_of, room, used):
                    continue
            lim2 = (ratio * length) * (ratio * length)
            for i in range(nb):
                px = bx[i] - ax
                py = by[i] - ay
                dz2 = dz2s[i]
                # fast path: seen from at least ratio x its length, a segment is one point at its midpoint
                mx = px - 0.5 * ex
                my = py - 0.5 * ey
                dm2 = mx * mx + my * my
                dm = math.sqrt(dm2)
                lb = dm - 0.5 * length
                if lb > 0.0 and lb * lb + dz2 >= lim2:
                    if dm2 <= cut2:
                        cnt[i] += 1
                        for b in range(NB):
                            tl[b] = 0.0
                        _add_table(dm2, dz2, length, inv_step, tab, bzi[i], tl)
                        _apply(acc, i, w_seg, s, tl)
                    continue
                n, li, ux, uy, stx, sty = split_segment(px, py, ex, ey, l2, length, dz2, cut2, ratio)
                if n == 0:
                    continue
                for b in range(NB):
                    tl[b] = 0.0
                hit = False
                for _j in range(n):
                    dp2 = ux * ux + uy * uy
                    ux -= stx
                    uy -= sty
                    if dp2 > cut2:
                        continue
                    hit = True
                    cnt[i] += 1
                    _add_table(dp2, dz2, li, inv_step, tab, bzi[i], tl)
                if hit:
                    _apply(acc, i, w_seg, s, tl)


@njit(cache=True, parallel=True)
def change_energy(
    receivers: Receivers,
    segments: Segments,
    w_seg: FloatArray,
    pyramid: Pyramid,
    clusters: ClusterPowers,
    settings: ChangeSettings,
    table: TransferTable,
    budget: ChangeBudget,
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Energy change (linear, n_receptors, n_periods, 8) at receptors in blocks, the point-source
    evaluations per receptor and the energy charged to each receptor's budget (n_receptors, n_periods).

    Arguments as for :func:`ldtkit.model.kernels.noise.map_energy` (open field, non-empty ``table``), with ``w_seg`` and ``clusters``
    the power *changes* and ``budget`` the error budget of every receptor (:class:`ChangeBudget`;
    all zero: nothing is skipped). Blocks run in parallel.
    """
    rx, ry, rz, z_index, block_start = receivers.x, receivers.y, receivers.z, receivers.z_index, receivers.block_start
    cutoff = settings.cutoff_m
    nr = rx.shape[0]
    npd = w_seg.shape[1]
    out = np.zeros((nr, npd, NB))
    count = np.zeros(nr, dtype=np.int64)
    nblocks = block_start.shape[0] - 1
    used = np.zeros((nr, npd))
    top = pyramid.level_nx.shape[0] - 1
    ctop = pyramid.cell_m * (1 << top)
    for j in prange(nblocks):
        lo = block_start[j]
        hi = block_start[j + 1]
        span = 0.0
        for i in range(lo, hi):
            span = max(span, abs(rx[i] - rx[lo]), abs(ry[i] - ry[lo]))
        nstack = (int(2.0 * (cutoff + 2.0 * span) / ctop) + 5) ** 2 + 4 * (top + 2)
        stack = np.empty((nstack, 3), dtype=np.int64)
        _block_change(
            rx[lo:hi], ry[lo:hi], rz[lo:hi], z_index[lo:hi], segments, w_seg, pyramid, clusters, settings, table, budget,
            budget.allowed[lo:hi], out[lo:hi], count[lo:hi], used[lo:hi], stack,
        )  # fmt: skip
    return out, count, used
