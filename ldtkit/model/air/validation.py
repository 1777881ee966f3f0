"""Agreement statistics of modelled against measured concentrations (NO2 validation).

The scatter plot of the same comparison is presentation: :func:`ldtkit.viz.air_validation.plot_validation`.

Examples
--------
>>> validate_no2([20.0, 30.0, 40.0], [20.0, 30.0, 40.0])["rmse_ugm3"]
0.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ldtkit.errors import InvalidValueError


def validate_no2(
    modelled: Sequence[float] | npt.NDArray[np.float64], measured: Sequence[float] | npt.NDArray[np.float64]
) -> dict[str, float]:
    """Agreement statistics of modelled against measured NO2 (pairs with a NaN are dropped).

    Returns
    -------
    dict
        ``n``, ``pearson_r``, ``mean_bias_ugm3`` (modelled - measured), ``rmse_ugm3``,
        ``mean_modelled_ugm3``, ``mean_measured_ugm3``, ``fac2`` (share within a factor 2).

    Examples
    --------
    >>> v = validate_no2([20.0, 30.0, 40.0], [22.0, 29.0, 41.0])
    >>> v["n"], round(v["mean_bias_ugm3"], 3)
    (3, -0.667)
    """
    m = np.asarray(modelled, float)
    o = np.asarray(measured, float)
    if m.shape != o.shape:
        raise InvalidValueError(f"validate_no2: modelled has shape {m.shape}, measured {o.shape}")
    ok = np.isfinite(m) & np.isfinite(o)
    m, o = m[ok], o[ok]
    if len(m) < 3:
        raise InvalidValueError(f"validate_no2: need at least 3 finite pairs, got {len(m)}")
    d = m - o
    return {
        "n": int(len(m)),
        "pearson_r": float(np.corrcoef(m, o)[0, 1]) if m.std() > 0 and o.std() > 0 else float("nan"),
        "mean_bias_ugm3": float(d.mean()),
        "rmse_ugm3": float(np.sqrt((d**2).mean())),
        "mean_modelled_ugm3": float(m.mean()),
        "mean_measured_ugm3": float(o.mean()),
        "fac2": float(np.mean((m >= 0.5 * o) & (m <= 2.0 * o))),
    }
