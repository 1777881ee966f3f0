"""Numba kernels of the air-quality model (:mod:`ldtkit.model.air`).

Two dispersion kernels share the CALINE3 dispersion curves (Benson 1979, Caltrans
report FHWA/CA/TL-79/23):

- :func:`caline3_matrix` -- the CALINE3 Gaussian line-source model for one hour of
  meteorology (wind speed, bearing, Pasquill class), links split into elements of
  growing size with an equivalent finite line and five weighted sub-elements, and a
  mixing zone over the carriageway (initial sigma-z from the residence time).
- :func:`transfer_pairs` -- the long-term (climatological) transfer used for maps: each
  straight segment of a link is integrated as a continuum of point sources, with the
  plume integrated analytically across the wind-direction distribution (narrow-plume
  approximation, as in ISC long-term sector averaging), so that a point source at
  distance ``x`` and bearing ``b`` contributes ``p(b) q G(x) / (sqrt(2 pi) x)`` with
  ``p`` the wind-direction density per radian and ``G = sum_k f_k V_k(x) / (u_k sigma_z,k(x))``
  over stability/speed classes. The integral along the segment uses the substitution
  ``s = d sinh(t)``, which makes the integrand smooth in ``t`` right up to the road.

Arguments travel in named tuples of arrays (:class:`Caline3Links`, :class:`Caline3Met`,
:class:`Segments`, :class:`CellIndex`, :class:`TransferTables`), which numba compiles like
plain tuples. All hot loops run in parallel over receptors.

Examples
--------
>>> seg = Segments(np.array([0.0]), np.array([-100.0]), np.array([0.0]), np.array([100.0]))
>>> index = cell_index(seg, np.array([10.0, 500.0]), np.array([0.0, 0.0]), reach_m=50.0, cell_m=50.0)
>>> nearest_segment(np.array([10.0, 500.0]), np.array([0.0, 0.0]), seg, np.array([20.0]), index).tolist()
[0, -1]
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit, prange

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# CALINE3 dispersion parameters by Pasquill class A..F (index 0..5): sigma-z at 10 km,
# sigma-y at 1 m and at 10 km, for z0 = 10 cm (sigma-z) / 3 cm (sigma-y) and 3 min averaging.
CALINE_AZ = np.array([1112.0, 556.0, 353.0, 219.0, 124.0, 56.0])
CALINE_AY1 = np.array([0.46, 0.29, 0.18, 0.11, 0.087, 0.057])
CALINE_AY2 = np.array([1831.0, 1155.0, 717.0, 438.0, 346.0, 227.0])
# weights of the five sub-elements of the equivalent line
_WT = np.array([0.25, 0.75, 1.0, 0.75, 0.25])
_DREF = math.log(10000.0)


class Caline3Links(NamedTuple):
    """CALINE3 links: end points (m), mixing-zone width (m), height (m), type and lineal source strength."""

    x1: FloatArray
    y1: FloatArray
    x2: FloatArray
    y2: FloatArray
    width_m: FloatArray
    height_m: FloatArray
    #: 1 at grade, 2 bridge, 3 fill, 4 depressed
    link_type: IntArray
    #: lineal source strength, ug/(m s)
    q_ugms: FloatArray


class Caline3Met(NamedTuple):
    """One CALINE3 meteorological hour and the site's averaging time and roughness."""

    wind_speed_ms: float
    #: direction the wind blows *from* (compass degrees)
    wind_from_deg: float
    #: Pasquill class 1..6 (A..F)
    stability: int
    mixing_height_m: float
    averaging_time_min: float
    z0_cm: float


class Segments(NamedTuple):
    """Straight line segments: start ``(x1, y1)`` and end ``(x2, y2)`` in metres."""

    x1: FloatArray
    y1: FloatArray
    x2: FloatArray
    y2: FloatArray


class CellIndex(NamedTuple):
    """A uniform grid of ``nx`` x ``ny`` cells from ``(x0, y0)`` with the segments that reach each cell (CSR)."""

    indptr: IntArray
    items: IntArray
    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int


class TransferTables(NamedTuple):
    """What the long-term transfer integrates against.

    ``dir_density``: wind-from direction density per radian at equal steps from north;
    ``g_table``: G per mixing-width class (rows) and ln-distance (columns, from ``log_x0`` by
    ``dlog_x``); ``step_t``: integration step in ``t = asinh(s/d)``.
    """

    dir_density: FloatArray
    g_table: FloatArray
    log_x0: float
    dlog_x: float
    step_t: float


@njit(cache=True, inline="always")
def _upper_tail(lim: float) -> float:
    """P(Z > lim) for lim >= 0 (Abramowitz & Stegun 26.2.17); 0 beyond 5 sigma as in CALINE3."""
    if lim > 5.0:
        return 0.0
    t = 1.0 / (1.0 + 0.2316419 * lim)
    poly = t * (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))))
    return 0.3989423 * math.exp(-0.5 * lim * lim) * poly


@njit(cache=True)
def caline3_sigma_params(clas: int, atim_min: float, z0_cm: float) -> tuple[float, float, float]:
    """(py1, py2, sz10): sigma-y = py1 * x**py2 and ln(sigma-z at 10 km) for a Pasquill class 1..6."""
    c = min(max(clas, 1), 6) - 1
    afac = (atim_min / 3.0) ** 0.2
    sy1 = math.log(CALINE_AY1[c] * (z0_cm / 3.0) ** 0.2 * afac)
    sy10 = math.log(CALINE_AY2[c] * (z0_cm / 3.0) ** 0.07 * afac)
    sz10 = math.log(CALINE_AZ[c] * (z0_cm / 10.0) ** 0.07 * afac)
    return math.exp(sy1), (sy10 - sy1) / _DREF, sz10


@njit(cache=True)
def caline3_sigma_z_params(sz10: float, w2: float, u: float, atim_min: float, dstr: float) -> tuple[float, float]:
    """(pz1, pz2) of sigma-z = pz1 * x**pz2 through the mixing-zone value at x = W/2 and sz10 at 10 km."""
    tr = dstr * w2 / u  # residence time over the half-width (s)
    sgz1 = math.log((1.8 + 0.11 * tr) * (atim_min / 30.0) ** 0.2)
    pz2 = (sz10 - sgz1) / (_DREF - math.log(w2))
    pz1 = math.exp((sz10 + sgz1 - pz2 * (_DREF + math.log(w2))) / 2.0)
    return pz1, pz2


@njit(cache=True, inline="always")
def _vertical(z: float, h: float, sgz: float, mixh: float) -> float:
    """Ground-reflected vertical term, with reflections at the mixing height when it is below 1000 m."""
    a1 = -0.5 * ((z + h) / sgz) ** 2
    a2 = -0.5 * ((z - h) / sgz) ** 2
    total = (math.exp(a1) if a1 >= -44.0 else 0.0) + (math.exp(a2) if a2 >= -44.0 else 0.0)
    if mixh >= 1000.0:
        return total
    for n in range(1, 50):
        term = 0.0
        for sgn in (1.0, -1.0):
            cnt = sgn * n
            b1 = -0.5 * ((z + h + 2.0 * cnt * mixh) / sgz) ** 2
            b2 = -0.5 * ((z - h + 2.0 * cnt * mixh) / sgz) ** 2
            term += (math.exp(b1) if b1 >= -44.0 else 0.0) + (math.exp(b2) if b2 >= -44.0 else 0.0)
        total += term
        if term == 0.0:
            break
    return total


@njit(cache=True)
def _caline3_pair(
    xr: float,
    yr: float,
    zr: float,
    link: tuple[float, float, float, float, float, float, int, float],
    plume: tuple[float, float, float, float, float, float],
    u: float,
    wind_xy: tuple[float, float],
    sigma_y: tuple[float, float],
    mixh: float,
) -> float:
    """CALINE3 concentration (ug/m3) at one receptor from one link.

    ``link``: end points, width, height, type and source strength (as :class:`Caline3Links`);
    ``plume``: the link's wind angle, element growth base, sigma-z parameters and depressed-section
    factors; ``wind_xy``: unit vector the wind blows towards; ``sigma_y``: sigma-y parameters.
    Scalars in tuples rather than arrays: the call sits in the innermost loop.
    """
    x1, y1, x2, y2, w, hl, ntyp, q1 = link
    phi, base, pz1, pz2, hds, dstr = plume
    xvec, yvec = wind_xy
    py1, py2 = sigma_y
    ll = math.sqrt((x1 - x2) ** 2 + (y1 - y2) ** 2)
    w2 = w / 2.0
    h = hl if (ntyp == 1 or ntyp == 2) else 0.0
    a = (xr - x1) ** 2 + (yr - y1) ** 2
    b = (xr - x2) ** 2 + (yr - y2) ** 2
    lo = (b - a - ll * ll) / (2.0 * ll)  # minus the along-link position of the receptor
    d = math.sqrt(a - lo * lo) if a > lo * lo else 0.0
    uwl = ll + lo
    dwl = lo
    dvir = d if d != 0.0 else 1.0
    xp = xr + dvir * xvec
    yp = yr + dvir * yvec
    ap = (xp - x1) ** 2 + (yp - y1) ** 2
    bp = (xp - x2) ** 2 + (yp - y2) ** 2
    lp = (bp - ap - ll * ll) / (2.0 * ll)
    dp = math.sqrt(ap - lp * lp) if ap > lp * lp else 0.0
    if dp < d:
        d = -d  # receptor upwind of the link
    if lp < lo:
        uwl, dwl = -dwl, -uwl
    # receptor height relative to a fill or depressed section (2:1 side slopes)
    z = zr
    if not (ntyp == 1 or ntyp == 2):
        if abs(d) < w2 + 2.0 * abs(hl):
            if abs(d) <= w2:
                z = zr - hl
            else:
                z = zr - hl * (1.0 - (abs(d) - w2) / (2.0 * abs(hl)))
    tanp = math.tan(phi)
    sinp = math.sin(phi)
    cosp = math.cos(phi)
    total = 0.0
    yv = np.empty(6)
    intg = np.empty(6)
    sgn = 1.0
    if uwl <= 0.0 and dwl < 0.0:
        sgn = -1.0
    for pass_no in range(2):
        if pass_no == 0 and sgn == -1.0:
            continue
        if pass_no == 1:
            sgn = -1.0
            if uwl > 0.0 and dwl >= 0.0:
                break  # link entirely upwind of the receptor
        ne = 0
        ed1 = 0.0
        ed2 = sgn * w
        while True:
            last = False
            skip = False
            if sgn == 1.0:
                if ed1 <= dwl and ed2 <= dwl:
                    skip = True
                elif not (ed1 > dwl and ed2 < uwl):
                    if ed1 <= dwl:
                        ed1 = dwl
                    if ed2 >= uwl:
                        ed2 = uwl
                        last = True
            else:
                if ed1 >= uwl and ed2 >= uwl:
                    skip = True
                elif not (ed1 < uwl and ed2 > dwl):
                    if ed1 >= uwl:
                        ed1 = uwl
                    if ed2 <= dwl:
                        ed2 = dwl
                        last = True
            if not skip:
                el2 = abs(ed2 - ed1) / 2.0
                ecld = (ed1 + ed2) / 2.0
                ell2 = w2 / cosp + (el2 - w2 * tanp) * sinp
                if phi >= math.atan(w2 / el2):
                    csl2 = w2 / sinp
                else:
                    csl2 = el2 / cosp
                em2 = abs((el2 - w2 / tanp) * sinp)
                en2 = (ell2 - em2) / 2.0
                qe = q1 * csl2 / w2
                fet = (ecld + d * tanp) * cosp
                hyp = ecld * ecld + d * d
                side = fet * fet
                ye = math.sqrt(hyp - side) if side <= hyp else 0.0
                if fet <= -csl2:
                    if sgn == -1.0:
                        break  # every further downwind element is behind the receptor
                else:
                    if fet < csl2:  # receptor within the element
                        qe = qe * (fet + csl2) / (2.0 * csl2)
                        fet = (csl2 + fet) / 2.0
                    sgz = pz1 * fet**pz2
                    sgy = py1 * fet**py2
                    fac1 = 0.399 / (sgz * u)
                    yv[0] = ye + ell2
                    yv[1] = yv[0] - en2
                    yv[2] = yv[1] - en2
                    yv[3] = yv[2] - 2.0 * em2
                    yv[4] = yv[3] - en2
                    yv[5] = yv[4] - en2
                    for i in range(6):
                        intg[i] = _upper_tail(abs(yv[i] / sgy))
                    fac2 = 0.0
                    for i in range(5):
                        if (yv[i] >= 0.0) == (yv[i + 1] >= 0.0):
                            pd = abs(intg[i + 1] - intg[i])
                        else:
                            pd = 1.0 - intg[i] - intg[i + 1]
                        fac2 += pd * qe * _WT[i]
                    fact = fac1 * fac2
                    if hds < -1.5 and abs(d) < (w2 - 3.0 * hds):
                        if abs(d) <= w2:
                            fact *= dstr
                        else:
                            fact *= dstr - (dstr - 1.0) * (abs(d) - w2) / (-3.0 * hds)
                    total += fact * _vertical(z, h, sgz, mixh)
            if last:
                break
            ne += 1
            ed1 = ed2
            ed2 = ed2 + sgn * (base**ne) * w
    return total


@njit(cache=True, parallel=True)
def caline3_matrix(xr: FloatArray, yr: FloatArray, zr: FloatArray, links: Caline3Links, met: Caline3Met) -> FloatArray:
    """CALINE3 concentrations (ug/m3), shape (n_receptors, n_links), for one meteorological hour.

    Receptors at ``(xr, yr, zr)``. Wind speeds below 1 m/s give zeros (outside CALINE3's range).
    """
    u = met.wind_speed_ms
    atim_min = met.averaging_time_min
    mixh = met.mixing_height_m
    xl1, yl1, xl2, yl2, wl, hl = links.x1, links.y1, links.x2, links.y2, links.width_m, links.height_m
    nr = xr.shape[0]
    nl = xl1.shape[0]
    out = np.zeros((nr, nl))
    if u < 1.0:
        return out
    rad = math.pi / 180.0
    brg = met.wind_from_deg + 180.0
    if brg >= 360.0:
        brg -= 360.0
    xvec = math.sin(rad * brg)
    yvec = math.cos(rad * brg)
    py1, py2, sz10 = caline3_sigma_params(met.stability, atim_min, met.z0_cm)
    phis = np.empty(nl)
    bases = np.empty(nl)
    pz1s = np.empty(nl)
    pz2s = np.empty(nl)
    hdss = np.empty(nl)
    dstrs = np.empty(nl)
    for il in range(nl):
        lb = math.degrees(math.atan2(xl2[il] - xl1[il], yl2[il] - yl1[il])) % 360.0
        phi = abs(brg - lb)
        if phi > 90.0:
            phi = abs(phi - 360.0) if phi >= 270.0 else abs(phi - 180.0)
        if phi < 20.0:
            bases[il] = 1.1
        elif phi < 50.0:
            bases[il] = 1.5
        elif phi < 70.0:
            bases[il] = 2.0
        else:
            bases[il] = 4.0
        phi = rad * phi
        phis[il] = min(max(phi, 0.00017), 1.5706)
        if hl[il] < -1.5:
            hdss[il] = hl[il]
            dstrs[il] = 0.72 * abs(hl[il]) ** 0.83
        else:
            hdss[il] = 1.0
            dstrs[il] = 1.0
        pz1s[il], pz2s[il] = caline3_sigma_z_params(sz10, wl[il] / 2.0, u, atim_min, dstrs[il])
    ntyp, q1 = links.link_type, links.q_ugms
    for ir in prange(nr):
        for il in range(nl):
            link = (xl1[il], yl1[il], xl2[il], yl2[il], wl[il], hl[il], ntyp[il], q1[il])
            plume = (phis[il], bases[il], pz1s[il], pz2s[il], hdss[il], dstrs[il])
            out[ir, il] = _caline3_pair(xr[ir], yr[ir], zr[ir], link, plume, u, (xvec, yvec), (py1, py2), mixh)
    return out


# --------------------------------------------------------------------------- climatological transfer
@njit(cache=True)
def build_cell_index(seg: Segments, x0: float, y0: float, cell: float, nx: int, ny: int, reach: float) -> tuple[IntArray, IntArray]:
    """Register every segment in the grid cells its bounding box (grown by ``reach``) overlaps.

    Returns CSR arrays (indptr over ``nx * ny`` cells, segment indices).
    """
    sx1, sy1, sx2, sy2 = seg.x1, seg.y1, seg.x2, seg.y2
    ns = sx1.shape[0]
    counts = np.zeros(nx * ny + 1, dtype=np.int64)
    for pass_no in range(2):
        if pass_no == 1:
            indptr = np.zeros(nx * ny + 1, dtype=np.int64)
            for c in range(nx * ny):
                indptr[c + 1] = indptr[c] + counts[c]
            items = np.empty(indptr[-1], dtype=np.int64)
            fill = indptr[:-1].copy()
        for s in range(ns):
            i0 = max(int((min(sx1[s], sx2[s]) - reach - x0) // cell), 0)
            i1 = min(int((max(sx1[s], sx2[s]) + reach - x0) // cell), nx - 1)
            j0 = max(int((min(sy1[s], sy2[s]) - reach - y0) // cell), 0)
            j1 = min(int((max(sy1[s], sy2[s]) + reach - y0) // cell), ny - 1)
            for j in range(j0, j1 + 1):
                for i in range(i0, i1 + 1):
                    c = j * nx + i
                    if pass_no == 0:
                        counts[c] += 1
                    else:
                        items[fill[c]] = s
                        fill[c] += 1
    return indptr, items


def cell_index(seg: Segments, rx: FloatArray, ry: FloatArray, *, reach_m: float, cell_m: float) -> CellIndex:
    """A grid of ``cell_m`` cells covering the receptors ``(rx, ry)``, each listing the segments within ``reach_m`` of it."""
    x0 = rx.min() - cell_m
    y0 = ry.min() - cell_m
    nx = int((rx.max() - x0) // cell_m) + 2
    ny = int((ry.max() - y0) // cell_m) + 2
    indptr, items = build_cell_index(seg, float(x0), float(y0), float(cell_m), nx, ny, float(reach_m))
    return CellIndex(indptr, items, float(x0), float(y0), float(cell_m), nx, ny)


@njit(cache=True, inline="always")
def _cell_of(px: float, py: float, index: CellIndex) -> int:
    """The cell holding ``(px, py)``, or -1 outside the grid."""
    i = int((px - index.x0) // index.cell_m)
    j = int((py - index.y0) // index.cell_m)
    if i < 0 or j < 0 or i >= index.nx or j >= index.ny:
        return -1
    return j * index.nx + i


@njit(cache=True, inline="always")
def _seg_distance(px: float, py: float, seg: Segments, s: int) -> float:
    """Distance from ``(px, py)`` to segment ``s``."""
    x1, y1 = seg.x1[s], seg.y1[s]
    dx = seg.x2[s] - x1
    dy = seg.y2[s] - y1
    l2 = dx * dx + dy * dy
    t = 0.0 if l2 == 0.0 else ((px - x1) * dx + (py - y1) * dy) / l2
    t = min(max(t, 0.0), 1.0)
    ex = x1 + t * dx - px
    ey = y1 + t * dy - py
    return math.sqrt(ex * ex + ey * ey)


@njit(cache=True, inline="always")
def _segment_transfer(px: float, py: float, seg: Segments, s: int, dmin: float, g_row: int, cutoff: float, tables: TransferTables) -> float:
    """Long-term concentration at (px, py) per unit lineal emission (1 ug/m/s) on straight segment ``s``."""
    x1, y1 = seg.x1[s], seg.y1[s]
    dir_density, g_table, lx0, dlx, dt = tables
    dx = seg.x2[s] - x1
    dy = seg.y2[s] - y1
    ll = math.sqrt(dx * dx + dy * dy)
    if ll <= 0.0:
        return 0.0
    ex = dx / ll
    ey = dy / ll
    s1 = (x1 - px) * ex + (y1 - py) * ey  # along-segment coordinate of the start, receptor foot at 0
    s2 = s1 + ll
    fx = x1 - s1 * ex - px  # receptor -> foot of the perpendicular
    fy = y1 - s1 * ey - py
    dtrue = math.sqrt(fx * fx + fy * fy)
    if dtrue >= cutoff:
        return 0.0
    smax = math.sqrt(cutoff * cutoff - dtrue * dtrue)
    s1 = max(s1, -smax)
    s2 = min(s2, smax)
    if s2 <= s1:
        return 0.0
    d = max(dtrue, dmin)
    t1 = math.asinh(s1 / d)
    t2 = math.asinh(s2 / d)
    n = int(math.ceil((t2 - t1) / dt))
    if n < 1:
        n = 1
    h = (t2 - t1) / n
    ndir = dir_density.shape[0]
    ng = g_table.shape[1]
    acc = 0.0
    for k in range(n):
        t = t1 + (k + 0.5) * h
        sk = d * math.sinh(t)
        x = d * math.cosh(t)
        # bearing (compass, from north clockwise) from the receptor to the source point = wind-from direction
        vx = fx + sk * ex
        vy = fy + sk * ey
        b = math.degrees(math.atan2(vx, vy))
        if b < 0.0:
            b += 360.0
        fb = b * ndir / 360.0
        i0 = int(fb)
        wgt = fb - i0
        i0 = i0 % ndir
        p = dir_density[i0] * (1.0 - wgt) + dir_density[(i0 + 1) % ndir] * wgt
        fl = (math.log(x) - lx0) / dlx
        if fl <= 0.0:
            g = g_table[g_row, 0]
        elif fl >= ng - 1:
            g = g_table[g_row, ng - 1]
        else:
            j = int(fl)
            r = fl - j
            g = g_table[g_row, j] * (1.0 - r) + g_table[g_row, j + 1] * r
        acc += p * g
    return acc * h / math.sqrt(2.0 * math.pi)


@njit(cache=True, parallel=True)
def transfer_pairs(
    rx: FloatArray,
    ry: FloatArray,
    seg: Segments,
    s_row: IntArray,
    s_dmin: FloatArray,
    index: CellIndex,
    cutoff: float,
    tables: TransferTables,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Sparse long-term transfer between receptors and segments.

    Returns ``(indptr, seg, value)``: for receptor ``r`` the segments ``seg[indptr[r]:indptr[r+1]]``
    within ``cutoff`` and their concentrations (ug/m3) per unit lineal emission (1 ug/m/s).
    ``s_row`` picks the row of ``tables.g_table`` (one per road-width class), ``s_dmin`` the
    distance below which a receptor counts as on the road (half the carriageway width).
    ``index`` lists, per cell, the segments that may lie within ``cutoff``.
    """
    cell_indptr, cell_items = index.indptr, index.items
    nr = rx.shape[0]
    counts = np.zeros(nr, dtype=np.int64)
    for r in prange(nr):
        c = _cell_of(rx[r], ry[r], index)
        if c < 0:
            continue
        n = 0
        for k in range(cell_indptr[c], cell_indptr[c + 1]):
            s = cell_items[k]
            if _seg_distance(rx[r], ry[r], seg, s) < cutoff:
                n += 1
        counts[r] = n
    indptr = np.zeros(nr + 1, dtype=np.int64)
    for r in range(nr):
        indptr[r + 1] = indptr[r] + counts[r]
    found = np.empty(indptr[-1], dtype=np.int64)
    val = np.empty(indptr[-1], dtype=np.float64)
    for r in prange(nr):
        c = _cell_of(rx[r], ry[r], index)
        if c < 0:
            continue
        pos = indptr[r]
        for k in range(cell_indptr[c], cell_indptr[c + 1]):
            s = cell_items[k]
            if _seg_distance(rx[r], ry[r], seg, s) < cutoff:
                found[pos] = s
                val[pos] = _segment_transfer(rx[r], ry[r], seg, s, s_dmin[s], s_row[s], cutoff, tables)
                pos += 1
    return indptr, found, val


@njit(cache=True, parallel=True)
def nearest_segment(rx: FloatArray, ry: FloatArray, seg: Segments, s_reach: FloatArray, index: CellIndex) -> IntArray:
    """For each receptor the nearest segment whose own reach (e.g. half the street width) covers it, else -1."""
    nr = rx.shape[0]
    out = np.full(nr, -1, dtype=np.int64)
    for r in prange(nr):
        c = _cell_of(rx[r], ry[r], index)
        if c < 0:
            continue
        best = np.inf
        for k in range(index.indptr[c], index.indptr[c + 1]):
            s = index.items[k]
            dd = _seg_distance(rx[r], ry[r], seg, s)
            if dd <= s_reach[s] and dd < best:
                best = dd
                out[r] = s
    return out
