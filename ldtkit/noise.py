"""CNOSSOS-EU road-traffic noise: emission, propagation, Lden maps and exposure.

Emission follows Directive (EU) 2015/996 Annex II 2.2 with Table F-1/F-4 of Delegated
Directive (EU) 2021/1226 by default (``coefficients="2015"`` selects the superseded set).
Propagation follows Annex II 2.5 on a flat mean plane: line sources split into point
sources, geometric divergence, ISO 9613-1 air absorption and the ground effect in
homogeneous and favourable conditions, mixed with the occurrence ``p`` of favourable
conditions.

Examples
--------
>>> from ldtkit.noise import line_emission
>>> lw = line_emission({"1": 1000.0, "3": 100.0}, {"1": 50.0, "3": 50.0})
>>> lw.shape
(8,)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import _noise_tables as tables
from ._kernels import noise as _k
from .errors import InvalidValueError

CATEGORIES = tables.CATEGORIES
BANDS_HZ = tables.BANDS_HZ
#: Junction types of Table F-3: k = 1 crossing with traffic lights, k = 2 roundabout.
JUNCTION_TYPES: dict[str | None, int] = {None: 0, "lights": 1, "roundabout": 2}
#: A-weighting per octave band (dB), for dB(A) totals.
A_WEIGHTING_DB = np.array([-26.2, -16.1, -8.6, -3.2, 0.0, 1.2, 1.0, -1.1])


# =========================================================================== emission
def _junction_code(junction: Any, where: str = "junction") -> int:
    if isinstance(junction, (int, np.integer)) and int(junction) in (0, 1, 2):
        return int(junction)
    if junction in JUNCTION_TYPES:
        return JUNCTION_TYPES[junction]
    raise InvalidValueError(f"{where}={junction!r}: expected None, 'lights' (k=1) or 'roundabout' (k=2)")


def _category_matrix(values: Mapping[str, Any], n: int, what: str) -> np.ndarray:
    out = np.zeros((n, len(CATEGORIES)))
    for key, val in values.items():
        k = str(key)
        if k not in CATEGORIES:
            raise InvalidValueError(f"{what}: unknown vehicle category {key!r}; expected one of {list(CATEGORIES)}")
        arr = np.broadcast_to(np.asarray(val, dtype=np.float64), (n,))
        if (~np.isfinite(arr) | (arr < 0)).any():
            raise InvalidValueError(f"{what}[{k!r}] must be finite and >= 0, got {val!r}")
        out[:, CATEGORIES.index(k)] = arr
    return out


def emission_per_link(
    flows_vph: Mapping[str, Any],
    speeds_kmh: Mapping[str, Any],
    *,
    coefficients: str = "2021",
    surface: str | np.ndarray = "DEF",
    temperature_c: float | np.ndarray = 20.0,
    studded_share: float = 0.0,
    studded_months: float = 0.0,
    gradient_pct: float | np.ndarray = 0.0,
    junction: str | None | np.ndarray = None,
    junction_distance_m: float | np.ndarray | None = None,
) -> np.ndarray:
    """Line-source sound power per link and octave band, vectorised over many links.

    Parameters
    ----------
    flows_vph, speeds_kmh
        Per category (``"1"``, ``"2"``, ``"3"``, ``"4a"``, ``"4b"``) an array of hourly flows
        (veh/h) and mean speeds (km/h), one value per link (scalars broadcast). Speeds below
        20 km/h are raised to 20 km/h.
    coefficients
        ``"2021"`` (Delegated Directive 2021/1226, default) or ``"2015"`` (Directive 2015/996).
    surface
        A Table F-4 code for all links, or an array of codes, one per link.
    temperature_c, gradient_pct
        Air temperature (°C) and road gradient (%, positive uphill), scalar or per link.
    studded_share, studded_months
        Share of light vehicles with studded tyres and months per year they are used.
    junction, junction_distance_m
        ``None``, ``"lights"`` or ``"roundabout"`` (scalar or per link) and the distance to it (m).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_links, 8)``: L'_W,eq,line in dB re 1 pW per metre; ``-inf`` where no traffic.

    Examples
    --------
    >>> lw = emission_per_link({"1": [1000.0, 500.0]}, {"1": [50.0, 50.0]})
    >>> round(float(lw[0, 4] - lw[1, 4]), 2)
    3.01
    """
    n = 1
    for v in list(flows_vph.values()) + list(speeds_kmh.values()):
        n = max(n, np.size(v))
    flows = _category_matrix(flows_vph, n, "flows_vph")
    speeds = _category_matrix(speeds_kmh, n, "speeds_kmh")
    missing = [CATEGORIES[c] for c in range(len(CATEGORIES)) if (flows[:, c] > 0).any() and str(CATEGORIES[c]) not in {str(k) for k in speeds_kmh}]
    if missing:
        raise InvalidValueError(f"speeds_kmh: no speed given for categories {missing} that have a flow")
    coef = tables.road_coefficients(coefficients)
    codes = np.broadcast_to(np.asarray(surface, dtype=object), (n,))
    uniq = list(dict.fromkeys(codes.tolist()))
    alpha = np.stack([tables.surface_correction(str(u), coefficients)[0] for u in uniq])
    beta = np.stack([tables.surface_correction(str(u), coefficients)[1] for u in uniq])
    lookup = {u: i for i, u in enumerate(uniq)}
    surface_idx = np.array([lookup[c] for c in codes], dtype=np.int64)
    if not (0.0 <= studded_share <= 1.0):
        raise InvalidValueError(f"studded_share must be within [0, 1], got {studded_share}")
    if not (0.0 <= studded_months <= 12.0):
        raise InvalidValueError(f"studded_months must be within [0, 12], got {studded_months}")
    if isinstance(junction, np.ndarray):
        jk = np.array([_junction_code(j) for j in junction.tolist()], dtype=np.int64)
    else:
        jk = np.full(n, _junction_code(junction), dtype=np.int64)
    if (jk > 0).any() and junction_distance_m is None:
        raise InvalidValueError("junction_distance_m is required when junction is given")
    jx = np.broadcast_to(np.asarray(100.0 if junction_distance_m is None else junction_distance_m, dtype=np.float64), (n,))
    return _k.emission_links(
        flows, speeds, coef.AR, coef.BR, coef.AP, coef.BP, coef.K_temp, coef.a_stud, coef.b_stud, coef.CR, coef.CP,
        alpha, beta, surface_idx,
        np.ascontiguousarray(np.broadcast_to(np.asarray(temperature_c, dtype=np.float64), (n,))),
        np.full(n, studded_share * studded_months / 12.0),
        np.ascontiguousarray(np.broadcast_to(np.asarray(gradient_pct, dtype=np.float64), (n,))),
        jk, np.ascontiguousarray(jx), coef.v_ref_kmh, coef.T_ref_C,
    )


def line_emission(
    flows_vph: dict,
    speeds_kmh: dict,
    *,
    coefficients: str = "2021",
    surface: str = "DEF",
    temperature_c: float = 20.0,
    studded_share: float = 0.0,
    studded_months: float = 0.0,
    gradient_pct: float = 0.0,
    junction: str | None = None,
    junction_distance_m: float | None = None,
) -> np.ndarray:
    """CNOSSOS-EU sound power of one road per octave band (dB re 1 pW per metre).

    Rolling and propulsion noise of categories ``"1"``, ``"2"``, ``"3"``, ``"4a"``, ``"4b"``
    (Annex II 2.2.1–2.2.20) with road-surface, temperature, studded-tyre, gradient and
    junction corrections, summed energetically over categories.

    Parameters
    ----------
    flows_vph, speeds_kmh
        Hourly flow (veh/h) and mean speed (km/h) per category; categories without a flow
        may be left out. Speeds below 20 km/h count as 20 km/h.
    coefficients
        ``"2021"`` (Delegated Directive 2021/1226, default) or ``"2015"`` (Directive 2015/996).
    surface
        Table F-4 road-surface code, e.g. ``"NL05"``; ``"DEF"`` is the reference surface.
    temperature_c
        Mean air temperature (°C).
    studded_share, studded_months
        Share of light vehicles with studded tyres (Pm_stud) and months per year they are used (Ts).
    gradient_pct
        Road gradient in % in the driving direction (positive uphill).
    junction, junction_distance_m
        ``None``, ``"lights"`` (k = 1) or ``"roundabout"`` (k = 2), and the distance to it (m).

    Returns
    -------
    numpy.ndarray
        Eight band levels L'_W,eq,line (63 Hz … 8 kHz); ``-inf`` in every band without traffic.

    Examples
    --------
    >>> lw = line_emission({"1": 1000, "3": 100}, {"1": 50, "3": 50}, surface="NL05")
    >>> lw.round(1).tolist()
    [84.7, 78.6, 77.4, 79.0, 80.6, 76.1, 69.6, 62.3]
    """
    for name, d in (("flows_vph", flows_vph), ("speeds_kmh", speeds_kmh)):
        for k, v in d.items():
            if np.ndim(v) != 0:
                raise InvalidValueError(f"{name}[{k!r}] must be a scalar for line_emission (use emission_per_link for arrays)")
    return emission_per_link(
        flows_vph, speeds_kmh, coefficients=coefficients, surface=surface, temperature_c=temperature_c,
        studded_share=studded_share, studded_months=studded_months, gradient_pct=gradient_pct,
        junction=junction, junction_distance_m=junction_distance_m,
    )[0]


# =========================================================================== propagation
#: Exact octave mid-band frequencies 1000·10^(3k/10) used for air absorption (ISO 9613-1).
EXACT_BANDS_HZ = 1000.0 * 10.0 ** (3.0 * np.arange(-4, 4) / 10.0)


def atmospheric_absorption_db_km(
    *, temperature_c: float = 15.0, humidity_pct: float = 70.0, pressure_pa: float = 101325.0
) -> np.ndarray:
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
    alpha = 8.686 * f**2 * (
        1.84e-11 / pa * (T / T0) ** 0.5
        + (T / T0) ** -2.5 * (0.01275 * np.exp(-2239.1 / T) / (fro + f**2 / fro) + 0.1068 * np.exp(-3352.0 / T) / (frn + f**2 / frn))
    )
    return alpha * 1000.0


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
    a_div: np.ndarray
    a_atm: np.ndarray
    alpha_atm_db_km: np.ndarray
    w_h: np.ndarray
    cf_h: np.ndarray
    a_ground_h: np.ndarray
    w_f: np.ndarray
    cf_f: np.ndarray
    a_ground_f: np.ndarray

    @property
    def a_boundary_h(self) -> np.ndarray:
        return self.a_ground_h

    @property
    def a_boundary_f(self) -> np.ndarray:
        return self.a_ground_f

    def levels(self, lw_db: float | np.ndarray) -> dict[str, np.ndarray]:
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
                "freq_hz": BANDS_HZ, "a_div": self.a_div, "a_atm": self.a_atm, "alpha_atm_db_km": self.alpha_atm_db_km,
                "w_h": self.w_h, "cf_h": self.cf_h, "a_ground_h": self.a_ground_h,
                "w_f": self.w_f, "cf_f": self.cf_f, "a_ground_f": self.a_ground_f,
            }
        ).set_index("freq_hz")


def path_attenuation(
    source_xyz: tuple[float, float, float],
    receiver_xyz: tuple[float, float, float],
    *,
    ground_g: float | np.ndarray = 0.0,
    g_source: float = 0.0,
    p_favourable: float = 0.5,
    temperature_c: float = 15.0,
    humidity_pct: float = 70.0,
    pressure_pa: float = 101325.0,
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
    if s[2] < 0 or r[2] < 0:
        raise InvalidValueError(f"source and receiver heights must be >= 0, got {s[2]} and {r[2]}")
    if not (0.0 <= p_favourable <= 1.0):
        raise InvalidValueError(f"p_favourable must be within [0, 1], got {p_favourable}")
    dp = float(np.hypot(*(r[:2] - s[:2])))
    d = float(np.linalg.norm(r - s))
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
    out = _k.path_terms(d, dp, float(s[2]), float(r[2]), g_path, float(g_source), np.asarray(BANDS_HZ, dtype=np.float64), alpha, np.zeros((9, 8)))
    return PathAttenuation(
        distance_m=d, projected_distance_m=dp, g_path=g_path,
        g_path_prime=float(_k.g_prime(g_path, float(g_source), dp, float(s[2]), float(r[2]))), p_favourable=float(p_favourable),
        a_div=out[7], a_atm=out[6], alpha_atm_db_km=out[8], w_h=out[0], cf_h=out[1], a_ground_h=out[2],
        w_f=out[3], cf_f=out[4], a_ground_f=out[5],
    )
