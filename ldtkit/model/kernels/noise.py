"""Numba kernels for CNOSSOS-EU road noise: emission per link, propagation per path and maps.

Only hot loops live here; :mod:`ldtkit.model.noise` prepares arrays and wraps the results.
Bands are the eight octaves 63 Hz–8 kHz throughout.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

NB = 8
LOG10_E = 0.4342944819032518


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
    flows,
    speeds,
    AR,
    BR,
    AP,
    BP,
    K_temp,
    a_stud,
    b_stud,
    CR,
    CP,
    alpha,
    beta,
    surface_idx,
    temperature_c,
    p_stud,
    gradient_pct,
    junction_k,
    junction_x_m,
    v_ref,
    T_ref,
):
    """Directional line-source power L'_W,eq,line per link and band (dB re 1 pW/m).

    Parameters (n links, c categories)
    ----------
    flows, speeds : (n, c) hourly flow (veh/h) and mean speed (km/h) per category
    AR, BR, AP, BP : (c, 8) Table F-1
    K_temp : (c,) temperature coefficient (dB/°C) on rolling noise
    a_stud, b_stud : (8,) Table F-2 (category index 0 only)
    CR, CP : (3, c) Table F-3 by junction type k (row 0 = no junction)
    alpha, beta : (s, c, 8), (s, c) Table F-4 per surface index
    surface_idx : (n,) int row of alpha/beta per link
    temperature_c, p_stud, gradient_pct, junction_x_m : (n,) float; junction_k : (n,) int
    Returns (n, 8); ``-inf`` where a link has no flow.
    """
    n, nc = flows.shape
    out = np.full((n, NB), -np.inf)
    for i in range(n):
        s_i = surface_idx[i]
        jk = junction_k[i]
        jfac = 0.0
        if jk > 0:
            jfac = max(1.0 - abs(junction_x_m[i]) / 100.0, 0.0)
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
                lwp += _gradient_correction(c, v, gradient_pct[i])
                lwp += CP[jk, c] * jfac
                e = 10.0 ** (lwp / 10.0)
                if AR[c, b] != 0.0 or BR[c, b] != 0.0:
                    lwr = AR[c, b] + BR[c, b] * lgv
                    lwr += alpha[s_i, c, b] + beta[s_i, c] * lgv
                    lwr += K_temp[c] * (T_ref - temperature_c[i])
                    if c == 0 and p_stud[i] > 0.0:
                        vs = min(max(v, 50.0), 90.0)
                        d_stud = a_stud[b] + b_stud[b] * math.log10(vs / v_ref)
                        ps = p_stud[i]
                        lwr += 10.0 * math.log10((1.0 - ps) + ps * 10.0 ** (d_stud / 10.0))
                    lwr += CR[jk, c] * jfac
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
    g26 = g**2.6
    return 0.0185 * f**2.5 * g26 / (f**1.5 * g26 + 1.3e3 * f**0.75 * g**1.3 + 1.16e6)


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
def path_terms(d, dp, zs, zr, g_path, g_source, freqs, alpha_atm_db_km, out):
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


# --------------------------------------------------------------------------- maps
@njit(cache=True)
def grid_index(xm, ym, x0, y0, cell, nx, ny):
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


@njit(cache=True, fastmath=True)
def _point_transfer(dp, zs, zr, g, gs, p, kb, f25, f15, f075, wf_b, catm, lin_amin_h_far, out):
    """Linear energy transfer of one point source to a receiver for 8 bands (p-mixed H/F).

    out[b] = 10^(-(A_div + A_atm)/10) · (p·10^(-A_ground,F/10) + (1-p)·10^(-A_ground,H/10)).
    """
    dz = zr - zs
    d2 = dp * dp + dz * dz
    d = math.sqrt(d2)
    div = 1.0 / (d2 * 12.589254117941673)  # 10^(-(20lg d + 11)/10)
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


@njit(cache=True, fastmath=True)
def _add_point(d2p, dz2, weight, use_tab, inv_step, tabz, zs, zr, g, gs, p, kb, f25, f15, f075, wf_b, catm, lin_amin_h_far, tr, tl):
    """tl[b] += weight · transfer of one point source at projected squared distance d2p."""
    if use_tab:
        xq = math.sqrt(d2p) * inv_step
        iq = int(xq)
        fr = xq - iq
        div = weight / ((d2p + dz2) * 12.589254117941673)
        fr0 = div * (1.0 - fr)
        fr1 = div * fr
        for b in range(NB):
            tl[b] += fr0 * tabz[iq, b] + fr1 * tabz[iq + 1, b]
    else:
        _point_transfer(max(math.sqrt(d2p), 0.01), zs, zr, g, gs, p, kb, f25, f15, f075, wf_b, catm, lin_amin_h_far, tr)
        for b in range(NB):
            tl[b] += weight * tr[b]


@njit(cache=True, fastmath=True)
def _point_to_acc(d2p, dz2, weight, use_tab, inv_step, tabz, zs, zr, g, gs, p, kb, f25, f15, f075, wf_b, catm, lin_amin_h_far, tr, tl):
    """tl[b] += weight · transfer (excess × divergence) of one point source at projected squared distance d2p."""
    if use_tab:
        xq = math.sqrt(d2p) * inv_step
        iq = int(xq)
        fr = xq - iq
        div = weight / ((d2p + dz2) * 12.589254117941673)
        fr0 = div * (1.0 - fr)
        fr1 = div * fr
        for b in range(NB):
            tl[b] += fr0 * tabz[iq, b] + fr1 * tabz[iq + 1, b]
    else:
        _add_point(d2p, dz2, weight, use_tab, inv_step, tabz, zs, zr, g, gs, p, kb, f25, f15, f075, wf_b, catm, lin_amin_h_far, tr, tl)


@njit(cache=True, fastmath=True)
def _block_energy(
    bx,
    by,
    bz,
    bzi,
    sx0,
    sy0,
    sx1,
    sy1,
    slen,
    seg_start,
    w_seg,
    lv_nx,
    lv_ny,
    lv_off,
    cl_x,
    cl_y,
    cl_rho,
    cl_len,
    w_cl,
    cl_px,
    cl_py,
    cl_mom,
    gx0,
    gy0,
    cell0,
    theta,
    zs,
    cutoff,
    ratio,
    g,
    gs,
    p,
    kb,
    f25,
    f15,
    f075,
    wf_b,
    catm,
    tab,
    tab_step,
    acc,
    cnt,
    stack,
):
    """Accumulate into ``acc`` (n_block, n_periods, 8) the energy at a block of nearby receptors.

    Descends a pyramid of nested grid cells (level k has cells of ``cell0·2^k``) once for the whole
    block: a cell whose sources all lie within ``rho`` of their centroid is one point source when
    every receptor of the block sees it from at least ``theta·rho`` (θ = 2·ratio + 1 keeps its
    extent ≤ d_min/ratio, the rule used for splitting lines); otherwise its children are opened, and
    at level 0 its segments are split for each receptor individually. ``cnt`` receives the number of
    point sources evaluated per receptor.
    """
    nb = bx.shape[0]
    npd = w_seg.shape[1]
    use_tab = tab.shape[0] > 0
    inv_step = 1.0 / tab_step if use_tab else 0.0
    lin_amin_h_far = 10.0 ** (0.3 * (1.0 - g))
    cut2 = cutoff * cutoff
    tr = np.empty(NB)
    tl = np.empty(NB)
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
    dz2s = np.empty(nb)
    for i in range(nb):
        dz2s[i] = (bz[i] - zs) * (bz[i] - zs)
    top = lv_nx.shape[0] - 1
    ctop = cell0 * (1 << top)
    reach = cutoff + rb
    iy0 = max(int(math.floor((cy - reach - gy0) / ctop)) - 1, 0)
    iy1 = min(int(math.floor((cy + reach - gy0) / ctop)) + 1, lv_ny[top] - 1)
    ix0 = max(int(math.floor((cx - reach - gx0) / ctop)) - 1, 0)
    ix1 = min(int(math.floor((cx + reach - gx0) / ctop)) + 1, lv_nx[top] - 1)
    sp = 0
    for iy in range(iy0, iy1 + 1):
        for ix in range(ix0, ix1 + 1):
            stack[sp, 0] = top
            stack[sp, 1] = iy
            stack[sp, 2] = ix
            sp += 1
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
                dd = d2w + dz2s[i]
                # mean of 1/D over the cell's power distribution, D = |r - u|² + dz², to second order
                corr = (
                    1.0
                    - (cl_mom[ci, 0] + cl_mom[ci, 2]) / dd
                    + 4.0 * (ex * ex * cl_mom[ci, 0] + 2.0 * ex * ey * cl_mom[ci, 1] + ey * ey * cl_mom[ci, 2]) / (dd * dd)
                )
                corr = min(max(corr, 0.5), 2.0)
                cnt[i] += 1
                if use_tab:
                    zi = bzi[i]
                    xq = math.sqrt(d2w) * inv_step
                    iq = int(xq)
                    fr = xq - iq
                    div = corr / (dd * 12.589254117941673)
                    fr0 = div * (1.0 - fr)
                    fr1 = div * fr
                    for b in range(NB):
                        tb = fr0 * tab[zi, iq, b] + fr1 * tab[zi, iq + 1, b]
                        for m in range(npd):
                            acc[i, m, b] += w_cl[ci, m, b] * tb
                else:
                    for b in range(NB):
                        tl[b] = 0.0
                    _add_point(
                        d2w,
                        dz2s[i],
                        corr,
                        use_tab,
                        inv_step,
                        tab[0:0, 0],
                        zs,
                        bz[i],
                        g,
                        gs,
                        p,
                        kb,
                        f25,
                        f15,
                        f075,
                        wf_b,
                        catm,
                        lin_amin_h_far,
                        tr,
                        tl,
                    )
                    for m in range(npd):
                        for b in range(NB):
                            acc[i, m, b] += w_cl[ci, m, b] * tl[b]
            continue
        if k > 0:
            for yy in range(2 * iy, min(2 * iy + 2, lv_ny[k - 1])):
                for xx in range(2 * ix, min(2 * ix + 2, lv_nx[k - 1])):
                    stack[sp, 0] = k - 1
                    stack[sp, 1] = yy
                    stack[sp, 2] = xx
                    sp += 1
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
                        if use_tab:
                            zi = bzi[i]
                            xq = dm * inv_step
                            iq = int(xq)
                            fr = xq - iq
                            div = length / ((dm2 + dz2) * 12.589254117941673)
                            fr0 = div * (1.0 - fr)
                            fr1 = div * fr
                            for b in range(NB):
                                tb = fr0 * tab[zi, iq, b] + fr1 * tab[zi, iq + 1, b]
                                for m in range(npd):
                                    acc[i, m, b] += w_seg[s, m, b] * tb
                        else:
                            for b in range(NB):
                                tl[b] = 0.0
                            _add_point(
                                dm2,
                                dz2,
                                length,
                                use_tab,
                                inv_step,
                                tab[0:0, 0],
                                zs,
                                bz[i],
                                g,
                                gs,
                                p,
                                kb,
                                f25,
                                f15,
                                f075,
                                wf_b,
                                catm,
                                lin_amin_h_far,
                                tr,
                                tl,
                            )
                            for m in range(npd):
                                for b in range(NB):
                                    acc[i, m, b] += w_seg[s, m, b] * tl[b]
                    continue
                # near: split into n parts of length ≤ max(1 m, d_min/ratio)
                t = 0.0
                if l2 > 0.0:
                    t = min(max((px * ex + py * ey) / l2, 0.0), 1.0)
                qx = px - t * ex
                qy = py - t * ey
                dmin2 = qx * qx + qy * qy
                if dmin2 > cut2:
                    continue
                lmax = max(1.0, math.sqrt(dmin2 + dz2) / ratio)
                n = max(1, int(math.ceil(length / lmax - 1e-9)))
                inv_n = 1.0 / n
                li = length * inv_n
                ux = px - 0.5 * inv_n * ex
                uy = py - 0.5 * inv_n * ey
                stx = ex * inv_n
                sty = ey * inv_n
                for b in range(NB):
                    tl[b] = 0.0
                hit = False
                tabz = tab[bzi[i]] if use_tab else tab[0:0, 0]
                for _j in range(n):
                    dp2 = ux * ux + uy * uy
                    ux -= stx
                    uy -= sty
                    if dp2 > cut2:
                        continue
                    hit = True
                    cnt[i] += 1
                    _point_to_acc(
                        dp2, dz2, li, use_tab, inv_step, tabz, zs, bz[i], g, gs, p, kb, f25, f15, f075, wf_b, catm, lin_amin_h_far, tr, tl
                    )
                if hit:
                    for m in range(npd):
                        for b in range(NB):
                            acc[i, m, b] += w_seg[s, m, b] * tl[b]


@njit(cache=True, parallel=True)
def map_energy(
    rx,
    ry,
    rz,
    z_index,
    block_start,
    sx0,
    sy0,
    sx1,
    sy1,
    slen,
    seg_start,
    w_seg,
    lv_nx,
    lv_ny,
    lv_off,
    cl_x,
    cl_y,
    cl_rho,
    cl_len,
    w_cl,
    cl_px,
    cl_py,
    cl_mom,
    gx0,
    gy0,
    cell0,
    theta,
    zs,
    cutoff,
    ratio,
    g,
    gs,
    p,
    kb,
    f25,
    f15,
    f075,
    wf_b,
    catm,
    tab,
    tab_step,
):
    """Band energies (linear, 10^(L/10)) at each receptor, shape (n_receptors, n_periods, 8), and the
    number of point-source evaluations per receptor.

    Receptors come in spatial blocks (block ``j`` is rows ``block_start[j]:block_start[j+1]``),
    processed in parallel. Segments are sorted by level-0 cell (cell ``c`` holds rows
    ``seg_start[c]:seg_start[c+1]``); ``w_seg`` (n_segments, n_periods, 8) is each segment's per-metre
    power (linear 10^(L'_W/10)) and ``w_cl`` the summed power (× length) of every pyramid cell,
    evaluated at ``(cl_px, cl_py)`` with the second moments ``cl_mom`` (see :func:`build_pyramid`,
    :func:`cluster_power`). Each segment is split into n equal parts of length ≤ max(1 m, d_min/ratio)
    (NMPB 2008, as in NoiseModelling), d_min the 3-D distance from the receptor; point sources
    farther than ``cutoff`` (projected) are skipped. With a non-empty ``tab`` (n_heights, n_steps, 8)
    (:func:`transfer_table`) the ground and air terms are interpolated in projected distance from the
    table of receptor height ``z_index[r]``; otherwise they are evaluated exactly per pair.
    """
    nr = rx.shape[0]
    npd = w_seg.shape[1]
    out = np.zeros((nr, npd, NB))
    count = np.zeros(nr, dtype=np.int64)
    top = lv_nx.shape[0] - 1
    ctop = cell0 * (1 << top)
    nblocks = block_start.shape[0] - 1
    for j in prange(nblocks):
        lo = block_start[j]
        hi = block_start[j + 1]
        span = 0.0
        for i in range(lo, hi):
            span = max(span, abs(rx[i] - rx[lo]), abs(ry[i] - ry[lo]))
        nstack = (int(2.0 * (cutoff + 2.0 * span) / ctop) + 5) ** 2 + 4 * (top + 2)
        stack = np.empty((nstack, 3), dtype=np.int64)
        _block_energy(
            rx[lo:hi],
            ry[lo:hi],
            rz[lo:hi],
            z_index[lo:hi],
            sx0,
            sy0,
            sx1,
            sy1,
            slen,
            seg_start,
            w_seg,
            lv_nx,
            lv_ny,
            lv_off,
            cl_x,
            cl_y,
            cl_rho,
            cl_len,
            w_cl,
            cl_px,
            cl_py,
            cl_mom,
            gx0,
            gy0,
            cell0,
            theta,
            zs,
            cutoff,
            ratio,
            g,
            gs,
            p,
            kb,
            f25,
            f15,
            f075,
            wf_b,
            catm,
            tab,
            tab_step,
            out[lo:hi],
            count[lo:hi],
            stack,
        )
    return out, count


@njit(cache=True)
def build_pyramid(sx0, sy0, sx1, sy1, slen, seg_cell, lv_nx, lv_ny, lv_off, cell0):
    """Centroid (length-weighted), radius (farthest segment end from the centroid) and length of every
    pyramid cell; segment ``s`` lies in level-0 cell ``seg_cell[s]`` (by its midpoint)."""
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
def cluster_power(w_seg, w_ref, slen, sx0, sy0, sx1, sy1, seg_cell, lv_nx, lv_off, a_weight):
    """Summed power (per-metre power × length) of every pyramid cell, shape (n_cells, n_periods, 8),
    the power-weighted centroid of each cell (weights: A-weighted reference power ``w_ref``, per
    segment and band), where the cell is evaluated as one point source, and the central second
    moments (xx, xy, yy) of that power about the centroid, for the curvature correction of the
    1/d² spreading. The energies are linear in ``w_seg`` for a fixed ``w_ref``."""
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
def transfer_table(zr_values, zs, n_steps, step, g, gs, p, kb, f25, f15, f075, wf_b, catm):
    """Excess transfer (ground H/F p-mixed × air absorption, divergence removed) on a grid of projected
    distances ``i·step``, per receptor height: shape (len(zr_values), n_steps, 8)."""
    nz = zr_values.shape[0]
    out = np.empty((nz, n_steps, NB))
    lin_amin_h_far = 10.0 ** (0.3 * (1.0 - g))
    for j in range(nz * n_steps):
        iz = j // n_steps
        i = j % n_steps
        dp = max(i * step, 0.01)
        zr = zr_values[iz]
        tr = np.empty(NB)
        _point_transfer(dp, zs, zr, g, gs, p, kb, f25, f15, f075, wf_b, catm, lin_amin_h_far, tr)
        d2 = dp * dp + (zr - zs) * (zr - zs)
        for b in range(NB):
            out[iz, i, b] = tr[b] * d2 * 12.589254117941673
    return out
