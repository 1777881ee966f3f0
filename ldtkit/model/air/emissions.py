"""Emissions per link and period (g/s per metre of link) from hourly flows, speeds and the fleet.

Examples
--------
>>> import numpy as np
>>> from ldtkit.model.traffic import LinkTraffic
>>> e = emissions_from_arrays(np.array([1]), np.array([1000.0]), np.array(["primary"], dtype=object),
...     LinkTraffic(np.array([1]), np.array([1000.0]), np.array([0.0]), np.array([50.0])))
>>> e.periods, e.hours.tolist()
(('all',), [24.0])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ldtkit.errors import InvalidValueError
from ldtkit.model.air.emission_factors import hot_emission_factor, load_emission_factors, non_exhaust_factor
from ldtkit.model.air.fleet import Fleet
from ldtkit.model.network import CONNECTOR_CLASS, RoadNetwork
from ldtkit.model.traffic import PERIODS, LinkTraffic

FloatArray = npt.NDArray[np.float64]

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
    vehicle_km_per_day
        Vehicle-km driven per day on the emitting links.

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

    link_id: npt.NDArray[Any]
    length_m: FloatArray
    periods: tuple[str, ...]
    hours: FloatArray
    gsm: Mapping[str, FloatArray]
    vehicle_km_per_day: float = 0.0

    def daily_mean_gsm(self, species: str) -> FloatArray:
        """Hours-weighted mean over the periods (g/s/m)."""
        mean: FloatArray = (self.hours[:, None] * self.gsm[species]).sum(axis=0) / self.hours.sum()
        return mean

    def g_per_km_h(self, species: str, period: str | None = None) -> FloatArray:
        """g per km of link per hour (daily mean, or one period)."""
        arr = self.daily_mean_gsm(species) if period is None else self.gsm[species][self.periods.index(period)]
        return arr * 3.6e6

    def tonnes_per_day(self, species: str = "co2") -> float:
        """Total emitted per day over the network (t/day); CO2 is the climate indicator."""
        per_s = (self.gsm[species] * self.length_m[None, :]).sum(axis=1)  # g/s per period
        return float((per_s * self.hours * 3600.0).sum() / 1e6)

    @property
    def co2_t_per_day(self) -> float:
        """CO2 emitted per day over the network (t/day)."""
        return self.tonnes_per_day("co2")

    def to_dataframe(self) -> pd.DataFrame:
        """Daily-mean emission per link in g/km/h, one column per species."""
        data: dict[str, npt.NDArray[Any]] = {"link_id": self.link_id, "length_m": self.length_m}
        for s in SPECIES:
            data[f"{s}_g_km_h"] = self.g_per_km_h(s)
        return pd.DataFrame(data)


def traffic_periods(traffic: LinkTraffic | Mapping[str, LinkTraffic]) -> dict[str, LinkTraffic]:
    """``{period: LinkTraffic}`` checked against :data:`~ldtkit.model.traffic.PERIODS`; one LinkTraffic is the whole day, ``"all"``.

    Examples
    --------
    >>> import numpy as np
    >>> t = LinkTraffic(np.array([1]), np.array([10.0]), np.array([0.0]), np.array([50.0]))
    >>> list(traffic_periods(t)), list(traffic_periods({"day": t, "night": t}))
    (['all'], ['day', 'night'])
    """
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


def period_hours(periods: tuple[str, ...] | list[str]) -> FloatArray:
    """Hours per day of each period (24 for ``"all"``, the whole day).

    Examples
    --------
    >>> period_hours(("day", "evening", "night")).tolist(), period_hours(["all"]).tolist()
    ([12.0, 4.0, 8.0], [24.0])
    """
    return np.array([24.0 if p == "all" else float(PERIODS[p]) for p in periods])


def emissions_from_arrays(
    link_id: npt.NDArray[Any],
    length_m: FloatArray,
    road_class: npt.NDArray[Any],
    traffic: LinkTraffic | Mapping[str, LinkTraffic],
    *,
    fleet: Fleet | None = None,
    table: pd.DataFrame | None = None,
) -> LinkEmissions:
    """:func:`link_emissions` on plain arrays (connector links emit nothing)."""
    fleet = fleet or Fleet()
    table = load_emission_factors() if table is None else table
    per = traffic_periods(traffic)
    names = tuple(per)
    hours = period_hours(names)
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
