"""Traffic air quality: link emissions, Gaussian line-source dispersion, NO2 and PM maps.

The model has four steps, each a pure function:

1. :func:`link_emissions` -- hot-exhaust NOx, primary NO2, exhaust PM and CO2 from
   speed-dependent EMEP/EEA (COPERT) emission factors for a configurable fleet mix, plus
   non-exhaust PM10/PM2.5 (tyre, brake and road wear, EMEP/EEA Tier 2), per link and period.
2. :func:`air_transfer` -- the long-term source-receptor transfer (ug/m3 per ug/m/s) for a
   network geometry and a set of receptors: a Gaussian line-source model with the CALINE3
   dispersion curves and mixing zone, integrated over a wind climatology (direction x speed
   x Pasquill class), sparse with a distance cutoff; plus a street-canyon increment for
   streets lined by buildings. Computed once per geometry, reused by every scenario.
3. :func:`compute_air` -- concentrations: transfer x emissions + canyon increment +
   background, NO2 from NOx with the Dutch SRM1/SRM2 O3-limited relation.
4. :func:`validate_no2` / :func:`plot_validation` -- modelled against measured NO2.

:func:`caline3` exposes the CALINE3 model itself for one meteorological hour (it
reproduces the CALINE3 user-guide test cases, see ``tests/test_air.py``); the map kernel
reproduces CALINE3 averaged over a uniform wind rose within 10 % outside the mixing zone.

Validation (``tests/test_air_validation.py``): Ghent baseline against the 404 CurieuzeNeuzen
2018 part-A NO2 points gives Pearson r ~ 0.67, mean bias ~ 0 (the NO2 background is the one
calibrated global parameter), RMSE ~ 5 ug/m3 (r ~ 0.70 with ``canyon = false``).
Performance (``benchmarks/air.py``, 2 cores): a 25 m grid over Ghent's focus area (40 000
receptors) takes ~6 s for the transfer and < 1 s per scenario.

Sources (see also ``../shared/reference/noise/NOTES.md`` section 3):

- Hot exhaust factors: EMEP/EEA air pollutant emission inventory guidebook 2013 (Sept 2014
  update), 1.A.3.b road transport, Tier 3 average-speed functions, tabulated against speed in
  ``ldtkit/model/data/emission_factors.csv`` (passenger cars Euro 5/6 petrol/diesel 1.4-2.0 l,
  rigid HGV 26-28 t Euro V SCR/VI at 50 % load). The table's published formula and
  coefficients are evaluated directly (linear interpolation of its 10 km/h rows deviates by
  up to ~7 %); speeds outside the guidebook's validity range (``vmin_kmh``-``vmax_kmh``:
  10-130 km/h cars, 5-130 for petrol NOx, 12-86 km/h HGV) are clamped to it.
- Non-exhaust: EMEP/EEA guidebook 2019, 1.A.3.b.vi-vii, Tier 2 (tyre 0.0107, brake 0.0075,
  road 0.0150 g/km TSP for cars, road 0.0760 for HGVs; PM10/PM2.5 mass fractions and speed
  corrections as in NOTES.md).
- Dispersion: CALINE3 (Benson 1979, Caltrans FHWA/CA/TL-79/23) sigma curves and mixing zone.
- NO2: SRM1/SRM2 (Regeling beoordeling luchtkwaliteit 2007; RIVM 2014-0127) with B = 0.6,
  K = 100 ug/m3.
- Street canyon: OSPM-style recirculation (Berkowicz 2000): C = q / (W sigma_wt) with
  sigma_wt = sqrt((0.1 u)^2 + sigma_w0^2), sigma_w0 = 0.3 sqrt(N V S^2 / W) (traffic turbulence).

Examples
--------
>>> from ldtkit.model.air import AirConfig, caline3
>>> c = caline3([30.0], [0.0], [1.8], [[0.0, -5000.0, 0.0, 5000.0]], width_m=[30.0],
...             q_ugms=[0.1726 * 7500 * 30], wind_speed_ms=1.0, wind_from_deg=270.0,
...             stability=6, z0_cm=10.0)
>>> round(float(c[0, 0]) * 0.0245 / 28.0, 1)  # ppm CO, CALINE3 user guide: 4.6
4.6
"""

from __future__ import annotations

import copyreg
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ldtkit.errors import ConfigError, InvalidValueError, MissingFieldError, UnreadableFormatError, require_file
from ldtkit.model.network import CONNECTOR_CLASS, RoadNetwork
from ldtkit.model.receptors import Receptors
from ldtkit.model.traffic import PERIODS, LinkTraffic

#: The packaged EMEP/EEA emission-factor table.
EMISSION_FACTORS_CSV = Path(__file__).resolve().parent / "data" / "emission_factors.csv"

#: Pollutants of an :class:`AirMap` (concentrations in ug/m3).
POLLUTANTS = ("nox", "no2", "pm10", "pm25")


# ----------------------------------------------------------------------------- fleet
#: Segments of the emission-factor table by fleet key: (vehicle_class, segment, euro).
# Read-only mappings keep fleet and emission tables immutable; results that hold them must still
# pickle (result cache, dask workers), so teach pickle to rebuild them from a plain dict.
def _read_only(d: dict) -> Mapping:
    return MappingProxyType(d)


copyreg.pickle(MappingProxyType, lambda m: (_read_only, (dict(m),)))

FLEET_SEGMENTS: Mapping[str, tuple[str, str, str]] = MappingProxyType(
    {
        "petrol_euro5": ("passenger_car", "Gasoline 1.4-2.0 l", "Euro 5"),
        "petrol_euro6": ("passenger_car", "Gasoline 1.4-2.0 l", "Euro 6"),
        "diesel_euro5": ("passenger_car", "Diesel 1.4-2.0 l", "Euro 5"),
        "diesel_euro6": ("passenger_car", "Diesel 1.4-2.0 l", "Euro 6"),
        "hgv_euro_v_scr": ("heavy_duty_vehicle", "Rigid 26-28 t diesel", "Euro V SCR"),
        "hgv_euro_vi": ("heavy_duty_vehicle", "Rigid 26-28 t diesel", "Euro VI"),
    }
)


@dataclass(frozen=True)
class Fleet:
    """Fleet mix and per-segment factors that the EF table does not hold.

    Attributes
    ----------
    light, heavy
        Vehicle-km shares by fleet key (:data:`FLEET_SEGMENTS`) for light and heavy vehicles;
        each must sum to 1.
    f_no2
        Primary NO2 fraction of NOx (mass) by fleet key.
    co2_g_per_km
        CO2 per vehicle-km by fleet key (fixed factors).
    hgv_axles, hgv_load
        Axles and load factor of the heavy vehicle (non-exhaust PM scaling).

    Notes
    -----
    Defaults are a Belgian-2018-like passenger-car mix (about 58 % diesel, Euro 6 ~ half of
    the vehicle-km; vehicles older than Euro 5 are represented by Euro 5, since the table holds
    Euro 5/6 only -- this *under*-states NOx of the oldest cars). Assumptions, not statistics.
    Primary NO2 fractions: petrol ~3 %, diesel cars ~30 % (Grange et al. 2017, Atmos. Chem.
    Phys. 17, 4131; EMEP/EEA guidebook f-NO2 tables), HGVs ~10 %.
    CO2: real-world fleet averages -- cars ~120 g/km type approval plus the ~35-40 % real-world
    gap (ICCT "From laboratory to road", 2018) gives ~165 (petrol) / ~150 (diesel) g/km; a
    26-28 t rigid truck at 50 % load ~30 l diesel/100 km x 2.64 kg CO2/l ~ 790 g/km.

    Examples
    --------
    >>> Fleet().light["diesel_euro6"]
    0.28
    >>> Fleet.from_dict({"light": {"diesel_euro6": 1.0}}).light
    mappingproxy({'diesel_euro6': 1.0})
    """

    light: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({"petrol_euro5": 0.17, "petrol_euro6": 0.25, "diesel_euro5": 0.30, "diesel_euro6": 0.28})
    )
    heavy: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({"hgv_euro_v_scr": 0.45, "hgv_euro_vi": 0.55}))
    f_no2: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {
                "petrol_euro5": 0.03,
                "petrol_euro6": 0.03,
                "diesel_euro5": 0.30,
                "diesel_euro6": 0.30,
                "hgv_euro_v_scr": 0.10,
                "hgv_euro_vi": 0.10,
            }
        )
    )
    co2_g_per_km: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {
                "petrol_euro5": 165.0,
                "petrol_euro6": 165.0,
                "diesel_euro5": 150.0,
                "diesel_euro6": 150.0,
                "hgv_euro_v_scr": 790.0,
                "hgv_euro_vi": 790.0,
            }
        )
    )
    hgv_axles: float = 3.0
    hgv_load: float = 0.5

    def __post_init__(self) -> None:
        for name in ("light", "heavy", "f_no2", "co2_g_per_km"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        for name, cls in (("light", "passenger_car"), ("heavy", "heavy_duty_vehicle")):
            shares = getattr(self, name)
            for key, v in shares.items():
                if key not in FLEET_SEGMENTS or FLEET_SEGMENTS[key][0] != cls:
                    valid = sorted(k for k, s in FLEET_SEGMENTS.items() if s[0] == cls)
                    raise ConfigError(f"air fleet.{name}: unknown fleet key {key!r}; expected one of {valid}")
                if not (np.isfinite(v) and v >= 0):
                    raise InvalidValueError(f"air fleet.{name}.{key}: share must be >= 0, got {v}")
            total = sum(shares.values())
            if abs(total - 1.0) > 1e-6:
                raise InvalidValueError(f"air fleet.{name}: shares must sum to 1, got {total:.6f} ({dict(shares)})")
            for key in shares:
                for table in ("f_no2", "co2_g_per_km"):
                    if key not in getattr(self, table):
                        raise MissingFieldError(f"air fleet.{table}", key, expected="a value for every fleet key in use")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Fleet:
        """A fleet from a config table (e.g. ``[air.fleet]``); missing entries keep the defaults."""
        if not d:
            return cls()
        base = cls()
        kw: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in d:
                val = d[f.name]
                if f.name in ("f_no2", "co2_g_per_km"):
                    val = {**getattr(base, f.name), **val}
                kw[f.name] = val
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"air fleet: unknown keys {sorted(unknown)}; expected {[f.name for f in fields(cls)]}")
        return cls(**kw)


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


#: EMEP/EEA (COPERT) speed functions by the table's ``formula`` name, vectorised over V (km/h);
#: coefficient order as in the guidebook annex (pollemission ``copert.py`` Eq_1/Eq_6/Eq_17,
#: HDV "ARTEMIS" Function_ID 0/10), reduction factor RF = 0.
_EF_FORMULAS: Mapping[str, tuple[int, Any]] = MappingProxyType(
    {
        "Equation 1": (6, lambda c, v: (c[0] + c[2] * v + c[4] * v**2 + c[5] / v) / (1.0 + c[1] * v + c[3] * v**2)),
        "Equation 6": (6, lambda c, v: c[0] + c[1] / (1.0 + np.exp(-c[2] + c[3] * np.log(v) + c[4] * v))),
        "Equation 17": (6, lambda c, v: ((((c[0] * v + c[1]) * v + c[2]) * v + c[3]) * v + c[4]) * v + c[5]),
        "Function_ID 0": (3, lambda c, v: c[0] * c[1] ** v * v ** c[2]),
        "Function_ID 10": (5, lambda c, v: c[0] + c[1] / (1.0 + np.exp(-c[2] + c[3] * np.log(v) + c[4] * v))),
    }
)


def _curve(table: pd.DataFrame, key: str, pollutant: str):
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
def _default_curve(key: str, pollutant: str):
    """:func:`_curve` of the bundled table (read and parsed once per process)."""
    return _curve(_ef_table(str(EMISSION_FACTORS_CSV)), key, pollutant)


def hot_emission_factor(
    vehicle: str, pollutant: str, speed_kmh: np.ndarray | float, *, fleet: Fleet | None = None, table: pd.DataFrame | None = None
) -> np.ndarray:
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
NON_EXHAUST = MappingProxyType(
    {
        "tyre": {"tsp_pc": 0.0107, "pm10": 0.60, "pm25": 0.42},
        "brake": {"tsp_pc": 0.0075, "pm10": 0.98, "pm25": 0.39},
        "road": {"tsp_pc": 0.0150, "tsp_hgv": 0.0760, "pm10": 0.50, "pm25": 0.27},
    }
)


def non_exhaust_factor(vehicle: str, fraction: str, speed_kmh: np.ndarray | float, *, fleet: Fleet | None = None) -> np.ndarray:
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
    return tyre * t[fraction] * sc_tyre + brake * b[fraction] * sc_brake + road * r[fraction] * np.ones_like(v)


# ----------------------------------------------------------------------------- emissions
#: Emitted species of :class:`LinkEmissions` (g/s/m arrays).
SPECIES = ("nox", "no2", "pm10", "pm25", "co2")


@dataclass(frozen=True)
class LinkEmissions:
    """Emissions per link and period.

    Attributes
    ----------
    link_id
        The network's link ids, in order.
    length_m
        Link lengths.
    periods, hours
        Period names and their hours per day (e.g. ``("day", "evening", "night")``, ``(12, 4, 8)``).
    gsm
        ``{species: (n_periods, n_links) array}`` in g/s per metre of link, species in
        :data:`SPECIES` (``"no2"`` is the *primary* NO2 part of NOx).

    Examples
    --------
    >>> import numpy as np
    >>> from ldtkit.model.traffic import LinkTraffic
    >>> e = emissions_from_arrays(np.array([1]), np.array([1000.0]), np.array(["primary"], dtype=object),
    ...     {"day": LinkTraffic(np.array([1]), np.array([1000.0]), np.array([0.0]), np.array([50.0]))},
    ...     fleet=Fleet(light={"diesel_euro6": 1.0}))
    >>> round(float(e.g_per_km_h("nox")[0]), 1)  # 1000 veh/h x 0.1845 g/km
    184.5
    """

    link_id: np.ndarray
    length_m: np.ndarray
    periods: tuple[str, ...]
    hours: np.ndarray
    gsm: Mapping[str, np.ndarray]
    vehicle_km_per_day: float = 0.0

    def daily_mean_gsm(self, species: str) -> np.ndarray:
        """Hours-weighted mean over the periods (g/s/m)."""
        return (self.hours[:, None] * self.gsm[species]).sum(axis=0) / self.hours.sum()

    def g_per_km_h(self, species: str, period: str | None = None) -> np.ndarray:
        """g per km of link per hour (daily mean, or one period)."""
        arr = self.daily_mean_gsm(species) if period is None else self.gsm[species][self.periods.index(period)]
        return arr * 3.6e6

    def tonnes_per_day(self, species: str = "co2") -> float:
        """Total emitted per day over the network (t/day); CO2 is the climate indicator."""
        per_s = (self.gsm[species] * self.length_m[None, :]).sum(axis=1)  # g/s per period
        return float((per_s * self.hours * 3600.0).sum() / 1e6)

    @property
    def co2_t_per_day(self) -> float:
        return self.tonnes_per_day("co2")

    def to_dataframe(self) -> pd.DataFrame:
        """Daily-mean emission per link in g/km/h, one column per species."""
        data = {"link_id": self.link_id, "length_m": self.length_m}
        for s in SPECIES:
            data[f"{s}_g_km_h"] = self.g_per_km_h(s)
        return pd.DataFrame(data)


def _as_periods(traffic: LinkTraffic | Mapping[str, LinkTraffic]) -> dict[str, LinkTraffic]:
    if isinstance(traffic, LinkTraffic):
        return {"all": traffic}
    if not traffic:
        raise InvalidValueError("link_emissions: no traffic periods given")
    for p, t in traffic.items():
        if p not in PERIODS:
            raise InvalidValueError(f"link_emissions: unknown period {p!r}; expected one of {list(PERIODS)}")
        if not isinstance(t, LinkTraffic):
            raise InvalidValueError(f"link_emissions: traffic[{p!r}] must be a LinkTraffic, got {type(t).__name__}")
    return dict(traffic)


def emissions_from_arrays(
    link_id: np.ndarray,
    length_m: np.ndarray,
    road_class: np.ndarray,
    traffic: LinkTraffic | Mapping[str, LinkTraffic],
    *,
    fleet: Fleet | None = None,
    table: pd.DataFrame | None = None,
) -> LinkEmissions:
    """:func:`link_emissions` on plain arrays (connector links emit nothing)."""
    fleet = fleet or Fleet()
    table = load_emission_factors() if table is None else table
    per = _as_periods(traffic)
    names = tuple(per)
    hours = np.array([24.0 if p == "all" else float(PERIODS[p]) for p in names])
    active = np.asarray(road_class, dtype=object) != CONNECTOR_CLASS
    n = len(link_id)
    gsm = {s: np.zeros((len(names), n)) for s in SPECIES}
    vkm = 0.0
    for i, p in enumerate(names):
        t = per[p]
        if len(t.link_id) != n or not np.array_equal(np.asarray(t.link_id), np.asarray(link_id)):
            raise InvalidValueError(f"link_emissions: traffic[{p!r}].link_id does not match the network's links ({len(t.link_id)} vs {n})")
        ql = np.where(active, t.light_vph, 0.0)
        qh = np.where(active, t.heavy_vph, 0.0)
        v = t.speed_kmh
        vkm += float(((ql + qh) * length_m).sum() / 1000.0 * hours[i])
        for s, pol in (("nox", "NOx"), ("no2", "NO2"), ("co2", "CO2")):
            gkm = ql * hot_emission_factor("light", pol, v, fleet=fleet, table=table) + qh * hot_emission_factor(
                "heavy", pol, v, fleet=fleet, table=table
            )
            gsm[s][i] = gkm / 3.6e6
        pm_exh = ql * hot_emission_factor("light", "PM_exhaust", v, fleet=fleet, table=table) + qh * hot_emission_factor(
            "heavy", "PM_exhaust", v, fleet=fleet, table=table
        )
        for s in ("pm10", "pm25"):  # exhaust PM is all below 2.5 um
            gkm = pm_exh + ql * non_exhaust_factor("light", s, v, fleet=fleet) + qh * non_exhaust_factor("heavy", s, v, fleet=fleet)
            gsm[s][i] = gkm / 3.6e6
    return LinkEmissions(
        link_id=np.asarray(link_id),
        length_m=np.asarray(length_m, dtype=float),
        periods=names,
        hours=hours,
        gsm=MappingProxyType(gsm),
        vehicle_km_per_day=vkm,
    )


def link_emissions(
    network: RoadNetwork,
    traffic: LinkTraffic | Mapping[str, LinkTraffic],
    *,
    fleet: Fleet | Mapping[str, Any] | None = None,
    emission_factors: str | Path | None = None,
) -> LinkEmissions:
    """Emissions of every link (g/s/m) per period from hourly flows and speeds.

    Parameters
    ----------
    network
        The road network (connector links are skipped).
    traffic
        ``{period: LinkTraffic}`` (periods of :data:`ldtkit.model.traffic.PERIODS`, hours 12/4/8),
        or one :class:`LinkTraffic` taken as the mean hour of the whole day.
    fleet
        A :class:`Fleet` or a config table for :meth:`Fleet.from_dict`.
    emission_factors
        Another emission-factor CSV with the same columns as the packaged one.

    Returns
    -------
    LinkEmissions

    Examples
    --------
    >>> em = link_emissions(net, traffic_by_period)  # doctest: +SKIP
    >>> em.co2_t_per_day  # doctest: +SKIP
    """
    fl = fleet if isinstance(fleet, Fleet) else Fleet.from_dict(fleet)
    links = network.links
    table = load_emission_factors(emission_factors)
    return emissions_from_arrays(
        links["link_id"].to_numpy(), links["length_m"].to_numpy(float), links["road_class"].to_numpy(object), traffic, fleet=fl, table=table
    )


# ----------------------------------------------------------------------------- CALINE3
def caline3(
    x: Sequence[float],
    y: Sequence[float],
    z: Sequence[float],
    links: Sequence[Sequence[float]],
    *,
    width_m: Sequence[float],
    q_ugms: Sequence[float],
    wind_speed_ms: float,
    wind_from_deg: float,
    stability: int,
    height_m: Sequence[float] | None = None,
    link_type: Sequence[int] | None = None,
    mixing_height_m: float = 1000.0,
    averaging_time_min: float = 60.0,
    z0_cm: float = 100.0,
) -> np.ndarray:
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
    from ldtkit.model.kernels.air import caline3_matrix

    lk = np.asarray(links, dtype=float).reshape(-1, 4)
    nl = len(lk)
    hl = np.zeros(nl) if height_m is None else np.asarray(height_m, dtype=float)
    ty = np.ones(nl, dtype=np.int64) if link_type is None else np.asarray(link_type, dtype=np.int64)
    if not 1 <= int(stability) <= 6:
        raise InvalidValueError(f"caline3: stability must be a Pasquill class 1..6 (A..F), got {stability}")
    if np.any(np.hypot(lk[:, 2] - lk[:, 0], lk[:, 3] - lk[:, 1]) <= 0):
        raise InvalidValueError("caline3: links of zero length")
    return caline3_matrix(
        np.asarray(x, float),
        np.asarray(y, float),
        np.asarray(z, float),
        lk[:, 0].copy(),
        lk[:, 1].copy(),
        lk[:, 2].copy(),
        lk[:, 3].copy(),
        np.asarray(width_m, float),
        hl,
        ty,
        np.asarray(q_ugms, float),
        float(wind_speed_ms),
        float(wind_from_deg),
        int(stability),
        float(mixing_height_m),
        float(averaging_time_min),
        float(z0_cm),
    )


# ----------------------------------------------------------------------------- configuration
_STAB = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6}


@dataclass(frozen=True)
class AirConfig:
    """Parameters of the dispersion and chemistry model (the ``[air]`` table of ``city.toml``).

    Attributes
    ----------
    wind_sector_freq
        Frequency of the wind blowing *from* each of ``n`` equal sectors, the first centred on
        north, clockwise. Default: a Belgian-like rose (prevailing SW-W, secondary NE), an
        assumption shaped after the Uccle/Melle climatology, not a measurement.
    wind_speeds_ms
        Representative wind speeds (10 m) of the speed classes.
    stability_classes
        Pasquill classes (``"A"``..``"F"``) of the rows of ``stability_speed_freq``.
    stability_speed_freq
        Joint frequency of stability class (rows) and wind-speed class (columns); sums to 1.
        Default: mostly neutral (D 55 %), stable nights with light winds (E/F 27 %), some
        unstable days (B/C 18 %) -- typical of inland north-western Europe (assumption).
    z0_cm
        Surface roughness for the CALINE3 curves (100 cm: urban).
    cutoff_m
        Near-field radius: sources within it are integrated exactly at every receptor.
    far_cutoff_m, far_cell_m
        Far field: sources between ``cutoff_m`` and ``far_cutoff_m`` (the urban-scale increment
        of the whole network) are computed exactly on a coarse grid of ``far_cell_m`` nodes
        (transfer within ``far_cutoff_m`` minus transfer within ``cutoff_m``) and interpolated
        bilinearly to the receptors; ``far_cutoff_m <= cutoff_m`` disables it. The background
        carries what lies beyond.
    background_*_ugm3
        Background: regional plus everything not modelled (heating, port and industry, roads
        beyond ``far_cutoff_m``). Defaults are for Ghent, May 2018. NO2 26 ug/m3 is the one
        *calibrated* global parameter: chosen so that the mean bias against the CurieuzeNeuzen
        part-A points is about zero (it lies between the rural CurieuzeNeuzen background point
        NATUURPUNT5, 17.1, and the Ghent urban station R702, 33.0). O3 60 ug/m3 (typical Flemish
        May mean); PM10 20, PM2.5 12 ug/m3 (Flemish 2018 urban-background annual means,
        IRCEL-CELINE, rounded). NOx background = NO2 background x 1.3 (NO2/NOx ~ 0.75 at
        urban-background sites). Other cities set their own in ``[air]``.
    srm_b, srm_k_ugm3
        SRM1/SRM2 NO2 parameters (B = 0.6, K = 100 ug/m3).
    canyon
        Whether to add the street-canyon increment.
    canyon_density_km_km2
        Road-density proxy for "lined by buildings": a road counts as a canyon when the length
        of car roads within 150 m of its midpoint exceeds this density (km per km2) and its
        speed limit is below 70 km/h (dense historic centres; no building data needed).
    canyon_factor
        Fraction of the OSPM leeward recirculation concentration applied as the street-average
        increment (0.5: half the street is leeward).
    canyon_facade_m
        A receptor stands in a canyon street when within half the street width plus this
        margin of its centreline (facade receptors and geocoding tolerance).
    lane_width_m, verge_m
        Carriageway = lanes x lane width; mixing zone = carriageway + 2 x 3 m (CALINE3);
        street width (facade to facade) = carriageway + 2 x verge.
    integration_step, simplify_m
        Step in ``t = asinh(s/d)`` of the along-link integration; tolerance (m) for simplifying link geometry.
    fleet
        The :class:`Fleet`.

    Examples
    --------
    >>> cfg = AirConfig.from_dict({"background_no2_ugm3": 20.0})
    >>> cfg.background_no2_ugm3, cfg.background_nox_ugm3
    (20.0, 26.0)
    >>> AirConfig().background_nox_ugm3
    33.8
    """

    wind_sector_freq: tuple[float, ...] = (0.06, 0.06, 0.07, 0.07, 0.05, 0.05, 0.08, 0.13, 0.14, 0.11, 0.09, 0.09)
    wind_speeds_ms: tuple[float, ...] = (1.5, 3.0, 5.5)
    stability_classes: tuple[str, ...] = ("B", "C", "D", "E", "F")
    stability_speed_freq: tuple[tuple[float, ...], ...] = (
        (0.03, 0.02, 0.00),
        (0.03, 0.07, 0.03),
        (0.10, 0.25, 0.20),
        (0.04, 0.08, 0.00),
        (0.10, 0.05, 0.00),
    )
    z0_cm: float = 100.0
    averaging_time_min: float = 60.0
    cutoff_m: float = 200.0
    far_cutoff_m: float = 3000.0
    far_cell_m: float = 100.0
    background_no2_ugm3: float = 26.0
    background_nox_ugm3: float | None = None
    background_o3_ugm3: float = 60.0
    background_pm10_ugm3: float = 20.0
    background_pm25_ugm3: float = 12.0
    srm_b: float = 0.6
    srm_k_ugm3: float = 100.0
    canyon: bool = True
    canyon_density_km_km2: float = 20.0
    canyon_factor: float = 0.5
    canyon_facade_m: float = 3.0
    lane_width_m: float = 3.5
    verge_m: float = 4.0
    integration_step: float = 0.25
    simplify_m: float = 1.0
    fleet: Fleet = field(default_factory=Fleet)

    def __post_init__(self) -> None:
        if self.background_nox_ugm3 is None:
            object.__setattr__(self, "background_nox_ugm3", round(1.3 * self.background_no2_ugm3, 6))
        for name in ("wind_sector_freq", "wind_speeds_ms", "stability_classes"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "stability_speed_freq", tuple(tuple(float(v) for v in row) for row in self.stability_speed_freq))
        f = np.asarray(self.wind_sector_freq, float)
        if len(f) < 4 or np.any(f < 0) or abs(f.sum() - 1.0) > 1e-3:
            raise InvalidValueError(
                f"[air] wind_sector_freq: need >= 4 sector frequencies >= 0 summing to 1, got {list(f)} (sum {f.sum():.4f})"
            )
        j = np.asarray(self.stability_speed_freq, float)
        if j.shape != (len(self.stability_classes), len(self.wind_speeds_ms)) or np.any(j < 0) or abs(j.sum() - 1.0) > 1e-3:
            raise InvalidValueError(
                f"[air] stability_speed_freq: need a {len(self.stability_classes)} x {len(self.wind_speeds_ms)} table "
                f"(stability_classes x wind_speeds_ms) of frequencies summing to 1, got shape {j.shape}, sum {j.sum():.4f}"
            )
        for c in self.stability_classes:
            if c not in _STAB:
                raise InvalidValueError(f"[air] stability_classes: {c!r} is not a Pasquill class A-F")
        if any(u <= 0 for u in self.wind_speeds_ms):
            raise InvalidValueError(f"[air] wind_speeds_ms must be > 0, got {self.wind_speeds_ms}")
        if self.cutoff_m <= 0 or self.far_cell_m <= 0:
            raise InvalidValueError(f"[air] cutoff_m and far_cell_m must be > 0, got {self.cutoff_m}, {self.far_cell_m}")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | AirConfig | None) -> AirConfig:
        """An :class:`AirConfig` from a ``[air]`` table (unknown keys raise :class:`ConfigError`)."""
        if isinstance(d, AirConfig):
            return d
        d = dict(d or {})
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"[air]: unknown keys {unknown}; expected some of {sorted(names)}")
        if "fleet" in d and not isinstance(d["fleet"], Fleet):
            d["fleet"] = Fleet.from_dict(d["fleet"])
        return cls(**d)

    def geometry_key(self) -> tuple:
        """The parameters a transfer depends on (not backgrounds, fleet or chemistry)."""
        return (
            self.wind_sector_freq,
            self.wind_speeds_ms,
            self.stability_classes,
            self.stability_speed_freq,
            self.z0_cm,
            self.averaging_time_min,
            self.cutoff_m,
            self.far_cutoff_m,
            self.far_cell_m,
            self.canyon,
            self.canyon_density_km_km2,
            self.canyon_facade_m,
            self.lane_width_m,
            self.verge_m,
            self.integration_step,
            self.simplify_m,
        )


# ----------------------------------------------------------------------------- transfer
@dataclass(frozen=True)
class AirTransfer:
    """Long-term source-receptor transfer for one network geometry and receptor set.

    Links with the same end nodes (the two directions of a street) share one *source*.

    Attributes
    ----------
    matrix
        scipy CSR ``(n_receptors, n_sources)``: ug/m3 at a receptor per ug/(m s) on a source.
    link_source
        Source index of every link row (``-1``: connector or no geometry).
    link_ids
        The network's link ids the transfer was built for.
    source_mixing_width_m, source_street_width_m, source_canyon
        Per source: CALINE3 mixing-zone width, facade-to-facade width, canyon flag.
    receptor_canyon
        Per receptor: the canyon source whose street it stands in, or ``-1``.
    n_receptors
        Number of receptors.
    seconds
        Time taken to build it.
    """

    matrix: Any
    link_source: np.ndarray
    link_ids: np.ndarray
    source_mixing_width_m: np.ndarray
    source_street_width_m: np.ndarray
    source_canyon: np.ndarray
    receptor_canyon: np.ndarray
    n_receptors: int
    config_key: tuple = ()
    seconds: float = 0.0
    far_matrix: Any = None
    far_interp: Any = None

    def apply(self, e_src: np.ndarray) -> np.ndarray:
        """Concentration at the receptors (ug/m3) for source emissions ``e_src`` (ug/m/s), near + far field."""
        c = self.matrix @ e_src
        if self.far_matrix is not None:
            c = c + self.far_interp @ (self.far_matrix @ e_src)
        return c

    @property
    def n_sources(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def nnz(self) -> int:
        return int(self.matrix.nnz)


def _direction_density(cfg: AirConfig, n: int = 360) -> np.ndarray:
    """Wind-from direction density per radian at 1-degree steps, linear between sector centres."""
    f = np.asarray(cfg.wind_sector_freq, float)
    ns = len(f)
    width = 2 * np.pi / ns
    centres = np.arange(ns) * 360.0 / ns
    deg = np.arange(n) * 360.0 / n
    dens = np.interp(deg, np.r_[centres, 360.0], np.r_[f, f[0]], period=None) / width
    return dens / (dens.sum() * (2 * np.pi / n))  # normalise the discrete density to 1


def _g_table(cfg: AirConfig, half_widths: np.ndarray, z_m: float, lx: np.ndarray) -> np.ndarray:
    """G(x) = sum_k f_k V_k(x) / (u_k sigma_z,k(x)) per mixing-zone half-width (rows) and ln-distance (columns)."""
    from ldtkit.model.kernels.air import caline3_sigma_params, caline3_sigma_z_params

    x = np.exp(lx)
    out = np.zeros((len(half_widths), len(x)))
    joint = np.asarray(cfg.stability_speed_freq, float)
    for i, c in enumerate(cfg.stability_classes):
        _, _, sz10 = caline3_sigma_params(_STAB[c], cfg.averaging_time_min, cfg.z0_cm)
        for j, u in enumerate(cfg.wind_speeds_ms):
            f = joint[i, j]
            if f == 0:
                continue
            for w, w2 in enumerate(half_widths):
                pz1, pz2 = caline3_sigma_z_params(sz10, float(w2), max(float(u), 1.0), cfg.averaging_time_min, 1.0)
                sz = pz1 * np.maximum(x, w2) ** pz2
                out[w] += f / u * 2.0 * np.exp(-0.5 * (z_m / sz) ** 2) / sz
    return out


def _link_segments(network: RoadNetwork, rows: np.ndarray, simplify_m: float = 0.0) -> tuple[np.ndarray, ...]:
    """Straight segments (x1, y1, x2, y2, link row) of the given links' geometries."""
    import shapely

    geoms = network.links.geometry.to_numpy()[rows]
    ok = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if simplify_m > 0:  # drop vertices that bend the line by less than simplify_m (dispersion cannot tell)
        geoms = geoms.copy()
        geoms[ok] = shapely.simplify(geoms[ok], simplify_m)
    coords, idx = shapely.get_coordinates(geoms[ok], return_index=True)
    owner = rows[ok][idx]
    same = idx[1:] == idx[:-1]
    x1, y1 = coords[:-1][same, 0], coords[:-1][same, 1]
    x2, y2 = coords[1:][same, 0], coords[1:][same, 1]
    keep = (x1 != x2) | (y1 != y2)
    return x1[keep], y1[keep], x2[keep], y2[keep], owner[:-1][same][keep]


def _grid(x1, y1, x2, y2, rx, ry, reach: float, cell: float):
    from ldtkit.model.kernels.air import build_cell_index

    x0 = rx.min() - cell
    y0 = ry.min() - cell
    nx = int((rx.max() - x0) // cell) + 2
    ny = int((ry.max() - y0) // cell) + 2
    indptr, items = build_cell_index(x1, y1, x2, y2, float(x0), float(y0), float(cell), nx, ny, float(reach))
    return indptr, items, float(x0), float(y0), nx, ny


def air_transfer(
    network: RoadNetwork,
    receptors: Receptors,
    *,
    config: AirConfig | Mapping[str, Any] | None = None,
    progress: bool = False,
) -> AirTransfer:
    """Precompute the long-term source-receptor transfer for ``network``'s geometry.

    Every link with geometry except connectors is a source (both directions of a street
    share one). For each receptor and each source within ``cutoff_m`` the concentration per
    unit emission is integrated along the link over the wind climatology (see
    :mod:`ldtkit.model.kernels.air`). Scenarios that keep the link ids and geometry (closures,
    capacity edits) reuse the transfer: pass it to :func:`compute_air`.

    Parameters
    ----------
    network
        Links in a metric CRS (the receptors' CRS).
    receptors
        Where concentrations are wanted; their mean height is used.
    config
        :class:`AirConfig` or an ``[air]`` table.
    progress
        Show a progress bar (the build is one parallel numba call).

    Returns
    -------
    AirTransfer

    Examples
    --------
    >>> tr = air_transfer(net, receptors_grid(bounds, crs=net.crs, cell_m=25))  # doctest: +SKIP
    >>> tr.matrix.shape  # doctest: +SKIP
    """
    from scipy.sparse import csr_matrix
    from tqdm.auto import tqdm

    from ldtkit.model.kernels.air import nearest_segment

    t0 = time.perf_counter()
    cfg = AirConfig.from_dict(config)
    links = network.links
    if network.crs is not None and receptors.crs is not None:
        from pyproj import CRS

        if CRS.from_user_input(network.crs) != CRS.from_user_input(receptors.crs):
            raise InvalidValueError(f"air_transfer: receptors CRS {receptors.crs} differs from the network CRS {network.crs}")
    bar = tqdm(total=3, desc="air transfer", disable=not progress)
    # sources: undirected node pairs (+ rounded length) of non-connector links with geometry
    cand = np.flatnonzero((links["road_class"].to_numpy(object) != CONNECTOR_CLASS) & links.geometry.notna().to_numpy())
    a = links["from_node"].to_numpy(np.int64)[cand]
    b = links["to_node"].to_numpy(np.int64)[cand]
    key = pd.DataFrame({"a": np.minimum(a, b), "b": np.maximum(a, b), "l": np.round(links["length_m"].to_numpy(float)[cand])})
    src_of_cand = key.groupby(["a", "b", "l"], sort=False).ngroup().to_numpy()
    n_src = int(src_of_cand.max()) + 1 if len(cand) else 0
    link_source = np.full(len(links), -1, dtype=np.int64)
    link_source[cand] = src_of_cand
    lanes = links["lanes"].to_numpy(float)[cand]
    lanes_src = np.bincount(src_of_cand, weights=np.where(lanes > 0, lanes, 1.0), minlength=n_src)
    carriage = cfg.lane_width_m * np.maximum(lanes_src, 1.0)
    mixing_w = carriage + 6.0
    street_w = carriage + 2 * cfg.verge_m
    # one representative link per source for geometry (both directions share it)
    rep = np.full(n_src, -1, dtype=np.int64)
    rep[src_of_cand[::-1]] = cand[::-1]
    x1, y1, x2, y2, owner = _link_segments(network, rep, cfg.simplify_m)
    seg_src = link_source[owner]
    # mixing-zone width classes (2 m bins) for the G table
    wclass_w = np.unique(np.round(mixing_w / 2.0) * 2.0)
    s_row = np.searchsorted(wclass_w, np.round(mixing_w / 2.0) * 2.0)[seg_src].astype(np.int64)
    s_dmin = (mixing_w / 2.0)[seg_src]
    z_m = float(np.mean(receptors.z)) if len(receptors) else 1.5
    lx = np.linspace(np.log(0.5), np.log(max(cfg.cutoff_m, cfg.far_cutoff_m) * 1.5), 320)
    g = _g_table(cfg, wclass_w / 2.0, z_m, lx)
    dens = _direction_density(cfg)
    bar.update(1)
    rx = np.asarray(receptors.x, float)
    ry = np.asarray(receptors.y, float)
    nr = len(rx)
    kern = (s_row, s_dmin, dens, g, float(lx[0]), float(lx[1] - lx[0]), float(cfg.integration_step))
    far_matrix = far_interp = None
    canyon_src = np.zeros(n_src, bool)
    rc = np.full(nr, -1, dtype=np.int64)
    if nr == 0 or len(x1) == 0:
        mat = csr_matrix((nr, n_src))
    else:
        mat = _pair_matrix(rx, ry, x1, y1, x2, y2, seg_src, n_src, cfg.cutoff_m, kern)
        bar.update(1)
        if cfg.far_cutoff_m > cfg.cutoff_m:
            far_interp, cx, cy = _bilinear_nodes(rx, ry, cfg.far_cell_m)
            far_kernel, far_cells = _far_field(cx, cy, x1, y1, x2, y2, seg_src, n_src, cfg, dens, g[0], lx)
            far_matrix = (far_kernel @ far_cells).tocsr()
        # street canyons
        if cfg.canyon:
            canyon_src = _canyon_flags(network, rep, x1, y1, x2, y2, seg_src, n_src, cfg)
        cs = canyon_src[seg_src]
        if cs.any():
            reach = (street_w / 2.0)[seg_src][cs] + cfg.canyon_facade_m
            ic, it, cx0, cy0, cnx, cny = _grid(x1[cs], y1[cs], x2[cs], y2[cs], rx, ry, float(reach.max()), 50.0)
            near = nearest_segment(rx, ry, x1[cs], y1[cs], x2[cs], y2[cs], reach, ic, it, cx0, cy0, 50.0, cnx, cny)
            rc = np.where(near >= 0, seg_src[cs][np.maximum(near, 0)], -1)
    bar.update(1)
    bar.close()
    return AirTransfer(
        matrix=mat,
        link_source=link_source,
        link_ids=links["link_id"].to_numpy(),
        source_mixing_width_m=mixing_w,
        source_street_width_m=street_w,
        source_canyon=canyon_src,
        receptor_canyon=rc.astype(np.int64),
        n_receptors=nr,
        config_key=cfg.geometry_key(),
        seconds=time.perf_counter() - t0,
        far_matrix=far_matrix,
        far_interp=far_interp,
    )


def _pair_matrix(rx, ry, x1, y1, x2, y2, seg_src, n_src, cutoff, kern):
    """Sparse (receptors x sources) transfer within ``cutoff`` (numba kernel, parallel over receptors)."""
    from scipy.sparse import csr_matrix

    from ldtkit.model.kernels.air import transfer_pairs

    s_row, s_dmin, dens, g, lx0, dlx, dt = kern
    cell = max(cutoff / 2.0, 50.0)
    indptr_c, items_c, gx0, gy0, nx, ny = _grid(x1, y1, x2, y2, rx, ry, cutoff, cell)
    indptr, seg, val = transfer_pairs(
        rx, ry, x1, y1, x2, y2, s_row, s_dmin, indptr_c, items_c, gx0, gy0, cell, nx, ny, float(cutoff), dens, g, lx0, dlx, dt
    )
    rows = np.repeat(np.arange(len(rx)), np.diff(indptr))
    mat = csr_matrix((val, (rows, seg_src[seg])), shape=(len(rx), n_src))
    mat.sum_duplicates()
    return mat


def _far_field(cx, cy, x1, y1, x2, y2, seg_src, n_src, cfg: AirConfig, dens, g_row, lx):
    """Far-field transfer (coarse nodes x sources) for sources between ``cutoff_m`` and ``far_cutoff_m``.

    Links are sampled every <= 20 m and lumped into ``far_cell_m`` cells, each a point source at
    its length-weighted centroid; a point source at distance ``x`` and bearing ``b`` gives
    ``p(b) G(x) / (sqrt(2 pi) x)`` per ug/s (long-term narrow-plume formula).
    """
    from scipy.sparse import csr_matrix
    from scipy.spatial import cKDTree

    seglen = np.hypot(x2 - x1, y2 - y1)
    n_pts = np.maximum(np.ceil(seglen / 20.0).astype(np.int64), 1)
    sidx = np.repeat(np.arange(len(x1)), n_pts)
    frac = (np.arange(n_pts.sum()) - np.repeat(np.cumsum(n_pts) - n_pts, n_pts) + 0.5) / np.repeat(n_pts, n_pts)
    px = x1[sidx] + frac * (x2 - x1)[sidx]
    py = y1[sidx] + frac * (y2 - y1)[sidx]
    w = (seglen / n_pts)[sidx]
    fc = cfg.far_cell_m
    key = np.floor(px / fc).astype(np.int64) * 1_000_003 + np.floor(py / fc).astype(np.int64)
    cells, cell_of = np.unique(key, return_inverse=True)
    nc = len(cells)
    wc = np.bincount(cell_of, weights=w, minlength=nc)
    ccx = np.bincount(cell_of, weights=w * px, minlength=nc) / wc
    ccy = np.bincount(cell_of, weights=w * py, minlength=nc) / wc
    m = csr_matrix((w, (cell_of, seg_src[sidx])), shape=(nc, n_src))
    m.sum_duplicates()
    pairs = cKDTree(np.c_[cx, cy]).sparse_distance_matrix(cKDTree(np.c_[ccx, ccy]), cfg.far_cutoff_m, output_type="coo_matrix")
    r, c, dist = pairs.row, pairs.col, pairs.data
    keep = dist >= cfg.cutoff_m
    r, c, dist = r[keep], c[keep], dist[keep]
    bearing = np.degrees(np.arctan2(ccx[c] - cx[r], ccy[c] - cy[r])) % 360.0
    nd = len(dens)
    fb = bearing * nd / 360.0
    i0 = np.floor(fb).astype(np.int64) % nd
    t = fb - np.floor(fb)
    p = dens[i0] * (1 - t) + dens[(i0 + 1) % nd] * t
    gx = np.interp(np.log(dist), lx, g_row)
    k = csr_matrix((p * gx / (np.sqrt(2 * np.pi) * dist), (r, c)), shape=(len(cx), nc))
    return k, m


def _bilinear_nodes(rx, ry, cell):
    """Nodes of a ``cell``-spaced grid around the receptors and the bilinear interpolation matrix to them."""
    from scipy.sparse import csr_matrix

    x0 = np.floor(rx.min() / cell) * cell
    y0 = np.floor(ry.min() / cell) * cell
    fx = (rx - x0) / cell
    fy = (ry - y0) / cell
    i = np.floor(fx).astype(np.int64)
    j = np.floor(fy).astype(np.int64)
    tx, ty = fx - i, fy - j
    nx = int(i.max()) + 2
    ci = np.concatenate([i, i + 1, i, i + 1])
    cj = np.concatenate([j, j, j + 1, j + 1])
    w = np.concatenate([(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty])
    node = cj * nx + ci
    uniq, col = np.unique(node, return_inverse=True)
    rows = np.tile(np.arange(len(rx)), 4)
    interp = csr_matrix((w, (rows, col)), shape=(len(rx), len(uniq)))
    return interp, x0 + (uniq % nx) * cell, y0 + (uniq // nx) * cell


def _canyon_flags(network, rep, x1, y1, x2, y2, seg_src, n_src, cfg: AirConfig) -> np.ndarray:
    """Road-density proxy for streets lined by buildings (see :class:`AirConfig`)."""
    from scipy.spatial import cKDTree

    links = network.links
    speed = links["free_speed_kmh"].to_numpy(float)[rep]
    car = links["car_allowed"].to_numpy(bool)[rep]
    # density: segment length (sampled every ~10 m) within 150 m of each source midpoint
    seglen = np.hypot(x2 - x1, y2 - y1)
    carseg = car[seg_src]
    n_pts = np.maximum(np.ceil(seglen / 10.0).astype(int), 1)
    sidx = np.repeat(np.arange(len(x1)), n_pts)
    frac = (np.arange(n_pts.sum()) - np.repeat(np.cumsum(n_pts) - n_pts, n_pts) + 0.5) / np.repeat(n_pts, n_pts)
    px = x1[sidx] + frac * (x2 - x1)[sidx]
    py = y1[sidx] + frac * (y2 - y1)[sidx]
    w = (seglen / n_pts)[sidx] * carseg[sidx]
    tree = cKDTree(np.c_[px, py])
    # source midpoints: the middle sample of each source's segments
    mid_sample = np.zeros(n_src, dtype=np.int64)
    order = np.argsort(seg_src, kind="stable")
    first = np.searchsorted(seg_src[order], np.arange(n_src))
    counts = np.bincount(seg_src, minlength=n_src)
    mid_seg = order[np.minimum(first + counts // 2, len(order) - 1)]
    start = np.cumsum(n_pts) - n_pts
    mid_sample = start[mid_seg] + n_pts[mid_seg] // 2
    r = 150.0
    neigh = tree.query_ball_point(np.c_[px[mid_sample], py[mid_sample]], r)
    dens = np.array([w[n].sum() for n in neigh]) / 1000.0 / (np.pi * (r / 1000.0) ** 2)
    return (dens >= cfg.canyon_density_km_km2) & (speed < 70.0) & car & (counts > 0)


# ----------------------------------------------------------------------------- concentrations
@dataclass(frozen=True)
class AirMap:
    """Long-term mean concentrations (ug/m3, background included) at the receptors.

    Attributes
    ----------
    receptors
        The :class:`~ldtkit.model.receptors.Receptors`.
    nox_ugm3, no2_ugm3, pm10_ugm3, pm25_ugm3
        Totals per receptor.
    nox_traffic_ugm3, canyon_nox_ugm3
        The modelled road contribution of NOx (all of it, and the canyon part).
    co2_t_per_day
        CO2 emitted by the network's traffic (t/day).
    emissions
        The :class:`LinkEmissions` used.
    """

    receptors: Receptors
    nox_ugm3: np.ndarray
    no2_ugm3: np.ndarray
    pm10_ugm3: np.ndarray
    pm25_ugm3: np.ndarray
    nox_traffic_ugm3: np.ndarray
    canyon_nox_ugm3: np.ndarray
    co2_t_per_day: float
    emissions: LinkEmissions | None = None
    meta: dict = field(default_factory=dict, compare=False)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per receptor: x, y, (id), concentrations."""
        data: dict[str, Any] = {}
        if self.receptors.ids is not None:
            data["id"] = self.receptors.ids
        data.update(x=self.receptors.x, y=self.receptors.y)
        data.update(self._columns())
        return pd.DataFrame(data)

    def _columns(self) -> dict[str, np.ndarray]:
        return {
            "nox_ugm3": self.nox_ugm3,
            "no2_ugm3": self.no2_ugm3,
            "pm10_ugm3": self.pm10_ugm3,
            "pm25_ugm3": self.pm25_ugm3,
            "nox_traffic_ugm3": self.nox_traffic_ugm3,
        }

    def to_geodataframe(self, *, to_wgs84: bool = False, geometry: Any = None):
        """Receptor points with the concentration columns (optionally in EPSG:4326);
        ``geometry``: the receptors' points if already built."""
        gdf = self.receptors.to_geodataframe(geometry=geometry, **self._columns())
        return gdf.to_crs(4326) if to_wgs84 and gdf.crs is not None else gdf

    def exposure(self, *, no2_limit_ugm3: float = 40.0) -> dict[str, float]:
        """Population above the NO2 limit and population-weighted means (uses receptor population)."""
        pop = np.asarray(self.receptors.population, float)
        tot = pop.sum()
        return {
            "people_above_no2_limit": float(pop[self.no2_ugm3 > no2_limit_ugm3].sum()),
            "pop_weighted_no2_ugm3": float((pop * self.no2_ugm3).sum() / tot) if tot > 0 else float("nan"),
            "pop_weighted_pm25_ugm3": float((pop * self.pm25_ugm3).sum() / tot) if tot > 0 else float("nan"),
        }


def srm_no2(
    nox_traffic_ugm3: np.ndarray,
    no2_direct_ugm3: np.ndarray,
    *,
    no2_background_ugm3: float,
    o3_background_ugm3: float,
    b: float = 0.6,
    k_ugm3: float = 100.0,
) -> np.ndarray:
    """NO2 (ug/m3) from the traffic NOx increment with the SRM1/SRM2 O3-limited relation.

    ``NO2 = NO2_bg + f NOx_t + B O3_bg NOx_t (1 - f) / (NOx_t (1 - f) + K)`` with
    ``f NOx_t`` = the directly emitted NO2 (``no2_direct_ugm3``).

    Examples
    --------
    >>> float(srm_no2(np.array([100.0]), np.array([20.0]), no2_background_ugm3=20.0, o3_background_ugm3=60.0)[0])
    56.0
    """
    nox_t = np.asarray(nox_traffic_ugm3, float)
    direct = np.minimum(np.asarray(no2_direct_ugm3, float), nox_t)
    rest = nox_t - direct
    return no2_background_ugm3 + direct + b * o3_background_ugm3 * rest / (rest + k_ugm3)


def _canyon_increment(
    transfer: AirTransfer, e_src: Mapping[str, np.ndarray], q_src_vps: np.ndarray, v_src_ms: np.ndarray, cfg: AirConfig
) -> dict[str, np.ndarray]:
    """OSPM-style recirculation increment at receptors standing in a canyon street."""
    nr = transfer.n_receptors
    rc = transfer.receptor_canyon
    inside = rc >= 0
    out = {s: np.zeros(nr) for s in e_src}
    if not inside.any():
        return out
    s = rc[inside]
    w = transfer.source_street_width_m[s]
    sw0 = 0.3 * np.sqrt(q_src_vps[s] * v_src_ms[s] * 2.0**2 / w)  # traffic turbulence, cars of 2 m2 frontal area
    joint = np.asarray(cfg.stability_speed_freq, float).sum(axis=0)
    inv = np.zeros(len(s))
    for f, u in zip(joint, cfg.wind_speeds_ms):
        inv += f / np.sqrt((0.1 * u) ** 2 + sw0**2)
    for sp, e in e_src.items():
        out[sp][inside] = cfg.canyon_factor * e[s] / w * inv
    return out


def compute_air(
    network: RoadNetwork,
    traffic_by_period: LinkTraffic | Mapping[str, LinkTraffic],
    receptors: Receptors,
    *,
    transfer: AirTransfer | None = None,
    config: AirConfig | Mapping[str, Any] | None = None,
    progress: bool = False,
) -> AirMap:
    """Long-term NOx, NO2, PM10 and PM2.5 at ``receptors`` (background included).

    Parameters
    ----------
    network
        The scenario's network (same link ids and geometry as the transfer's).
    traffic_by_period
        ``{period: LinkTraffic}`` (hours 12/4/8) or one LinkTraffic for the whole day.
    receptors
        Grid or points in the network's CRS.
    transfer
        A transfer from :func:`air_transfer` for this geometry and these receptors; built when ``None``.
    config
        :class:`AirConfig` or the city's ``[air]`` table.

    Returns
    -------
    AirMap

    Examples
    --------
    >>> tr = air_transfer(net, rec)  # doctest: +SKIP
    >>> base = compute_air(net, traffic, rec, transfer=tr)  # doctest: +SKIP
    >>> base.to_geodataframe().no2_ugm3.describe()  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    cfg = AirConfig.from_dict(config)
    if transfer is None:
        transfer = air_transfer(network, receptors, config=cfg, progress=progress)
    else:
        if transfer.n_receptors != len(receptors):
            raise InvalidValueError(f"compute_air: transfer built for {transfer.n_receptors} receptors, got {len(receptors)}")
        ids = network.links["link_id"].to_numpy()
        if len(ids) != len(transfer.link_ids) or not np.array_equal(ids, transfer.link_ids):
            raise InvalidValueError(
                "compute_air: the network's link ids differ from those the transfer was built for; rebuild it with air_transfer()"
            )
        if transfer.config_key and transfer.config_key != cfg.geometry_key():
            raise ConfigError(
                "compute_air: the transfer was built with other dispersion parameters ([air] wind/stability/cutoff/canyon); rebuild it"
            )
    em = link_emissions(network, traffic_by_period, fleet=cfg.fleet)
    ls = transfer.link_source
    ok = ls >= 0
    n_src = transfer.n_sources
    e_src: dict[str, np.ndarray] = {}
    for s in ("nox", "no2", "pm10", "pm25"):
        e = em.daily_mean_gsm(s) * 1e6  # ug/s/m
        e_src[s] = np.bincount(ls[ok], weights=e[ok], minlength=n_src)
    inc = {s: transfer.apply(e) for s, e in e_src.items()}
    canyon = {s: np.zeros(transfer.n_receptors) for s in e_src}
    if cfg.canyon and transfer.source_canyon.any():
        per = _as_periods(traffic_by_period)
        hours = np.array([24.0 if p == "all" else float(PERIODS[p]) for p in per])
        q = sum(h * t.total_vph for h, t in zip(hours, per.values())) / hours.sum()
        v = sum(h * t.speed_kmh * t.total_vph for h, t in zip(hours, per.values())) / hours.sum()
        q_src = np.bincount(ls[ok], weights=q[ok], minlength=n_src)
        v_src = np.divide(np.bincount(ls[ok], weights=v[ok], minlength=n_src), q_src, out=np.zeros(n_src), where=q_src > 0) / 3.6
        canyon = _canyon_increment(transfer, e_src, q_src / 3600.0, v_src, cfg)
    nox_t = inc["nox"] + canyon["nox"]
    direct = inc["no2"] + canyon["no2"]
    no2 = srm_no2(
        nox_t,
        direct,
        no2_background_ugm3=cfg.background_no2_ugm3,
        o3_background_ugm3=cfg.background_o3_ugm3,
        b=cfg.srm_b,
        k_ugm3=cfg.srm_k_ugm3,
    )
    return AirMap(
        receptors=receptors,
        nox_ugm3=cfg.background_nox_ugm3 + nox_t,
        no2_ugm3=no2,
        pm10_ugm3=cfg.background_pm10_ugm3 + inc["pm10"] + canyon["pm10"],
        pm25_ugm3=cfg.background_pm25_ugm3 + inc["pm25"] + canyon["pm25"],
        nox_traffic_ugm3=nox_t,
        canyon_nox_ugm3=canyon["nox"],
        co2_t_per_day=em.co2_t_per_day,
        emissions=em,
        meta={"seconds": time.perf_counter() - t0, "transfer_seconds": transfer.seconds, "vehicle_km_per_day": em.vehicle_km_per_day},
    )


# ----------------------------------------------------------------------------- validation
def validate_no2(modelled: Sequence[float] | np.ndarray, measured: Sequence[float] | np.ndarray) -> dict[str, float]:
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


def plot_validation(modelled, measured, *, ax=None, title: str = "NO2: modelled vs measured", unit: str = "ug/m3"):
    """Scatter plot of modelled against measured with the 1:1 line and the statistics.

    Examples
    --------
    >>> ax = plot_validation([20.0, 30.0, 40.0], [22.0, 29.0, 41.0])  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    stats = validate_no2(modelled, measured)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    m = np.asarray(modelled, float)
    o = np.asarray(measured, float)
    ax.scatter(o, m, s=10, alpha=0.6)
    lo = float(np.nanmin([o.min(), m.min()]))
    hi = float(np.nanmax([o.max(), m.max()]))
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="1:1")
    ax.set_xlabel(f"measured ({unit})")
    ax.set_ylabel(f"modelled ({unit})")
    ax.set_title(title)
    ax.text(
        0.03,
        0.97,
        f"n = {stats['n']}\nr = {stats['pearson_r']:.2f}\nbias = {stats['mean_bias_ugm3']:+.1f}\nRMSE = {stats['rmse_ugm3']:.1f}",
        transform=ax.transAxes,
        va="top",
        fontsize=9,
    )
    ax.legend(loc="lower right")
    return ax


# ----------------------------------------------------------------------------- Athens stations
#: Approximate locations of the central Athens monitoring stations (Hellenic Ministry of
#: Environment and Energy network) whose daily data are in
#: ``../shared/data/athens/air_quality_ypen`` (tests only; not shipped). Positions are
#: approximate (street-level, +- 100-200 m), placed from the stations' published street
#: addresses/names: Athinas (Athinas St near the City Hall / Kotzia Sq., traffic), Patision
#: (Patision Ave near Kodrigktonos, traffic), Aristotelous (Aristotelous St near Vathis Sq.,
#: traffic), Geoponiki (Agricultural University, Iera Odos, suburban background/traffic).
ATHENS_STATIONS: tuple[dict[str, Any], ...] = (
    {"name": "Athinas", "lon": 23.7265, "lat": 37.9785, "type": "traffic", "note": "Athinas St, Kotzia Sq. (approx.)"},
    {"name": "Patision", "lon": 23.7325, "lat": 37.9998, "type": "traffic", "note": "Patision Ave (approx.)"},
    {"name": "Aristotelous", "lon": 23.7262, "lat": 37.9880, "type": "traffic", "note": "Aristotelous St, Vathis Sq. (approx.)"},
    {"name": "Geoponiki", "lon": 23.7055, "lat": 37.9835, "type": "background", "note": "Agricultural University, Iera Odos (approx.)"},
)


def athens_station_means(folder: str | Path, *, years: Sequence[int] = (2018, 2019)) -> pd.DataFrame:
    """Mean NO2, PM10 and PM2.5 per Athens station over ``years`` from the daily CSV files.

    Parameters
    ----------
    folder
        The ``air_quality_ypen`` folder (``<Station>_daily_2018_2021.csv``, dates like ``1-Jan-18``).
    years
        Calendar years to average (2018-2019: before the COVID-19 lockdowns).

    Returns
    -------
    DataFrame
        One row per station: ``name, lon, lat, no2_ugm3, pm10_ugm3, pm25_ugm3, n_days``.

    Examples
    --------
    >>> athens_station_means("../shared/data/athens/air_quality_ypen")  # doctest: +SKIP
    """
    folder = require_file(folder, what="Athens station data folder")
    rows = []
    for st in ATHENS_STATIONS:
        path = folder / f"{st['name']}_daily_2018_2021.csv"
        if not path.exists():
            continue
        df = pd.read_csv(path, encoding="utf-8-sig")
        if "DAY" not in df.columns:
            raise MissingFieldError(path, "DAY", expected="a date column like 1-Jan-18")
        day = pd.to_datetime(df["DAY"], format="%d-%b-%y", errors="coerce")
        sel = df[day.dt.year.isin(list(years))]
        rec = {"name": st["name"], "lon": st["lon"], "lat": st["lat"], "n_days": int(len(sel))}
        for col, out in (("NO2", "no2_ugm3"), ("PM10", "pm10_ugm3"), ("PM25", "pm25_ugm3")):
            rec[out] = float(pd.to_numeric(sel[col], errors="coerce").mean()) if col in sel.columns else float("nan")
        rows.append(rec)
    if not rows:
        raise InvalidValueError(
            f"{folder}: no station files named <Station>_daily_2018_2021.csv for {[s['name'] for s in ATHENS_STATIONS]}"
        )
    return pd.DataFrame(rows)


def compare_stations(air_map: AirMap, measured: pd.DataFrame, *, id_column: str = "name") -> pd.DataFrame:
    """Join an :class:`AirMap` computed at station points (``receptors.ids`` = station names) with measured means.

    Returns one row per station with ``no2_modelled_ugm3``, ``no2_measured_ugm3`` and their
    difference (and PM where measured).

    Examples
    --------
    >>> compare_stations(amap, athens_station_means(folder))  # doctest: +SKIP
    """
    if air_map.receptors.ids is None:
        raise InvalidValueError(
            "compare_stations: the AirMap's receptors carry no ids (build them with receptors_from_points(..., id_column=...))"
        )
    mod = air_map.to_dataframe().set_index("id")
    out = measured.set_index(id_column).join(mod[["no2_ugm3", "pm10_ugm3", "pm25_ugm3"]].add_suffix("_modelled"), how="inner")
    for p in ("no2", "pm10", "pm25"):
        if f"{p}_ugm3" in out.columns:
            out = out.rename(columns={f"{p}_ugm3": f"{p}_measured_ugm3"})
            out[f"{p}_modelled_ugm3"] = out.pop(f"{p}_ugm3_modelled")
            out[f"{p}_diff_ugm3"] = out[f"{p}_modelled_ugm3"] - out[f"{p}_measured_ugm3"]
    return out.reset_index()
