"""The indicator registry: every indicator a study reports, declared once.

Each :class:`Indicator` has the name that indicator tables and ``indicators.csv`` use (scripts
read these names, so they do not change), a label for people, a unit, and which direction is
better. :func:`compare <ldtkit.study.compare.indicators_table>` produces them; the dashboard and
reports label and colour them from here.

Watched links (``[compare.watch]`` in ``city.toml``) give one indicator per label, named
``"flow_vph: <label>"``; :func:`indicator` resolves those too.

Examples
--------
>>> indicator("vehicle_hours").label
'Time spent driving (vehicle-hours per day)'
>>> indicator("people Lden >=55").label
'People exposed to road noise ≥ 55 dB (24-hour level, Lden)'
>>> indicator("flow_vph: Rooigemlaan bridge").label
'Flow on Rooigemlaan bridge (veh/h)'
>>> indicator("people Lden >=75").better
'neutral'
>>> [i.name for i in INDICATORS.values()][:3]
['vehicle_km', 'vehicle_hours', 'delay_vehicle_hours']
>>> people_counted_label("facade")
'people counted at the façades of their building'
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from ldtkit._validate import closest
from ldtkit.errors import InvalidValueError
from ldtkit.model.limits import (
    END_LDEN_THRESHOLD_DB,
    END_LNIGHT_THRESHOLD_DB,
    LDEN_BANDS_DB,
    LNIGHT_BANDS_DB,
    NO2_LIMIT_UGM3,
    NO2_LIMITS_UGM3,
    band_labels,
)

Better = Literal["less", "more", "neutral"]
#: Where the people of the noise indicators are counted: at their building's façades (a city with buildings,
#: as CNOSSOS-EU counts them) or at the grid receptors of the noise map (a city without).
PeopleCountedAt = Literal["facade", "grid"]
#: What a person reads beside the people-per-noise-band indicators, per :data:`PeopleCountedAt`.
PEOPLE_COUNTED_AT: Final = MappingProxyType(
    {
        "facade": "people counted at the façades of their building",
        "grid": "people counted at grid receptors",
    }
)


@dataclass(frozen=True)
class Indicator:
    """One indicator of a study.

    Attributes
    ----------
    name
        The row name in indicator tables (stable: scripts read it).
    label
        What a person reads: plain words first, short enough for a table row and the headline, the
        technical term and its numbers in brackets (``"People exposed to road noise ≥ 55 dB (24-hour
        level, Lden)"``). The dashboard's *What the terms mean* explains the terms.
    unit
        The unit of the value (``""`` for counts of people).
    better
        ``"less"`` when a decrease is an improvement, ``"more"`` when an increase is, ``"neutral"``
        when neither holds on its own (e.g. people moving between two noise bands).
    domain
        ``"traffic"``, ``"noise"`` or ``"air"``: the model that produces it.
    """

    name: str
    label: str
    unit: str
    better: Better
    domain: Literal["traffic", "noise", "air"]


#: Prefix of the per-link flow indicators of watched links.
WATCH_PREFIX: Final = "flow_vph: "
#: Prefix of the people-per-noise-band indicators (``"people Lden 55-59"``).
EXPOSURE_PREFIX: Final = "people "
#: Names of the fixed indicators (the keys of :data:`INDICATORS`).
VEHICLE_KM: Final = "vehicle_km"
VEHICLE_HOURS: Final = "vehicle_hours"
DELAY_VEHICLE_HOURS: Final = "delay_vehicle_hours"
MEAN_DELAY_S_PER_KM: Final = "mean_delay_s_per_km"
PEOPLE_ABOVE_NO2_LIMIT: Final = f"people NO2 > {NO2_LIMIT_UGM3:g} ug/m3"
POPULATION_WEIGHTED_NO2: Final = "population-weighted NO2 ug/m3"
CO2_T_PER_DAY: Final = "CO2 t/day"
#: Threshold indicators (:func:`ldtkit.study.compare.threshold_indicators`): people above the END
#: reporting thresholds and above the NO2 values of 2030 and 2008, and the trips left without a route.
PEOPLE_LDEN_ABOVE_END: Final = f"people Lden >={END_LDEN_THRESHOLD_DB}"
PEOPLE_LNIGHT_ABOVE_END: Final = f"people Lnight >={END_LNIGHT_THRESHOLD_DB}"
PEOPLE_ABOVE_NO2_2030: Final = f"people NO2 > {NO2_LIMITS_UGM3['EU 2030']:g} ug/m3"
TRIPS_WITHOUT_ROUTE_VPH: Final = "trips_without_route_vph"


#: When a noise level applies, in plain words, with its technical name (``Lden``, ``Lnight``).
_NOISE_WHEN: Final = MappingProxyType({"Lden": "(24-hour level, Lden)", "Lnight": "at night (Lnight)"})


def _noise_label(quantity: str, levels: str) -> str:
    """The label of people exposed to road noise at ``levels`` dB (``"≥ 55"``, ``"55-59"``) of ``quantity``."""
    return f"People exposed to road noise {levels} dB {_NOISE_WHEN.get(quantity, f'({quantity})')}"


def exposure_indicator(band: str) -> Indicator:
    """The indicator of the people in one noise band (a label of :func:`~ldtkit.model.limits.band_labels`).

    Examples
    --------
    >>> exposure_indicator("Lden 55-59").name
    'people Lden 55-59'
    >>> exposure_indicator("Lden 55-59").label, exposure_indicator("Lnight >=70").label
    ('People exposed to road noise 55-59 dB (24-hour level, Lden)', 'People exposed to road noise ≥ 70 dB at night (Lnight)')
    """
    quantity, levels = band.split(" ", 1)
    # moving between two bands is neither good nor bad on its own
    return Indicator(f"{EXPOSURE_PREFIX}{band}", _noise_label(quantity, levels.replace(">=", "≥ ")), "people", "neutral", "noise")


def _bands(quantity: str, edges: tuple[int, ...]) -> list[Indicator]:
    return [exposure_indicator(b) for b in band_labels(quantity, edges)]


_ALL: list[Indicator] = [
    Indicator(VEHICLE_KM, "Distance driven (vehicle-km per day)", "veh·km/day", "neutral", "traffic"),
    Indicator(VEHICLE_HOURS, "Time spent driving (vehicle-hours per day)", "veh·h/day", "less", "traffic"),
    Indicator(DELAY_VEHICLE_HOURS, "Time lost in congestion (vehicle-hours per day)", "veh·h/day", "less", "traffic"),
    Indicator(MEAN_DELAY_S_PER_KM, "Average delay (seconds per km)", "s/km", "less", "traffic"),
    *_bands("Lden", LDEN_BANDS_DB),
    *_bands("Lnight", LNIGHT_BANDS_DB),
    Indicator(PEOPLE_ABOVE_NO2_LIMIT, f"People exposed to NO₂ above {NO2_LIMIT_UGM3:g} µg/m³ (EU limit)", "people", "less", "air"),
    Indicator(POPULATION_WEIGHTED_NO2, "Average NO₂ where people live (µg/m³, population-weighted)", "µg/m³", "less", "air"),
    Indicator(CO2_T_PER_DAY, "CO₂ from traffic (tonnes per day)", "t/day", "less", "traffic"),
    Indicator(PEOPLE_LDEN_ABOVE_END, _noise_label("Lden", f"≥ {END_LDEN_THRESHOLD_DB}"), "people", "less", "noise"),
    Indicator(PEOPLE_LNIGHT_ABOVE_END, _noise_label("Lnight", f"≥ {END_LNIGHT_THRESHOLD_DB}"), "people", "less", "noise"),
    Indicator(
        PEOPLE_ABOVE_NO2_2030,
        f"People exposed to NO₂ above {NO2_LIMITS_UGM3['EU 2030']:g} µg/m³ (EU limit from 2030)",
        "people",
        "less",
        "air",
    ),
    Indicator(TRIPS_WITHOUT_ROUTE_VPH, "Trips left without a route (vehicles per hour, day)", "veh/h", "less", "traffic"),
]
#: The indicators of the headline block on top of a study's table (watched links' flows follow them).
HEADLINE: Final = (
    VEHICLE_HOURS,
    PEOPLE_LDEN_ABOVE_END,
    PEOPLE_LNIGHT_ABOVE_END,
    PEOPLE_ABOVE_NO2_2030,
    PEOPLE_ABOVE_NO2_LIMIT,
    CO2_T_PER_DAY,
    TRIPS_WITHOUT_ROUTE_VPH,
)
#: Every fixed indicator by name, in report order.
INDICATORS: Final = MappingProxyType({i.name: i for i in _ALL})


def people_counted_label(where: PeopleCountedAt) -> str:
    """The sentence that says where the people of the noise indicators are counted.

    Examples
    --------
    >>> people_counted_label("grid")
    'people counted at grid receptors'
    >>> people_counted_label("roof")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: people counted at 'roof'; expected one of ['facade', 'grid']
    """
    if where not in PEOPLE_COUNTED_AT:
        raise InvalidValueError(f"people counted at {where!r}; expected one of {list(PEOPLE_COUNTED_AT)}")
    return str(PEOPLE_COUNTED_AT[where])


def watch_indicator(label: str) -> Indicator:
    """The flow indicator of a watched link (``[compare.watch]`` label).

    Examples
    --------
    >>> watch_indicator("R40 bridge").name
    'flow_vph: R40 bridge'
    """
    return Indicator(f"{WATCH_PREFIX}{label}", f"Flow on {label} (veh/h)", "veh/h", "neutral", "traffic")


def indicator(name: str) -> Indicator:
    """The registry entry for an indicator name, or an error that suggests the closest names.

    Examples
    --------
    >>> indicator("vehicle_kms")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: unknown indicator 'vehicle_kms'; did you mean 'vehicle_km'?
    """
    if name in INDICATORS:
        return INDICATORS[name]
    if name.startswith(WATCH_PREFIX):
        return watch_indicator(name[len(WATCH_PREFIX) :])
    near = closest([name], INDICATORS, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else f"; known: {list(INDICATORS)}"
    raise InvalidValueError(f"unknown indicator {name!r}{hint}")
