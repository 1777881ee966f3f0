"""Compare a scenario with the baseline: link differences and indicators.

Indicators per scenario (daily totals over the day/evening/night periods), named as in the
registry :mod:`ldtkit.study.indicators`:

- ``vehicle_km`` and ``vehicle_hours`` driven per day,
- ``delay_vehicle_hours`` (congested minus free-flow time) and ``mean_delay_s_per_km``,
- flows on watched links (``[compare.watch]`` in ``city.toml``: label → selector),
- people per END Lden band and per Lnight band (noise): at their building's most exposed façade
  in a city with buildings (``ScenarioResult.facades``), else at the noise map's grid receptors
  (:func:`people_counted_at` says which),
- people above the NO2 annual limit (:data:`ldtkit.model.limits.NO2_LIMIT_UGM3`),
  population-weighted NO2 (air),
- CO2 tonnes per day.

Examples
--------
>>> cmp = compare(results["baseline"], results["bridge-closed-both"])  # doctest: +SKIP
>>> cmp.indicators.loc["vehicle_hours"]  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ldtkit.model.limits import NO2_LIMIT_UGM3, NO2_LIMITS_UGM3
from ldtkit.model.network import CONNECTOR_CLASS
from ldtkit.model.traffic import PERIODS
from ldtkit.study.indicators import (
    CO2_T_PER_DAY,
    DELAY_VEHICLE_HOURS,
    MEAN_DELAY_S_PER_KM,
    PEOPLE_ABOVE_NO2_2030,
    PEOPLE_ABOVE_NO2_LIMIT,
    PEOPLE_LDEN_ABOVE_END,
    PEOPLE_LNIGHT_ABOVE_END,
    POPULATION_WEIGHTED_NO2,
    TRIPS_WITHOUT_ROUTE_VPH,
    VEHICLE_HOURS,
    VEHICLE_KM,
    PeopleCountedAt,
    exposure_indicator,
    people_counted_label,
    watch_indicator,
)
from ldtkit.study.scenario import select_links

if TYPE_CHECKING:  # pragma: no cover
    from ldtkit.study.runner import ScenarioResult

#: ``[compare.watch]``: label -> scenario selector (``street``, ``bridge``, ... and ``direction``).
Watch = Mapping[str, Mapping[str, Any]]


@dataclass
class Comparison:
    """Baseline versus one scenario.

    Attributes
    ----------
    name
        The scenario's name.
    indicators
        DataFrame indexed by indicator with columns ``baseline``, ``scenario``,
        ``difference`` and ``percent``.
    links
        GeoDataFrame of links with baseline and scenario day flows (veh/h) and their difference.

    Examples
    --------
    >>> import ldtkit
    >>> city = ldtkit.load_city("ghent")  # doctest: +SKIP
    >>> results = ldtkit.run(city, ldtkit.load_scenarios(city.root / "scenarios"), models=("traffic",))  # doctest: +SKIP
    >>> c = compare(results["baseline"], results["bridge-closed-both"])  # doctest: +SKIP
    >>> c.name  # doctest: +SKIP
    'bridge-closed-both'
    >>> c.indicators.loc["vehicle_km", ["baseline", "scenario", "percent"]]  # doctest: +SKIP
    >>> c.links.nlargest(5, "flow_diff_vph")[["name", "flow_base_vph", "flow_vph"]]  # doctest: +SKIP
    """

    name: str
    indicators: pd.DataFrame
    links: gpd.GeoDataFrame

    def to_dataframe(self) -> pd.DataFrame:
        """A copy of the indicator table."""
        return self.indicators.copy()


def people_counted_at(result: ScenarioResult) -> PeopleCountedAt | None:
    """Where ``result`` counts the people per noise band: ``"facade"`` when it has a façade exposure
    (a city with buildings), ``"grid"`` when it has a noise map only, ``None`` without noise."""
    if getattr(result, "facades", None) is not None:
        return "facade"
    return "grid" if getattr(result, "noise", None) is not None else None


def noise_exposure(result: ScenarioResult) -> dict[str, float] | None:
    """People per END Lden and Lnight band of ``result``, counted where :func:`people_counted_at` says
    (``None`` without noise)."""
    where = people_counted_at(result)
    if where == "facade":
        return dict(result.facades.exposure()) if result.facades is not None else None
    return dict(result.noise.exposure()) if where == "grid" and result.noise is not None else None


def noise_note(result: ScenarioResult) -> str | None:
    """One line on how the noise was computed and where its people are counted, e.g.
    ``"Noise: open-field propagation: no building data; people counted at grid receptors."``
    (``None`` without noise)."""
    where = people_counted_at(result)
    if where is None or result.noise is None:
        return None
    propagation = str(result.noise.meta.get("propagation") or "")
    # the building source may be a file path: its name is enough for a reader (and no machine's folders)
    propagation = re.sub(r"\((?:[^()]*[/\\])([^()/\\]+)\)", r"(\1)", propagation)
    return f"Noise: {propagation + '; ' if propagation else ''}{people_counted_label(where)}."


def indicators(result: ScenarioResult, *, watch: Watch | None = None) -> dict[str, float]:
    """Daily indicators of one :class:`~ldtkit.study.runner.ScenarioResult`."""
    links = result.network.links
    real = (links["road_class"] != CONNECTOR_CLASS).to_numpy()
    length_km = links["length_m"].to_numpy() / 1000.0
    free_h = links["free_flow_time_min"].to_numpy() / 60.0
    out: dict[str, float] = {}
    vkm = vh = delay = 0.0
    for period, hours in PERIODS.items():
        flow = result.traffic[period].total_vph
        # results cached by older versions may lack the per-period assignments
        a = result.period_assignments.get(period) if getattr(result, "period_assignments", None) else None
        speed = result.traffic[period].speed_kmh
        time_h = (a.time_min / 60.0) if a is not None else np.divide(length_km, speed, out=free_h.copy(), where=speed > 0)
        vkm += hours * float(np.sum(flow[real] * length_km[real]))
        vh += hours * float(np.sum(flow[real] * time_h[real]))
        delay += hours * float(np.sum(flow[real] * np.maximum(time_h[real] - free_h[real], 0.0)))
    out[VEHICLE_KM] = vkm
    out[VEHICLE_HOURS] = vh
    out[DELAY_VEHICLE_HOURS] = delay
    out[MEAN_DELAY_S_PER_KM] = delay * 3600.0 / vkm if vkm > 0 else 0.0
    for label, selector in (watch or {}).items():
        sel = dict(selector)
        direction = sel.pop("direction", "both")
        rows = select_links(result.network, sel, direction=direction, context=f"compare.watch {label!r}")
        out[watch_indicator(label).name] = float(np.max(result.traffic["day"].total_vph[rows]))
    exposure = noise_exposure(result)
    if exposure is not None:
        for band, people in exposure.items():
            out[exposure_indicator(band).name] = float(people)
    air = getattr(result, "air", None)
    if air is not None:
        pop = np.asarray(air.population if hasattr(air, "population") else air.receptors.population, dtype=float)
        no2 = np.asarray(air.no2_ugm3, dtype=float)
        out[PEOPLE_ABOVE_NO2_LIMIT] = float(pop[no2 > NO2_LIMIT_UGM3].sum())
        out[POPULATION_WEIGHTED_NO2] = float((pop * no2).sum() / pop.sum()) if pop.sum() > 0 else float(no2.mean())
        co2 = getattr(air, "co2_t_per_day", None)
        if co2 is not None:
            out[CO2_T_PER_DAY] = float(co2)
    return out


def compare(baseline: ScenarioResult, scenario: ScenarioResult, *, watch: Watch | None = None) -> Comparison:
    """Differences of ``scenario`` against ``baseline`` (both :class:`~ldtkit.study.runner.ScenarioResult`).

    ``watch`` adds the flow on named links as indicators (``[compare.watch]`` of ``city.toml``).

    Examples
    --------
    >>> import ldtkit
    >>> city = ldtkit.load_city("ghent")  # doctest: +SKIP
    >>> results = ldtkit.run(city, ldtkit.load_scenarios(city.root / "scenarios"), models=("traffic",))  # doctest: +SKIP
    >>> c = compare(results["baseline"], results["bridge-closed-southbound"], watch=city.config.compare.watch)  # doctest: +SKIP
    >>> c.indicators[["difference", "percent"]]  # doctest: +SKIP
    """
    b = indicators(baseline, watch=watch)
    s = indicators(scenario, watch=watch)
    keys = list(dict.fromkeys([*b, *s]))
    table = pd.DataFrame({"baseline": [b.get(k, np.nan) for k in keys], "scenario": [s.get(k, np.nan) for k in keys]}, index=keys)
    table["difference"] = table["scenario"] - table["baseline"]
    table["percent"] = np.where(table["baseline"].abs() > 0, 100.0 * table["difference"] / table["baseline"].abs(), np.nan)
    links = scenario.network.links[["link_id", "name", "road_class", "bridge", "car_allowed", "geometry"]].copy()
    links["flow_base_vph"] = baseline.traffic["day"].total_vph
    links["flow_vph"] = scenario.traffic["day"].total_vph
    links["flow_diff_vph"] = links["flow_vph"] - links["flow_base_vph"]
    links = links[links["road_class"] != CONNECTOR_CLASS]
    return Comparison(scenario.scenario.name, table, gpd.GeoDataFrame(links, geometry="geometry", crs=scenario.network.crs))


def indicators_table(results: Mapping[str, ScenarioResult], *, watch: Watch | None = None) -> pd.DataFrame:
    """One column per scenario (baseline first) and, for each scenario, its difference to the baseline.

    The table ``ldtkit run`` writes as ``indicators.csv``: one row per indicator the models run
    produce (names from :mod:`ldtkit.study.indicators`).

    Examples
    --------
    >>> import ldtkit
    >>> city = ldtkit.load_city("ghent")  # doctest: +SKIP
    >>> results = ldtkit.run(city, ldtkit.load_scenarios(city.root / "scenarios" / "01_bridge_closed_both.toml"),
    ...                      models=("traffic",))  # doctest: +SKIP
    >>> table = indicators_table(results)  # doctest: +SKIP
    >>> list(table.columns)  # doctest: +SKIP
    ['baseline', 'bridge-closed-both', 'bridge-closed-both Δ']
    >>> table.loc["vehicle_km"]  # doctest: +SKIP
    """
    base = indicators(results["baseline"], watch=watch)
    cols: dict[str, dict[str, float]] = {"baseline": base}
    for name, res in results.items():
        if name == "baseline":
            continue
        ind = indicators(res, watch=watch)
        cols[name] = ind
        cols[f"{name} Δ"] = {k: ind.get(k, np.nan) - base.get(k, np.nan) for k in ind}
    return pd.DataFrame(cols)


def threshold_indicators(result: ScenarioResult) -> dict[str, float]:
    """People above the END thresholds and the NO2 values, and the day trips left without a route.

    ``people Lden >=55`` and ``people Lnight >=50`` add up the END bands of
    :func:`indicators` (counted where :func:`people_counted_at` says); ``people NO2 > 20 ug/m3`` counts the population at air receptors above the
    2030 EU value; ``trips_without_route_vph`` is the day-period demand (veh/h, all classes)
    that a measure left without a route. Rows whose model was not run are left out.
    """
    out: dict[str, float] = {}
    day = result.period_assignments.get("day", result.assignment)
    out[TRIPS_WITHOUT_ROUTE_VPH] = float(day.unassigned["trips"].sum()) if len(day.unassigned) else 0.0
    exposure = noise_exposure(result)
    if exposure is not None:
        out[PEOPLE_LDEN_ABOVE_END] = float(sum(v for k, v in exposure.items() if k.startswith("Lden")))
        out[PEOPLE_LNIGHT_ABOVE_END] = float(sum(v for k, v in exposure.items() if k.startswith("Lnight")))
    air = getattr(result, "air", None)
    if air is not None:
        pop = np.asarray(air.population if hasattr(air, "population") else air.receptors.population, dtype=float)
        no2 = np.asarray(air.no2_ugm3, dtype=float)
        out[PEOPLE_ABOVE_NO2_2030] = float(pop[no2 > NO2_LIMITS_UGM3["EU 2030"]].sum())
    return out


def study_table(results: Mapping[str, ScenarioResult], *, watch: Watch | None = None) -> pd.DataFrame:
    """:func:`indicators_table` followed by the rows of :func:`threshold_indicators` (same columns).

    The dashboards and reports show this table; ``indicators_table`` alone stays the one that
    ``ldtkit run`` writes.
    """
    table = indicators_table(results, watch=watch)
    base = threshold_indicators(results["baseline"])
    cols: dict[str, dict[str, float]] = {"baseline": base}
    for name, res in results.items():
        if name == "baseline":
            continue
        ind = threshold_indicators(res)
        cols[name] = ind
        cols[f"{name} Δ"] = {k: ind.get(k, np.nan) - base.get(k, np.nan) for k in ind}
    extra = pd.DataFrame(cols).reindex(columns=table.columns)
    return pd.concat([table, extra.loc[[k for k in extra.index if k not in table.index]]])
