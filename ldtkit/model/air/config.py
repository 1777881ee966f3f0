"""Parameters of the dispersion and chemistry model: the ``[air]`` table of ``city.toml``.

Examples
--------
>>> AirConfig.from_dict({"canyon": False}).canyon
False
>>> PASQUILL_CLASSES["D"]
4
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import numpy as np

from ldtkit._validate import finite, finite_nonnegative
from ldtkit.errors import ConfigError, InvalidValueError
from ldtkit.model.air.fleet import Fleet

#: Pasquill stability classes by letter, as CALINE3 numbers them (A = 1, very unstable .. F = 6, stable).
PASQUILL_CLASSES: Mapping[str, int] = MappingProxyType({"A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6})


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
        f = finite_nonnegative(self.wind_sector_freq, name="wind_sector_freq", where="[air]")
        if len(f) < 4 or abs(f.sum() - 1.0) > 1e-3:
            raise InvalidValueError(
                f"[air] wind_sector_freq: need >= 4 sector frequencies >= 0 summing to 1, got {list(f)} (sum {f.sum():.4f})"
            )
        j = finite_nonnegative(self.stability_speed_freq, name="stability_speed_freq", where="[air]")
        if j.shape != (len(self.stability_classes), len(self.wind_speeds_ms)) or abs(j.sum() - 1.0) > 1e-3:
            raise InvalidValueError(
                f"[air] stability_speed_freq: need a {len(self.stability_classes)} x {len(self.wind_speeds_ms)} table "
                f"(stability_classes x wind_speeds_ms) of frequencies summing to 1, got shape {j.shape}, sum {j.sum():.4f}"
            )
        for c in self.stability_classes:
            if c not in PASQUILL_CLASSES:
                raise InvalidValueError(f"[air] stability_classes: {c!r} is not a Pasquill class A-F")
        if np.any(finite(self.wind_speeds_ms, name="wind_speeds_ms", where="[air]") <= 0):
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

    def geometry_key(self) -> tuple[object, ...]:
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
