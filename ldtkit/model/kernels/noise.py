"""Numba kernels for CNOSSOS-EU road noise: emission per link, propagation per path and maps.

Only hot loops live here; :mod:`ldtkit.model.noise` prepares arrays and wraps the results.
Bands are the eight octaves 63 Hz–8 kHz throughout.

Kernel arguments come in named groups (:class:`typing.NamedTuple` of arrays and scalars, which
numba compiles like plain arguments): the road tables of emission (:class:`EmissionTables`,
:class:`SurfaceTable`, :class:`LinkConditions`) and, for maps, the receivers
(:class:`Receivers`), the source segments (:class:`Segments`), the pyramid of source cells
(:class:`Pyramid`, :class:`ClusterPowers`), the propagation settings (:class:`MapSettings`,
:class:`Ground`), the per-band constants (:class:`BandTerms`) and the tabulated transfer
(:class:`TransferTable`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar, cast

import numpy as np
import numpy.typing as npt
from numba import njit, prange

#: Float and integer arrays as the kernels take them (C-contiguous float64 / int64).
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

NB = 8
LOG10_E = 0.4342944819032518
#: 10^1.1: the constant of geometric divergence A_div = 20 lg d + 11 in linear form.
DIV_CONSTANT = 12.589254117941673
_F = TypeVar("_F", bound=Callable[..., Any])


def hot_njit(fn: _F) -> _F:
    """``njit(cache=True, fastmath=True)`` without reference counting, for the kernels on the hot path,
    which allocate nothing. numba otherwise increments and decrements (atomically) the count of every
    array such a function receives, on every call: for a screened path that cost more than its
    arithmetic, and the counts of the building arrays, shared by the threads, bounced between the cores."""
    return cast(_F, njit(cache=True, fastmath=True, _nrt=False)(fn))  # type: ignore[call-overload]


def inline_njit(fn: _F) -> _F:
    """:func:`hot_njit` for the small helpers of the path walks that take arrays, inlined by numba into every
    caller: left to LLVM, such a call per part and per edge was not inlined, and cost 10 % per pair on
    Porto (helpers of scalars only, such as :func:`exp_fast`, are inlined either way)."""
    return cast(_F, njit(cache=True, fastmath=True, _nrt=False, inline="always")(fn))  # type: ignore[call-overload]


#: Range and step of :func:`exp_fast`'s table of e^x (the step's inverse).
EXP_MIN = -96.0
EXP_MAX = 8.0
EXP_PER_STEP = 8.0
#: e^x every 1/8 from EXP_MIN to EXP_MAX.
EXP_TABLE = np.exp(EXP_MIN + np.arange(int((EXP_MAX - EXP_MIN) * EXP_PER_STEP) + 1) / EXP_PER_STEP)
#: ln 10, to write 10^y as e^(y·ln 10).
LN10 = 2.302585092994046


# --------------------------------------------------------------------------- argument groups
class EmissionTables(NamedTuple):
    """Tables F-1 to F-3 of one coefficient set (c categories), see :class:`~ldtkit.model.noise.tables.RoadCoefficients`."""

    AR: FloatArray  # (c, 8) rolling noise
    BR: FloatArray  # (c, 8)
    AP: FloatArray  # (c, 8) propulsion noise
    BP: FloatArray  # (c, 8)
    K_temp: FloatArray  # (c,) dB/°C on rolling noise
    a_stud: FloatArray  # (8,) Table F-2, category index 0 only
    b_stud: FloatArray  # (8,)
    CR: FloatArray  # (3, c) junction correction by type k (row 0 = no junction), rolling
    CP: FloatArray  # (3, c) the same for propulsion
    v_ref_kmh: float
    T_ref_C: float


class SurfaceTable(NamedTuple):
    """Table F-4 rows of the surfaces in use (s surfaces)."""

    alpha: FloatArray  # (s, c, 8)
    beta: FloatArray  # (s, c)


class LinkConditions(NamedTuple):
    """Per-link (n links) road and weather conditions of emission."""

    surface_idx: IntArray  # row of SurfaceTable per link
    temperature_c: FloatArray
    p_stud: FloatArray  # share of studded tyres × months used / 12
    gradient_pct: FloatArray  # positive uphill
    junction_k: IntArray  # 0 none, 1 lights, 2 roundabout
    junction_x_m: FloatArray  # distance to the junction


class Ground(NamedTuple):
    """Ground factors and the occurrence of favourable conditions of a map."""

    g_path: float
    g_source: float
    p_favourable: float


class BandTerms(NamedTuple):
    """Per-band constants of the ground and air terms, shape (8,) each."""

    k_per_m: FloatArray  # wave number 2πf/c
    f_2_5: FloatArray  # f^2.5, f^1.5 and f^0.75 of w (eq. 2.5.16)
    f_1_5: FloatArray
    f_0_75: FloatArray
    w_path: FloatArray  # w at G_path
    air_per_m: FloatArray  # air absorption as a natural-log rate: α (dB/km) / 1000 · ln 10 / 10


class TransferTable(NamedTuple):
    """Excess transfer tabulated every ``step_m`` of projected distance (see :func:`transfer_table`).

    ``values`` has shape (n_heights, n_steps, 8); an empty table (0, 2, 8) means exact evaluation per pair.
    """

    values: FloatArray
    step_m: float


class Receivers(NamedTuple):
    """Receptors in block order: block ``j`` is rows ``block_start[j]:block_start[j+1]``."""

    x: FloatArray
    y: FloatArray
    z: FloatArray
    z_index: IntArray  # row of TransferTable.values (receptor height)
    block_start: IntArray


class Segments(NamedTuple):
    """Straight source segments sorted by level-0 pyramid cell.

    Cell ``c`` holds rows ``cell_start[c]:cell_start[c+1]``; ``cell[s]`` is the cell of segment ``s``.
    """

    x0: FloatArray
    y0: FloatArray
    x1: FloatArray
    y1: FloatArray
    length_m: FloatArray
    cell: IntArray
    cell_start: IntArray


class Pyramid(NamedTuple):
    """Nested grid cells of sources: level k has cells of ``cell_m·2^k``, row-major from ``(x0, y0)``.

    Cell ``i`` of level ``k`` is entry ``level_offset[k] + i`` of the per-cell arrays: the length-weighted
    centroid ``(x, y)``, the radius ``rho_m`` (farthest segment end from it) and the source length. A cell
    acts as one point source when seen from at least ``theta·rho_m`` (``inf``: never).
    """

    level_nx: IntArray
    level_ny: IntArray
    level_offset: IntArray
    x: FloatArray
    y: FloatArray
    rho_m: FloatArray
    length_m: FloatArray
    x0: float
    y0: float
    cell_m: float
    theta: float


class ClusterPowers(NamedTuple):
    """Per pyramid cell: summed power (n_cells, n_periods, 8), power centroid and its second moments (n_cells, 3)."""

    power: FloatArray
    x: FloatArray
    y: FloatArray
    moments: FloatArray


class MapSettings(NamedTuple):
    """Source height, cutoff (projected) and the point-source spacing ratio of a map, and the pruning of
    screened paths: ``prune_epsilon`` (0: none) is the share of each receptor's A-weighted energy per
    period that the point sources beyond ``near_m`` may leave out when their bound is that small (see
    :func:`map_energy`); ``a_weight`` the linear A-weighting per band."""

    source_height_m: float
    cutoff_m: float
    spacing_ratio: float
    near_m: float
    prune_epsilon: float
    a_weight: FloatArray


@njit(cache=True, fastmath=True)
def exp_fast(x: float) -> float:
    """e^x for EXP_MIN ≤ x ≤ EXP_MAX (clamped outside) within 1e-10 relative: the nearest tabulated
    e^(i/8) times a degree-5 polynomial of the remainder (|r| ≤ 1/16, error r^6/720): one table
    read and a few multiplications where ``math.exp`` and ``**`` are library calls."""
    y = (min(max(x, EXP_MIN), EXP_MAX) - EXP_MIN) * EXP_PER_STEP
    i = int(y + 0.5)
    r = (y - i) * (1.0 / EXP_PER_STEP)
    e: float = EXP_TABLE[i] * (1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0))))))
    return e


# --------------------------------------------------------------------------- emission
@njit(cache=True)
def _gradient_correction(cat: int, v: float, s: float) -> float:
    """Propulsion gradient correction ΔL_WP,grad (Annex II 2.2.13–2.2.16), s in % (positive uphill)."""
    if cat == 0:
        if s < -6.0:
            return min(12.0, -s) - 6.0
        if s > 2.0:
            return v / 100.0 * (min(12.0, s) - 2.0) / 1.5
        return 0.0
    if cat == 1:
        if s < -4.0:
            return (v - 20.0) / 100.0 * (min(12.0, -s) - 4.0) / 0.7
        if s > 0.0:
            return v / 100.0 * min(12.0, s)
        return 0.0
    if cat == 2:
        if s < -4.0:
            return (v - 10.0) / 100.0 * (min(12.0, -s) - 4.0) / 0.5
        if s > 0.0:
            return v / 100.0 * min(12.0, s) / 0.8
        return 0.0
    return 0.0


@njit(cache=True)
def emission_links(
    flows: FloatArray, speeds: FloatArray, tables: EmissionTables, surfaces: SurfaceTable, links: LinkConditions
) -> FloatArray:
    """Directional line-source power L'_W,eq,line per link and band (dB re 1 pW/m).

    ``flows``, ``speeds``: (n links, c categories) hourly flow (veh/h) and mean speed (km/h).
    Returns (n, 8); ``-inf`` where a link has no flow.
    """
    AR, BR, AP, BP = tables.AR, tables.BR, tables.AP, tables.BP
    v_ref, T_ref = tables.v_ref_kmh, tables.T_ref_C
    alpha, beta = surfaces.alpha, surfaces.beta
    n, nc = flows.shape
    out = np.full((n, NB), -np.inf)
    for i in range(n):
        s_i = links.surface_idx[i]
        jk = links.junction_k[i]
        jfac = 0.0
        if jk > 0:
            jfac = max(1.0 - abs(links.junction_x_m[i]) / 100.0, 0.0)
        for b in range(NB):
            tot = 0.0
            for c in range(nc):
                q = flows[i, c]
                if q <= 0.0:
                    continue
                v = max(speeds[i, c], 20.0)
                lgv = math.log10(v / v_ref)
                # propulsion
                lwp = AP[c, b] + BP[c, b] * (v - v_ref) / v_ref
                lwp += min(alpha[s_i, c, b], 0.0)
                lwp += _gradient_correction(c, v, links.gradient_pct[i])
                lwp += tables.CP[jk, c] * jfac
                e = 10.0 ** (lwp / 10.0)
                if AR[c, b] != 0.0 or BR[c, b] != 0.0:
                    lwr = AR[c, b] + BR[c, b] * lgv
                    lwr += alpha[s_i, c, b] + beta[s_i, c] * lgv
                    lwr += tables.K_temp[c] * (T_ref - links.temperature_c[i])
                    ps = links.p_stud[i]
                    if c == 0 and ps > 0.0:
                        vs = min(max(v, 50.0), 90.0)
                        d_stud = tables.a_stud[b] + tables.b_stud[b] * math.log10(vs / v_ref)
                        lwr += 10.0 * math.log10((1.0 - ps) + ps * 10.0 ** (d_stud / 10.0))
                    lwr += tables.CR[jk, c] * jfac
                    e += 10.0 ** (lwr / 10.0)
                tot += e * q / (1000.0 * v)
            if tot > 0.0:
                out[i, b] = 10.0 * math.log10(tot)
    return out


# --------------------------------------------------------------------------- propagation
A0_FAV = 2e-4  # m^-1, favourable-condition curvature a0 (2.5.19)
C_SOUND = 340.0  # m/s, celerity used for k = 2πf/c


@njit(cache=True)
def ground_w(f: float, g: float) -> float:
    """w of eq. 2.5.16 (ground parameter) for frequency f and ground factor g."""
    if g <= 0.0:
        return 0.0
    g26: float = g**2.6
    w: float = 0.0185 * f**2.5 * g26 / (f**1.5 * g26 + 1.3e3 * f**0.75 * g**1.3 + 1.16e6)
    return w


@njit(cache=True)
def ground_cf(w: float, dp: float) -> float:
    """C_f of eq. 2.5.16."""
    wd = w * dp
    return dp * (1.0 + 3.0 * wd * math.exp(-math.sqrt(wd))) / (1.0 + wd)


@njit(cache=True)
def ground_x(k: float, cf: float, dp: float, zs: float, zr: float) -> float:
    """The argument X of A_ground = -10lg(X) (eq. 2.5.15); always > 0."""
    r = math.sqrt(2.0 * cf / k)
    ck = cf / k
    return 4.0 * k * k / (dp * dp) * (zs * zs - r * zs + ck) * (zr * zr - r * zr + ck)


@njit(cache=True)
def g_prime(g_path: float, g_source: float, dp: float, zs: float, zr: float) -> float:
    """G'_path (eq. 2.5.14): source-side ground mixed in for short paths."""
    lim = 30.0 * (zs + zr)
    if dp <= lim:
        return g_path * dp / lim + g_source * (1.0 - dp / lim)
    return g_path


@njit(cache=True)
def path_terms(
    d: float,
    dp: float,
    zs: float,
    zr: float,
    g_path: float,
    g_source: float,
    freqs: FloatArray,
    alpha_atm_db_km: FloatArray,
    out: FloatArray,
) -> FloatArray:
    """All attenuation terms of one direct path over a flat mean plane, per band.

    ``out`` has shape (9, 8) and receives rows: 0 W_H, 1 C_f,H, 2 A_ground,H, 3 W_F, 4 C_f,F,
    5 A_ground,F, 6 A_atm, 7 A_div, 8 alpha_atm (dB/km). ``d`` is the 3-D distance, ``dp`` the
    projected distance on the mean plane, ``zs``/``zr`` the heights above it.
    """
    gp = g_prime(g_path, g_source, dp, zs, zr)
    lim = 30.0 * (zs + zr)
    amin_h = -3.0 * (1.0 - gp)
    if dp <= lim:
        amin_f = amin_h
    else:
        amin_f = -3.0 * (1.0 - gp) * (1.0 + 2.0 * (1.0 - lim / dp))
    dzt = 6e-3 * dp / (zs + zr)
    zsf = zs + A0_FAV * (zs / (zs + zr)) ** 2 * dp * dp / 2.0 + dzt
    zrf = zr + A0_FAV * (zr / (zs + zr)) ** 2 * dp * dp / 2.0 + dzt
    a_div = 20.0 * math.log10(d) + 11.0
    for b in range(freqs.shape[0]):
        f = freqs[b]
        k = 2.0 * math.pi * f / C_SOUND
        wh = ground_w(f, gp)
        cfh = ground_cf(wh, dp)
        if g_path == 0.0:
            agh = -3.0
        else:
            agh = max(-10.0 * math.log10(ground_x(k, cfh, dp, zs, zr)), amin_h)
        wf = ground_w(f, g_path)
        cff = ground_cf(wf, dp)
        if g_path == 0.0:
            agf = amin_f
        else:
            agf = max(-10.0 * math.log10(ground_x(k, cff, dp, zsf, zrf)), amin_f)
        out[0, b] = wh
        out[1, b] = cfh
        out[2, b] = agh
        out[3, b] = wf
        out[4, b] = cff
        out[5, b] = agf
        out[6, b] = alpha_atm_db_km[b] * d / 1000.0
        out[7, b] = a_div
        out[8, b] = alpha_atm_db_km[b]
    return out


# --------------------------------------------------------------------------- screening by buildings
#: Most building-edge crossings kept along one path (a 3 km path through a dense centre has a few hundred).
MAX_CROSSINGS = 1024
#: Largest diffraction attenuation over a horizontal edge (dB), as in the cut-profile model.
MAX_DIF_DB = 25.0
#: Times a pruned trace checks, at cells that added roofs, whether the path is already negligible.
MAX_EARLY_CHECKS = 2


class Obstacles(NamedTuple):
    """Building footprints as parts (one polygon each, outer and inner rings) bucketed in a uniform grid,
    with their edges and roof heights.

    Part ``p`` owns edges ``part_start[p]:part_start[p+1]`` (``edge_seg`` rows x, y, dx, dy: start point
    and vector to the end point, read together) and is listed in every grid cell its bounding box
    touches: cell ``c`` (row-major, ``nx`` columns from ``(x0, y0)``) lists parts
    ``cell_parts[cell_start[c]:cell_start[c+1]]``. ``part_cells`` holds each part's cell range (ix0,
    ix1, iy0, iy1) and ``part_circle`` its bounding circle (x, y, radius); ``keep`` is 1 − α of each
    edge's façade (reflections). ``cell_items`` repeats, per entry of ``cell_parts``, the part and those
    eight numbers (part, ix0, ix1, iy0, iy1, x, y, radius) so that a walk reads a cell's list in one
    stream. No part (``cell_parts`` empty): open-field propagation.
    """

    ex0: FloatArray
    ey0: FloatArray
    ex1: FloatArray
    ey1: FloatArray
    height_m: FloatArray  # roof height above ground of the edge's building
    edge_seg: FloatArray  # (n_edges, 4)
    part_start: IntArray
    part_cells: IntArray  # (n_parts, 4)
    part_circle: FloatArray  # (n_parts, 3)
    cell_start: IntArray
    cell_parts: IntArray
    cell_items: FloatArray  # (len(cell_parts), 8) per entry: part, its cell range, its circle (one cache line)
    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int
    keep: FloatArray  # (n_edges, 8) 1 − α of the edge's façade per band


class ScreenScratch(NamedTuple):
    """Per-block work arrays of the screened path: crossings (distance from the source, height), hull,
    ground amplitudes and the per-band constants; and the map kernel's per-band transfers (the kernels
    that use them allocate nothing)."""

    cs: FloatArray  # (MAX_CROSSINGS + 2,)
    ch: FloatArray
    ce: IntArray
    hull: IntArray
    hull_f: IntArray  # favourable hull, as indices into the straight one
    px: FloatArray  # hull polyline
    pz: FloatArray
    amp: FloatArray  # (6, 8) 10^(-A_ground/20): source side H, F; receiver side H, F; direct path H, F
    tr: FloatArray  # (8,) screened transfer
    a_h: FloatArray  # (8,) 10^(-A/10) of A_dif or A_ground, homogeneous
    a_f: FloatArray  # (8,) the same, favourable
    freqs: FloatArray  # (8,) band centre frequencies (Hz)
    k_per_m: FloatArray  # (8,) wave number
    f_2_5: FloatArray  # (8,) f^2.5, f^1.5, f^0.75 of w (eq. 2.5.16)
    f_1_5: FloatArray
    f_0_75: FloatArray
    air_per_m: FloatArray  # (8,) air absorption as a natural-log rate
    w_g: FloatArray  # (9,) w (eq. 2.5.16) per band at the ground factor in w_g[8] (-1: none yet)
    k40: FloatArray  # (8,) 40/λ of Δdif (2.5.21)
    lam2_25: FloatArray  # (8,) (5λ)² of C'' (2.5.21)
    work: FloatArray  # (3, 8) the map kernel's transfers of one point source: open field, summed, reflected


@njit(cache=True)
def _first_border(r: float, d: float, origin: float, i: int, cell: float) -> tuple[float, float]:
    """Along one axis of a grid walk from ``r`` in direction ``d``: the path parameter of the
    first cell border after cell ``i``, and the parameter step between borders (1e30 when the
    path runs parallel to that axis)."""
    if d == 0.0:
        return 1e30, 1e30
    border = origin + (i + (1 if d > 0 else 0)) * cell
    return (border - r) / d, cell / abs(d)


@njit(cache=True)
def screen_scratch(bands: BandTerms) -> ScreenScratch:
    """Fresh work arrays for :func:`trace_crossings` and :func:`screened_transfer` (one per thread)."""
    n = MAX_CROSSINGS + 2
    freqs = bands.k_per_m * C_SOUND / (2.0 * math.pi)
    return ScreenScratch(
        np.empty(n), np.empty(n), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64),
        np.empty(n), np.empty(n),
        np.empty((6, NB)), np.empty(NB), np.empty(NB), np.empty(NB), freqs,
        bands.k_per_m.copy(), bands.f_2_5.copy(), bands.f_1_5.copy(), bands.f_0_75.copy(), bands.air_per_m.copy(),
        np.full(NB + 1, -1.0), 40.0 * freqs / C_SOUND, (5.0 * C_SOUND / freqs) ** 2, np.empty((3, NB)),
    )  # fmt: skip


@hot_njit
def _walk_start(x0: float, y0: float, dx: float, dy: float, obst: Obstacles) -> tuple[float, int, int, float, float, float, float]:
    """Set-up of the grid walk (Amanatides–Woo) along (x0, y0) + t·(dx, dy), 0 ≤ t ≤ 1, clipped to the grid
    (Liang–Barsky): the parameter ``t1`` where the walk leaves the grid or ends (-1: it misses the grid), the
    first cell (ix, iy) and, per axis, the parameter of the first cell border and the step between borders."""
    cell = obst.cell_m
    gx1 = obst.x0 + obst.nx * cell
    gy1 = obst.y0 + obst.ny * cell
    t0 = 0.0
    t1 = 1.0
    for k in range(4):
        if k == 0:
            p, q = -dx, x0 - obst.x0
        elif k == 1:
            p, q = dx, gx1 - x0
        elif k == 2:
            p, q = -dy, y0 - obst.y0
        else:
            p, q = dy, gy1 - y0
        if p == 0.0:
            if q < 0.0:
                return -1.0, 0, 0, 0.0, 0.0, 0.0, 0.0
        else:
            r = q / p
            if p < 0.0:
                t0 = max(t0, r)
            else:
                t1 = min(t1, r)
    if t0 >= t1:
        return -1.0, 0, 0, 0.0, 0.0, 0.0, 0.0
    ix = min(max(int((x0 + t0 * dx - obst.x0) / cell), 0), obst.nx - 1)
    iy = min(max(int((y0 + t0 * dy - obst.y0) / cell), 0), obst.ny - 1)
    tmx, tdx = _first_border(x0, dx, obst.x0, ix, cell)
    tmy, tdy = _first_border(y0, dy, obst.y0, iy, cell)
    return t1, ix, iy, tmx, tdx, tmy, tdy


@hot_njit
def _from_source(cs: FloatArray, ch: FloatArray, ce: IntArray, n: int, length: float) -> None:
    """Turn the ``n`` crossings sorted by distance from the receiver into distances from the source, nearest first."""
    for k in range(n // 2):
        j = n - 1 - k
        cs[k], cs[j] = cs[j], cs[k]
        ch[k], ch[j] = ch[j], ch[k]
        ce[k], ce[j] = ce[j], ce[k]
    for k in range(n):
        cs[k] = length - cs[k]


@inline_njit
def _part_near(items: FloatArray, j: int, prev_x: int, prev_y: int, rx: float, ry: float, dx: float, dy: float, length: float) -> bool:
    """Whether the edges of the part of cell-list entry ``j`` (:attr:`Obstacles.cell_items`) may cross the path
    (rx, ry) + t·(dx, dy), 0 < t < 1, of a grid walk whose previous cell is (``prev_x``, ``prev_y``)."""
    # the walk is monotone in x and y: it meets a part's cell range in one run of cells, so a part
    # whose range held the previous cell has been tested already
    if items[j, 1] <= prev_x <= items[j, 2] and items[j, 3] <= prev_y <= items[j, 4]:
        return False
    # the path's line misses the part's bounding circle: none of its edges can cross
    off = dy * (items[j, 5] - rx) - dx * (items[j, 6] - ry)
    rad = items[j, 7] * length
    if off > rad or off < -rad:
        return False
    # ... nor when the circle lies behind either end of the path
    along = dx * (items[j, 5] - rx) + dy * (items[j, 6] - ry)
    near: bool = -rad <= along <= length * length + rad
    return near


@inline_njit
def _edge_crossing(seg: FloatArray, e: int, rx: float, ry: float, dx: float, dy: float) -> float:
    """Where the path (rx, ry) + t·(dx, dy) crosses edge ``e`` (rows of :attr:`Obstacles.edge_seg`): its
    ``t``, or -1 when it does not cross within 0 < t < 1."""
    wx = seg[e, 0] - rx
    wy = seg[e, 1] - ry
    bx = seg[e, 2]
    by = seg[e, 3]
    den = dx * by - dy * bx
    # the edge's ends on the same side of the path's line: no crossing (no division)
    sa = dy * wx - dx * wy
    if sa * (sa - den) > 0.0 or den == 0.0:
        return -1.0
    t: float = (wx * by - wy * bx) / den
    return t if 0.0 < t < 1.0 else -1.0


@hot_njit
def _cell_crossings(
    c: int,
    prev_x: int,
    prev_y: int,
    rx: float,
    ry: float,
    dx: float,
    dy: float,
    length: float,
    obst: Obstacles,
    cs: FloatArray,
    ch: FloatArray,
    ce: IntArray,
    n: int,
) -> int:
    """Insert into ``cs``, ``ch``, ``ce`` (the first ``n`` sorted by distance from the receiver) the crossings of the
    path receiver (rx, ry) + t·(dx, dy), 0 < t < 1, with the edges of the parts listed in grid cell ``c`` whose
    bounding circle the path's line meets, but not those whose cell range holds the walk's previous cell
    (``prev_x``, ``prev_y``; -1: none): the walk tested them there. Returns the new count."""
    items = obst.cell_items
    seg = obst.edge_seg
    cap = cs.shape[0] - 2
    for j in range(obst.cell_start[c], obst.cell_start[c + 1]):
        if not _part_near(items, j, prev_x, prev_y, rx, ry, dx, dy, length):
            continue
        p = int(items[j, 0])
        for e in range(obst.part_start[p], obst.part_start[p + 1]):
            t = _edge_crossing(seg, e, rx, ry, dx, dy)
            if t < 0.0 or n >= cap:
                continue
            # insertion by distance from the receiver: parts come nearly in that order, so a crossing
            # lands at the end or a few places before it (the list is reversed once at the end)
            s = t * length
            k2 = n
            while k2 > 0 and cs[k2 - 1] > s:
                k2 -= 1
            for k3 in range(n, k2, -1):
                cs[k3] = cs[k3 - 1]
                ch[k3] = ch[k3 - 1]
                ce[k3] = ce[k3 - 1]
            cs[k2] = s
            ch[k2] = obst.height_m[e]
            ce[k2] = e
            n += 1
    return n


@inline_njit
def _walk_next(
    ix: int, iy: int, tmx: float, tmy: float, tdx: float, tdy: float, step_x: int, step_y: int, t1: float, obst: Obstacles
) -> tuple[int, int, float, float, bool]:
    """The next cell of a grid walk (:func:`_walk_start`) and its border parameters; False when the walk has
    reached its end ``t1`` or left the grid."""
    if min(tmx, tmy) >= t1:
        return ix, iy, tmx, tmy, False
    if tmx < tmy:
        ix += step_x
        return ix, iy, tmx + tdx, tmy, 0 <= ix < obst.nx
    iy += step_y
    return ix, iy, tmx, tmy + tdy, 0 <= iy < obst.ny


@hot_njit
def trace_crossings(rx: float, ry: float, sx: float, sy: float, obst: Obstacles, cs: FloatArray, ch: FloatArray, ce: IntArray) -> int:
    """Crossings of the straight path receiver (rx, ry) → source (sx, sy) with building edges.

    Walks the grid cells the path crosses (Amanatides–Woo, :func:`_walk_start`) and tests the edges of
    the building parts listed there whose bounding circle the path's line meets, each part once
    (:func:`_cell_crossings`). ``cs`` receives the horizontal distance from the source, ``ch`` the roof
    height and ``ce`` the edge, sorted by distance; returns their number.
    """
    if obst.cell_parts.shape[0] == 0:
        return 0
    dx = sx - rx
    dy = sy - ry
    length = math.sqrt(dx * dx + dy * dy)
    if length <= 0.0:
        return 0
    t1, ix, iy, tmx, tdx, tmy, tdy = _walk_start(rx, ry, dx, dy, obst)
    if t1 <= 0.0:
        return 0
    step_x = 1 if dx > 0 else -1
    step_y = 1 if dy > 0 else -1
    n = 0
    px = -1  # the previous cell of the walk (none yet)
    py = -1
    going = True
    while going:
        n = _cell_crossings(iy * obst.nx + ix, px, py, rx, ry, dx, dy, length, obst, cs, ch, ce, n)
        px = ix
        py = iy
        ix, iy, tmx, tmy, going = _walk_next(ix, iy, tmx, tmy, tdx, tdy, step_x, step_y, t1, obst)
    _from_source(cs, ch, ce, n, length)
    return n


@hot_njit
def _negligible_early(
    cu: FloatArray,
    ch: FloatArray,
    n: int,
    dp: float,
    zs: float,
    zr: float,
    ground: Ground,
    sc: ScreenScratch,
    wrow: FloatArray,
    mult: float,
    thr: FloatArray,
    budget: FloatArray,
    a_weight: FloatArray,
) -> bool:
    """Whether the roofs at distances ``cu[:n]`` from the receiver (heights ``ch``) already make the path negligible.

    The diffraction over the full hull is at least that over any one roof above the ray (the path
    over the hull encloses the path over that point, and C'' ≥ 1): Δdif ≥ 10·lg(3 + 40/λ·δ) with δ
    of the single roof, for curved rays with the roof lowered by more than the arc's rise there.
    Each side's ground term gains at most A_min of that side, at most 10^(0.9·(1 - G)) in linear form
    with G the smaller ground factor. If the resulting bound (see :func:`_screened_core`) is at most
    ``thr`` in every period, or fits in ``budget`` (then taken from it), the path is negligible.
    """
    d = math.sqrt(dp * dp + (zr - zs) ** 2)
    gamma = max(1000.0, 8.0 * d)
    dh = 0.0
    df = 0.0
    for k in range(n):
        u = cu[k]
        h = ch[k]
        if h <= zr + (zs - zr) * u / dp:
            continue
        dh = max(dh, math.sqrt(u * u + (h - zr) ** 2) + math.sqrt((dp - u) ** 2 + (h - zs) ** 2) - d)
        hf = h - 1.05 * u * (dp - u) / (2.0 * gamma) - 1e-3
        if hf > zr + (zs - zr) * u / dp:
            df = max(df, math.sqrt(u * u + (hf - zr) ** 2) + math.sqrt((dp - u) ** 2 + (hf - zs) ** 2) - d)
    if dh <= 0.0:
        return False
    gmin = min(ground.g_path, ground.g_source)
    side = max(exp_fast(0.3 * LN10 * (1.0 - gmin)), exp_fast(0.9 * LN10 * (1.0 - ground.g_path)))
    cap = 10.0 ** (-MAX_DIF_DB / 10.0)
    p = ground.p_favourable
    div = mult * side * side / (d * d * DIV_CONSTANT)
    tr = sc.tr
    for b in range(NB):
        k40 = sc.k40[b]
        lh = max(1.0 / (3.0 + k40 * dh), cap)
        lf = max(1.0 / (3.0 + k40 * df), cap) if df > 0.0 else 1.0
        tr[b] = div * exp_fast(-sc.air_per_m[b] * d) * (p * lf + (1.0 - p) * lh) * a_weight[b]
    small = True
    fits = True
    for m in range(wrow.shape[0]):
        e = 0.0
        for b in range(NB):
            e += wrow[m, b] * tr[b]
        small = small and e <= thr[m]
        fits = fits and e <= budget[m]
    if small:
        return True
    if fits:
        for m in range(wrow.shape[0]):
            e = 0.0
            for b in range(NB):
                e += wrow[m, b] * tr[b]
            budget[m] -= e
        return True
    return False


@hot_njit
def _trace_or_prune(
    rx: float,
    ry: float,
    rz: float,
    sx: float,
    sy: float,
    zs: float,
    obst: Obstacles,
    cs: FloatArray,
    ch: FloatArray,
    ce: IntArray,
    ground: Ground,
    sc: ScreenScratch,
    wrow: FloatArray,
    mult: float,
    thr: FloatArray,
    budget: FloatArray,
    a_weight: FloatArray,
) -> int:
    """:func:`trace_crossings`, stopping with -1 as soon as the crossings met in the first cells from
    the receiver (at most :data:`MAX_EARLY_CHECKS` checks) bound the path's energy to a negligible amount (:func:`_negligible_early`)."""
    if obst.cell_parts.shape[0] == 0:
        return 0
    dx = sx - rx
    dy = sy - ry
    length = math.sqrt(dx * dx + dy * dy)
    if length <= 0.0:
        return 0
    t1, ix, iy, tmx, tdx, tmy, tdy = _walk_start(rx, ry, dx, dy, obst)
    if t1 <= 0.0:
        return 0
    step_x = 1 if dx > 0 else -1
    step_y = 1 if dy > 0 else -1
    n = 0
    px = -1  # the previous cell of the walk (none yet)
    py = -1
    checks = 0
    going = True
    while going:
        m = _cell_crossings(iy * obst.nx + ix, px, py, rx, ry, dx, dy, length, obst, cs, ch, ce, n)
        if m > n and checks < MAX_EARLY_CHECKS:
            checks += 1
            if _negligible_early(cs, ch, m, length, zs, rz, ground, sc, wrow, mult, thr, budget, a_weight):
                return -1
        n = m
        px = ix
        py = iy
        ix, iy, tmx, tmy, going = _walk_next(ix, iy, tmx, tmy, tdx, tdy, step_x, step_y, t1, obst)
    _from_source(cs, ch, ce, n, length)
    return n


@hot_njit
def _upper_hull(s: FloatArray, z: FloatArray, n: int, rise_gamma: float, half: float, hull: IntArray) -> int:
    """Upper convex hull of the points (s, z - rise) (``rise_gamma`` > 0: favourable rays of radius Γ); returns its length."""
    m = 0
    base = math.sqrt(rise_gamma * rise_gamma - half * half) if rise_gamma > 0.0 else 0.0
    g2 = rise_gamma * rise_gamma
    za = 0.0  # lowered heights of the last two hull points (hull[m-2], hull[m-1])
    zb = 0.0
    for i in range(n):
        zi = z[i]
        if rise_gamma > 0.0:
            zi -= math.sqrt(g2 - (s[i] - half) ** 2) - base
        while m >= 2:
            a = hull[m - 2]
            b = hull[m - 1]
            if (s[b] - s[a]) * (zi - za) - (zb - za) * (s[i] - s[a]) >= -1e-9:
                m -= 1
                zb = za
                if m >= 2:
                    c = hull[m - 2]
                    za = z[c]
                    if rise_gamma > 0.0:
                        za -= math.sqrt(g2 - (s[c] - half) ** 2) - base
            else:
                break
        hull[m] = i
        m += 1
        za = zb
        zb = zi
    return m


@njit(cache=True, fastmath=True)
def _arc(chord: float, gamma: float) -> float:
    """Length of the arc of radius ``gamma`` on a chord."""
    return 2.0 * gamma * math.asin(min(chord / (2.0 * gamma), 1.0))


@hot_njit
def _delta(px: FloatArray, pz: FloatArray, m: int, s0: float, z0: float, s1: float, z1: float, gamma: float, inner: float) -> float:
    """Path difference of S=(s0, z0) → hull points 1..m-2 of (px, pz) → R=(s1, z1) against S–R; arcs of radius
    ``gamma`` when > 0 (favourable), straight rays otherwise. The hull points lie above the chord; ``inner``
    is the length of the path between hull points 1 and m-2."""
    first = math.sqrt((px[1] - s0) ** 2 + (pz[1] - z0) ** 2)
    last = math.sqrt((s1 - px[m - 2]) ** 2 + (z1 - pz[m - 2]) ** 2)
    chord = math.sqrt((s1 - s0) ** 2 + (z1 - z0) ** 2)
    if gamma > 0.0:
        return _arc(first, gamma) + inner + _arc(last, gamma) - _arc(chord, gamma)
    return first + inner + last - chord


@njit(cache=True, fastmath=True)
def _dif_scale(inv_e2: float, k40: float, lam2_25: float) -> float:
    """40/λ·C'' of Δdif (2.5.21) from 1/e² (0 for e ≤ 0.3), e the distance between the outer diffraction
    edges, and the band's 40/λ and (5λ)²."""
    if inv_e2 == 0.0:
        return k40
    r = lam2_25 * inv_e2
    return k40 * (1.0 + r) / (1.0 / 3.0 + r)


@hot_njit
def _hull_inner(px: FloatArray, pz: FloatArray, m: int, gamma: float) -> tuple[float, float]:
    """1/e² (0 for e ≤ 0.3, see :func:`_dif_scale`), e the straight length between the outer edges of the hull
    (px, pz)[0:m], and the length of the path between them (arcs of radius ``gamma`` when > 0)."""
    e = 0.0
    inner = 0.0
    for k in range(1, m - 2):
        seg = math.sqrt((px[k + 1] - px[k]) ** 2 + (pz[k + 1] - pz[k]) ** 2)
        e += seg
        inner += _arc(seg, gamma) if gamma > 0.0 else seg
    return (1.0 / (e * e) if e > 0.3 else 0.0), inner


@hot_njit
def _hull_deltas(
    px: FloatArray, pz: FloatArray, m: int, dp: float, zs: float, zr: float, gamma: float
) -> tuple[float, float, float, float]:
    """1/e² (0 for e ≤ 0.3, see :func:`_dif_scale`) and the path differences over the hull (px, pz)[0:m] of
    S = (0, zs) → R = (dp, zr) and of the ground images S' = (0, -zs) and R' = (dp, -zr) (:func:`_delta`): the
    hull's inner edges are common to the three paths."""
    inv_e2, inner = _hull_inner(px, pz, m, gamma)
    d_sr = _delta(px, pz, m, 0.0, zs, dp, zr, gamma, inner)
    d_s = _delta(px, pz, m, 0.0, -zs, dp, zr, gamma, inner)
    d_r = _delta(px, pz, m, 0.0, zs, dp, -zr, gamma, inner)
    return inv_e2, d_sr, d_s, d_r


@njit(cache=True, fastmath=True)
def _dif_lin(delta: float, scale: float) -> float:
    """10^(Δdif/10) of one band (2.5.21, C_h = 1), not capped: 3 + x with x = ``scale``·δ (:func:`_dif_scale`),
    1 below x = -2."""
    x = scale * delta
    if x < -2.0:
        return 1.0
    return max(3.0 + x, 1e-12)


@hot_njit
def _ground_amp(
    dp: float, zs: float, zr: float, g_path: float, g_source: float, sc: ScreenScratch, amp_h: FloatArray, amp_f: FloatArray
) -> None:
    """10^(-A_ground/20) per band of a path over the flat mean plane, homogeneous into ``amp_h`` and
    favourable into ``amp_f`` (rows 2 and 5 of :func:`path_terms`, in linear form)."""
    zsum = zs + zr
    lim = 30.0 * zsum
    near = dp <= lim
    gp = g_path * dp / lim + g_source * (1.0 - dp / lim) if near else g_path
    lin_amin_h = exp_fast(0.3 * LN10 * (1.0 - gp))
    lin_amin_f = lin_amin_h if near else exp_fast(0.3 * LN10 * (1.0 - gp) * (1.0 + 2.0 * (1.0 - lim / dp)))
    if g_path == 0.0:
        a_h = 1.4125375446227544  # A_ground,H = -3 dB
        a_f = math.sqrt(lin_amin_f)
        for b in range(NB):
            amp_h[b] = a_h
            amp_f[b] = a_f
        return
    dzt = 6e-3 * dp / zsum
    zsf = zs + A0_FAV * (zs / zsum) ** 2 * dp * dp / 2.0 + dzt
    zrf = zr + A0_FAV * (zr / zsum) ** 2 * dp * dp / 2.0 + dzt
    w_g = sc.w_g
    if w_g[NB] != g_path:  # w at G_path per band, kept for the next paths
        for b in range(NB):
            w_g[b] = ground_w(sc.freqs[b], g_path)
        w_g[NB] = g_path
    same = gp == g_path
    g26 = 0.0
    g13 = 0.0
    if not same and gp > 0.0:
        g13 = gp**1.3
        g26 = g13 * g13
    inv_dp2 = 1.0 / (dp * dp)
    for b in range(NB):
        k = sc.k_per_m[b]
        f25, f15, f075 = sc.f_2_5[b], sc.f_1_5[b], sc.f_0_75[b]
        wf = w_g[b]
        if same:
            wh = wf
        elif gp > 0.0:
            wh = 0.0185 * f25 * g26 / (f15 * g26 + 1.3e3 * f075 * g13 + 1.16e6)
        else:
            wh = 0.0
        wd = wh * dp
        ckh = dp * (1.0 + 3.0 * wd * exp_fast(-math.sqrt(wd))) / (1.0 + wd) / k
        rh = math.sqrt(2.0 * ckh)
        xh = 4.0 * k * k * inv_dp2 * (zs * zs - rh * zs + ckh) * (zr * zr - rh * zr + ckh)
        amp_h[b] = math.sqrt(min(xh, lin_amin_h))
        if same:
            ckf, rf = ckh, rh
        else:
            wd = wf * dp
            ckf = dp * (1.0 + 3.0 * wd * exp_fast(-math.sqrt(wd))) / (1.0 + wd) / k
            rf = math.sqrt(2.0 * ckf)
        xf = 4.0 * k * k * inv_dp2 * (zsf * zsf - rf * zsf + ckf) * (zrf * zrf - rf * zrf + ckf)
        amp_f[b] = math.sqrt(min(xf, lin_amin_f))


@hot_njit
def _side_amps(px: FloatArray, pz: FloatArray, m: int, dp: float, zs: float, zr: float, ground: Ground, sc: ScreenScratch) -> None:
    """Ground amplitudes on the source side S–O1 into ``sc.amp[0:2]`` and the receiver side On–R into
    ``sc.amp[2:4]``, on the flat mean plane z = 0 (G'_path with the source's G on the source side)."""
    so, zo1 = px[1], pz[1]
    sn, zon = px[m - 2], pz[m - 2]
    gp = ground.g_path
    _ground_amp(max(so, 1e-6), zs, zo1, gp, ground.g_source, sc, sc.amp[0], sc.amp[1])
    _ground_amp(max(dp - sn, 1e-6), zon, zr, gp, gp, sc, sc.amp[2], sc.amp[3])


@hot_njit
def _a_dif_lin(
    px: FloatArray,
    pz: FloatArray,
    m: int,
    dp: float,
    zs: float,
    zr: float,
    gamma: float,
    favourable: bool,
    sc: ScreenScratch,
    out: FloatArray,
) -> None:
    """10^(-A_dif/10) per band over the hull (px, pz)[0:m] on flat ground, A_dif = min(Δdif(S,R), 25) +
    Δground(S,O) + Δground(O,R), all in linear form (no logarithm): 10^(-Δground(S,O)/10) =
    (1 + (10^(-A_ground/20) - 1)·10^(-(Δdif(S',R) - Δdif(S,R))/20))².

    The ground amplitudes of either side are in ``sc.amp`` (:func:`_side_amps`); the images of S and R
    are mirrored in the ground plane. ``gamma``: ray radius in favourable conditions.
    """
    inv_e2, d_sr, d_s, d_r = _hull_deltas(px, pz, m, dp, zs, zr, gamma if favourable else 0.0)
    row = 1 if favourable else 0
    a_so, a_or = sc.amp[row], sc.amp[2 + row]
    cap = 10.0 ** (-MAX_DIF_DB / 10.0)
    for b in range(NB):
        scale = _dif_scale(inv_e2, sc.k40[b], sc.lam2_25[b])
        l_sr = _dif_lin(d_sr, scale)
        q_s = 1.0 + (a_so[b] - 1.0) * math.sqrt(l_sr / _dif_lin(d_s, scale))
        q_r = 1.0 + (a_or[b] - 1.0) * math.sqrt(l_sr / _dif_lin(d_r, scale))
        out[b] = max(1.0 / l_sr, cap) * (q_s * q_s) * (q_r * q_r)


#: The pieces of a diffracted path that :mod:`ldtkit.model.kernels.noise_terrain` reuses over terrain
#: (the same compiled functions, under public names).
upper_hull = _upper_hull
arc_length = _arc
hull_delta = _delta
hull_inner = _hull_inner
dif_scale = _dif_scale
dif_lin = _dif_lin
ground_amp = _ground_amp


@njit(cache=True, fastmath=True)
def screened_transfer(
    dp: float,
    zs: float,
    zr: float,
    cs: FloatArray,
    ch: FloatArray,
    n: int,
    ground: Ground,
    scratch: ScreenScratch,
) -> bool:
    """Transfer of one point source over buildings, when they block the line of sight (CNOSSOS-EU 2.5.21).

    ``cs``, ``ch`` (``n`` crossings, sorted): distances from the source and roof heights along the
    path of projected length ``dp``, on flat ground. In each condition (homogeneous: straight rays;
    favourable: arcs of radius Γ = max(1000, 8d)) where the upper convex hull of the roofs rises
    above the ray, the ground term is replaced by A_dif over the hull; elsewhere the direct path's
    A_ground applies. Returns False, leaving ``scratch.tr`` untouched, when the line of sight is clear
    in both conditions; else writes into ``scratch.tr`` the linear transfer per band,
    10^(-(A_div + A_atm)/10) · (p·10^(-A_F/10) + (1-p)·10^(-A_H/10)), every term evaluated in linear
    form (the same values as the decibel formulas, without their logarithms and powers).
    """
    z = np.empty((1, NB))
    zb = np.empty(1)
    return _screened_core(dp, zs, zr, cs, ch, n, ground, scratch, False, z, 0.0, zb, zb, z[0]) == 1


@njit(cache=True, fastmath=True)
def _lin_amin(dp: float, z0: float, z1: float, g: float, gs: float) -> tuple[float, float]:
    """10^(-A_min/10) of a ground path, homogeneous and favourable (eq. 2.5.14 and 2.5.20): the largest
    gain of its ground term, so 10^(-A_ground/20) ≤ the square root of either."""
    lim = 30.0 * (z0 + z1)
    if dp <= lim:
        gp = g * dp / lim + gs * (1.0 - dp / lim)
        lh = exp_fast(0.3 * LN10 * (1.0 - gp))
        return lh, lh
    return exp_fast(0.3 * LN10 * (1.0 - g)), exp_fast(0.3 * LN10 * (1.0 - g) * (1.0 + 2.0 * (1.0 - lim / dp)))


@hot_njit
def _hull_bound(
    px: FloatArray,
    pz: FloatArray,
    m: int,
    dp: float,
    zs: float,
    zr: float,
    gamma: float,
    favourable: bool,
    ground: Ground,
    sc: ScreenScratch,
    out: FloatArray,
) -> None:
    """An upper bound of 10^(-A_dif/10) per band over the hull (px, pz)[0:m] (:func:`_a_dif_lin`) without its
    ground terms: each side's Δground is a gain of at most A_min of that side."""
    g = gamma if favourable else 0.0
    inv_e2, inner = _hull_inner(px, pz, m, g)
    d_sr = _delta(px, pz, m, 0.0, zs, dp, zr, g, inner)
    sh, sf = _lin_amin(max(px[1], 1e-6), zs, pz[1], ground.g_path, ground.g_source)
    rh, rf = _lin_amin(max(dp - px[m - 2], 1e-6), pz[m - 2], zr, ground.g_path, ground.g_path)
    gain = sf * rf if favourable else sh * rh
    cap = 10.0 ** (-MAX_DIF_DB / 10.0)
    for b in range(NB):
        out[b] = max(1.0 / _dif_lin(d_sr, _dif_scale(inv_e2, sc.k40[b], sc.lam2_25[b])), cap) * gain


@hot_njit
def _screened_core(
    dp: float,
    zs: float,
    zr: float,
    cs: FloatArray,
    ch: FloatArray,
    n: int,
    ground: Ground,
    scratch: ScreenScratch,
    prune: bool,
    wrow: FloatArray,
    mult: float,
    thr: FloatArray,
    budget: FloatArray,
    a_weight: FloatArray,
) -> int:
    """:func:`screened_transfer`, returning 0 (line of sight clear), 1 (transfer in ``scratch.tr``) or, with
    ``prune``, 2: the path is left out because its bound is negligible.

    The bound: divergence, air absorption and, in each condition, the diffraction over the hull with
    each side's ground term at its largest gain (A_min). The point source's A-weighted energy per
    period under that bound, ``mult`` · Σ_b ``wrow``[m, b]·``a_weight``[b]·bound[b], is negligible when
    it is at most ``thr``[m] in every period, or else at most what remains of ``budget``[m] in every
    period (then taken from it).
    """
    cs2, ch2, hull, px, pz, tr = scratch.cs, scratch.ch, scratch.hull, scratch.px, scratch.pz, scratch.tr
    a_h, a_f = scratch.a_h, scratch.a_f
    # profile points S, crossings, R in place: shift the crossings by one
    for k in range(n, 0, -1):
        cs2[k] = cs[k - 1]
        ch2[k] = ch[k - 1]
    cs2[0] = 0.0
    ch2[0] = zs
    cs2[n + 1] = dp
    ch2[n + 1] = zr
    m_h = _upper_hull(cs2, ch2, n + 2, 0.0, 0.0, hull)
    if m_h <= 2:
        return 0  # no roof above the straight ray: nothing above the curved ray either
    d = math.sqrt(dp * dp + (zr - zs) ** 2)
    gamma = max(1000.0, 8.0 * d)
    for k in range(m_h):
        px[k] = cs2[hull[k]]
        pz[k] = ch2[hull[k]]
    # the favourable hull is a subset of the straight one (bending the rays adds a convex function to
    # the heights, which keeps a point under the chord of its neighbours there): take it from those
    hull_f = scratch.hull_f
    m_f = _upper_hull(px, pz, m_h, gamma, 0.5 * dp, hull_f)
    p = ground.p_favourable
    div = 1.0 / (max(d, 1e-6) ** 2 * DIV_CONSTANT)
    if prune:
        _hull_bound(px, pz, m_h, dp, zs, zr, gamma, False, ground, scratch, a_h)
        if m_f > 2:
            for k in range(m_f):  # the favourable hull into the free profile arrays
                cs2[k] = px[hull_f[k]]
                ch2[k] = pz[hull_f[k]]
            _hull_bound(cs2, ch2, m_f, dp, zs, zr, gamma, True, ground, scratch, a_f)
        else:
            lf = _lin_amin(max(dp, 1e-6), zs, zr, ground.g_path, ground.g_source)[1]
            for b in range(NB):
                a_f[b] = lf
        small = True
        fits = True
        for b in range(NB):
            tr[b] = div * exp_fast(-scratch.air_per_m[b] * d) * (p * a_f[b] + (1.0 - p) * a_h[b]) * a_weight[b] * mult
        for m in range(wrow.shape[0]):
            e = 0.0
            for b in range(NB):
                e += wrow[m, b] * tr[b]
            small = small and e <= thr[m]
            fits = fits and e <= budget[m]
        if small:
            return 2
        if fits:
            for m in range(wrow.shape[0]):
                e = 0.0
                for b in range(NB):
                    e += wrow[m, b] * tr[b]
                budget[m] -= e
            return 2
    _side_amps(px, pz, m_h, dp, zs, zr, ground, scratch)
    _a_dif_lin(px, pz, m_h, dp, zs, zr, gamma, False, scratch, a_h)
    if m_f > 2:
        for k in range(m_f):  # in place: hull_f[k] >= k
            px[k] = px[hull_f[k]]
            pz[k] = pz[hull_f[k]]
        if hull_f[1] != 1 or hull_f[m_f - 2] != m_h - 2:  # other outer edges: other ground sides
            _side_amps(px, pz, m_f, dp, zs, zr, ground, scratch)
        _a_dif_lin(px, pz, m_f, dp, zs, zr, gamma, True, scratch, a_f)
    else:
        _ground_amp(max(dp, 1e-6), zs, zr, ground.g_path, ground.g_source, scratch, scratch.amp[4], scratch.amp[5])
        for b in range(NB):
            a_f[b] = scratch.amp[5, b] * scratch.amp[5, b]
    for b in range(NB):
        tr[b] = div * exp_fast(-scratch.air_per_m[b] * d) * (p * a_f[b] + (1.0 - p) * a_h[b])
    return 1


# --------------------------------------------------------------------------- maps
@njit(cache=True)
def grid_index(xm: FloatArray, ym: FloatArray, x0: float, y0: float, cell: float, nx: int, ny: int) -> tuple[IntArray, IntArray]:
    """Bucket points into a regular grid: returns (order, start) with start of length nx*ny+1."""
    n = xm.shape[0]
    cid = np.empty(n, dtype=np.int64)
    for i in range(n):
        cx = min(max(int((xm[i] - x0) / cell), 0), nx - 1)
        cy = min(max(int((ym[i] - y0) / cell), 0), ny - 1)
        cid[i] = cy * nx + cx
    order = np.argsort(cid, kind="mergesort")
    start = np.zeros(nx * ny + 1, dtype=np.int64)
    for i in range(n):
        start[cid[i] + 1] += 1
    for c in range(nx * ny):
        start[c + 1] += start[c]
    return order, start


@hot_njit
def _point_transfer(dp: float, zs: float, zr: float, ground: Ground, bands: BandTerms, lin_amin_h_far: float, out: FloatArray) -> None:
    """Linear energy transfer of one point source to a receiver for 8 bands (p-mixed H/F).

    out[b] = 10^(-(A_div + A_atm)/10) · (p·10^(-A_ground,F/10) + (1-p)·10^(-A_ground,H/10)).
    """
    g, gs, p = ground.g_path, ground.g_source, ground.p_favourable
    kb, f25, f15, f075, wf_b, catm = bands.k_per_m, bands.f_2_5, bands.f_1_5, bands.f_0_75, bands.w_path, bands.air_per_m
    dz = zr - zs
    d2 = dp * dp + dz * dz
    d = math.sqrt(d2)
    div = 1.0 / (d2 * DIV_CONSTANT)  # 10^(-(20lg d + 11)/10)
    zsum = zs + zr
    lim = 30.0 * zsum
    near = dp <= lim
    if near:
        gp = g * dp / lim + gs * (1.0 - dp / lim)
        lin_amin_h = 10.0 ** (0.3 * (1.0 - gp))
        lin_amin_f = lin_amin_h
    else:
        gp = g
        lin_amin_h = lin_amin_h_far
        lin_amin_f = 10.0 ** (0.3 * (1.0 - gp) * (1.0 + 2.0 * (1.0 - lim / dp)))
    dzt = 6e-3 * dp / zsum
    half = A0_FAV * dp * dp / (2.0 * zsum * zsum)
    zsf = zs + half * zs * zs + dzt
    zrf = zr + half * zr * zr + dzt
    inv_dp2 = 1.0 / (dp * dp)
    same_w = (not near) or gp == g
    if gp > 0.0:
        g26 = gp**2.6
        g13 = gp**1.3
    else:
        g26 = 0.0
        g13 = 0.0
    for b in range(NB):
        k = kb[b]
        # favourable (G_w = G_path)
        if g == 0.0:
            lf = lin_amin_f
            wf = 0.0
        else:
            wf = wf_b[b]
        # homogeneous (G_w = G'_path)
        if same_w:
            wh = wf
        elif gp > 0.0:
            wh = 0.0185 * f25[b] * g26 / (f15[b] * g26 + 1.3e3 * f075[b] * g13 + 1.16e6)
        else:
            wh = 0.0
        wd = wh * dp
        sq = math.sqrt(wd)
        cfh = dp * (1.0 + 3.0 * wd * math.exp(-sq)) / (1.0 + wd) if sq < 40.0 else dp / (1.0 + wd)
        ckh = cfh / k
        rh = math.sqrt(2.0 * ckh)
        if g == 0.0:
            lh = 1.9952623149688795  # A_ground,H = -3 dB when G_path = 0
        else:
            xh = 4.0 * k * k * inv_dp2 * (zs * zs - rh * zs + ckh) * (zr * zr - rh * zr + ckh)
            lh = min(xh, lin_amin_h)
            if same_w:
                ckf, rf = ckh, rh
            else:
                wd = wf * dp
                sq = math.sqrt(wd)
                cff = dp * (1.0 + 3.0 * wd * math.exp(-sq)) / (1.0 + wd) if sq < 40.0 else dp / (1.0 + wd)
                ckf = cff / k
                rf = math.sqrt(2.0 * ckf)
            xf = 4.0 * k * k * inv_dp2 * (zsf * zsf - rf * zsf + ckf) * (zrf * zrf - rf * zrf + ckf)
            lf = min(xf, lin_amin_f)
        out[b] = div * math.exp(-catm[b] * d) * (p * lf + (1.0 - p) * lh)


@hot_njit
def _add_exact_point(
    d2p: float,
    weight: float,
    zs: float,
    zr: float,
    ground: Ground,
    bands: BandTerms,
    lin_amin_h_far: float,
    tr: FloatArray,
    tl: FloatArray,
) -> None:
    """tl[b] += weight · transfer of one point source at projected squared distance d2p, evaluated exactly."""
    _point_transfer(max(math.sqrt(d2p), 0.01), zs, zr, ground, bands, lin_amin_h_far, tr)
    for b in range(NB):
        tl[b] += weight * tr[b]


@hot_njit
def _add_table_point(d2p: float, dz2: float, weight: float, inv_step: float, tabz: FloatArray, tl: FloatArray) -> None:
    """tl[b] += weight · transfer of one point source, the excess interpolated in ``tabz`` (n_steps, 8)."""
    xq = math.sqrt(d2p) * inv_step
    iq = int(xq)
    fr = xq - iq
    div = weight / ((d2p + dz2) * DIV_CONSTANT)
    fr0 = div * (1.0 - fr)
    fr1 = div * fr
    for b in range(NB):
        tl[b] += fr0 * tabz[iq, b] + fr1 * tabz[iq + 1, b]


@hot_njit
def _screened(
    rx: float,
    ry: float,
    rz: float,
    sx: float,
    sy: float,
    zs: float,
    obst: Obstacles,
    ground: Ground,
    scratch: ScreenScratch,
    prune: bool,
    wrow: FloatArray,
    mult: float,
    thr: FloatArray,
    budget: FloatArray,
    a_weight: FloatArray,
) -> int:
    """Whether buildings block the path from the point source (sx, sy) to the receiver: 0 no, 1 yes with
    its transfer in ``scratch.tr``, 2 yes but left out as negligible (see :func:`_screened_core`)."""
    if prune:
        nc = _trace_or_prune(
            rx, ry, rz, sx, sy, zs, obst, scratch.cs, scratch.ch, scratch.ce, ground, scratch, wrow, mult, thr, budget, a_weight
        )
        if nc < 0:
            return 2
    else:
        nc = trace_crossings(rx, ry, sx, sy, obst, scratch.cs, scratch.ch, scratch.ce)
    if nc == 0:
        return 0
    dp = max(math.sqrt((sx - rx) ** 2 + (sy - ry) ** 2), 0.01)
    return _screened_core(dp, zs, rz, scratch.cs, scratch.ch, nc, ground, scratch, prune, wrow, mult, thr, budget, a_weight)


@hot_njit
def _grow_budget(budget: FloatArray, wrow: FloatArray, mult: float, tr: FloatArray, a_weight: FloatArray) -> None:
    """Add ``mult`` times the A-weighted energy per period of a path just evaluated (transfer ``tr``,
    powers ``wrow``) to ``budget``: what the receptor may still leave out grows with its total."""
    for m in range(wrow.shape[0]):
        e = 0.0
        for b in range(NB):
            e += wrow[m, b] * tr[b] * a_weight[b]
        budget[m] += mult * e


@hot_njit
def push_children(stack: IntArray, sp: int, k: int, iy: int, ix: int, pyramid: Pyramid) -> int:
    """Push the (up to four) children of pyramid cell (level ``k`` > 0, ``iy``, ``ix``) on ``stack``; returns its new height."""
    for yy in range(2 * iy, min(2 * iy + 2, pyramid.level_ny[k - 1])):
        for xx in range(2 * ix, min(2 * ix + 2, pyramid.level_nx[k - 1])):
            stack[sp, 0] = k - 1
            stack[sp, 1] = yy
            stack[sp, 2] = xx
            sp += 1
    return sp


@njit(cache=True, fastmath=True)
def split_segment(
    px: float, py: float, ex: float, ey: float, l2: float, length: float, dz2: float, cut2: float, ratio: float
) -> tuple[int, float, float, float, float, float]:
    """A segment seen from nearby, split into ``n`` equal parts of length ≤ max(1 m, d_min/ratio).

    The segment runs from the receiver-relative start (px, py) by (-ex, -ey) (``l2`` = ex² + ey²,
    ``length`` in 3D), ``dz2`` is the squared height difference. Returns ``(n, part length, first
    part's centre (ux, uy), step (stx, sty))`` with the centres at (ux - j·stx, uy - j·sty);
    ``n`` 0 when the segment's nearest point lies beyond the cutoff (squared ``cut2``).
    """
    t = 0.0
    if l2 > 0.0:
        t = min(max((px * ex + py * ey) / l2, 0.0), 1.0)
    qx = px - t * ex
    qy = py - t * ey
    dmin2 = qx * qx + qy * qy
    if dmin2 > cut2:
        return 0, 0.0, 0.0, 0.0, 0.0, 0.0
    lmax = max(1.0, math.sqrt(dmin2 + dz2) / ratio)
    n = max(1, int(math.ceil(length / lmax - 1e-9)))
    inv_n = 1.0 / n
    return n, length * inv_n, px - 0.5 * inv_n * ex, py - 0.5 * inv_n * ey, ex * inv_n, ey * inv_n


@njit(cache=True, fastmath=True)
def descent_start(bx: FloatArray, by: FloatArray, pyramid: Pyramid, cutoff: float, stack: IntArray) -> tuple[float, float, float, int]:
    """The start of a block's descent of the pyramid: the block's centre (cx, cy) and radius ``rb``, and
    ``stack`` filled with the top-level cells (level, iy, ix) within ``cutoff + rb`` of the centre;
    returns (cx, cy, rb, number of cells on the stack)."""
    nb = bx.shape[0]
    cx = 0.0
    cy = 0.0
    for i in range(nb):
        cx += bx[i]
        cy += by[i]
    cx /= nb
    cy /= nb
    rb = 0.0
    for i in range(nb):
        rb = max(rb, math.sqrt((bx[i] - cx) ** 2 + (by[i] - cy) ** 2))
    top = pyramid.level_nx.shape[0] - 1
    ctop = pyramid.cell_m * (1 << top)
    reach = cutoff + rb
    iy0 = max(int(math.floor((cy - reach - pyramid.y0) / ctop)) - 1, 0)
    iy1 = min(int(math.floor((cy + reach - pyramid.y0) / ctop)) + 1, pyramid.level_ny[top] - 1)
    ix0 = max(int(math.floor((cx - reach - pyramid.x0) / ctop)) - 1, 0)
    ix1 = min(int(math.floor((cx + reach - pyramid.x0) / ctop)) + 1, pyramid.level_nx[top] - 1)
    sp = 0
    for iy in range(iy0, iy1 + 1):
        for ix in range(ix0, ix1 + 1):
            stack[sp, 0] = top
            stack[sp, 1] = iy
            stack[sp, 2] = ix
            sp += 1
    return cx, cy, rb, sp


@hot_njit
def _block_energy(
    bx: FloatArray,
    by: FloatArray,
    bz: FloatArray,
    bzi: IntArray,
    segments: Segments,
    w_seg: FloatArray,
    pyramid: Pyramid,
    clusters: ClusterPowers,
    settings: MapSettings,
    ground: Ground,
    bands: BandTerms,
    table: TransferTable,
    obst: Obstacles,
    refl: Reflectors,
    wst: IntArray,
    scratch: ScreenScratch,
    acc: FloatArray,
    cnt: IntArray,
    stack: IntArray,
    mode: int,
    nfar: IntArray,
    thr: FloatArray,
    budget: FloatArray,
    allow: FloatArray,
) -> None:
    """Accumulate into ``acc`` (n_block, n_periods, 8) the energy at a block of nearby receptors.

    Descends a pyramid of nested grid cells (level k has cells of ``cell_m·2^k``) once for the whole
    block: a cell whose sources all lie within ``rho`` of their centroid is one point source when
    every receptor of the block sees it from at least ``theta·rho`` (θ = 2·ratio + 1 keeps its
    extent ≤ d_min/ratio, the rule used for splitting lines); otherwise its children are opened, and
    at level 0 its segments are split for each receptor individually. ``cnt`` receives the number of
    point sources evaluated per receptor. With building edges in ``obst``, every point source whose
    path to the receptor crosses a roof above the ray gets the diffracted transfer instead
    (:func:`screened_transfer`). The walls of ``refl`` (receptor ``i``: rows ``wst[i]:wst[i+1]``)
    add the reflections of every point source, first order and, with ``refl.order`` 2, second (:func:`_reflected`).

    ``mode`` 2 evaluates every point source; 0 only those within ``settings.near_m`` (projected),
    counting the others per receptor into ``nfar``; 1 only those beyond, leaving out the screened
    and reflected paths whose bound is negligible against ``thr`` and ``budget`` (per receptor and
    period, see :func:`_screened_core`). A point source's reflected paths share its ``thr`` when its direct
    path did not use it (:func:`_share`, ``allow`` (3, n_periods) the work rows), then the budget.
    """
    # short local names: the loops below are the hot path and read as the formulas
    sx0, sy0, sx1, sy1, slen, seg_start = segments.x0, segments.y0, segments.x1, segments.y1, segments.length_m, segments.cell_start
    lv_nx, lv_off = pyramid.level_nx, pyramid.level_offset
    cl_x, cl_y, cl_rho, cl_len = pyramid.x, pyramid.y, pyramid.rho_m, pyramid.length_m
    theta = pyramid.theta
    w_cl, cl_px, cl_py, cl_mom = clusters.power, clusters.x, clusters.y, clusters.moments
    zs, cutoff, ratio = settings.source_height_m, settings.cutoff_m, settings.spacing_ratio
    tab = table.values
    nb = bx.shape[0]
    npd = w_seg.shape[1]
    use_tab = tab.shape[0] > 0
    inv_step = 1.0 / table.step_m if use_tab else 0.0
    lin_amin_h_far = 10.0 ** (0.3 * (1.0 - ground.g_path))
    cut2 = cutoff * cutoff
    screen = obst.cell_parts.shape[0] > 0
    str_ = scratch.tr
    tr = scratch.work[0]
    tl = scratch.work[1]
    rt = scratch.work[2]
    reflect = refl.wall.shape[0] > 0
    no_tab = tab[0:0, 0]
    near2 = settings.near_m * settings.near_m
    prune = mode == 1
    aw = settings.a_weight
    half_eps = 0.5 * settings.prune_epsilon
    rgain = reflection_gain(ground) if prune else 0.0
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
        if dc - rb >= theta * rho:
            # the whole cell is one point source at its power centroid for every receptor of the block
            for i in range(nb):
                ex = bx[i] - cl_px[ci]
                ey = by[i] - cl_py[ci]
                d2w = ex * ex + ey * ey
                if d2w > cut2:
                    continue
                dd = d2w + (bz[i] - zs) * (bz[i] - zs)
                # mean of 1/D over the cell's power distribution, D = |r - u|² + dz², to second order
                corr = (
                    1.0
                    - (cl_mom[ci, 0] + cl_mom[ci, 2]) / dd
                    + 4.0 * (ex * ex * cl_mom[ci, 0] + 2.0 * ex * ey * cl_mom[ci, 1] + ey * ey * cl_mom[ci, 2]) / (dd * dd)
                )
                corr = min(max(corr, 0.5), 2.0)
                if mode != 2 and (d2w > near2) != prune:
                    if mode == 0:
                        nfar[i] += 1
                    continue
                cnt[i] += 1
                code = (
                    _screened(
                        bx[i], by[i], bz[i], cl_px[ci], cl_py[ci], zs, obst, ground, scratch, prune, w_cl[ci], corr, thr[i], budget[i], aw
                    )
                    if screen
                    else 0
                )
                if code == 1:
                    for m in range(npd):
                        for b in range(NB):
                            acc[i, m, b] += w_cl[ci, m, b] * corr * str_[b]
                    if prune:
                        _grow_budget(budget[i], w_cl[ci], corr * half_eps, str_, aw)
                if reflect:
                    _share(allow, thr[i], code if prune else 0, w_cl[ci], str_)
                    if _reflected(
                        bx[i], by[i], bz[i], wst[i], wst[i + 1], cl_px[ci], cl_py[ci], zs, refl, obst,
                        tab[bzi[i]] if use_tab else no_tab, inv_step, cut2, ground, bands, lin_amin_h_far, tr, rt,
                        prune, w_cl[ci], corr, budget[i], aw, scratch, allow, rgain,
                    ):  # fmt: skip
                        for m in range(npd):
                            for b in range(NB):
                                acc[i, m, b] += w_cl[ci, m, b] * corr * rt[b]
                if code != 0:
                    continue
                if use_tab:
                    zi = bzi[i]
                    xq = math.sqrt(d2w) * inv_step
                    iq = int(xq)
                    fr = xq - iq
                    div = corr / (dd * DIV_CONSTANT)
                    fr0 = div * (1.0 - fr)
                    fr1 = div * fr
                    for b in range(NB):
                        tb = fr0 * tab[zi, iq, b] + fr1 * tab[zi, iq + 1, b]
                        for m in range(npd):
                            acc[i, m, b] += w_cl[ci, m, b] * tb
                else:
                    for b in range(NB):
                        tl[b] = 0.0
                    _add_exact_point(d2w, corr, zs, bz[i], ground, bands, lin_amin_h_far, tr, tl)
                    for m in range(npd):
                        for b in range(NB):
                            acc[i, m, b] += w_cl[ci, m, b] * tl[b]
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
            lim2 = (ratio * length) * (ratio * length)
            for i in range(nb):
                px = bx[i] - ax
                py = by[i] - ay
                dz2 = (bz[i] - zs) * (bz[i] - zs)
                # fast path: seen from at least ratio x its length, a segment is one point at its midpoint
                mx = px - 0.5 * ex
                my = py - 0.5 * ey
                dm2 = mx * mx + my * my
                dm = math.sqrt(dm2)
                lb = dm - 0.5 * length
                if lb > 0.0 and lb * lb + dz2 >= lim2:
                    if dm2 <= cut2:
                        if mode != 2 and (dm2 > near2) != prune:
                            if mode == 0:
                                nfar[i] += 1
                            continue
                        cnt[i] += 1
                        code = (
                            _screened(
                                bx[i],
                                by[i],
                                bz[i],
                                bx[i] - mx,
                                by[i] - my,
                                zs,
                                obst,
                                ground,
                                scratch,
                                prune,
                                w_seg[s],
                                length,
                                thr[i],
                                budget[i],
                                aw,
                            )  # fmt: skip
                            if screen
                            else 0
                        )
                        if code == 1:
                            for m in range(npd):
                                for b in range(NB):
                                    acc[i, m, b] += w_seg[s, m, b] * length * str_[b]
                            if prune:
                                _grow_budget(budget[i], w_seg[s], length * half_eps, str_, aw)
                        if reflect:
                            _share(allow, thr[i], code if prune else 0, w_seg[s], str_)
                            if _reflected(
                                bx[i], by[i], bz[i], wst[i], wst[i + 1], bx[i] - mx, by[i] - my, zs, refl, obst,
                                tab[bzi[i]] if use_tab else no_tab, inv_step, cut2, ground, bands, lin_amin_h_far, tr, rt,
                                prune, w_seg[s], length, budget[i], aw, scratch, allow, rgain,
                            ):  # fmt: skip
                                for m in range(npd):
                                    for b in range(NB):
                                        acc[i, m, b] += w_seg[s, m, b] * length * rt[b]
                        if code != 0:
                            continue
                        if use_tab:
                            zi = bzi[i]
                            xq = dm * inv_step
                            iq = int(xq)
                            fr = xq - iq
                            div = length / ((dm2 + dz2) * DIV_CONSTANT)
                            fr0 = div * (1.0 - fr)
                            fr1 = div * fr
                            for b in range(NB):
                                tb = fr0 * tab[zi, iq, b] + fr1 * tab[zi, iq + 1, b]
                                for m in range(npd):
                                    acc[i, m, b] += w_seg[s, m, b] * tb
                        else:
                            for b in range(NB):
                                tl[b] = 0.0
                            _add_exact_point(dm2, length, zs, bz[i], ground, bands, lin_amin_h_far, tr, tl)
                            for m in range(npd):
                                for b in range(NB):
                                    acc[i, m, b] += w_seg[s, m, b] * tl[b]
                    continue
                n, li, ux, uy, stx, sty = split_segment(px, py, ex, ey, l2, length, dz2, cut2, ratio)
                if n == 0:
                    continue
                for b in range(NB):
                    tl[b] = 0.0
                hit = False
                tabz = tab[bzi[i]] if use_tab else no_tab
                for _j in range(n):
                    dp2 = ux * ux + uy * uy
                    qx = ux
                    qy = uy
                    ux -= stx
                    uy -= sty
                    if dp2 > cut2:
                        continue
                    if mode != 2 and (dp2 > near2) != prune:
                        if mode == 0:
                            nfar[i] += 1
                        continue
                    hit = True
                    cnt[i] += 1
                    code = (
                        _screened(
                            bx[i],
                            by[i],
                            bz[i],
                            bx[i] - qx,
                            by[i] - qy,
                            zs,
                            obst,
                            ground,
                            scratch,
                            prune,
                            w_seg[s],
                            li,
                            thr[i],
                            budget[i],
                            aw,
                        )  # fmt: skip
                        if screen
                        else 0
                    )
                    if code == 1:
                        for b in range(NB):
                            tl[b] += li * str_[b]
                        if prune:
                            _grow_budget(budget[i], w_seg[s], li * half_eps, str_, aw)
                    if reflect:
                        _share(allow, thr[i], code if prune else 0, w_seg[s], str_)
                        if _reflected(
                            bx[i], by[i], bz[i], wst[i], wst[i + 1], bx[i] - qx, by[i] - qy, zs, refl, obst,
                            tabz, inv_step, cut2, ground, bands, lin_amin_h_far, tr, rt,
                            prune, w_seg[s], li, budget[i], aw, scratch, allow, rgain,
                        ):  # fmt: skip
                            for b in range(NB):
                                tl[b] += li * rt[b]
                    if code != 0:
                        pass
                    elif use_tab:
                        _add_table_point(dp2, dz2, li, inv_step, tabz, tl)
                    else:
                        _add_exact_point(dp2, li, zs, bz[i], ground, bands, lin_amin_h_far, tr, tl)
                if hit:
                    for m in range(npd):
                        for b in range(NB):
                            acc[i, m, b] += w_seg[s, m, b] * tl[b]


@njit(cache=True, parallel=True)
def map_energy(
    receivers: Receivers,
    segments: Segments,
    w_seg: FloatArray,
    pyramid: Pyramid,
    clusters: ClusterPowers,
    settings: MapSettings,
    ground: Ground,
    bands: BandTerms,
    table: TransferTable,
    obstacles: Obstacles,
    reflectors: Reflectors,
) -> tuple[FloatArray, IntArray]:
    """Band energies (linear, 10^(L/10)) at each receptor, shape (n_receptors, n_periods, 8), and the
    number of point-source evaluations per receptor.

    Receptors come in spatial blocks (:class:`Receivers`), processed in parallel. ``w_seg``
    (n_segments, n_periods, 8) is each segment's per-metre power (linear 10^(L'_W/10)) and
    ``clusters`` the summed power (× length) of every pyramid cell, evaluated at its power centroid
    with its second moments (see :func:`build_pyramid`, :func:`cluster_power`). Each segment is split
    into n equal parts of length ≤ max(1 m, d_min/ratio) (NMPB 2008, as in NoiseModelling), d_min the
    3-D distance from the receptor; point sources farther than the cutoff (projected) are skipped.
    With a non-empty ``table`` (:func:`transfer_table`) the ground and air terms are interpolated in
    projected distance from the table of the receptor's height; otherwise they are evaluated exactly
    per pair. Building edges in ``obstacles`` screen the paths they block (none: open field); the walls
    of ``reflectors`` (rows per receptor, in ``receivers`` order) add reflections up to ``reflectors.order``.

    With buildings and ``settings.prune_epsilon`` = ε > 0, each block first sums the point sources
    within ``settings.near_m`` of its receptors in full: E per receptor and period (A-weighted), a
    lower bound of its total. Beyond, a screened path (or a reflection) is left out when an upper
    bound of its energy fits in ε/2·E / (the number of point sources beyond), one allowance per point
    source shared by its direct and reflected paths, or else in a second allowance, shared by the
    receptor's left-out paths, of ε/2·E plus ε/2 of every screened path evaluated beyond: all that is
    left out stays below ε times the receptor's total, so each period's level drops by at most
    10·lg(1 + ε).
    """
    rx, ry, rz, z_index, block_start = receivers.x, receivers.y, receivers.z, receivers.z_index, receivers.block_start
    cutoff = settings.cutoff_m
    nr = rx.shape[0]
    npd = w_seg.shape[1]
    out = np.zeros((nr, npd, NB))
    count = np.zeros(nr, dtype=np.int64)
    top = pyramid.level_nx.shape[0] - 1
    ctop = pyramid.cell_m * (1 << top)
    nblocks = block_start.shape[0] - 1
    eps = settings.prune_epsilon
    prune = eps > 0.0 and obstacles.cell_parts.shape[0] > 0
    aw = settings.a_weight
    for j in prange(nblocks):
        lo = block_start[j]
        hi = block_start[j + 1]
        span = 0.0
        for i in range(lo, hi):
            span = max(span, abs(rx[i] - rx[lo]), abs(ry[i] - ry[lo]))
        # room for the top-level cells within reach of the block plus one pending descent per level
        nstack = (int(2.0 * (cutoff + 2.0 * span) / ctop) + 5) ** 2 + 4 * (top + 2)
        stack = np.empty((nstack, 3), dtype=np.int64)
        wst = reflectors.start[lo : hi + 1] if reflectors.wall.shape[0] > 0 else reflectors.start[0:0]
        scratch = screen_scratch(bands)
        nfar = np.zeros(hi - lo, dtype=np.int64)
        thr = np.zeros((hi - lo, npd))
        budget = np.zeros((hi - lo, npd))
        allow = np.zeros((3, npd))  # zeros, a point source's allowance left for its reflections, work row
        # without pruning one pass over every point source (mode 2); with it, the point sources near the
        # receptors in full (0), then those beyond (1) within a budget of the near ones' energy. The mode is
        # a variable, not a constant per call: numba compiles one _block_energy, not one per mode
        for phase in range(2 if prune else 1):
            mode = phase if prune else 2
            if mode == 1:
                for i in range(hi - lo):
                    for m in range(npd):
                        e = 0.0
                        for b in range(NB):
                            e += out[lo + i, m, b] * aw[b]
                        thr[i, m] = 0.5 * eps * e / max(nfar[i], 1)
                        budget[i, m] = 0.5 * eps * e
            _block_energy(
                rx[lo:hi], ry[lo:hi], rz[lo:hi], z_index[lo:hi], segments, w_seg, pyramid, clusters, settings, ground, bands,
                table, obstacles, reflectors, wst, scratch, out[lo:hi], count[lo:hi], stack, mode, nfar, thr, budget, allow,
            )  # fmt: skip
    return out, count


@njit(cache=True)
def build_pyramid(
    segments: Segments, level_nx: IntArray, level_ny: IntArray, level_offset: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Centroid (length-weighted), radius (farthest segment end from the centroid) and length of every
    pyramid cell; segment ``s`` lies in level-0 cell ``segments.cell[s]`` (by its midpoint)."""
    sx0, sy0, sx1, sy1, slen, seg_cell = segments.x0, segments.y0, segments.x1, segments.y1, segments.length_m, segments.cell
    lv_nx, lv_off = level_nx, level_offset
    ncell = lv_off[-1]
    nlev = lv_nx.shape[0]
    cx = np.zeros(ncell)
    cy = np.zeros(ncell)
    ln = np.zeros(ncell)
    rho = np.zeros(ncell)
    nx0 = lv_nx[0]
    ns = sx0.shape[0]
    for s in range(ns):
        iy = seg_cell[s] // nx0
        ix = seg_cell[s] % nx0
        mx = 0.5 * (sx0[s] + sx1[s])
        my = 0.5 * (sy0[s] + sy1[s])
        for k in range(nlev):
            ci = lv_off[k] + (iy >> k) * lv_nx[k] + (ix >> k)
            cx[ci] += slen[s] * mx
            cy[ci] += slen[s] * my
            ln[ci] += slen[s]
    for c in range(ncell):
        if ln[c] > 0:
            cx[c] /= ln[c]
            cy[c] /= ln[c]
    for s in range(ns):
        iy = seg_cell[s] // nx0
        ix = seg_cell[s] % nx0
        for k in range(nlev):
            ci = lv_off[k] + (iy >> k) * lv_nx[k] + (ix >> k)
            r0 = math.hypot(sx0[s] - cx[ci], sy0[s] - cy[ci])
            r1 = math.hypot(sx1[s] - cx[ci], sy1[s] - cy[ci])
            rho[ci] = max(rho[ci], r0, r1)
    return cx, cy, rho, ln


@njit(cache=True)
def cluster_power(
    w_seg: FloatArray, w_ref: FloatArray, segments: Segments, level_nx: IntArray, level_offset: IntArray, a_weight: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Summed power (per-metre power × length) of every pyramid cell, shape (n_cells, n_periods, 8),
    the power-weighted centroid of each cell (weights: A-weighted reference power ``w_ref``, per
    segment and band), where the cell is evaluated as one point source, and the central second
    moments (xx, xy, yy) of that power about the centroid, for the curvature correction of the
    1/d² spreading. The energies are linear in ``w_seg`` for a fixed ``w_ref``.
    The four results are the fields of :class:`ClusterPowers`."""
    sx0, sy0, sx1, sy1, slen, seg_cell = segments.x0, segments.y0, segments.x1, segments.y1, segments.length_m, segments.cell
    lv_nx, lv_off = level_nx, level_offset
    ncell = lv_off[-1]
    nlev = lv_nx.shape[0]
    npd = w_seg.shape[1]
    out = np.zeros((ncell, npd, NB))
    px = np.zeros(ncell)
    py = np.zeros(ncell)
    pw = np.zeros(ncell)
    mom = np.zeros((ncell, 3))
    nx0 = lv_nx[0]
    for s in range(w_seg.shape[0]):
        iy = seg_cell[s] // nx0
        ix = seg_cell[s] % nx0
        wa = 0.0
        for b in range(NB):
            wa += w_ref[s, b] * a_weight[b]
        wa *= slen[s]
        mx = 0.5 * (sx0[s] + sx1[s])
        my = 0.5 * (sy0[s] + sy1[s])
        ex = sx1[s] - sx0[s]
        ey = sy1[s] - sy0[s]
        for k in range(nlev):
            ci = lv_off[k] + (iy >> k) * lv_nx[k] + (ix >> k)
            px[ci] += wa * mx
            py[ci] += wa * my
            pw[ci] += wa
            mom[ci, 0] += wa * (mx * mx + ex * ex / 12.0)
            mom[ci, 1] += wa * (mx * my + ex * ey / 12.0)
            mom[ci, 2] += wa * (my * my + ey * ey / 12.0)
            for m in range(npd):
                for b in range(NB):
                    out[ci, m, b] += w_seg[s, m, b] * slen[s]
    for c in range(ncell):
        if pw[c] > 0.0:
            px[c] /= pw[c]
            py[c] /= pw[c]
            mom[c, 0] = max(mom[c, 0] / pw[c] - px[c] * px[c], 0.0)
            mom[c, 1] = mom[c, 1] / pw[c] - px[c] * py[c]
            mom[c, 2] = max(mom[c, 2] / pw[c] - py[c] * py[c], 0.0)
    return out, px, py, mom


@njit(cache=True)
def transfer_table(zr_values: FloatArray, zs: float, n_steps: int, step: float, ground: Ground, bands: BandTerms) -> FloatArray:
    """Excess transfer (ground H/F p-mixed × air absorption, divergence removed) on a grid of projected
    distances ``i·step``, per receptor height: shape (len(zr_values), n_steps, 8)."""
    nz = zr_values.shape[0]
    out = np.empty((nz, n_steps, NB))
    lin_amin_h_far = 10.0 ** (0.3 * (1.0 - ground.g_path))
    for j in range(nz * n_steps):
        iz = j // n_steps
        i = j % n_steps
        dp = max(i * step, 0.01)
        zr = zr_values[iz]
        tr = np.empty(NB)
        _point_transfer(dp, zs, zr, ground, bands, lin_amin_h_far, tr)
        d2 = dp * dp + (zr - zs) * (zr - zs)
        for b in range(NB):
            out[iz, i, b] = tr[b] * d2 * DIV_CONSTANT
    return out


@njit(cache=True)
def changed_cells(
    seg_changed: npt.NDArray[np.bool_], seg_cell: IntArray, level_nx: IntArray, level_offset: IntArray
) -> npt.NDArray[np.bool_]:
    """Which pyramid cells (all levels, :class:`Pyramid` order) hold at least one changed segment.

    ``seg_changed[s]`` flags segment ``s``, which lies in level-0 cell ``seg_cell[s]``.
    """
    out = np.zeros(level_offset[-1], dtype=np.bool_)
    nx0 = level_nx[0]
    for s in range(seg_changed.shape[0]):
        if not seg_changed[s]:
            continue
        iy = seg_cell[s] // nx0
        ix = seg_cell[s] % nx0
        for k in range(level_nx.shape[0]):
            out[level_offset[k] + (iy >> k) * level_nx[k] + (ix >> k)] = True
    return out


# --------------------------------------------------------------------------- reflections
class Reflectors(NamedTuple):
    """The façades that reflect sound to each receptor (specular reflections, image method), and the order.

    Receptor ``i`` (in :class:`Receivers` order) sees walls ``start[i]:start[i+1]`` of ``wall``, whose
    rows are: image of the receptor in the wall's line (x, y), wall start (x, y), wall vector (x, y),
    unit normal towards the receptor (x, y), receptor distance to the wall line, roof height and
    1 / |wall vector|². ``keep`` holds 1 − α per wall and band. No row: no reflection.
    """

    start: IntArray
    wall: FloatArray  # (n_walls, 11)
    keep: FloatArray  # (n_walls, 8)
    order: int = 1  # 1: first-order reflections; 2: also second order (pairs of these walls)


@hot_njit
def first_roof(x0: float, y0: float, z0: float, x1: float, y1: float, z1: float, obst: Obstacles) -> tuple[float, float]:
    """The first roof met above the straight ray (x0, y0, z0) → (x1, y1, z1): its fraction of the way and
    its height; (-1, 0) when the ray passes above every building edge it crosses in plan.

    The grid walk of :func:`trace_crossings`, stopping at the first roof above the ray (the walk's
    cells come in order, the edges within a cell do not: "first" up to one cell).
    """
    if obst.cell_parts.shape[0] == 0:
        return -1.0, 0.0
    dx = x1 - x0
    dy = y1 - y0
    length = math.sqrt(dx * dx + dy * dy)
    if length <= 0.0:
        return -1.0, 0.0
    t1, ix, iy, tmx, tdx, tmy, tdy = _walk_start(x0, y0, dx, dy, obst)
    if t1 <= 0.0:
        return -1.0, 0.0
    step_x = 1 if dx > 0 else -1
    step_y = 1 if dy > 0 else -1
    seg = obst.edge_seg
    items = obst.cell_items
    px = -1
    py = -1
    dz = z1 - z0
    while True:
        c = iy * obst.nx + ix
        for j in range(obst.cell_start[c], obst.cell_start[c + 1]):
            if not _part_near(items, j, px, py, x0, y0, dx, dy, length):
                continue
            p = int(items[j, 0])
            for e in range(obst.part_start[p], obst.part_start[p + 1]):
                t = _edge_crossing(seg, e, x0, y0, dx, dy)
                if t > 0.0 and obst.height_m[e] > z0 + t * dz:
                    return t, obst.height_m[e]
        px = ix
        py = iy
        ix, iy, tmx, tmy, going = _walk_next(ix, iy, tmx, tmy, tdx, tdy, step_x, step_y, t1, obst)
        if not going:
            return -1.0, 0.0


@hot_njit
def clear_leg(x0: float, y0: float, z0: float, x1: float, y1: float, z1: float, obst: Obstacles) -> bool:
    """Whether the straight ray (x0, y0, z0) → (x1, y1, z1) passes above every building edge it crosses in plan
    (:func:`first_roof`)."""
    return first_roof(x0, y0, z0, x1, y1, z1, obst)[0] < 0.0


@hot_njit
def _share(allow: FloatArray, thr: FloatArray, code: int, wrow: FloatArray, bound: FloatArray) -> None:
    """Set ``allow[1]``, what a point source's reflected paths may leave out besides the budget: its ``thr``,
    less the A-weighted bound ``bound`` (per band, × the source's length) of its direct path when that was
    left out (``code`` 2, under ``thr`` or within the budget). A point source's paths left out under the
    per-source threshold then stay below it together."""
    for m in range(thr.shape[0]):
        used = 0.0
        if code == 2:
            for b in range(NB):
                used += wrow[m, b] * bound[b]
        allow[1, m] = max(thr[m] - used, 0.0)


@hot_njit
def _take(allow: FloatArray, budget: FloatArray) -> None:
    """Take the energy ``allow[2]`` of a path left out from the point source's allowance ``allow[1]`` first,
    the rest from ``budget``."""
    for m in range(budget.shape[0]):
        u = min(allow[2, m], allow[1, m])
        allow[1, m] -= u
        budget[m] -= allow[2, m] - u


@hot_njit
def _pool(allow: FloatArray, budget: FloatArray) -> None:
    """``allow[2]`` set to the allowance plus the budget: the budget of a bound that takes from both (:func:`_take_pool`)."""
    for m in range(budget.shape[0]):
        allow[2, m] = allow[1, m] + budget[m]


@hot_njit
def _take_pool(allow: FloatArray, budget: FloatArray) -> None:
    """After a bound took from the pool ``allow[2]`` (:func:`_pool`): that energy from the allowance first, then the budget."""
    for m in range(budget.shape[0]):
        allow[2, m] = allow[1, m] + budget[m] - allow[2, m]
    _take(allow, budget)


@hot_njit
def _append_leg(x0: float, y0: float, x1: float, y1: float, offset: float, n: int, obst: Obstacles, sc: ScreenScratch) -> int:
    """Append to ``sc.cs``, ``sc.ch`` (after the first ``n``) the crossings of the leg (x0, y0) → (x1, y1) of an
    unfolded reflected path, at ``offset`` plus their distance from (x0, y0); returns the new count."""
    k = trace_crossings(x1, y1, x0, y0, obst, sc.px, sc.pz, sc.hull)
    k = min(k, MAX_CROSSINGS - n)
    for j in range(k):
        sc.cs[n + j] = offset + sc.px[j]
        sc.ch[n + j] = sc.pz[j]
    return n + k


@hot_njit
def _unfolded_code(
    sx: float,
    sy: float,
    zs: float,
    p1x: float,
    p1y: float,
    z1: float,
    p2x: float,
    p2y: float,
    z2: float,
    two: bool,
    rx: float,
    ry: float,
    rz: float,
    dp: float,
    obst: Obstacles,
    ground: Ground,
    sc: ScreenScratch,
    prune: bool,
    wrow: FloatArray,
    mult: float,
    allow: FloatArray,
    budget: FloatArray,
    a_weight: FloatArray,
) -> int:
    """Whether buildings screen the reflected path source → specular point(s) → receptor, unfolded into one
    vertical profile of length ``dp``: 0 every leg in sight; 1 screened, the transfer over the convex hull of
    the roofs of every leg (:func:`_screened_core`) in ``sc.tr``; 2 screened and left out as negligible, its
    bound taken from ``allow[1]`` and ``budget`` (:func:`_take`)."""
    # the first roof above the unfolded ray, leg by leg (most paths are in sight: one walk per leg)
    l1 = math.sqrt((p1x - sx) ** 2 + (p1y - sy) ** 2)
    t, h = first_roof(sx, sy, zs, p1x, p1y, z1, obst)
    u = t * l1
    l2 = 0.0
    if t < 0.0 and two:
        l2 = math.sqrt((p2x - p1x) ** 2 + (p2y - p1y) ** 2)
        t, h = first_roof(p1x, p1y, z1, p2x, p2y, z2, obst)
        u = l1 + t * l2
    if t < 0.0:
        ex, ey, ez = (p2x, p2y, z2) if two else (p1x, p1y, z1)
        t, h = first_roof(ex, ey, ez, rx, ry, rz, obst)
        u = l1 + l2 + t * math.sqrt((rx - ex) ** 2 + (ry - ey) ** 2)
    if t < 0.0:
        return 0
    # that one roof already bounds the diffraction (see :func:`_negligible_early`): negligible, no full trace
    if prune:
        sc.px[0] = dp - u
        sc.pz[0] = h
        _pool(allow, budget)
        if _negligible_early(sc.px, sc.pz, 1, dp, zs, rz, ground, sc, wrow, mult, allow[0], allow[2], a_weight):
            _take_pool(allow, budget)
            return 2
    if two:
        l2 = math.sqrt((p2x - p1x) ** 2 + (p2y - p1y) ** 2)
        n = _append_leg(sx, sy, p1x, p1y, 0.0, 0, obst, sc)
        n = _append_leg(p1x, p1y, p2x, p2y, l1, n, obst, sc)
        n = _append_leg(p2x, p2y, rx, ry, l1 + l2, n, obst, sc)
    else:
        n = _append_leg(sx, sy, p1x, p1y, 0.0, 0, obst, sc)
        n = _append_leg(p1x, p1y, rx, ry, l1, n, obst, sc)
    if n == 0:
        return 0
    _pool(allow, budget)
    code = _screened_core(max(dp, 0.01), zs, rz, sc.cs, sc.ch, n, ground, sc, prune, wrow, mult, allow[0], allow[2], a_weight)
    if code == 2:
        _take_pool(allow, budget)
    return code


@hot_njit
def _image_path(
    sx: float,
    sy: float,
    zs: float,
    p1x: float,
    p1y: float,
    z1: float,
    p2x: float,
    p2y: float,
    z2: float,
    two: bool,
    rx: float,
    ry: float,
    rz: float,
    d2p: float,
    k1: FloatArray,
    k2: FloatArray,
    obst: Obstacles,
    tabz: FloatArray,
    inv_step: float,
    ground: Ground,
    bands: BandTerms,
    lin_amin_h_far: float,
    tr: FloatArray,
    sc: ScreenScratch,
    prune: bool,
    wrow: FloatArray,
    mult: float,
    allow: FloatArray,
    budget: FloatArray,
    a_weight: FloatArray,
    gain: float,
) -> bool:
    """The transfer into ``tr`` of one reflected path (unfolded projected length² ``d2p``, specular points (p1x,
    p1y, z1) and, when ``two``, (p2x, p2y, z2)) times 1 − α of its wall(s) (``k1``, and ``k2`` when ``two``).

    In sight: the open-field transfer (ground and air over the unfolded length; ``tabz`` empty: exact).
    Screened by buildings: the diffracted transfer of the unfolded profile (:func:`_unfolded_code`).
    Returns False when the path is left out as negligible (``prune``): first, before tracing, when its
    bound fits in ``budget`` — the larger of the open-field transfer and ``gain`` · divergence · air, ``gain``
    bounding the screened transfer's ground and diffraction terms (see :func:`_reflected`); then as the
    open-field or screened path (:func:`_screened_core`) would be. What is left out is taken from
    ``allow[1]`` (what remains of the point source's allowance), then ``budget`` (:func:`_take`).
    """
    dz2 = (rz - zs) * (rz - zs)
    if tabz.shape[0] > 0:
        xq = math.sqrt(d2p) * inv_step
        iq = int(xq)
        fr = xq - iq
        div = 1.0 / ((d2p + dz2) * DIV_CONSTANT)
        for b in range(NB):
            tr[b] = div * ((1.0 - fr) * tabz[iq, b] + fr * tabz[iq + 1, b])
    else:
        _point_transfer(max(math.sqrt(d2p), 0.01), zs, rz, ground, bands, lin_amin_h_far, tr)
    for b in range(NB):
        tr[b] *= k1[b] * k2[b] if two else k1[b]
    if prune:
        d = math.sqrt(d2p + dz2)
        div = gain / (max(d2p + dz2, 1e-12) * DIV_CONSTANT)
        use = allow[2]
        bound = sc.a_f  # free until the screened transfer
        for b in range(NB):
            kb = k1[b] * k2[b] if two else k1[b]
            bound[b] = max(tr[b], div * exp_fast(-bands.air_per_m[b] * d) * kb) * a_weight[b] * mult
        fits = True
        for m in range(wrow.shape[0]):
            e = 0.0
            for b in range(NB):
                e += wrow[m, b] * bound[b]
            use[m] = e
            fits = fits and use[m] <= allow[1, m] + budget[m]
        if fits:
            _take(allow, budget)
            return False
    code = _unfolded_code(
        sx, sy, zs, p1x, p1y, z1, p2x, p2y, z2, two, rx, ry, rz, math.sqrt(d2p), obst, ground, sc, prune, wrow, mult, allow, budget,
        a_weight,
    )  # fmt: skip
    if code == 2:
        return False
    if code == 1:
        for b in range(NB):
            tr[b] = sc.tr[b] * (k1[b] * k2[b] if two else k1[b])
        return True
    if prune:  # in sight: left out when its open-field transfer fits in the allowance
        use = allow[2]
        fits = True
        for m in range(wrow.shape[0]):
            e = 0.0
            for b in range(NB):
                e += wrow[m, b] * tr[b] * a_weight[b]
            use[m] = e * mult
            fits = fits and use[m] <= allow[1, m] + budget[m]
        if fits:
            _take(allow, budget)
            return False
    return True


@njit(cache=True)
def reflection_gain(ground: Ground) -> float:
    """The most the ground and diffraction terms of a screened reflected path can add to its divergence and
    air absorption (see :func:`_reflected`): a constant of the map."""
    side_h = 10.0 ** (0.3 * (1.0 - min(ground.g_path, ground.g_source)))
    side_f = max(side_h, 10.0 ** (0.9 * (1.0 - ground.g_path)))
    p = ground.p_favourable
    gain: float = p * max(side_f * side_f / 3.0, side_f) + (1.0 - p) * side_h * side_h / 3.0
    return gain


@hot_njit
def _reflected(
    rx: float,
    ry: float,
    rz: float,
    wlo: int,
    whi: int,
    sx: float,
    sy: float,
    zs: float,
    refl: Reflectors,
    obst: Obstacles,
    tabz: FloatArray,
    inv_step: float,
    cut2: float,
    ground: Ground,
    bands: BandTerms,
    lin_amin_h_far: float,
    tr: FloatArray,
    rt: FloatArray,
    prune: bool,
    wrow: FloatArray,
    mult: float,
    budget: FloatArray,
    a_weight: FloatArray,
    sc: ScreenScratch,
    allow: FloatArray,
    gain: float,
) -> bool:
    """The transfer of the reflections of the point source (sx, sy) to the receptor into ``rt``.

    First order: each wall ``wlo:whi`` of :class:`Reflectors` whose line the path source → image of the
    receptor crosses within the wall, below its roof. Second order (``refl.order`` 2): each ordered pair
    of those walls (A then B), through the image of the receptor's image in B in A's line, both
    specular points within their walls and below their roofs. Each path adds the transfer of its
    unfolded path times 1 − α of its wall(s) (:func:`_image_path`): open field with every leg in sight,
    else the diffraction over the roofs that screen it (ΔdifH/ΔdifF with ground on either side, as
    the direct path's). Returns whether any path adds (``rt`` untouched otherwise).

    With ``prune``, a path whose bound fits in what remains of the point source's allowance ``allow[1]`` plus
    ``budget`` is left out and its bound taken from them, the allowance first (:func:`_take`). Before
    its legs are traced the bound holds either way: when screened, the diffraction over the hull above the
    ray is at most 1/3 (10·lg 3 dB), each side's ground term gaining at most A_min, 10^(0.3·(1 − min(G,
    G_s))) homogeneous, that or 10^(0.9·(1 − G)) favourable; with no favourable hull the favourable
    ground term of the whole path gains at most the latter: ``gain`` (:func:`reflection_gain`, 0 without ``prune``).
    """
    hit = False
    wall = refl.wall
    keep = refl.keep
    for w in range(wlo, whi):
        nx = wall[w, 6]
        ny = wall[w, 7]
        ds = (sx - wall[w, 2]) * nx + (sy - wall[w, 3]) * ny  # source in front of the wall, on the receptor side
        if ds <= 0.0:
            continue
        imx = wall[w, 0]
        imy = wall[w, 1]
        t = ds / (ds + wall[w, 8])
        qx = sx + t * (imx - sx)
        qy = sy + t * (imy - sy)
        u = ((qx - wall[w, 2]) * wall[w, 4] + (qy - wall[w, 3]) * wall[w, 5]) * wall[w, 10]
        if u <= 0.0 or u >= 1.0:
            continue
        d2p = (imx - sx) * (imx - sx) + (imy - sy) * (imy - sy)
        if d2p > cut2:
            continue
        zq = zs + t * (rz - zs)
        if zq >= wall[w, 9]:
            continue  # the ray passes above the roof
        # legs end 1 cm in front of the wall: the wall itself does not screen its reflection
        if _image_path(
            sx, sy, zs, qx + 0.01 * nx, qy + 0.01 * ny, zq, 0.0, 0.0, 0.0, False, rx, ry, rz, d2p, keep[w], keep[w], obst,
            tabz, inv_step, ground, bands, lin_amin_h_far, tr, sc, prune, wrow, mult, allow, budget, a_weight, gain,
        ):  # fmt: skip
            if not hit:
                for b in range(NB):
                    rt[b] = 0.0
                hit = True
            for b in range(NB):
                rt[b] += tr[b]
    if refl.order < 2:
        return hit
    for a in range(wlo, whi):
        nax = wall[a, 6]
        nay = wall[a, 7]
        ax = wall[a, 2]
        ay = wall[a, 3]
        dsa = (sx - ax) * nax + (sy - ay) * nay  # the source in front of A
        if dsa <= 0.0:
            continue
        for c in range(wlo, whi):
            if c == a:
                continue
            ibx = wall[c, 0]  # the receptor's image in B, in front of A ...
            iby = wall[c, 1]
            di = (ibx - ax) * nax + (iby - ay) * nay
            if di <= 0.0:
                continue
            iax = ibx - 2.0 * di * nax  # ... and its image in A
            iay = iby - 2.0 * di * nay
            t1 = dsa / (dsa + di)
            p1x = sx + t1 * (iax - sx)
            p1y = sy + t1 * (iay - sy)
            u1 = ((p1x - ax) * wall[a, 4] + (p1y - ay) * wall[a, 5]) * wall[a, 10]
            if u1 <= 0.0 or u1 >= 1.0:
                continue
            d2p = (iax - sx) * (iax - sx) + (iay - sy) * (iay - sy)
            if d2p > cut2:
                continue
            nbx = wall[c, 6]
            nby = wall[c, 7]
            dpb = (p1x - wall[c, 2]) * nbx + (p1y - wall[c, 3]) * nby  # the first specular point in front of B
            if dpb <= 0.0:
                continue
            t2 = dpb / (dpb + wall[c, 8])
            p2x = p1x + t2 * (ibx - p1x)
            p2y = p1y + t2 * (iby - p1y)
            u2 = ((p2x - wall[c, 2]) * wall[c, 4] + (p2y - wall[c, 3]) * wall[c, 5]) * wall[c, 10]
            if u2 <= 0.0 or u2 >= 1.0:
                continue
            # heights on the unfolded straight ray: S → P1 is t1, P1 → P2 is t2·(1 − t1) of its length
            z1 = zs + t1 * (rz - zs)
            z2 = zs + (t1 + t2 * (1.0 - t1)) * (rz - zs)
            if z1 >= wall[a, 9] or z2 >= wall[c, 9]:
                continue
            if _image_path(
                sx, sy, zs, p1x + 0.01 * nax, p1y + 0.01 * nay, z1, p2x + 0.01 * nbx, p2y + 0.01 * nby, z2, True, rx, ry, rz, d2p,
                keep[a], keep[c], obst, tabz, inv_step, ground, bands, lin_amin_h_far, tr, sc, prune, wrow, mult, allow, budget,
                a_weight, gain,
            ):  # fmt: skip
                if not hit:
                    for b in range(NB):
                        rt[b] = 0.0
                    hit = True
                for b in range(NB):
                    rt[b] += tr[b]
    return hit


@hot_njit
def _sees_wall_point(rx: float, ry: float, tx: float, ty: float, obst: Obstacles, cs: FloatArray, ch: FloatArray, ce: IntArray) -> bool:
    """Whether the receptor sees the point (tx, ty) in plan (no footprint edge between them)."""
    return trace_crossings(rx, ry, tx, ty, obst, cs, ch, ce) == 0


@njit(cache=True, parallel=True)
def reflecting_walls(rx: FloatArray, ry: FloatArray, obst: Obstacles, max_dist: float, own_m: float, cap: int) -> tuple[IntArray, IntArray]:
    """The building edges that can reflect sound to each receptor: within ``max_dist`` of it, seen in
    plan (their midpoint or a quarter point with no footprint edge in between), not its own façade.

    The own façade: the edges, of a building with an edge within ``own_m`` of the receptor, whose
    line passes within ``own_m`` of it. Returns the number of walls per receptor (at most ``cap``,
    the nearest kept) and their edge indices, shape (n, cap).
    """
    n = rx.shape[0]
    count = np.zeros(n, dtype=np.int64)
    out = np.full((n, cap), -1, dtype=np.int64)
    if obst.cell_parts.shape[0] == 0:
        return count, out
    seg = obst.edge_seg
    for i in prange(n):
        m = MAX_CROSSINGS + 2
        cs = np.empty(m)
        ch = np.empty(m)
        ce = np.empty(m, dtype=np.int64)
        cand = np.empty(4 * cap, dtype=np.int64)
        cdist = np.empty(4 * cap)
        nc = 0
        x = rx[i]
        y = ry[i]
        cx0 = max(int((x - max_dist - obst.x0) / obst.cell_m), 0)
        cx1 = min(int((x + max_dist - obst.x0) / obst.cell_m), obst.nx - 1)
        cy0 = max(int((y - max_dist - obst.y0) / obst.cell_m), 0)
        cy1 = min(int((y + max_dist - obst.y0) / obst.cell_m), obst.ny - 1)
        for iy in range(cy0, cy1 + 1):
            for ix in range(cx0, cx1 + 1):
                c = iy * obst.nx + ix
                for j in range(obst.cell_start[c], obst.cell_start[c + 1]):
                    p = obst.cell_parts[j]
                    # each part once: in the first cell of its range inside the window
                    if ix != max(obst.part_cells[p, 0], cx0) or iy != max(obst.part_cells[p, 2], cy0):
                        continue
                    if math.hypot(obst.part_circle[p, 0] - x, obst.part_circle[p, 1] - y) - obst.part_circle[p, 2] > max_dist:
                        continue
                    own = False
                    for e in range(obst.part_start[p], obst.part_start[p + 1]):
                        ax, ay, ex, ey = seg[e, 0], seg[e, 1], seg[e, 2], seg[e, 3]
                        l2 = ex * ex + ey * ey
                        t = min(max(((x - ax) * ex + (y - ay) * ey) / l2, 0.0), 1.0) if l2 > 0.0 else 0.0
                        if math.hypot(x - ax - t * ex, y - ay - t * ey) < own_m:
                            own = True
                    for e in range(obst.part_start[p], obst.part_start[p + 1]):
                        ax, ay, ex, ey = seg[e, 0], seg[e, 1], seg[e, 2], seg[e, 3]
                        l2 = ex * ex + ey * ey
                        if l2 < 1.0:
                            continue  # walls under 1 m: no specular reflection worth the name
                        le = math.sqrt(l2)
                        dl = ((x - ax) * ey - (y - ay) * ex) / le  # signed distance to the wall's line
                        if abs(dl) < 1e-3 or (own and abs(dl) <= own_m):
                            continue
                        t = min(max(((x - ax) * ex + (y - ay) * ey) / l2, 0.0), 1.0)
                        dist = math.hypot(x - ax - t * ex, y - ay - t * ey)
                        if dist > max_dist:
                            continue
                        # normal towards the receptor; test points 5 cm in front of the wall
                        nx = ey / le if dl > 0 else -ey / le
                        ny = -ex / le if dl > 0 else ex / le
                        seen = False
                        for f in (0.5, 0.25, 0.75):
                            if _sees_wall_point(x, y, ax + f * ex + 0.05 * nx, ay + f * ey + 0.05 * ny, obst, cs, ch, ce):
                                seen = True
                                break
                        if not seen:
                            continue
                        if nc < cand.shape[0]:
                            cand[nc] = e
                            cdist[nc] = dist
                            nc += 1
        order = np.argsort(cdist[:nc])
        k = min(nc, cap)
        for j in range(k):
            out[i, j] = cand[order[j]]
        count[i] = k
    return count, out
