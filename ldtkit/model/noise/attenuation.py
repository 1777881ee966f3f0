"""Attenuation along one direct source–receiver path (CNOSSOS-EU, Annex II 2.5).

Geometric divergence (2.5.12), ISO 9613-1 air absorption (2.5.13) and the ground effect in
homogeneous and favourable conditions (2.5.15–2.5.20), mixed with the occurrence ``p`` of
favourable conditions; over flat ground, or over the least-squares mean plane of a terrain
profile (2.5.11). :func:`path_attenuation` returns every term (it is checked against
ISO/TR 17534-4 TC01–TC05); the maps evaluate the same formulas in the kernels.

Examples
--------
>>> pa = path_attenuation((0, 0, 0.05), (50, 0, 4), ground_g=0.0)
>>> round(float(pa.a_div[0]), 2)
45.01
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ldtkit.errors import InvalidValueError
from ldtkit.model.kernels import noise as kernels
from ldtkit.model.noise.tables import BANDS_HZ

FloatArray = npt.NDArray[np.float64]

#: Exact octave mid-band frequencies 1000·10^(3k/10) used for air absorption (ISO 9613-1).
EXACT_BANDS_HZ: FloatArray = np.asarray(1000.0 * 10.0 ** (3.0 * np.arange(-4, 4) / 10.0), dtype=np.float64)


def atmospheric_absorption_db_km(*, temperature_c: float = 15.0, humidity_pct: float = 70.0, pressure_pa: float = 101325.0) -> FloatArray:
    """Pure-tone air absorption α (dB/km) of ISO 9613-1 at the exact octave mid-band frequencies.

    Examples
    --------
    >>> atmospheric_absorption_db_km(temperature_c=10.0, humidity_pct=70.0).round(2).tolist()
    [0.12, 0.41, 1.04, 1.93, 3.66, 9.66, 32.77, 116.88]
    """
    if not (0.0 < humidity_pct <= 100.0):
        raise InvalidValueError(f"humidity_pct must be within (0, 100], got {humidity_pct}")
    T = temperature_c + 273.15
    T0, T01, pr = 293.15, 273.16, 101325.0
    pa = pressure_pa / pr
    c = -6.8346 * (T01 / T) ** 1.261 + 4.6151
    h = humidity_pct * 10.0**c / pa
    fro = pa * (24.0 + 4.04e4 * h * (0.02 + h) / (0.391 + h))
    frn = pa * (T / T0) ** -0.5 * (9.0 + 280.0 * h * np.exp(-4.170 * ((T / T0) ** (-1.0 / 3.0) - 1.0)))
    f = EXACT_BANDS_HZ
    alpha: FloatArray = (
        8.686
        * f**2
        * (
            1.84e-11 / pa * (T / T0) ** 0.5
            + (T / T0) ** -2.5 * (0.01275 * np.exp(-2239.1 / T) / (fro + f**2 / fro) + 0.1068 * np.exp(-3352.0 / T) / (frn + f**2 / frn))
        )
    )
    return alpha * 1000.0


def mean_plane(terrain: FloatArray) -> tuple[float, float]:
    """Least-squares mean plane z = a·x + b of a piecewise-linear ground profile (Annex II 2.5.11).

    ``terrain`` is an ``(n >= 2, 2)`` array of (distance_m, elevation_m) with increasing distance.

    Examples
    --------
    >>> a, b = mean_plane(np.array([[0.0, 1.0], [10.0, 2.0]]))
    >>> round(a, 3), round(b, 3)
    (0.1, 1.0)
    """
    if terrain.ndim != 2 or terrain.shape[1] != 2 or len(terrain) < 2 or np.any(np.diff(terrain[:, 0]) < 0):
        raise InvalidValueError("terrain must be an (n >= 2, 2) array of (distance_m, elevation_m) with increasing distance")
    x, z = terrain[:, 0], terrain[:, 1]
    # exact integrals of the piecewise-linear profile: ∫1, ∫x, ∫x², ∫z, ∫xz
    x0, x1, z0, z1 = x[:-1], x[1:], z[:-1], z[1:]
    h = x1 - x0
    s1 = h.sum()
    sx = np.sum(h * (x0 + x1) / 2)
    sxx = np.sum(h * (x0 * x0 + x0 * x1 + x1 * x1) / 3)
    sz = np.sum(h * (z0 + z1) / 2)
    sxz = np.sum(h * (x0 * (2 * z0 + z1) + x1 * (z0 + 2 * z1)) / 6)
    a, b = np.linalg.solve(np.array([[sxx, sx], [sx, s1]]), np.array([sxz, sz]))
    return float(a), float(b)


def _mean_plane_geometry(terrain: FloatArray, dp: float, zs_abs: float, zr_abs: float) -> tuple[float, float, float]:
    """Heights of source and receiver above the least-squares mean plane of a ground profile, and the
    distance between their projections on it (Annex II 2.5.11)."""
    a, b = mean_plane(terrain)
    norm = np.hypot(1.0, a)
    zs = (zs_abs - (a * 0.0 + b)) / norm
    zr = (zr_abs - (a * dp + b)) / norm
    # projections of S (0, zs_abs) and R (dp, zr_abs) on the line z = a x + b, measured along it
    ps = (0.0 + a * (zs_abs - b)) / norm
    pr = (dp + a * (zr_abs - b)) / norm
    return float(max(zs, 0.0)), float(max(zr, 0.0)), float(abs(pr - ps))


@dataclass(frozen=True)
class PathAttenuation:
    """Attenuation terms of one direct source–receiver path, per octave band (dB unless stated).

    ``*_h`` are homogeneous, ``*_f`` favourable conditions; ``w_*`` and ``cf_*`` are the
    ground-effect intermediates of eq. 2.5.16 (``cf`` in metres).
    """

    distance_m: float
    projected_distance_m: float
    g_path: float
    g_path_prime: float
    p_favourable: float
    a_div: FloatArray
    a_atm: FloatArray
    alpha_atm_db_km: FloatArray
    w_h: FloatArray
    cf_h: FloatArray
    a_ground_h: FloatArray
    w_f: FloatArray
    cf_f: FloatArray
    a_ground_f: FloatArray

    @property
    def a_boundary_h(self) -> FloatArray:
        """A_boundary in homogeneous conditions: the ground effect alone (no diffraction modelled)."""
        return self.a_ground_h

    @property
    def a_boundary_f(self) -> FloatArray:
        """A_boundary in favourable conditions: the ground effect alone (no diffraction modelled)."""
        return self.a_ground_f

    def levels(self, lw_db: float | FloatArray) -> dict[str, FloatArray]:
        """Receiver levels for point-source power ``lw_db``: ``{"LH", "LF", "L"}`` per band (2.5.5–2.5.8)."""
        lw = np.broadcast_to(np.asarray(lw_db, dtype=np.float64), (8,))
        lh = lw - (self.a_div + self.a_atm + self.a_ground_h)
        lf = lw - (self.a_div + self.a_atm + self.a_ground_f)
        p = self.p_favourable
        return {"LH": lh, "LF": lf, "L": 10 * np.log10(p * 10 ** (lf / 10) + (1 - p) * 10 ** (lh / 10))}

    def to_dataframe(self) -> pd.DataFrame:
        """One row per octave band with every term."""
        return pd.DataFrame(
            {
                "freq_hz": BANDS_HZ,
                "a_div": self.a_div,
                "a_atm": self.a_atm,
                "alpha_atm_db_km": self.alpha_atm_db_km,
                "w_h": self.w_h,
                "cf_h": self.cf_h,
                "a_ground_h": self.a_ground_h,
                "w_f": self.w_f,
                "cf_f": self.cf_f,
                "a_ground_f": self.a_ground_f,
            }
        ).set_index("freq_hz")


def path_attenuation(
    source_xyz: tuple[float, float, float],
    receiver_xyz: tuple[float, float, float],
    *,
    ground_g: float | FloatArray = 0.0,
    g_source: float = 0.0,
    p_favourable: float = 0.5,
    temperature_c: float = 15.0,
    humidity_pct: float = 70.0,
    pressure_pa: float = 101325.0,
    terrain: FloatArray | None = None,
) -> PathAttenuation:
    """Attenuation of the direct path between a point source and a receiver over flat ground.

    Geometric divergence (2.5.12), ISO 9613-1 air absorption (2.5.13) and the ground effect in
    homogeneous and favourable conditions (2.5.15–2.5.20) on a horizontal mean plane at z = 0.

    Parameters
    ----------
    source_xyz, receiver_xyz
        Coordinates (m); z is the height above the (flat) ground.
    ground_g
        Ground factor G (0 hard … 1 porous): one value, or an ``(n, 2)`` array of
        ``(length_m, G)`` segments from source to receiver whose length-weighted mean is G_path.
    g_source
        G at the source, mixed into G'_path for short paths (0 on a road platform).
    p_favourable
        Occurrence of favourable propagation conditions (0…1).
    temperature_c, humidity_pct, pressure_pa
        Air conditions for ISO 9613-1 absorption.
    terrain
        Optional ground profile under the path, an ``(n, 2)`` array of (horizontal distance from the
        source in m, ground elevation in m), piecewise linear. The source and receiver z are then
        elevations, and z_s, z_r, d_p are measured on the least-squares mean plane of the profile
        (Annex II 2.5.11). Without it the ground is flat at z = 0.

    Examples
    --------
    >>> pa = path_attenuation((10, 10, 1), (200, 50, 4), ground_g=0.0, temperature_c=10)
    >>> pa.levels(93.0)["L"].round(2).tolist()
    [39.95, 39.89, 39.77, 39.6, 39.26, 38.09, 33.61, 17.27]
    """
    s = np.asarray(source_xyz, dtype=np.float64)
    r = np.asarray(receiver_xyz, dtype=np.float64)
    if s.shape != (3,) or r.shape != (3,):
        raise InvalidValueError("source_xyz and receiver_xyz must be (x, y, z) triples")
    if terrain is None and (s[2] < 0 or r[2] < 0):
        raise InvalidValueError(f"source and receiver heights must be >= 0, got {s[2]} and {r[2]}")
    if not (0.0 <= p_favourable <= 1.0):
        raise InvalidValueError(f"p_favourable must be within [0, 1], got {p_favourable}")
    dp = float(np.hypot(*(r[:2] - s[:2])))
    d = float(np.linalg.norm(r - s))
    zs, zr = float(s[2]), float(r[2])
    if terrain is not None:
        zs, zr, dp = _mean_plane_geometry(np.asarray(terrain, dtype=np.float64), dp, zs, zr)
    if d <= 0:
        raise InvalidValueError("source and receiver coincide")
    g = np.asarray(ground_g, dtype=np.float64)
    if g.ndim == 0:
        g_path = float(g)
    else:
        if g.ndim != 2 or g.shape[1] != 2 or (g[:, 0] < 0).any() or g[:, 0].sum() <= 0:
            raise InvalidValueError("ground_g must be a number or an (n, 2) array of (length_m, G) segments")
        g_path = float(np.sum(g[:, 0] * g[:, 1]) / np.sum(g[:, 0]))
    if not (0.0 <= g_path <= 1.0 and 0.0 <= g_source <= 1.0):
        raise InvalidValueError(f"ground factors must be within [0, 1], got G_path={g_path}, g_source={g_source}")
    alpha = atmospheric_absorption_db_km(temperature_c=temperature_c, humidity_pct=humidity_pct, pressure_pa=pressure_pa)
    out = kernels.path_terms(d, dp, zs, zr, g_path, float(g_source), np.asarray(BANDS_HZ, dtype=np.float64), alpha, np.zeros((9, 8)))
    return PathAttenuation(
        distance_m=d,
        projected_distance_m=dp,
        g_path=g_path,
        g_path_prime=float(kernels.g_prime(g_path, float(g_source), dp, zs, zr)),
        p_favourable=float(p_favourable),
        a_div=out[7],
        a_atm=out[6],
        alpha_atm_db_km=out[8],
        w_h=out[0],
        cf_h=out[1],
        a_ground_h=out[2],
        w_f=out[3],
        cf_f=out[4],
        a_ground_f=out[5],
    )
