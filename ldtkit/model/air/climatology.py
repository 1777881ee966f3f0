"""The wind climatology as the long-term transfer integrates it: direction density and G(x).

A point source at distance ``x`` and bearing ``b`` from a receptor contributes, averaged over
the climatology, ``p(b) q G(x) / (sqrt(2 pi) x)`` with ``p`` the wind-from direction density
per radian (:func:`direction_density`) and ``G = sum_k f_k V_k(x) / (u_k sigma_z,k(x))`` over
the stability/speed classes (:func:`dispersion_table`, CALINE3 sigma-z curves with the
mixing-zone start).

Examples
--------
>>> import numpy as np
>>> dens = direction_density(AirConfig(wind_sector_freq=(0.25, 0.25, 0.25, 0.25)))
>>> round(float(dens.sum() * 2 * np.pi / len(dens)), 12), round(float(dens[0] * 2 * np.pi), 6)
(1.0, 1.0)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ldtkit.model.air.config import PASQUILL_CLASSES, AirConfig

FloatArray = npt.NDArray[np.float64]


def direction_density(cfg: AirConfig, n: int = 360) -> FloatArray:
    """Wind-from direction density per radian at ``n`` equal steps from north, linear between sector centres."""
    f = np.asarray(cfg.wind_sector_freq, float)
    ns = len(f)
    width = 2 * np.pi / ns
    centres = np.arange(ns) * 360.0 / ns
    deg = np.arange(n) * 360.0 / n
    dens = np.interp(deg, np.r_[centres, 360.0], np.r_[f, f[0]], period=None) / width
    out: FloatArray = dens / (dens.sum() * (2 * np.pi / n))  # normalise the discrete density to 1
    return out


def dispersion_table(cfg: AirConfig, half_widths_m: FloatArray, z_m: float, log_x: FloatArray) -> FloatArray:
    """G(x) = sum_k f_k V_k(x) / (u_k sigma_z,k(x)) per mixing-zone half-width (rows) and ln-distance (columns).

    ``z_m`` is the receptor height (the vertical term ``V`` reflects at the ground, source at 0 m);
    sigma-z is held at its mixing-zone value within the half-width.
    """
    from ldtkit.model.kernels.air import caline3_sigma_params, caline3_sigma_z_params

    x = np.exp(log_x)
    out = np.zeros((len(half_widths_m), len(x)))
    joint = np.asarray(cfg.stability_speed_freq, float)
    for i, c in enumerate(cfg.stability_classes):
        _, _, sz10 = caline3_sigma_params(PASQUILL_CLASSES[c], cfg.averaging_time_min, cfg.z0_cm)
        for j, u in enumerate(cfg.wind_speeds_ms):
            f = joint[i, j]
            if f == 0:
                continue
            for w, w2 in enumerate(half_widths_m):
                pz1, pz2 = caline3_sigma_z_params(sz10, float(w2), max(float(u), 1.0), cfg.averaging_time_min, 1.0)
                sz = pz1 * np.maximum(x, w2) ** pz2
                out[w] += f / u * 2.0 * np.exp(-0.5 * (z_m / sz) ** 2) / sz
    return out
