"""Numba kernels for CNOSSOS-EU road noise: emission per link, propagation per path and maps.

Only hot loops live here; :mod:`ldtkit.noise` prepares arrays and wraps the results.
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
    flows, speeds, AR, BR, AP, BP, K_temp, a_stud, b_stud, CR, CP,
    alpha, beta, surface_idx, temperature_c, p_stud, gradient_pct, junction_k, junction_x_m,
    v_ref, T_ref,
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
    g26 = g ** 2.6
    return 0.0185 * f ** 2.5 * g26 / (f ** 1.5 * g26 + 1.3e3 * f ** 0.75 * g ** 1.3 + 1.16e6)


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
