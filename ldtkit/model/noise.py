"""CNOSSOS-EU road-traffic noise: emission, propagation, Lden maps and exposure.

Emission follows Directive (EU) 2015/996 Annex II 2.2 with Table F-1/F-4 of Delegated
Directive (EU) 2021/1226 by default (``coefficients="2015"`` selects the superseded set).
Propagation follows Annex II 2.5 for the direct path: line sources split into point sources,
geometric divergence, ISO 9613-1 air absorption and the ground effect in homogeneous and
favourable conditions (on a flat mean plane in maps; over a terrain profile's mean plane in
:func:`path_attenuation`), mixed with the occurrence ``p`` of favourable conditions.
Diffraction over buildings and barriers and reflections are not modelled yet, so maps do
not show screening by buildings (a conservative, upper-bound picture in dense streets).

- :func:`line_emission` / :func:`emission_per_link`: L'_W per octave band of one road / many links.
- :func:`path_attenuation`: every attenuation term of one source–receiver path (ISO/TR 17534-4 TC01–TC05).
- :func:`compute_noise` → :class:`NoiseMap` (Lday, Levening, Lnight, Lden, exposure per END band);
  :func:`noise_propagation` prepares the traffic-independent part once for many scenarios.

Examples
--------
>>> from ldtkit.model.noise import line_emission
>>> lw = line_emission({"1": 1000.0, "3": 100.0}, {"1": 50.0, "3": 50.0})
>>> lw.shape
(8,)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ldtkit.errors import InvalidValueError
from ldtkit.model import noise_tables as tables
from ldtkit.model.kernels import noise as _k

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
    missing = [
        CATEGORIES[c] for c in range(len(CATEGORIES)) if (flows[:, c] > 0).any() and str(CATEGORIES[c]) not in {str(k) for k in speeds_kmh}
    ]
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
        flows,
        speeds,
        coef.AR,
        coef.BR,
        coef.AP,
        coef.BP,
        coef.K_temp,
        coef.a_stud,
        coef.b_stud,
        coef.CR,
        coef.CP,
        alpha,
        beta,
        surface_idx,
        np.ascontiguousarray(np.broadcast_to(np.asarray(temperature_c, dtype=np.float64), (n,))),
        np.full(n, studded_share * studded_months / 12.0),
        np.ascontiguousarray(np.broadcast_to(np.asarray(gradient_pct, dtype=np.float64), (n,))),
        jk,
        np.ascontiguousarray(jx),
        coef.v_ref_kmh,
        coef.T_ref_C,
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
        flows_vph,
        speeds_kmh,
        coefficients=coefficients,
        surface=surface,
        temperature_c=temperature_c,
        studded_share=studded_share,
        studded_months=studded_months,
        gradient_pct=gradient_pct,
        junction=junction,
        junction_distance_m=junction_distance_m,
    )[0]


# =========================================================================== propagation
#: Exact octave mid-band frequencies 1000·10^(3k/10) used for air absorption (ISO 9613-1).
EXACT_BANDS_HZ = 1000.0 * 10.0 ** (3.0 * np.arange(-4, 4) / 10.0)


def atmospheric_absorption_db_km(*, temperature_c: float = 15.0, humidity_pct: float = 70.0, pressure_pa: float = 101325.0) -> np.ndarray:
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
    alpha = (
        8.686
        * f**2
        * (
            1.84e-11 / pa * (T / T0) ** 0.5
            + (T / T0) ** -2.5 * (0.01275 * np.exp(-2239.1 / T) / (fro + f**2 / fro) + 0.1068 * np.exp(-3352.0 / T) / (frn + f**2 / frn))
        )
    )
    return alpha * 1000.0


def _mean_plane_geometry(terrain: np.ndarray, dp: float, zs_abs: float, zr_abs: float) -> tuple[float, float, float]:
    """Heights of source and receiver above the least-squares mean plane of a ground profile, and the
    distance between their projections on it (Annex II 2.5.11)."""
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
    ground_g: float | np.ndarray = 0.0,
    g_source: float = 0.0,
    p_favourable: float = 0.5,
    temperature_c: float = 15.0,
    humidity_pct: float = 70.0,
    pressure_pa: float = 101325.0,
    terrain: np.ndarray | None = None,
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
    out = _k.path_terms(d, dp, zs, zr, g_path, float(g_source), np.asarray(BANDS_HZ, dtype=np.float64), alpha, np.zeros((9, 8)))
    return PathAttenuation(
        distance_m=d,
        projected_distance_m=dp,
        g_path=g_path,
        g_path_prime=float(_k.g_prime(g_path, float(g_source), dp, zs, zr)),
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


# =========================================================================== maps
#: END reporting bands (dB): lower bounds of 5-dB classes; the last is open-ended.
LDEN_BANDS: tuple[int, ...] = (55, 60, 65, 70, 75)
LNIGHT_BANDS: tuple[int, ...] = (50, 55, 60, 65, 70)
#: Height of the equivalent point sources above the road (Annex II 2.2, JRC Road_Params Hsrc).
SOURCE_HEIGHT_M = 0.05
_PERIOD_ORDER = ("day", "evening", "night")


def lden_db(lday_db: Any, levening_db: Any, lnight_db: Any) -> np.ndarray:
    """Lden of Directive 2002/49/EC Annex I: 12 h day, 4 h evening (+5 dB), 8 h night (+10 dB).

    Examples
    --------
    >>> float(lden_db(60.0, 60.0, 60.0).round(2))
    66.4
    """
    d, e, n = (np.asarray(x, dtype=np.float64) for x in (lday_db, levening_db, lnight_db))
    with np.errstate(divide="ignore"):
        return 10 * np.log10((12 * 10 ** (d / 10) + 4 * 10 ** ((e + 5) / 10) + 8 * 10 ** ((n + 10) / 10)) / 24)


def _band_labels(name: str, bands: tuple[int, ...]) -> list[str]:
    return [f"{name} {lo}-{lo + 4}" for lo in bands[:-1]] + [f"{name} >={bands[-1]}"]


def exposure_counts(levels_db: np.ndarray, population: np.ndarray, bands: tuple[int, ...], *, name: str) -> dict[str, float]:
    """People per 5-dB END band: ``lo <= L < lo + 5`` for each lower bound, the last open-ended.

    Examples
    --------
    >>> exposure_counts(np.array([54.9, 55.0, 59.99, 77.0]), np.array([1., 2., 3., 4.]), LDEN_BANDS, name="Lden")
    {'Lden 55-59': 5.0, 'Lden 60-64': 0.0, 'Lden 65-69': 0.0, 'Lden 70-74': 0.0, 'Lden >=75': 4.0}
    """
    lv = np.asarray(levels_db, dtype=np.float64)
    pop = np.asarray(population, dtype=np.float64)
    edges = list(bands) + [np.inf]
    return {label: float(pop[(lv >= lo) & (lv < hi)].sum()) for label, lo, hi in zip(_band_labels(name, bands), edges[:-1], edges[1:])}


@dataclass(frozen=True)
class NoiseMap:
    """Long-term A-weighted levels per receptor (dB(A)), from :func:`compute_noise`.

    Attributes
    ----------
    receptors
        The :class:`~ldtkit.model.receptors.Receptors` evaluated.
    lday_db, levening_db, lnight_db, lden_db
        Levels per receptor; ``-inf`` where no source lies within the cutoff.
    bands_db
        ``{period: (n_receptors, 8)}`` unweighted octave-band levels when requested, else ``None``.
    meta
        Settings and counts (cutoff, ground factor, source-point evaluations, seconds).
    """

    receptors: Any
    lday_db: np.ndarray
    levening_db: np.ndarray
    lnight_db: np.ndarray
    lden_db: np.ndarray
    bands_db: dict[str, np.ndarray] | None = None
    meta: dict = field(default_factory=dict, compare=False)

    def __len__(self) -> int:
        return len(self.lden_db)

    def exposure(self) -> dict[str, float]:
        """People per END band: Lden 55–59 … ≥ 75 and Lnight 50–54 … ≥ 70 (receptor population weights)."""
        pop = self.receptors.population
        return {
            **exposure_counts(self.lden_db, pop, LDEN_BANDS, name="Lden"),
            **exposure_counts(self.lnight_db, pop, LNIGHT_BANDS, name="Lnight"),
        }

    def exposure_table(self) -> pd.DataFrame:
        """:meth:`exposure` as a table with columns ``indicator``, ``band``, ``people``."""
        rows = [(k.split(" ", 1)[0], k.split(" ", 1)[1], v) for k, v in self.exposure().items()]
        return pd.DataFrame(rows, columns=["indicator", "band", "people"])

    def grid(self, name: str = "lden_db") -> np.ndarray:
        """A level as a 2-D array ``(ny, nx)`` (south row first) for grid receptors."""
        shape = getattr(self.receptors, "grid_shape", None)
        if shape is None:
            raise InvalidValueError("NoiseMap.grid: the receptors are not a regular grid (grid_shape is None)")
        return np.asarray(getattr(self, name)).reshape(shape)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per receptor: x, y, z, population and the four levels (plus bands when computed)."""
        r = self.receptors
        data: dict[str, Any] = {"x": r.x, "y": r.y, "z_m": r.z, "population": r.population}
        data.update(lday_db=self.lday_db, levening_db=self.levening_db, lnight_db=self.lnight_db, lden_db=self.lden_db)
        if self.bands_db is not None:
            for period, arr in self.bands_db.items():
                for b, f in enumerate(BANDS_HZ):
                    data[f"{period}_{f}hz_db"] = arr[:, b]
        return pd.DataFrame(data)

    def to_geodataframe(self, *, to_wgs84: bool = False, geometry: Any = None):
        """Receptor points with the levels, in the receptors' CRS (or EPSG:4326).

        ``geometry``: the receptors' points if already built (e.g. shared by several maps on
        the same receptors; building 250,000 points takes a few tenths of a second).
        """
        import geopandas as gpd

        df = self.to_dataframe()
        geom = gpd.points_from_xy(df["x"], df["y"]) if geometry is None else geometry
        gdf = gpd.GeoDataFrame(df, geometry=geom, crs=self.receptors.crs)
        return gdf.to_crs(4326) if to_wgs84 else gdf


@dataclass(frozen=True)
class NoiseSources:
    """Road centre lines as straight segments, prepared once per network geometry.

    Links running both ways along the same geometry share one source line; ``line_of_link``
    maps every link row to its line (``-1`` for links that never emit: connectors, tunnels).
    """

    line_of_link: np.ndarray
    n_lines: int
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    seg_line: np.ndarray

    @property
    def n_segments(self) -> int:
        return len(self.x0)

    @property
    def length_m(self) -> float:
        return float(np.hypot(self.x1 - self.x0, self.y1 - self.y0).sum())


def noise_sources(network: Any, *, max_segment_m: float = 50.0) -> NoiseSources:
    """Split the network's link geometries into straight source segments of at most ``max_segment_m``.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import LineString
    >>> from ldtkit.model.network import RoadNetwork, conform_links
    >>> links = pd.DataFrame({"link_id": [1, 2], "from_node": [1, 2], "to_node": [2, 1], "length_m": [120.0, 120.0],
    ...                       "capacity_vph": 900.0, "free_speed_kmh": 50.0})
    >>> g = gpd.GeoDataFrame(links, geometry=[LineString([(0, 0), (120, 0)]), LineString([(120, 0), (0, 0)])], crs=31370)
    >>> nodes = gpd.GeoDataFrame({"node_id": [1, 2], "is_zone": False}, geometry=gpd.points_from_xy([0, 120], [0, 0]), crs=31370)
    >>> src = noise_sources(RoadNetwork(conform_links(g, source="doctest"), nodes))
    >>> src.n_lines, src.n_segments, src.line_of_link.tolist()
    (1, 3, [0, 0])
    """
    import shapely

    links = network.links
    geoms = links.geometry.to_numpy() if hasattr(links, "geometry") else np.array([])
    if len(geoms) == 0 or shapely.is_empty(geoms).all():
        raise InvalidValueError(f"network {getattr(network, 'name', '')!r}: links have no geometry; noise maps need link centre lines")
    emits = (links["road_class"].astype(str).to_numpy() != "connector") & ~links["tunnel"].to_numpy(bool)
    emits &= ~shapely.is_empty(geoms) & ~pd.isna(geoms)
    a = links["from_node"].to_numpy(np.int64)
    b = links["to_node"].to_numpy(np.int64)
    key = pd.DataFrame({"u": np.minimum(a, b), "v": np.maximum(a, b), "l": np.round(links["length_m"].to_numpy(float), 1)})
    key = key[emits]
    codes, _ = pd.factorize(pd.MultiIndex.from_frame(key))
    line_of_link = np.full(len(links), -1, dtype=np.int64)
    line_of_link[np.flatnonzero(emits)] = codes
    n_lines = int(codes.max()) + 1 if len(codes) else 0
    first = np.flatnonzero(emits)[np.unique(codes, return_index=True)[1]]
    coords, idx = shapely.get_coordinates(geoms[first], return_index=True)
    same = idx[1:] == idx[:-1]
    p0, p1, line = coords[:-1][same], coords[1:][same], codes[np.unique(codes, return_index=True)[1]][idx[:-1][same]]
    seg_len = np.hypot(*(p1 - p0).T)
    keep = seg_len > 0
    p0, p1, line, seg_len = p0[keep], p1[keep], line[keep], seg_len[keep]
    n_sub = np.maximum(1, np.ceil(seg_len / max_segment_m)).astype(np.int64)
    rep = np.repeat(np.arange(len(p0)), n_sub)
    j = np.arange(len(rep)) - np.repeat(np.cumsum(n_sub) - n_sub, n_sub)
    t0 = (j / n_sub[rep])[:, None]
    t1 = ((j + 1) / n_sub[rep])[:, None]
    q0 = p0[rep] + t0 * (p1[rep] - p0[rep])
    q1 = p0[rep] + t1 * (p1[rep] - p0[rep])
    return NoiseSources(
        line_of_link, n_lines, q0[:, 0].copy(), q0[:, 1].copy(), q1[:, 0].copy(), q1[:, 1].copy(), line[rep].astype(np.int64)
    )


@dataclass(frozen=True)
class NoisePropagation:
    """Everything about a noise map that does not depend on traffic, reusable across scenarios.

    Holds the source segments (sorted by grid cell), the pyramid of nested source cells used as
    far-field point sources, the receptors, the propagation settings and (``method="table"``) the
    ground/air transfer tables. Build with :func:`noise_propagation`; pass to :func:`compute_noise`
    as ``propagation=`` so that a scenario only recomputes emission and the source–receiver sums.
    """

    sources: NoiseSources
    receptors: Any
    cutoff_m: float
    ground_g: float
    g_source: float
    p_favourable: float
    temperature_c: float
    humidity_pct: float
    spacing_ratio: float
    method: str
    arrays: dict
    network_links: int = 0

    def energies(self, w_line: np.ndarray, *, w_reference: np.ndarray | None = None, progress: bool = False) -> tuple[np.ndarray, int]:
        """Band energies (linear) at every receptor for per-metre line powers ``w_line`` (n_periods, n_lines, 8).

        Distant groups of sources act as one point at their power-weighted centroid; the weights
        are ``w_reference`` (n_lines, 8), by default the first period of ``w_line``. For a fixed
        reference the energies are linear in ``w_line`` and each period is independent of the
        others, so maps computed together (periods of several scenarios stacked) equal maps
        computed one by one.
        """
        from tqdm.auto import tqdm

        a = self.arrays
        s = self.sources
        r = self.receptors
        w_seg = np.ascontiguousarray(np.transpose(w_line, (1, 0, 2))[s.seg_line])
        w_ref = np.ascontiguousarray((w_line[0] if w_reference is None else w_reference)[s.seg_line])
        w_cl, cl_px, cl_py, cl_mom = _k.cluster_power(
            w_seg, w_ref, a["slen"], s.x0, s.y0, s.x1, s.y1, a["seg_cell"], a["lv_nx"], a["lv_off"], 10.0 ** (A_WEIGHTING_DB / 10.0)
        )
        n = len(r)
        order, bstart = a["r_order"], a["block_start"]
        rx, ry, rz, zi = r.x[order], r.y[order], r.z[order], a["z_index"][order]
        out = np.zeros((n, w_line.shape[0], 8))
        n_pairs = 0
        nblocks = len(bstart) - 1
        edges = np.unique(np.linspace(0, nblocks, max(2, min(51, nblocks // 200 + 1))).astype(np.int64))
        for b0, b1 in tqdm(list(zip(edges[:-1], edges[1:])), desc="noise map", unit="block", disable=not progress):
            lo, hi = bstart[b0], bstart[b1]
            e, cnt = _map_energy_balanced(
                rx[lo:hi],
                ry[lo:hi],
                rz[lo:hi],
                zi[lo:hi],
                bstart[b0 : b1 + 1] - lo,
                s.x0,
                s.y0,
                s.x1,
                s.y1,
                a["slen"],
                a["seg_start"],
                w_seg,
                a["lv_nx"],
                a["lv_ny"],
                a["lv_off"],
                a["cl_x"],
                a["cl_y"],
                a["cl_rho"],
                a["cl_len"],
                w_cl,
                cl_px,
                cl_py,
                cl_mom,
                a["gx0"],
                a["gy0"],
                a["cell0"],
                a["theta"],
                SOURCE_HEIGHT_M,
                self.cutoff_m,
                self.spacing_ratio,
                self.ground_g,
                self.g_source,
                self.p_favourable,
                a["kb"],
                a["f25"],
                a["f15"],
                a["f075"],
                a["wf_b"],
                a["catm"],
                a["tab"],
                a["tab_step"],
            )
            out[order[lo:hi]] = e
            n_pairs += int(cnt.sum())
        return out, n_pairs


def _map_energy_balanced(*args):
    """:func:`ldtkit.model.kernels.noise.map_energy` with dynamic scheduling of receptor blocks.

    Blocks differ a lot in work (a block beside a motorway junction sees many more sources
    than one in a park); numba's default static split leaves a thread idle, small chunks don't.
    """
    import numba

    previous = numba.set_parallel_chunksize(4)
    try:
        return _k.map_energy(*args)
    finally:
        numba.set_parallel_chunksize(previous)


def noise_propagation(
    network: Any,
    receptors: Any,
    *,
    cutoff_m: float = 3000.0,
    ground_g: float = 0.5,
    g_source: float = 0.0,
    p_favourable: float = 0.5,
    temperature_c: float = 15.0,
    humidity_pct: float = 70.0,
    spacing_ratio: float = 2.0,
    max_segment_m: float = 20.0,
    cell_m: float = 25.0,
    block_m: float = 40.0,
    far_field: bool = True,
    method: str = "table",
    table_step_m: float = 0.25,
) -> NoisePropagation:
    """Prepare the traffic-independent part of a noise map (see :class:`NoisePropagation`).

    Parameters
    ----------
    network, receptors
        A :class:`~ldtkit.model.network.RoadNetwork` with link geometry and the receptors.
    cutoff_m
        Point sources farther than this (projected distance) are ignored. Without screening by
        buildings, distant main roads still count: on the Ghent focus area the default 3 km keeps
        Lden within 0.5 dB of the whole-city sum at every grid receptor (``tests/test_noise_map.py``).
    ground_g, g_source
        Ground factor G of the propagation area (0 hard … 1 porous) and at the source (0: road platform).
    p_favourable
        Occurrence of favourable (downward-refracting) conditions, the same in every direction.
    temperature_c, humidity_pct
        Air conditions for ISO 9613-1 absorption (the temperature also enters road emission).
    spacing_ratio
        Point sources are at most max(1 m, d_min / ratio) long (NMPB 2008 rule; 2 in NoiseModelling).
        The same rule lets a whole grid cell of sources act as one point at its centroid when its
        extent is at most d_min / ratio (``far_field=True``).
    max_segment_m, cell_m
        Longest straight source segment before adaptive splitting; size of the finest source cell.
    block_m
        Receptors are processed in square blocks of this size (one pyramid descent per block).
    far_field
        Group distant sources per (nested) grid cell; ``False`` splits every segment individually.
    method
        ``"table"`` interpolates the ground and air terms in projected distance from exact values
        tabulated every ``table_step_m`` for each receptor height (≤ 0.01 dB from ``"exact"``);
        ``"exact"`` evaluates eq. 2.5.15–2.5.20 for every source–receiver pair.

    Examples
    --------
    >>> prop = noise_propagation(net, receptors)  # doctest: +SKIP
    >>> base = compute_noise(net, traffic_base, receptors, propagation=prop)  # doctest: +SKIP
    >>> closed = compute_noise(net_closed, traffic_closed, receptors, propagation=prop)  # doctest: +SKIP
    """
    if method not in ("table", "exact"):
        raise InvalidValueError(f"method={method!r}: expected 'table' or 'exact'")
    if not cutoff_m > 0:
        raise InvalidValueError(f"cutoff_m must be > 0, got {cutoff_m}")
    if not (0.0 <= ground_g <= 1.0 and 0.0 <= g_source <= 1.0):
        raise InvalidValueError(f"ground factors must be within [0, 1], got ground_g={ground_g}, g_source={g_source}")
    if not (0.0 <= p_favourable <= 1.0):
        raise InvalidValueError(f"p_favourable must be within [0, 1], got {p_favourable}")
    if not spacing_ratio > 0:
        raise InvalidValueError(f"spacing_ratio must be > 0, got {spacing_ratio}")
    if len(receptors) == 0:
        raise InvalidValueError("noise_propagation: no receptors")
    rz = np.asarray(receptors.z, dtype=np.float64)
    if (rz <= SOURCE_HEIGHT_M).any():
        raise InvalidValueError(f"receptor heights must be above the source height {SOURCE_HEIGHT_M} m")
    src = noise_sources(network, max_segment_m=max_segment_m)
    # only segments that can reach a receptor
    rx, ry = np.asarray(receptors.x, dtype=np.float64), np.asarray(receptors.y, dtype=np.float64)
    margin = cutoff_m + max_segment_m
    xm, ym = (src.x0 + src.x1) / 2, (src.y0 + src.y1) / 2
    keep = (xm >= rx.min() - margin) & (xm <= rx.max() + margin) & (ym >= ry.min() - margin) & (ym <= ry.max() + margin)
    if not keep.any():
        raise InvalidValueError(f"network {getattr(network, 'name', '')!r}: no emitting link within cutoff_m={cutoff_m} of the receptors")
    xm, ym = xm[keep], ym[keep]
    # pyramid of nested cells: level k has cells of cell_m·2^k; the top level spans about the cutoff
    n_lev = 1 + max(0, int(np.ceil(np.log2(max(cutoff_m / cell_m, 1.0)))) - 1)
    top = 1 << (n_lev - 1)
    gx0, gy0 = min(xm.min(), rx.min()) - cell_m, min(ym.min(), ry.min()) - cell_m
    nx0 = int(np.ceil((max(xm.max(), rx.max()) + cell_m - gx0) / cell_m / top)) * top
    ny0 = int(np.ceil((max(ym.max(), ry.max()) + cell_m - gy0) / cell_m / top)) * top
    lv_nx = np.array([nx0 >> k for k in range(n_lev)], dtype=np.int64)
    lv_ny = np.array([ny0 >> k for k in range(n_lev)], dtype=np.int64)
    lv_off = np.concatenate([[0], np.cumsum(lv_nx * lv_ny)]).astype(np.int64)
    order, seg_start = _k.grid_index(xm, ym, gx0, gy0, cell_m, nx0, ny0)
    idx = np.flatnonzero(keep)[order]
    src = NoiseSources(src.line_of_link, src.n_lines, src.x0[idx], src.y0[idx], src.x1[idx], src.y1[idx], src.seg_line[idx])
    slen = np.hypot(src.x1 - src.x0, src.y1 - src.y0)
    seg_cell = np.minimum(((ym[order] - gy0) / cell_m).astype(np.int64), ny0 - 1) * nx0 + np.minimum(
        ((xm[order] - gx0) / cell_m).astype(np.int64), nx0 - 1
    )
    cl_x, cl_y, cl_rho, cl_len = _k.build_pyramid(src.x0, src.y0, src.x1, src.y1, slen, seg_cell, lv_nx, lv_ny, lv_off, cell_m)
    f = np.asarray(BANDS_HZ, dtype=np.float64)
    alpha = atmospheric_absorption_db_km(temperature_c=temperature_c, humidity_pct=humidity_pct)
    a: dict[str, Any] = {
        "kb": 2 * np.pi * f / _k.C_SOUND,
        "f25": f**2.5,
        "f15": f**1.5,
        "f075": f**0.75,
        "wf_b": np.array([_k.ground_w(x, ground_g) for x in f]),
        "catm": alpha / 1000.0 * np.log(10.0) / 10.0,
        "slen": slen,
        "seg_start": seg_start,
        "seg_cell": seg_cell,
        "lv_nx": lv_nx,
        "lv_ny": lv_ny,
        "lv_off": lv_off,
        "cl_x": cl_x,
        "cl_y": cl_y,
        "cl_rho": cl_rho,
        "cl_len": cl_len,
        "gx0": float(gx0),
        "gy0": float(gy0),
        "cell0": float(cell_m),
        "theta": (2.0 * spacing_ratio + 1.0) if far_field else np.inf,
    }
    z_vals, z_index = np.unique(rz, return_inverse=True)
    if method == "table" and len(z_vals) <= 64:
        n_steps = int(np.ceil(cutoff_m / table_step_m)) + 3
        a["tab"] = _k.transfer_table(
            z_vals,
            SOURCE_HEIGHT_M,
            n_steps,
            table_step_m,
            ground_g,
            g_source,
            p_favourable,
            a["kb"],
            a["f25"],
            a["f15"],
            a["f075"],
            a["wf_b"],
            a["catm"],
        )
        a["tab_step"] = float(table_step_m)
    else:
        method = "exact"
        a["tab"] = np.zeros((0, 2, 8))
        a["tab_step"] = 1.0
    a["z_index"] = z_index.astype(np.int64).ravel()
    # receptors in spatial blocks of about block_m x block_m, evaluated together (one pyramid descent per block)
    bkey = np.floor((ry - ry.min()) / block_m).astype(np.int64) * (int((rx.max() - rx.min()) / block_m) + 1) + np.floor(
        (rx - rx.min()) / block_m
    ).astype(np.int64)
    r_order = np.argsort(bkey, kind="stable")
    _, first = np.unique(bkey[r_order], return_index=True)
    a["r_order"] = r_order
    a["block_start"] = np.append(first, len(rx)).astype(np.int64)
    return NoisePropagation(
        src,
        receptors,
        float(cutoff_m),
        float(ground_g),
        float(g_source),
        float(p_favourable),
        float(temperature_c),
        float(humidity_pct),
        float(spacing_ratio),
        method,
        a,
        len(network.links),
    )


def compute_noise(
    network: Any,
    traffic: Mapping[str, Any],
    receptors: Any,
    *,
    cutoff_m: float = 3000.0,
    ground_g: float = 0.5,
    p_favourable: float = 0.5,
    coefficients: str = "2021",
    surface: str = "DEF",
    temperature_c: float = 15.0,
    humidity_pct: float = 70.0,
    method: str = "table",
    bands: bool = False,
    propagation: NoisePropagation | None = None,
    reference_traffic: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> NoiseMap:
    """Lday, Levening, Lnight and Lden at every receptor from per-period link traffic (CNOSSOS-EU).

    Light traffic is category 1 and heavy traffic category 3, both at the link's mean speed.
    Links of class ``"connector"``, tunnels and links without traffic do not emit. The two
    directions of a road share one source line (their powers add).

    Parameters
    ----------
    network
        :class:`~ldtkit.model.network.RoadNetwork` with link centre lines in a metric CRS.
    traffic
        ``{"day": LinkTraffic, "evening": ..., "night": ...}`` aligned with ``network.links``.
    receptors
        :class:`~ldtkit.model.receptors.Receptors` (e.g. a 10 m grid at 4 m, or façade points).
    cutoff_m, ground_g, p_favourable, temperature_c, humidity_pct, method
        Propagation settings, see :func:`noise_propagation` (ignored when ``propagation`` is given).
    coefficients, surface
        Emission coefficient set (``"2021"`` or ``"2015"``) and Table F-4 road surface.
    bands
        Also keep unweighted octave-band levels per period (``NoiseMap.bands_db``).
    propagation
        A :class:`NoisePropagation` prepared once for this network geometry and these receptors.
    reference_traffic
        Traffic (same form as ``traffic``) whose day-period power places the far-field point
        sources (power-weighted centroids of distant source cells); default ``traffic`` itself.
        Scenarios compared with a baseline use the baseline's, so that their differences come
        from the traffic alone (the runner does); see also :func:`compute_noise_many`.
    progress
        Show a tqdm progress bar.

    Returns
    -------
    NoiseMap

    Examples
    --------
    >>> nmap = compute_noise(net, {"day": t_day, "evening": t_eve, "night": t_night}, receptors)  # doctest: +SKIP
    >>> nmap.exposure()["Lden 55-59"]  # doctest: +SKIP
    """
    import time

    t0 = time.perf_counter()
    _check_traffic(network, traffic, "traffic")
    if reference_traffic is not None:
        _check_traffic(network, reference_traffic, "reference_traffic")
    if propagation is None:
        propagation = noise_propagation(
            network,
            receptors,
            cutoff_m=cutoff_m,
            ground_g=ground_g,
            p_favourable=p_favourable,
            temperature_c=temperature_c,
            humidity_pct=humidity_pct,
            method=method,
        )
    maps_ = _stacked_maps(
        network,
        {"": traffic},
        receptors,
        reference_traffic=reference_traffic,
        propagation=propagation,
        coefficients=coefficients,
        surface=surface,
        bands=bands,
        progress=progress,
        started=t0,
        caller="compute_noise",
    )
    return maps_[""]


def compute_noise_many(
    network: Any,
    traffics: Mapping[str, Mapping[str, Any]],
    receptors: Any,
    *,
    reference_traffic: Mapping[str, Any],
    coefficients: str = "2021",
    surface: str = "DEF",
    bands: bool = False,
    propagation: NoisePropagation | None = None,
    progress: bool = False,
    **propagation_options: Any,
) -> dict[str, NoiseMap]:
    """Noise maps of several traffic states on one network geometry, in one pass.

    The source–receiver geometry (distances, ground and air terms) is evaluated once for all
    of them; only the powers differ. Each map equals ``compute_noise(network, traffics[name],
    receptors, reference_traffic=reference_traffic, ...)`` computed alone, in a fraction of
    the time (on the Ghent focus area three scenario maps take about 1.5 times one map).

    Parameters
    ----------
    network
        The network whose link geometry carries the sources; every traffic state must be
        aligned with its links (scenario networks keep the baseline's links and ids).
    traffics
        ``{name: {"day": LinkTraffic, "evening": ..., "night": ...}}``.
    reference_traffic
        Traffic whose day-period power places the far-field point sources (the baseline's).
    propagation_options
        Passed to :func:`noise_propagation` when ``propagation`` is not given.

    Examples
    --------
    >>> maps_ = compute_noise_many(base_net, {"closed": t_closed, "one-way": t_oneway}, receptors,
    ...                            reference_traffic=t_base)  # doctest: +SKIP
    """
    import time

    t0 = time.perf_counter()
    for name, traffic in traffics.items():
        _check_traffic(network, traffic, f"traffics[{name!r}]")
    _check_traffic(network, reference_traffic, "reference_traffic")
    if not traffics:
        return {}
    if propagation is None:
        propagation = noise_propagation(network, receptors, **propagation_options)
    return _stacked_maps(
        network,
        traffics,
        receptors,
        reference_traffic=reference_traffic,
        propagation=propagation,
        coefficients=coefficients,
        surface=surface,
        bands=bands,
        progress=progress,
        started=t0,
        caller="compute_noise_many",
    )


def _stacked_maps(
    network, traffics, receptors, *, reference_traffic, propagation, coefficients, surface, bands, progress, started, caller
) -> dict[str, NoiseMap]:
    """The shared body of :func:`compute_noise` and :func:`compute_noise_many`: the periods of
    every (checked) traffic state stacked into one kernel pass, then split into maps."""
    import time

    if propagation.receptors is not receptors or len(propagation.sources.line_of_link) != len(network.links):
        raise InvalidValueError(f"{caller}: propagation was prepared for other receptors or another network")
    t1 = time.perf_counter()
    names = list(traffics)
    w_line = np.concatenate([_line_powers(traffics[n], propagation, coefficients=coefficients, surface=surface) for n in names])
    w_ref = (
        None if reference_traffic is None else _line_powers(reference_traffic, propagation, coefficients=coefficients, surface=surface)[0]
    )
    energy, n_pairs = propagation.energies(w_line, w_reference=w_ref, progress=progress)
    t2 = time.perf_counter()
    npd = len(_PERIOD_ORDER)
    return {
        n: _noise_map(
            energy[:, k * npd : (k + 1) * npd],
            receptors,
            propagation,
            coefficients=coefficients,
            surface=surface,
            bands=bands,
            n_pairs=n_pairs,
            seconds=(t1 - started, (t2 - t1) / len(names)),
        )
        for k, n in enumerate(names)
    }


def _check_traffic(network: Any, traffic: Mapping[str, Any], what: str) -> None:
    missing = [p for p in _PERIOD_ORDER if p not in traffic]
    if missing:
        raise InvalidValueError(f"{what}: missing periods {missing}; expected keys {list(_PERIOD_ORDER)}")
    n_links = len(network.links)
    for p in _PERIOD_ORDER:
        if len(traffic[p].link_id) != n_links or not np.array_equal(np.asarray(traffic[p].link_id), network.links["link_id"].to_numpy()):
            raise InvalidValueError(f"{what}[{p!r}]: link_id must match network.links['link_id'] in order ({n_links} links)")


def _line_powers(traffic: Mapping[str, Any], propagation: NoisePropagation, *, coefficients: str, surface: str) -> np.ndarray:
    """Per-metre sound power (linear, W-relative) of every source line, shape (3 periods, n_lines, 8)."""
    src = propagation.sources
    emits = src.line_of_link >= 0
    w_line = np.zeros((len(_PERIOD_ORDER), src.n_lines, 8))
    for m, p in enumerate(_PERIOD_ORDER):
        t = traffic[p]
        lw = emission_per_link(
            {"1": t.light_vph[emits], "3": t.heavy_vph[emits]},
            {"1": t.speed_kmh[emits], "3": t.speed_kmh[emits]},
            coefficients=coefficients,
            surface=surface,
            temperature_c=propagation.temperature_c,
        )
        np.add.at(w_line[m], src.line_of_link[emits], 10.0 ** (lw / 10.0))
    return w_line


def _noise_map(energy, receptors, propagation, *, coefficients, surface, bands, n_pairs, seconds) -> NoiseMap:
    """Levels, Lden and metadata from band energies (n_receptors, 3 periods, 8)."""
    with np.errstate(divide="ignore"):
        band_db = 10.0 * np.log10(energy)
        la = 10.0 * np.log10(np.sum(energy * 10.0 ** (A_WEIGHTING_DB / 10.0), axis=2))
    lden = lden_db(la[:, 0], la[:, 1], la[:, 2])
    return NoiseMap(
        receptors=receptors,
        lday_db=la[:, 0],
        levening_db=la[:, 1],
        lnight_db=la[:, 2],
        lden_db=lden,
        bands_db={p: band_db[:, m] for m, p in enumerate(_PERIOD_ORDER)} if bands else None,
        meta={
            "cutoff_m": propagation.cutoff_m,
            "ground_g": propagation.ground_g,
            "p_favourable": propagation.p_favourable,
            "method": propagation.method,
            "coefficients": coefficients,
            "surface": surface,
            "source_segments": propagation.sources.n_segments,
            "pair_evaluations": n_pairs,
            "far_field": bool(np.isfinite(propagation.arrays["theta"])),
            "seconds_prepare": seconds[0],
            "seconds_compute": seconds[1],
        },
    )
