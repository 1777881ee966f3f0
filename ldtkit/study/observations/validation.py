"""Modelled against counted flows: the validation statistics of the profession.

- GEH per site, ``sqrt(2 (m - c)^2 / (m + c))`` on hourly flows, and the share of sites with
  GEH < 5 (the UK WebTAG / DMRB criterion asks for 85 %);
- R² of modelled against observed (``1 - SS_res / SS_tot`` around the 1:1 line's fit, i.e. the
  squared Pearson correlation) and the slope of the least-squares line through the origin;
- screenline totals: per screenline the counted and modelled sums and whether they agree within
  ±5 % and ±10 %.

Examples
--------
>>> import numpy as np
>>> v = validation_statistics(np.array([100.0, 210.0, 290.0]), np.array([100.0, 200.0, 300.0]), site_id=["a", "b", "c"])
>>> round(v.geh_below_5_share, 3), round(v.slope, 4), round(v.r2, 4)
(1.0, 0.9929, 0.9918)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ldtkit.errors import InvalidValueError
from ldtkit.model.calibration import geh

#: The share of sites with GEH < 5 that WebTAG (TAG unit M3.1) / DMRB ask for.
GEH_TARGET_SHARE = 0.85


@dataclass(frozen=True)
class ValidationStatistics:
    """Per-site table and totals of a count validation.

    Attributes
    ----------
    sites
        ``site_id``, ``observed_vph``, ``modelled_vph``, ``difference_vph``, ``geh`` and
        ``geh_below_5`` (bool), plus ``screenline`` when given.
    screenlines
        ``screenline``, ``observed_vph``, ``modelled_vph``, ``difference_pct``, ``within_5pct``,
        ``within_10pct`` (empty without screenlines).
    """

    sites: pd.DataFrame
    screenlines: pd.DataFrame
    geh_below_5_share: float
    r2: float
    slope: float
    rmse_vph: float

    @property
    def meets_geh_criterion(self) -> bool:
        """At least :data:`GEH_TARGET_SHARE` of the sites have GEH < 5."""
        return self.geh_below_5_share >= GEH_TARGET_SHARE

    def summary(self) -> pd.DataFrame:
        """The totals as a two-column table (statistic, value)."""
        rows = [
            ("sites", len(self.sites)),
            ("share of sites with GEH < 5", round(self.geh_below_5_share, 4)),
            (f"meets GEH < 5 on {GEH_TARGET_SHARE:.0%} of sites", self.meets_geh_criterion),
            ("R² (modelled vs observed)", round(self.r2, 4)),
            ("slope (modelled / observed)", round(self.slope, 4)),
            ("RMSE (veh/h)", round(self.rmse_vph, 2)),
        ]
        if len(self.screenlines):
            rows.append(("screenlines within ±5 %", int(self.screenlines["within_5pct"].sum())))
            rows.append(("screenlines within ±10 %", int(self.screenlines["within_10pct"].sum())))
        return pd.DataFrame(rows, columns=["statistic", "value"])


def validation_statistics(
    modelled_vph: npt.ArrayLike,
    observed_vph: npt.ArrayLike,
    *,
    site_id: Sequence[str] | npt.NDArray[np.object_],
    screenline: Sequence[str | None] | npt.NDArray[np.object_] | None = None,
) -> ValidationStatistics:
    """Statistics of ``modelled_vph`` against ``observed_vph`` (paired per site).

    Examples
    --------
    >>> v = validation_statistics([95.0, 480.0, 530.0], [100.0, 500.0, 500.0], site_id=["a", "b", "c"],
    ...                           screenline=["river", "river", None])
    >>> v.screenlines.round(2)[["screenline", "difference_pct", "within_5pct", "within_10pct"]].values.tolist()
    [['river', -4.17, True, True]]
    """
    m = np.asarray(modelled_vph, dtype=np.float64)
    c = np.asarray(observed_vph, dtype=np.float64)
    sid = np.asarray(site_id, dtype=object)
    if not (m.shape == c.shape == sid.shape) or m.ndim != 1:
        raise InvalidValueError(f"validation_statistics: {m.shape} modelled, {c.shape} observed and {sid.shape} site ids must be equal 1-d")
    bad = ~np.isfinite(m) | ~np.isfinite(c) | (c < 0)
    if bad.any():
        raise InvalidValueError(f"validation_statistics: site {sid[bad][0]}: flows must be finite and observed >= 0")
    g = geh(m, c)
    sites = pd.DataFrame({"site_id": sid, "observed_vph": c, "modelled_vph": m, "difference_vph": m - c, "geh": g, "geh_below_5": g < 5.0})
    n = len(c)
    share = float(np.mean(g < 5.0)) if n else float("nan")
    cc = float(np.dot(c, c))
    slope = float(np.dot(c, m) / cc) if cc > 0 else float("nan")
    r2 = float(np.corrcoef(c, m)[0, 1] ** 2) if n > 1 and np.std(c) > 0 and np.std(m) > 0 else float("nan")
    rmse = float(np.sqrt(np.mean((m - c) ** 2))) if n else float("nan")
    cols = ["screenline", "observed_vph", "modelled_vph", "difference_pct", "within_5pct", "within_10pct"]
    screen = pd.DataFrame(columns=cols)
    if screenline is not None:
        sl = pd.Series(np.asarray(screenline, dtype=object))
        sites["screenline"] = sl.to_numpy()
        on = sl.notna().to_numpy()
        if on.any():
            screen = sites[on].groupby("screenline", sort=True)[["observed_vph", "modelled_vph"]].sum().reset_index()
            obs = screen["observed_vph"].to_numpy(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                pct = np.where(obs > 0, 100.0 * (screen["modelled_vph"].to_numpy(float) - obs) / obs, np.nan)
            screen["difference_pct"] = pct
            screen["within_5pct"] = np.abs(pct) <= 5.0
            screen["within_10pct"] = np.abs(pct) <= 10.0
    return ValidationStatistics(sites=sites, screenlines=screen[cols], geh_below_5_share=share, r2=r2, slope=slope, rmse_vph=rmse)


def validate_counts(
    counts_table: pd.DataFrame, match_table: pd.DataFrame, link_id: npt.ArrayLike, flow_vph: npt.ArrayLike
) -> ValidationStatistics:
    """Statistics of the modelled ``flow_vph`` (per ``link_id``) at the matched sites of a counts table
    (one period and class, e.g. ``Counts.for_period``); a ``screenline`` column of the counts is used.
    """
    t = counts_table.assign(h=counts_table["heading_deg"].fillna(-1.0))
    mt = match_table.assign(h=match_table["heading_deg"].fillna(-1.0))[["site_id", "h", "status", "link_id"]]
    j = t.drop(columns="link_id").merge(mt, on=["site_id", "h"], how="left")
    j = j[j["status"] == "matched"]
    flow = pd.Series(np.asarray(flow_vph, dtype=np.float64), index=np.asarray(link_id))
    m = flow.reindex(j["link_id"].to_numpy()).to_numpy()
    sl = j["screenline"].to_numpy(object) if "screenline" in j.columns else None
    return validation_statistics(m, j["count_vph"].to_numpy(float), site_id=j["site_id"].to_numpy(object), screenline=sl)
