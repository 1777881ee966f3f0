"""The vehicle fleet of the emission model: segment shares, primary NO2 fractions, CO2 factors.

Examples
--------
>>> Fleet().heavy["hgv_euro_vi"]
0.55
>>> FLEET_SEGMENTS["diesel_euro6"]
('passenger_car', 'Diesel 1.4-2.0 l', 'Euro 6')
"""

from __future__ import annotations

import copyreg
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from ldtkit._validate import finite_nonnegative
from ldtkit.errors import ConfigError, InvalidValueError, MissingFieldError


# Read-only mappings keep fleet and emission tables immutable; results that hold them must still
# pickle (result cache, dask workers), so teach pickle to rebuild them from a plain dict.
def _read_only(d: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(d)


def _reduce_read_only(m: MappingProxyType[Any, Any]) -> tuple[Any, tuple[dict[Any, Any]]]:
    return _read_only, (dict(m),)


copyreg.pickle(MappingProxyType, _reduce_read_only)

#: Segments of the emission-factor table by fleet key: (vehicle_class, segment, euro).
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
            shares: Mapping[str, float] = getattr(self, name)
            for key in shares:
                if key not in FLEET_SEGMENTS or FLEET_SEGMENTS[key][0] != cls:
                    valid = sorted(k for k, s in FLEET_SEGMENTS.items() if s[0] == cls)
                    raise ConfigError(f"air fleet.{name}: unknown fleet key {key!r}; expected one of {valid}")
            finite_nonnegative(list(shares.values()), name="shares", where=f"air fleet.{name}", ids=list(shares))
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
