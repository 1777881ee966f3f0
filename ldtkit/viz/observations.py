"""Traffic counts in the report: the validation table and the 1:1 scatter plot of a run.

:func:`count_validation` matches a city's counts (``[demand] counts`` of its ``city.toml``) to
the links of a scenario result and measures its day flows against them;
:func:`show_count_validation` displays the match summary, the statistics table, the sites' table
(:func:`count_sites_table`) and the scatter plot with the 1:1
line (drawn by :func:`ldtkit.viz.validation_plots.plot_count_validation`). Reports call it for
the baseline; it shows nothing for a city without counts.

Examples
--------
>>> import pandas as pd
>>> from ldtkit.study.observations import validation_statistics
>>> v = validation_statistics([95.0, 480.0, 700.0], [100.0, 500.0, 500.0], site_id=["a", "b", "c"])
>>> count_validation_table(v)["value"].tolist()[:2]
['3', '67 %']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ldtkit.study.observations import MatchReport, ValidationStatistics, match_counts, read_counts, validate_counts
from ldtkit.viz.validation_plots import plot_count_validation

if TYPE_CHECKING:  # pragma: no cover
    from ldtkit.study.city import City
    from ldtkit.study.runner import ScenarioResult


def count_validation(city: City, result: ScenarioResult, *, period: str = "day") -> ValidationStatistics | None:
    """The counts of ``city`` (``[demand] counts``) against the flows of ``result``; ``None`` without counts.

    Counts of every vehicle of ``period`` are compared with the modelled vehicles per hour
    (all classes) of that period; sites that match no link, or
    match two parallel ones, are left out (the match report of
    :func:`ldtkit.study.observations.match_counts` lists them).
    """
    both = _validation_and_matches(city, result, period=period)
    return None if both is None else both[0]


def _validation_and_matches(city: City, result: ScenarioResult, *, period: str) -> tuple[ValidationStatistics, MatchReport] | None:
    path = city.config.demand.counts if city.config.demand is not None else None
    if path is None:
        return None
    counts = read_counts(city.path(path, field_name="demand.counts")).all_vehicles().for_period(period)
    matches = match_counts(result.network, counts)
    flow = np.asarray(result.traffic[period].total_vph, dtype=np.float64)
    ids = result.network.links["link_id"].to_numpy()
    return validate_counts(counts.table, matches.table, ids, flow), matches


def count_sites_table(stats: ValidationStatistics) -> pd.DataFrame:
    """The sites of a validation for people, the worst GEH first: counted, modelled, difference, GEH.

    Examples
    --------
    >>> from ldtkit.study.observations import validation_statistics
    >>> v = validation_statistics([95.0, 480.0, 700.0], [100.0, 500.0, 500.0], site_id=["a", "b", "c"])
    >>> count_sites_table(v).values.tolist()
    [['c', 500, 700, 200, 8.2, 'no'], ['b', 500, 480, -20, 0.9, 'yes'], ['a', 100, 95, -5, 0.5, 'yes']]
    """
    s = stats.sites.sort_values("geh", ascending=False, kind="stable")
    out = pd.DataFrame(
        {
            "site": s["site_id"].astype(str),
            "counted (veh/h)": s["observed_vph"].round().astype(np.int64),
            "modelled (veh/h)": s["modelled_vph"].round().astype(np.int64),
            "difference (veh/h)": s["difference_vph"].round().astype(np.int64),
            "GEH": s["geh"].round(1),
            "GEH < 5": np.where(s["geh_below_5"], "yes", "no"),
        }
    )
    if "screenline" in s.columns:
        out["screenline"] = s["screenline"].fillna("").astype(str)
    return out.reset_index(drop=True)


def count_validation_table(stats: ValidationStatistics) -> pd.DataFrame:
    """The statistics as a two-column table for people: sites, share GEH < 5, R², slope, RMSE.

    Examples
    --------
    >>> from ldtkit.study.observations import validation_statistics
    >>> t = count_validation_table(validation_statistics([100.0], [100.0], site_id=["a"]))
    >>> t["statistic"].tolist()
    ['sites', 'share of sites with GEH < 5 (85 % asked)', 'R² (modelled vs counted)', 'slope (modelled / counted)', 'RMSE (veh/h)']
    """
    rows = [
        ("sites", f"{len(stats.sites)}"),
        ("share of sites with GEH < 5 (85 % asked)", f"{100 * stats.geh_below_5_share:.0f} %"),
        ("R² (modelled vs counted)", f"{stats.r2:.3f}"),
        ("slope (modelled / counted)", f"{stats.slope:.3f}"),
        ("RMSE (veh/h)", f"{stats.rmse_vph:.0f}"),
    ]
    return pd.DataFrame(rows, columns=["statistic", "value"])


def show_count_validation(city: City, result: ScenarioResult, *, title: str = "Traffic counts: baseline against counted") -> bool:
    """Display the validation when the city has counts: how the sites matched (and the sites left
    out, with their distances), the statistics, the screenlines, the sites' table and the 1:1
    scatter plot; ``True`` if shown."""
    both = _validation_and_matches(city, result, period="day")
    if both is None:
        return False
    stats, matches = both
    import matplotlib.pyplot as plt
    from IPython.display import Markdown, display

    display(Markdown(f"### {title}\n\nCounting sites: {matches.summary()} (day period, every vehicle)."))
    left_out = matches.table[matches.table["status"] != "matched"]
    if len(left_out):
        display(Markdown("Sites left out (ambiguous: two parallel links within the margin; unmatched: no link near enough):"))
        display(left_out.style.format(precision=1).hide(axis="index"))
    display(count_validation_table(stats).style.hide(axis="index"))
    if stats.screenlines is not None and len(stats.screenlines):
        display(stats.screenlines.style.format(precision=1).hide(axis="index"))
    ax = plot_count_validation(stats, title=title)
    display(ax.figure)
    plt.close(ax.figure)
    display(count_sites_table(stats).style.format(precision=1).hide(axis="index"))
    return True


__all__ = ["count_sites_table", "count_validation", "count_validation_table", "show_count_validation"]
