"""Numba kernels of terrain in noise maps: bilinear ground elevation and the ground under each path.

:func:`bilinear_many` samples a regular elevation grid; the map kernel :func:`terrain_energy` evaluates
every source–receptor pair over the mean plane of the ground profile sampled along it (CNOSSOS-EU
Annex II 2.5.11), with diffraction over the terrain where it rises above the line of sight (2.5.21).
Only hot loops live here; :mod:`ldtkit.model.noise.terrain` prepares the grid.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from ldtkit.model.kernels.noise import (
    C_SOUND,
    DIV_CONSTANT,
    MAX_CROSSINGS,
    MAX_DIF_DB,
    NB,
    BandTerms,
    Ground,
    Obstacles,
    ScreenScratch,
    Segments,
    screen_scratch,
    split_segment,
    trace_crossings,
)
from ldtkit.model.kernels.noise import arc_length as _arc
from ldtkit.model.kernels.noise import dif_lin as _dif_lin
from ldtkit.model.kernels.noise import dif_scale as _dif_scale
from ldtkit.model.kernels.noise import ground_amp as _ground_amp
from ldtkit.model.kernels.noise import hull_delta as _delta
from ldtkit.model.kernels.noise import hull_inner as _hull_inner
from ldtkit.model.kernels.noise import upper_hull as _upper_hull

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@njit(cache=True)
def bilinear(z: FloatArray, x0: float, y0: float, step: float, x: float, y: float) -> float:
    """Elevation at (x, y) on the grid ``z`` (ny, nx) of cell centres (x0 + j·step, y0 + i·step); NaN outside."""
    ny, nx = z.shape
    u = (x - x0) / step
    v = (y - y0) / step
    if not (u >= -1e-9 and v >= -1e-9 and u <= nx - 1 + 1e-9 and v <= ny - 1 + 1e-9):
        return math.nan
    j = min(max(int(math.floor(u)), 0), nx - 2)
    i = min(max(int(math.floor(v)), 0), ny - 2)
    fu = u - j
    fv = v - i
    out: float = (z[i, j] * (1.0 - fu) + z[i, j + 1] * fu) * (1.0 - fv) + (z[i + 1, j] * (1.0 - fu) + z[i + 1, j + 1] * fu) * fv
    return out


@njit(cache=True)
def bilinear_many(z: FloatArray, x0: float, y0: float, step: float, x: FloatArray, y: FloatArray, out: FloatArray) -> None:
    """:func:`bilinear` at every point (x[k], y[k]) into ``out[k]``."""
    for k in range(len(x)):
        out[k] = bilinear(z, x0, y0, step, x[k], y[k])


# --------------------------------------------------------------------------- maps over terrain
class TerrainGrid(NamedTuple):
    """The ground of a map: elevations ``z`` (ny, nx) at the cell centres (x0 + j·step, y0 + i·step), the
    cells without data flagged in ``hole`` (an integer mask: the map kernels compile with fastmath, which
    assumes no NaN), and the spacing of the profile samples along each path (``sample_m``, at most
    ``max_samples`` samples: longer paths are sampled more coarsely)."""

    z: FloatArray
    x0: float
    y0: float
    step: float
    sample_m: float
    max_samples: int
    hole: npt.NDArray[np.uint8]  # (ny, nx) 1 where ``z`` has no data (its value there is 0)


class TerrainScratch(NamedTuple):
    """Per-thread work arrays of :func:`terrain_transfer`: the profile (distance, ground elevation, top:
    the ground or a roof), the hull polyline and the per-band amplitudes."""

    s: FloatArray  # (max_samples + MAX_CROSSINGS + 2,)
    z: FloatArray
    top: FloatArray
    hull: IntArray
    px: FloatArray
    pz: FloatArray
    amp: FloatArray  # (4, 8) 10^(-A_ground/20): side H, F; other side H, F
    t_h: FloatArray  # (8,) 10^(-A/10), homogeneous
    t_f: FloatArray  # (8,) favourable
    tr: FloatArray  # (8,) transfer of one point source
    tl: FloatArray  # (8,) transfer summed over a segment's point sources


@njit(cache=True)
def terrain_scratch(max_samples: int) -> TerrainScratch:
    """Fresh work arrays for :func:`terrain_transfer` (one per thread)."""
    n = max_samples + MAX_CROSSINGS + 2
    return TerrainScratch(
        np.empty(n), np.empty(n), np.empty(n), np.empty(n, dtype=np.int64), np.empty(n), np.empty(n),
        np.empty((4, NB)), np.empty(NB), np.empty(NB), np.empty(NB), np.empty(NB),
    )  # fmt: skip


@njit(cache=True, fastmath=True)
def _mean_plane(s: FloatArray, z: FloatArray, i0: int, i1: int) -> tuple[float, float]:
    """Least-squares line z = a·(s - s[i0]) + b of the piecewise-linear ground (s, z)[i0..i1] (Annex II 2.5.11)."""
    s1 = 0.0
    sx = 0.0
    sxx = 0.0
    sz = 0.0
    sxz = 0.0
    o = s[i0]
    for k in range(i0, i1):
        x0 = s[k] - o
        x1 = s[k + 1] - o
        z0 = z[k]
        z1 = z[k + 1]
        h = x1 - x0
        s1 += h
        sx += h * (x0 + x1) / 2.0
        sxx += h * (x0 * x0 + x0 * x1 + x1 * x1) / 3.0
        sz += h * (z0 + z1) / 2.0
        sxz += h * (x0 * (2.0 * z0 + z1) + x1 * (z0 + 2.0 * z1)) / 6.0
    det = sxx * s1 - sx * sx
    if s1 <= 0.0 or det <= 0.0:
        return 0.0, z[i0]
    a = (sxz * s1 - sx * sz) / det
    return a, (sz - a * sx) / s1


@njit(cache=True, fastmath=True)
def _side(
    s: FloatArray, z: FloatArray, i0: int, i1: int, z0: float, z1: float, end0: bool, end1: bool, g_path: float, g_source: float,
    sc: ScreenScratch, amp_h: FloatArray, amp_f: FloatArray,
) -> tuple[float, float]:  # fmt: skip
    """Ground amplitudes (H, F) over the mean plane of the ground samples i0..i1, the path's ends at
    elevations ``z0``, ``z1``; returns the plane (a, b), b at s[i0]. An end that is the source or the
    receiver (``end0``, ``end1``) below the plane is on it; a diffraction edge below it is at its distance."""
    a, b = _mean_plane(s, z, i0, i1)
    length = s[i1] - s[i0]
    norm = math.sqrt(1.0 + a * a)
    h0 = (z0 - b) / norm
    h1 = (z1 - (a * length + b)) / norm
    zs = max(h0, 0.0) if end0 else abs(h0)
    zr = max(h1, 0.0) if end1 else abs(h1)
    if zs + zr <= 0.0:
        zs = 1e-3
        zr = 1e-3
    dp = abs((length + a * (z1 - b)) / norm - a * (z0 - b) / norm)
    _ground_amp(max(dp, 1e-6), zs, zr, g_path, g_source, sc, amp_h, amp_f)
    return a, b


@njit(cache=True, fastmath=True)
def _mirror(ps: float, pz: float, a: float, b: float, s0: float) -> tuple[float, float]:
    """Image of the point (ps, pz) in the line z = a·(s - s0) + b."""
    norm = math.sqrt(1.0 + a * a)
    dx = 1.0 / norm
    dz = a / norm
    qx = ps - s0
    qz = pz - b
    t = qx * dx + qz * dz
    return s0 + 2.0 * t * dx - qx, b + 2.0 * t * dz - qz


@njit(cache=True, fastmath=True)
def _a_dif(
    m: int, dp: float, zs: float, zr: float, gamma: float, a_s: float, b_s: float, a_r: float, b_r: float, s_on: float,
    amp_so: FloatArray, amp_or: FloatArray, sc: ScreenScratch, ts: TerrainScratch, out: FloatArray,
) -> None:  # fmt: skip
    """10^(-A_dif/10) per band over the hull ``ts.px, ts.pz`` [0:m] (S = (0, zs), R = (dp, zr) elevations):
    min(Δdif(S,R), 25) + Δground(S,O) + Δground(O,R), the images of S and R in their sides' mean planes."""
    px, pz = ts.px, ts.pz
    inv_e2, inner = _hull_inner(px, pz, m, gamma)
    d_sr = _delta(px, pz, m, 0.0, zs, dp, zr, gamma, inner)
    si, sz = _mirror(0.0, zs, a_s, b_s, 0.0)
    ri, rz = _mirror(dp, zr, a_r, b_r, s_on)
    d_s = _delta(px, pz, m, si, sz, dp, zr, gamma, inner)
    d_r = _delta(px, pz, m, 0.0, zs, ri, rz, gamma, inner)
    cap = 10.0 ** (-MAX_DIF_DB / 10.0)
    for b in range(NB):
        scale = _dif_scale(inv_e2, sc.k40[b], sc.lam2_25[b])
        l_sr = _dif_lin(d_sr, scale)
        q_s = 1.0 + (amp_so[b] - 1.0) * math.sqrt(l_sr / _dif_lin(d_s, scale))
        q_r = 1.0 + (amp_or[b] - 1.0) * math.sqrt(l_sr / _dif_lin(d_r, scale))
        out[b] = max(1.0 / l_sr, cap) * (q_s * q_s) * (q_r * q_r)


@njit(cache=True, fastmath=True)
def _arc_rise(s: float, half: float, gamma: float) -> float:
    """How much lower than a straight ray an arc of radius ``gamma`` (0: straight) through the path's ends is, at ``s``."""
    if gamma <= 0.0:
        return 0.0
    return math.sqrt(gamma * gamma - (s - half) ** 2) - math.sqrt(gamma * gamma - half * half)


@njit(cache=True, fastmath=True)
def _signed_delta(s0: float, z0: float, os: float, oz: float, s1: float, z1: float, gamma: float) -> float:
    """Path difference S → O → R against S–R, negative when O lies below the ray (arcs of radius ``gamma``
    when > 0: for O below the ray 2·SA + 2·AR − SO − OR − SR with A on the chord above O)."""
    so = math.sqrt((os - s0) ** 2 + (oz - z0) ** 2)
    orr = math.sqrt((s1 - os) ** 2 + (z1 - oz) ** 2)
    sr = math.sqrt((s1 - s0) ** 2 + (z1 - z0) ** 2)
    ux = (s1 - s0) / sr
    uz = (z1 - z0) / sr
    above = ((oz - z0) * ux - (os - s0) * uz) * (1.0 if ux >= 0.0 else -1.0)
    if gamma > 0.0:
        if above >= 0.0:
            return _arc(so, gamma) + _arc(orr, gamma) - _arc(sr, gamma)
        sa = (os - s0) * ux + (oz - z0) * uz
        return 2.0 * (_arc(sa, gamma) + _arc(sr - sa, gamma)) - _arc(so, gamma) - _arc(orr, gamma) - _arc(sr, gamma)
    return so + orr - sr if above >= 0.0 else sr - so - orr


@njit(cache=True, fastmath=True)
def _rayleigh(
    n: int, dp: float, zs: float, zr: float, gamma: float, row: int, ground: Ground, sc: ScreenScratch, ts: TerrainScratch,
    out: FloatArray,
) -> None:  # fmt: skip
    """Line of sight clear: where the terrain point nearest to the ray still diffracts (Rayleigh criterion of
    2021/1226, δ > −λ/20 and δ > λ/4 − δ*, δ* between the images of S and R), A_dif over it replaces the
    ground term in ``out`` (as :func:`ldtkit.model.noise.diffraction.profile_attenuation`)."""
    s, z, top = ts.s, ts.z, ts.top
    half = 0.5 * dp
    best = 0.0
    o = -1
    for k in range(1, n - 1):
        # the candidate edges are the breaks of slope of the profile's tops (roofs always): on a straight
        # stretch a point is no edge, and the highest point above the ray is at a break
        span = s[k + 1] - s[k - 1]
        if abs((s[k] - s[k - 1]) * (top[k + 1] - top[k - 1]) - (top[k] - top[k - 1]) * span) <= 1e-6 * span:
            continue
        h = top[k] - _arc_rise(s[k], half, gamma) - (zs + (zr - zs) * s[k] / dp)
        if o < 0 or h > best:  # no infinity as a start: fastmath assumes there is none
            best = h
            o = k
    if o < 0:
        return
    os, oz = s[o], top[o]
    delta = _signed_delta(0.0, zs, os, oz, dp, zr, gamma)
    if delta <= -C_SOUND / sc.freqs[0] / 20.0:  # below -λ/20 of the longest wave: no band admitted
        return
    a_s, b_s = _side(s, z, 0, o, zs, oz, True, False, ground.g_path, ground.g_source, sc, ts.amp[0], ts.amp[1])
    a_r, b_r = _side(s, z, o, n - 1, oz, zr, False, True, ground.g_path, ground.g_path, sc, ts.amp[2], ts.amp[3])
    si, sz = _mirror(0.0, zs, a_s, b_s, 0.0)
    ri, rz = _mirror(dp, zr, a_r, b_r, os)
    d_star = _signed_delta(si, sz, os, oz, ri, rz, gamma)
    d_s = _signed_delta(si, sz, os, oz, dp, zr, gamma)
    d_r = _signed_delta(0.0, zs, os, oz, ri, rz, gamma)
    cap = 10.0 ** (-MAX_DIF_DB / 10.0)
    for b in range(NB):
        lam = C_SOUND / sc.freqs[b]
        if not (delta > -lam / 20.0 and delta > lam / 4.0 - d_star):
            continue
        scale = sc.k40[b]
        l_sr = _dif_lin(delta, scale)
        q_s = 1.0 + (ts.amp[row, b] - 1.0) * math.sqrt(l_sr / _dif_lin(d_s, scale))
        q_r = 1.0 + (ts.amp[2 + row, b] - 1.0) * math.sqrt(l_sr / _dif_lin(d_r, scale))
        out[b] = max(1.0 / l_sr, cap) * (q_s * q_s) * (q_r * q_r)


@njit(cache=True, fastmath=True)
def _condition(
    n: int, dp: float, zs: float, zr: float, gamma: float, favourable: bool, ground: Ground, sc: ScreenScratch,
    ts: TerrainScratch, out: FloatArray, out_f: FloatArray,
) -> bool:  # fmt: skip
    """10^(-A/10) per band in one condition: A_ground over the mean plane of the whole profile when the
    terrain and the roofs stay below the ray, else A_dif over the upper convex hull of their tops (the
    mean planes of either side are the terrain's, as over flat ground).

    In homogeneous conditions with the line of sight clear, the favourable conditions' ground term goes
    into ``out_f`` as well and True is returned: curved rays clear what straight rays clear (bending
    adds a convex function to the heights), so only the Rayleigh criterion remains to be applied to them."""
    s, z, top, hull = ts.s, ts.z, ts.top, ts.hull
    # the profile's ends are the source and the receiver themselves while the hull is taken
    zg0 = top[0]
    zgn = top[n - 1]
    top[0] = zs
    top[n - 1] = zr
    m = _upper_hull(s, top, n, gamma if favourable else 0.0, 0.5 * dp, hull)
    top[0] = zg0
    top[n - 1] = zgn
    row = 1 if favourable else 0
    if m <= 2:
        _side(s, z, 0, n - 1, zs, zr, True, True, ground.g_path, ground.g_source, sc, ts.amp[0], ts.amp[1])
        for b in range(NB):
            out[b] = ts.amp[row, b] * ts.amp[row, b]
            if not favourable:
                out_f[b] = ts.amp[1, b] * ts.amp[1, b]
        if n > 2:
            _rayleigh(n, dp, zs, zr, gamma if favourable else 0.0, row, ground, sc, ts, out)
        return not favourable
    for k in range(m):
        ts.px[k] = s[hull[k]]
        ts.pz[k] = zs if k == 0 else (zr if k == m - 1 else top[hull[k]])
    o1 = hull[1]
    on = hull[m - 2]
    a_s, b_s = _side(s, z, 0, o1, zs, top[o1], True, False, ground.g_path, ground.g_source, sc, ts.amp[0], ts.amp[1])
    a_r, b_r = _side(s, z, on, n - 1, top[on], zr, False, True, ground.g_path, ground.g_path, sc, ts.amp[2], ts.amp[3])
    _a_dif(m, dp, zs, zr, gamma if favourable else 0.0, a_s, b_s, a_r, b_r, s[on], ts.amp[row], ts.amp[2 + row], sc, ts, out)
    return False


@njit(cache=True)
def _sample_profile(grid: TerrainGrid, sx: float, sy: float, dx: float, dy: float, dp: float, n: int, s: FloatArray, z: FloatArray) -> bool:
    """The ground at ``n`` evenly spaced points from (sx, sy) along (dx, dy) into ``s`` (distance) and ``z``;
    False at the first point outside the grid or next to a cell without data (tested on the integer mask:
    called from fastmath code, a NaN test could be assumed away)."""
    zg, hole = grid.z, grid.hole
    ny, nx = zg.shape
    for k in range(n):
        t = k / (n - 1)
        s[k] = t * dp
        u = (sx + t * dx - grid.x0) / grid.step
        v = (sy + t * dy - grid.y0) / grid.step
        if not (u >= -1e-9 and v >= -1e-9 and u <= nx - 1 + 1e-9 and v <= ny - 1 + 1e-9):
            return False
        j = min(max(int(math.floor(u)), 0), nx - 2)
        i = min(max(int(math.floor(v)), 0), ny - 2)
        if hole[i, j] + hole[i, j + 1] + hole[i + 1, j] + hole[i + 1, j + 1] > 0:
            return False
        fu = u - j
        fv = v - i
        z[k] = (zg[i, j] * (1.0 - fu) + zg[i, j + 1] * fu) * (1.0 - fv) + (zg[i + 1, j] * (1.0 - fu) + zg[i + 1, j + 1] * fu) * fv
    return True


@njit(cache=True, fastmath=True)
def terrain_transfer(
    sx: float, sy: float, hs: float, rx: float, ry: float, hr: float, grid: TerrainGrid, ground: Ground, sc: ScreenScratch,
    ts: TerrainScratch, obst: Obstacles,
) -> bool:  # fmt: skip
    """Linear transfer per band of one point source at height ``hs`` above the ground to a receiver at ``hr``
    above it, over the terrain profile sampled along the path, into ``ts.tr``:
    10^(-(A_div + A_atm)/10) · (p·10^(-A_F/10) + (1-p)·10^(-A_H/10)), A the ground term over the mean
    plane of the profile (2.5.11, 2.5.15-2.5.20) or, where the terrain rises above the ray (straight in
    homogeneous conditions, an arc of radius max(1000, 8d) in favourable ones), the diffraction over its
    upper convex hull with the ground of either side (2.5.21). The roofs of the buildings in ``obst`` that the
    path crosses (their heights above the ground there) join the terrain's tops. False (``ts.tr`` untouched)
    where the path leaves the terrain or crosses a nodata hole."""
    dx = rx - sx
    dy = ry - sy
    dp = math.sqrt(dx * dx + dy * dy)
    dp = max(dp, 0.01)
    n = min(max(int(math.ceil(dp / grid.sample_m)) + 1, 2), grid.max_samples)
    s, z, top = ts.s, ts.z, ts.top
    if not _sample_profile(grid, sx, sy, dx, dy, dp, n, ts.px, ts.pz):
        return False
    nc = trace_crossings(rx, ry, sx, sy, obst, sc.cs, sc.ch, sc.ce) if obst.cell_parts.shape[0] > 0 else 0
    # the samples and the roof crossings merged by distance; a roof stands on the ground under it
    i = 0
    j = 0
    for k in range(n + nc):
        if j < nc and (i >= n or sc.cs[j] < ts.px[i]):
            i0 = min(max(i - 1, 0), n - 2)
            f = min(max((sc.cs[j] - ts.px[i0]) / (ts.px[i0 + 1] - ts.px[i0]), 0.0), 1.0)
            s[k] = sc.cs[j]
            z[k] = ts.pz[i0] + f * (ts.pz[i0 + 1] - ts.pz[i0])
            top[k] = z[k] + sc.ch[j]
            j += 1
        else:
            s[k] = ts.px[i]
            z[k] = ts.pz[i]
            top[k] = ts.pz[i]
            i += 1
    n += nc
    zs = z[0] + hs
    zr = z[n - 1] + hr
    d = math.sqrt(dp * dp + (zr - zs) * (zr - zs))
    gamma = max(1000.0, 8.0 * d)
    if _condition(n, dp, zs, zr, gamma, False, ground, sc, ts, ts.t_h, ts.t_f):
        if n > 2:
            _rayleigh(n, dp, zs, zr, gamma, 1, ground, sc, ts, ts.t_f)
    else:
        _condition(n, dp, zs, zr, gamma, True, ground, sc, ts, ts.t_f, ts.t_f)
    div = 1.0 / (d * d * DIV_CONSTANT)
    p = ground.p_favourable
    for b in range(NB):
        ts.tr[b] = div * math.exp(-sc.air_per_m[b] * d) * (p * ts.t_f[b] + (1.0 - p) * ts.t_h[b])
    return True


@njit(cache=True, parallel=True)
def terrain_energy(
    rx: FloatArray, ry: FloatArray, rh: FloatArray, segments: Segments, w_seg: FloatArray, source_height_m: float, cutoff_m: float,
    spacing_ratio: float, grid: TerrainGrid, ground: Ground, bands: BandTerms, obst: Obstacles,
) -> tuple[FloatArray, IntArray, IntArray]:  # fmt: skip
    """Band energies (linear) at each receptor (n, n_periods, 8) over terrain, the number of point sources
    evaluated per receptor and the number of its paths the terrain does not cover.

    Receptors (heights ``rh`` above the ground) are processed in parallel; every segment is split into
    point sources as in :func:`ldtkit.model.kernels.noise.map_energy` without far-field cells (one point at
    its midpoint when seen from ratio x its length, else n parts of length ≤ max(1 m, d_min/ratio)), and
    each source–receptor pair evaluated by :func:`terrain_transfer`, screened by the buildings of ``obst``
    (none: open field).
    """
    nr = rx.shape[0]
    npd = w_seg.shape[1]
    out = np.zeros((nr, npd, NB))
    count = np.zeros(nr, dtype=np.int64)
    missed = np.zeros(nr, dtype=np.int64)
    cut2 = cutoff_m * cutoff_m
    zs = source_height_m
    sx0, sy0, sx1, sy1, slen = segments.x0, segments.y0, segments.x1, segments.y1, segments.length_m
    for i in prange(nr):
        sc = screen_scratch(bands)
        ts = terrain_scratch(grid.max_samples)
        tl = ts.tl
        dz2 = (rh[i] - zs) * (rh[i] - zs)
        for sg in range(sx0.shape[0]):
            ax = sx0[sg]
            ay = sy0[sg]
            ex = sx1[sg] - ax
            ey = sy1[sg] - ay
            length = slen[sg]
            px = rx[i] - ax
            py = ry[i] - ay
            mx = px - 0.5 * ex
            my = py - 0.5 * ey
            dm2 = mx * mx + my * my
            dm = math.sqrt(dm2)
            lb = dm - 0.5 * length
            lim2 = (spacing_ratio * length) * (spacing_ratio * length)
            if lb > 0.0 and lb * lb + dz2 >= lim2:
                n = 1
                li = length
                ux = mx
                uy = my
                stx = 0.0
                sty = 0.0
            else:
                n, li, ux, uy, stx, sty = split_segment(px, py, ex, ey, ex * ex + ey * ey, length, dz2, cut2, spacing_ratio)
                if n == 0:
                    continue
            for b in range(NB):
                tl[b] = 0.0
            hit = False
            for _j in range(n):
                dp2 = ux * ux + uy * uy
                qx = ux
                qy = uy
                ux -= stx
                uy -= sty
                if dp2 > cut2:
                    continue
                if not terrain_transfer(rx[i] - qx, ry[i] - qy, zs, rx[i], ry[i], rh[i], grid, ground, sc, ts, obst):
                    missed[i] += 1
                    continue
                hit = True
                count[i] += 1
                for b in range(NB):
                    tl[b] += li * ts.tr[b]
            if hit:
                for m in range(npd):
                    for b in range(NB):
                        out[i, m, b] += w_seg[sg, m, b] * tl[b]
    return out, count, missed
