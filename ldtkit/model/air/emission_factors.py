"""Emission factors per vehicle-km: hot exhaust (EMEP/EEA speed functions) and non-exhaust PM.

Hot-exhaust factors come from ``ldtkit/model/data/emission_factors.csv`` (EMEP/EEA 2013/2014
Tier 3 average-speed functions, see :mod:`ldtkit.model.air`); non-exhaust PM from the
EMEP/EEA 2019 Tier 2 factors and speed corrections.

Examples
--------
>>> f = Fleet(light={"diesel_euro6": 1.0})
>>> round(float(hot_emission_factor("light", "NOx", 50.0, fleet=f)), 4)
0.1845
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import pandas as pd

from ldtkit.errors import InvalidValueError, MissingFieldError, UnreadableFormatError, require_file
from ldtkit.model.air.fleet import FLEET_SEGMENTS, Fleet

#: The packaged EMEP/EEA emission-factor table.
EMISSION_FACTORS_CSV = Path(__file__).resolve().parents[1] / "data" / "emission_factors.csv"

FloatArray = npt.NDArray[np.float64]
#: An emission factor (g/km) as a function of speed (km/h).
SpeedCurve = Callable[[FloatArray], FloatArray]


@lru_cache(maxsize=4)
def _ef_table(path: str) -> pd.DataFrame:
    p = require_file(path, what="emission-factor table")
    try:
        df = pd.read_csv(p)
    except Exception as exc:  # pragma: no cover - malformed file
        raise UnreadableFormatError(p, expected="CSV", detail=str(exc)) from exc
    for col in ("vehicle_class", "segment", "euro", "pollutant", "speed_kmh", "ef_g_per_km"):
        if col not in df.columns:
            raise MissingFieldError(p, col, expected="a column of the emission-factor table")
    return df


def load_emission_factors(path: str | Path | None = None) -> pd.DataFrame:
    """The hot-exhaust emission-factor table (g/km against speed).

    Examples
    --------
    >>> ef = load_emission_factors()
    >>> sorted(ef["pollutant"].unique())[:2]
    ['NOx', 'PM10_brake_wear']
    """
    return _ef_table(str(path or EMISSION_FACTORS_CSV)).copy()


def _equation_1(c: Sequence[float], v: FloatArray) -> FloatArray:
    return (c[0] + c[2] * v + c[4] * v**2 + c[5] / v) / (1.0 + c[1] * v + c[3] * v**2)


def _logistic(c: Sequence[float], v: FloatArray) -> FloatArray:
    return c[0] + c[1] / (1.0 + np.exp(-c[2] + c[3] * np.log(v) + c[4] * v))


def _polynomial_5(c: Sequence[float], v: FloatArray) -> FloatArray:
    return ((((c[0] * v + c[1]) * v + c[2]) * v + c[3]) * v + c[4]) * v + c[5]


def _power(c: Sequence[float], v: FloatArray) -> FloatArray:
    return c[0] * c[1] ** v * v ** c[2]


#: EMEP/EEA (COPERT) speed functions by the table's ``formula`` name, vectorised over V (km/h),
#: with the number of coefficients; coefficient order as in the guidebook annex (pollemission
#: ``copert.py`` Eq_1/Eq_6/Eq_17, HDV "ARTEMIS" Function_ID 0/10), reduction factor RF = 0.
_EF_FORMULAS: Mapping[str, tuple[int, Callable[[Sequence[float], FloatArray], FloatArray]]] = MappingProxyType(
    {
        "Equation 1": (6, _equation_1),
        "Equation 6": (6, _logistic),
        "Equation 17": (6, _polynomial_5),
        "Function_ID 0": (3, _power),
        "Function_ID 10": (5, _logistic),
    }
)


def _curve(table: pd.DataFrame, key: str, pollutant: str) -> SpeedCurve:
    """A vectorised ``ef(v)`` (g/km) for one fleet segment and pollutant.

    If the table gives the segment's ``formula``/``coefficients`` (and ``vmin_kmh``/``vmax_kmh``),
    the published function is evaluated with speeds clamped to that validity range; otherwise
    the tabulated rows are interpolated linearly, clamped to the tabulated speeds.
    """
    vclass, segment, euro = FLEET_SEGMENTS[key]
    rows = table[
        (table["vehicle_class"] == vclass) & (table["segment"] == segment) & (table["euro"] == euro) & (table["pollutant"] == pollutant)
    ]
    if rows.empty:
        raise MissingFieldError("emission_factors.csv", f"{vclass}/{segment}/{euro}/{pollutant}", expected="rows for every fleet segment")
    rows = rows.sort_values("speed_kmh")
    sp, ef = rows["speed_kmh"].to_numpy(float), rows["ef_g_per_km"].to_numpy(float)
    what = f"{vclass}/{segment}/{euro}/{pollutant}"
    if "formula" not in rows.columns or "coefficients" not in rows.columns or rows["formula"].isna().all():
        return lambda v: np.interp(v, sp, ef)
    forms, coefs = rows["formula"].dropna().unique(), rows["coefficients"].dropna().unique()
    if len(forms) != 1 or len(coefs) != 1:
        raise InvalidValueError(f"emission-factor table: {what} has several formulas/coefficient sets {list(forms)} / {list(coefs)}")
    form = str(forms[0])
    if form not in _EF_FORMULAS:
        raise InvalidValueError(
            f"emission-factor table: {what}: unknown formula {form!r}; expected one of {list(_EF_FORMULAS)} "
            "(or leave 'formula' empty to interpolate the tabulated rows)"
        )
    n_coef, fn = _EF_FORMULAS[form]
    try:
        c = [float(x) for x in str(coefs[0]).split(";")]
    except ValueError as exc:
        raise InvalidValueError(f"emission-factor table: {what}: unreadable coefficients {coefs[0]!r}") from exc
    if len(c) != n_coef:
        raise InvalidValueError(f"emission-factor table: {what}: {form} needs {n_coef} coefficients, got {len(c)}")
    lo = rows["vmin_kmh"].min() if "vmin_kmh" in rows.columns else np.nan
    hi = rows["vmax_kmh"].max() if "vmax_kmh" in rows.columns else np.nan
    lo = float(sp[0]) if not np.isfinite(lo) else float(lo)
    hi = float(sp[-1]) if not np.isfinite(hi) else float(hi)
    return lambda v: fn(c, np.clip(v, lo, hi))


@cache
def _default_curve(key: str, pollutant: str) -> SpeedCurve:
    """:func:`_curve` of the bundled table (read and parsed once per process)."""
    return _curve(_ef_table(str(EMISSION_FACTORS_CSV)), key, pollutant)


def hot_emission_factor(
    vehicle: str, pollutant: str, speed_kmh: npt.ArrayLike, *, fleet: Fleet | None = None, table: pd.DataFrame | None = None
) -> FloatArray:
    """Fleet-weighted hot-exhaust emission factor (g/km) at the given speeds.

    Parameters
    ----------
    vehicle
        ``"light"`` or ``"heavy"``.
    pollutant
        ``"NOx"``, ``"NO2"`` (primary NO2, ``f_no2`` x NOx), ``"PM_exhaust"`` or ``"CO2"``.
    speed_kmh
        Speeds; the published EMEP/EEA function is evaluated within its validity range
        (``vmin_kmh``-``vmax_kmh`` of the table: 10-130 km/h cars, 5-130 km/h petrol-car NOx,
        12-86 km/h HGV) and speeds outside it are clamped to the range limits.
    fleet
        The fleet mix (default :class:`Fleet`).
    table
        Another emission-factor table (default: the packaged one).

    Examples
    --------
    >>> f = Fleet(light={"diesel_euro6": 1.0})
    >>> round(float(hot_emission_factor("light", "NOx", 50.0, fleet=f)), 4)
    0.1845
    """
    fleet = fleet or Fleet()
    shares = {"light": fleet.light, "heavy": fleet.heavy}.get(vehicle)
    if shares is None:
        raise InvalidValueError(f"hot_emission_factor: vehicle must be 'light' or 'heavy', got {vehicle!r}")
    v = np.asarray(speed_kmh, dtype=float)
    out = np.zeros(v.shape)
    for key, share in shares.items():
        if share == 0:
            continue
        if pollutant == "CO2":
            out = out + share * fleet.co2_g_per_km[key]
            continue
        src = "NOx" if pollutant == "NO2" else pollutant
        ef = (_default_curve(key, src) if table is None else _curve(table, key, src))(v)
        if pollutant == "NO2":
            ef = ef * fleet.f_no2[key]
        out = out + share * ef
    return out


#: EMEP/EEA 2019 Tier 2 non-exhaust PM: TSP factors (g/km, passenger car) and mass fractions.
NON_EXHAUST: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "tyre": {"tsp_pc": 0.0107, "pm10": 0.60, "pm25": 0.42},
        "brake": {"tsp_pc": 0.0075, "pm10": 0.98, "pm25": 0.39},
        "road": {"tsp_pc": 0.0150, "tsp_hgv": 0.0760, "pm10": 0.50, "pm25": 0.27},
    }
)


def non_exhaust_factor(vehicle: str, fraction: str, speed_kmh: npt.ArrayLike, *, fleet: Fleet | None = None) -> FloatArray:
    """Non-exhaust PM (tyre + brake + road wear) in g/km, ``fraction`` ``"pm10"`` or ``"pm25"``.

    Speed corrections (EMEP/EEA 2019 Tier 2): tyre 1.39 below 40 km/h, -0.00974 V + 1.78 to
    90, 0.902 above; brake 1.67 below 40, -0.0270 V + 2.75 to 95, 0.185 above; road wear none.
    HGVs: tyre x (axles/2)(1.41 + 1.38 LF), brake x 1.956 (1 + 0.79 LF), road 0.0760 g/km TSP.

    Examples
    --------
    >>> round(float(non_exhaust_factor("light", "pm10", 50.0)), 5)  # 0.0083011 + 0.01029 + 0.0075
    0.02609
    """
    fleet = fleet or Fleet()
    if fraction not in ("pm10", "pm25"):
        raise InvalidValueError(f"non_exhaust_factor: fraction must be 'pm10' or 'pm25', got {fraction!r}")
    v = np.asarray(speed_kmh, dtype=float)
    sc_tyre = np.where(v < 40, 1.39, np.where(v <= 90, -0.00974 * v + 1.78, 0.902))
    sc_brake = np.where(v < 40, 1.67, np.where(v <= 95, -0.0270 * v + 2.75, 0.185))
    t, b, r = NON_EXHAUST["tyre"], NON_EXHAUST["brake"], NON_EXHAUST["road"]
    if vehicle == "light":
        tyre, brake, road = t["tsp_pc"], b["tsp_pc"], r["tsp_pc"]
    elif vehicle == "heavy":
        lf = fleet.hgv_load
        tyre = t["tsp_pc"] * fleet.hgv_axles / 2.0 * (1.41 + 1.38 * lf)
        brake = b["tsp_pc"] * 1.956 * (1.0 + 0.79 * lf)
        road = r["tsp_hgv"]
    else:
        raise InvalidValueError(f"non_exhaust_factor: vehicle must be 'light' or 'heavy', got {vehicle!r}")
    out: FloatArray = tyre * t[fraction] * sc_tyre + brake * b[fraction] * sc_brake + road * r[fraction] * np.ones_like(v)
    return out
