"""CALINE3 itself, for one meteorological hour (Benson 1979, Caltrans FHWA/CA/TL-79/23).

It reproduces the CALINE3 user-guide test cases (``tests/test_air.py``) and is the reference
the climatological map kernel is checked against.

Examples
--------
>>> c = caline3([30.0], [0.0], [1.8], [[0.0, -5000.0, 0.0, 5000.0]], width_m=[30.0],
...             q_ugms=[0.1726 * 7500 * 30], wind_speed_ms=1.0, wind_from_deg=270.0,
...             stability=6, z0_cm=10.0)
>>> round(float(c[0, 0]) * 0.0245 / 28.0, 1)  # ppm CO, CALINE3 user guide: 4.6
4.6
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ldtkit.errors import InvalidValueError


def caline3(
    x: Sequence[float] | npt.NDArray[np.float64],
    y: Sequence[float] | npt.NDArray[np.float64],
    z: Sequence[float] | npt.NDArray[np.float64],
    links: Sequence[Sequence[float]] | npt.NDArray[np.float64],
    *,
    width_m: Sequence[float] | npt.NDArray[np.float64],
    q_ugms: Sequence[float] | npt.NDArray[np.float64],
    wind_speed_ms: float,
    wind_from_deg: float,
    stability: int,
    height_m: Sequence[float] | npt.NDArray[np.float64] | None = None,
    link_type: Sequence[int] | npt.NDArray[np.int64] | None = None,
    mixing_height_m: float = 1000.0,
    averaging_time_min: float = 60.0,
    z0_cm: float = 100.0,
) -> npt.NDArray[np.float64]:
    """CALINE3 concentrations (ug/m3) per receptor and link for one meteorological hour.

    Parameters
    ----------
    x, y, z
        Receptor coordinates and heights (m).
    links
        ``(x1, y1, x2, y2)`` per link (m).
    width_m
        Mixing-zone width per link (carriageway + 3 m each side).
    q_ugms
        Lineal source strength per link, ug/(m s) (0.1726 x veh/h x g/mile).
    wind_speed_ms, wind_from_deg, stability
        Wind speed (>= 1 m/s, else zeros), direction the wind blows from, Pasquill class 1-6 (A-F).
    height_m, link_type
        Link height (m) and type: 1 at grade, 2 bridge, 3 fill, 4 depressed (defaults 0, 1).
    mixing_height_m, averaging_time_min, z0_cm
        Mixing height (reflections below 1000 m), averaging time and surface roughness.

    Returns
    -------
    ndarray of shape (n_receptors, n_links)

    Examples
    --------
    >>> c = caline3([30.0], [0.0], [1.8], [[0.0, -5000.0, 0.0, 5000.0]], width_m=[30.0],
    ...             q_ugms=[0.1726 * 7500 * 30], wind_speed_ms=1.0, wind_from_deg=270.0, stability=6, z0_cm=10.0)
    >>> c.shape
    (1, 1)
    """
    from ldtkit.model.kernels.air import Caline3Links, Caline3Met, caline3_matrix

    lk = np.asarray(links, dtype=float).reshape(-1, 4)
    nl = len(lk)
    hl = np.zeros(nl) if height_m is None else np.asarray(height_m, dtype=float)
    ty = np.ones(nl, dtype=np.int64) if link_type is None else np.asarray(link_type, dtype=np.int64)
    if not 1 <= int(stability) <= 6:
        raise InvalidValueError(f"caline3: stability must be a Pasquill class 1..6 (A..F), got {stability}")
    if np.any(np.hypot(lk[:, 2] - lk[:, 0], lk[:, 3] - lk[:, 1]) <= 0):
        raise InvalidValueError("caline3: links of zero length")
    geometry = Caline3Links(
        lk[:, 0].copy(), lk[:, 1].copy(), lk[:, 2].copy(), lk[:, 3].copy(), np.asarray(width_m, float), hl, ty, np.asarray(q_ugms, float)
    )
    met = Caline3Met(
        float(wind_speed_ms), float(wind_from_deg), int(stability), float(mixing_height_m), float(averaging_time_min), float(z0_cm)
    )
    return caline3_matrix(np.asarray(x, float), np.asarray(y, float), np.asarray(z, float), geometry, met)
