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
