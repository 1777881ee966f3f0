"""Counted against modelled flows as a figure: the scatter plot of a count validation.

The statistics come from :func:`ldtkit.study.observations.validation_statistics`; this module
only draws them: the sites (GEH < 5 and GEH >= 5 in two colours), the 1:1 line, the band within
which GEH < 5, and the share GEH < 5, R² and slope in the title.

Examples
--------
>>> from ldtkit.study.observations import validation_statistics
>>> v = validation_statistics([95.0, 480.0, 530.0], [100.0, 500.0, 500.0], site_id=["a", "b", "c"])
>>> ax = plot_count_validation(v)
>>> ax.get_xlabel(), ax.get_ylabel(), len(ax.collections)
('counted (veh/h)', 'modelled (veh/h)', 3)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ldtkit.study.observations import ValidationStatistics

if TYPE_CHECKING:  # matplotlib loads when a figure is drawn
    import matplotlib.axes


def plot_count_validation(
    stats: ValidationStatistics,
    *,
    ax: matplotlib.axes.Axes | None = None,
    title: str = "Traffic counts: modelled vs counted",
    label: str = "",
) -> matplotlib.axes.Axes:
    """Scatter plot of modelled against counted flows with the 1:1 line and the GEH = 5 band.

    Parameters
    ----------
    stats
        The validation (its ``sites`` table is drawn).
    ax
        Axes to draw on (default: a new figure).
    title
        First title line; the second gives the share GEH < 5, R² and slope.
    label
        Legend prefix of the sites, e.g. ``"calibrated"``.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5.5))
    s = stats.sites
    obs = s["observed_vph"].to_numpy(float)
    mod = s["modelled_vph"].to_numpy(float)
    ok = s["geh_below_5"].to_numpy(bool)
    top = float(max(obs.max(initial=0.0), mod.max(initial=0.0), 1.0)) * 1.05
    x = np.linspace(0.0, top, 200)
    # GEH = 5 <=> |m - c| = 5 sqrt((m + c) / 2): m = c + 6.25 +- sqrt(6.25^2 + 25 c)  (solved for m)
    upper = x + 6.25 + np.sqrt(6.25**2 + 25.0 * x)
    lower = np.maximum(x + 6.25 - np.sqrt(6.25**2 + 25.0 * x), 0.0)
    ax.fill_between(x, lower, upper, color="0.9", label="GEH < 5")
    ax.plot([0, top], [0, top], color="0.3", lw=1, label="1:1")
    prefix = f"{label} " if label else ""
    ax.scatter(obs[ok], mod[ok], s=18, color="tab:blue", label=f"{prefix}sites, GEH < 5")
    ax.scatter(obs[~ok], mod[~ok], s=18, color="tab:red", label=f"{prefix}sites, GEH >= 5")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_aspect("equal")
    ax.set_xlabel("counted (veh/h)")
    ax.set_ylabel("modelled (veh/h)")
    ax.set_title(
        f"{title}\nGEH < 5: {stats.geh_below_5_share:.0%} of {len(s)} sites, R² {stats.r2:.3f}, slope {stats.slope:.3f}", fontsize=10
    )
    ax.legend(loc="upper left", fontsize=8)
    return ax
