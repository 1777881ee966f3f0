"""Read-only dashboards: a scenario picker, split maps and the indicator table, for Voila.

A policymaker opens a use-case notebook as a dashboard (Voila strips the code and hides
tracebacks). :class:`ScenarioDashboard` is the one widget the notebook displays: a
scenario dropdown, a layer switch (traffic flow, change in flow, noise Lden, NO2), a split
map baseline | scenario on shared colour scales, and the indicator table with differences
against the baseline.

The scenario can be preselected from the page URL (``…/?scenario=closed_both``). The
value is only ever *compared* against a fixed whitelist (:func:`scenario_from_query`);
anything else falls back to the default and shows a notice. Nothing from the URL is
evaluated, imported or used as a path.

Run a dashboard with the repository's locked-down Voila settings (:func:`voila_command`)::

    JUPYTER_PATH=templates voila notebooks/bridge_closure.ipynb \\
        --Voila.config_file_paths="['templates']" --template=ldtkit

Examples
--------
>>> scenario_from_query("scenario=closed_both", allowed=["baseline", "closed_both"], default="baseline")
('closed_both', None)
>>> name, notice = scenario_from_query("scenario=__import__('os')", allowed=["baseline"], default="baseline")
>>> name, notice is not None
('baseline', True)
"""

from __future__ import annotations

import html
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import numpy as np
import pandas as pd

from ldtkit.errors import InvalidValueError, MissingFieldError
from ldtkit.resources import templates_dir
from ldtkit.viz.maps import ColorScale, CompareMap, aggregate_directions, grid_image, lden_scale, links_geojson, no2_scale

if TYPE_CHECKING:
    import geopandas as gpd

#: The query parameter that preselects a scenario.
QUERY_KEY = "scenario"
#: Longest query value echoed back in a notice (the rest is cut).
_MAX_ECHO = 40

#: Friendly labels for indicator names produced by :func:`ldtkit.study.compare.indicators_table`.
INDICATOR_LABELS: dict[str, str] = {
    "vehicle_km": "Vehicle-kilometres per day",
    "vehicle_hours": "Vehicle-hours per day",
    "delay_vehicle_hours": "Delay (vehicle-hours per day)",
    "mean_delay_s_per_km": "Mean delay (s per km)",
    "people NO2 > 40 ug/m3": "People above 40 µg/m³ NO₂",
    "population-weighted NO2 ug/m3": "Population-weighted NO₂ (µg/m³)",
    "CO2 t/day": "CO₂ (t/day)",
    "mean_delay_min": "Mean delay per trip (min)",
    "co2_t_per_day": "CO₂ (t/day)",
    "co2_t_day": "CO₂ (t/day)",
    "people_no2_above_40": "People above 40 µg/m³ NO₂",
    "people_above_40_no2": "People above 40 µg/m³ NO₂",
}

#: The repository's templates folder (Voila/nbconvert templates, voila.json); absent in a wheel install.
TEMPLATES_DIR = templates_dir()


# --------------------------------------------------------------------------- URL query
def scenario_from_query(
    query_string: str | None,
    *,
    allowed: Iterable[str],
    default: str,
    key: str = QUERY_KEY,
) -> tuple[str, str | None]:
    """Pick the scenario named in a URL query string, from a fixed whitelist only.

    Parameters
    ----------
    query_string
        The raw query string (``"scenario=closed_both"``), e.g. from :func:`current_query_string`.
    allowed
        The scenario names the dashboard offers.
    default
        Shown when the query names no scenario or one outside ``allowed``.
    key
        The query parameter.

    Returns
    -------
    (name, notice)
        ``name`` is always one of ``allowed``; ``notice`` is a plain-text message for the
        user when the query was not honoured (unknown value, repeated key, unknown
        parameters), else ``None``. The value is compared as a string and never evaluated.

    Examples
    --------
    >>> scenario_from_query("", allowed=["a", "b"], default="a")
    ('a', None)
    >>> scenario_from_query("scenario=b&scenario=a", allowed=["a", "b"], default="a")[1]
    "The link asked for more than one scenario; showing the default 'a'."
    """
    allowed = [str(a) for a in allowed]
    if default not in allowed:
        raise InvalidValueError(f"scenario_from_query: default {default!r} is not among the allowed scenarios {allowed}")
    try:
        params = parse_qs(query_string or "", keep_blank_values=True, strict_parsing=False, max_num_fields=20)
    except ValueError:  # too many fields
        return default, f"The link's parameters could not be read; showing the default {default!r}."
    notices: list[str] = []
    unknown = sorted(k for k in params if k != key)
    if unknown:
        notices.append("Ignored link parameter(s): " + ", ".join(repr(_clip(k)) for k in unknown[:5]) + ".")
    values = params.get(key, [])
    name = default
    if len(values) > 1:
        notices.insert(0, f"The link asked for more than one scenario; showing the default {default!r}.")
    elif len(values) == 1:
        v = values[0]
        if v in allowed:
            name = v
        else:
            notices.insert(
                0,
                f"Unknown scenario {_clip(v)!r} in the link; showing the default {default!r}. Available: {', '.join(allowed)}.",
            )
    return name, (" ".join(notices) if notices else None)


def _clip(s: str) -> str:
    s = "".join(ch if ch.isprintable() else "?" for ch in str(s))
    return s if len(s) <= _MAX_ECHO else s[:_MAX_ECHO] + "…"


def current_query_string() -> str:
    """The page's URL query string inside a Voila kernel (``""`` elsewhere).

    Voila passes it in the ``QUERY_STRING`` environment variable; with preheated kernels the
    request arrives later, so this waits for it first (``voila.utils.wait_for_request``).
    """
    if os.environ.get("VOILA_PREHEAT", "False") == "True":  # pragma: no cover - needs a preheated Voila
        from voila.utils import wait_for_request

        wait_for_request()
    return os.environ.get("QUERY_STRING", "")


def in_voila() -> bool:
    """Whether the code runs in a Voila kernel (preheated or not).

    Voila sets ``VOILA_PREHEAT`` / ``VOILA_APP_PORT`` when it starts a pooled kernel, and
    ``VOILA_KERNEL_ID`` / ``SERVER_SOFTWARE`` with the request.
    """
    env = os.environ
    return bool(
        env.get("VOILA_KERNEL_ID")
        or env.get("VOILA_PREHEAT")
        or env.get("VOILA_APP_PORT")
        or "voila" in env.get("SERVER_SOFTWARE", "").lower()
    )


# --------------------------------------------------------------------------- indicator table
def indicator_label(name: str) -> str:
    """A readable label for an indicator name.

    Examples
    --------
    >>> indicator_label("vehicle_km"), indicator_label("flow_vph: R40 bridge"), indicator_label("no2_ugm3")
    ('Vehicle-kilometres per day', 'Flow on R40 bridge (veh/h)', 'No2 (µg/m³)')
    """
    if name in INDICATOR_LABELS:
        return INDICATOR_LABELS[name]
    s = str(name)
    if s.startswith("flow_vph: "):
        return f"Flow on {s[len('flow_vph: ') :]} (veh/h)"
    for unit, nice in (
        ("_ugm3", " (µg/m³)"),
        ("_db", " (dB)"),
        ("_vph", " (veh/h)"),
        ("_min", " (min)"),
        ("_km", " (km)"),
        ("_t_day", " (t/day)"),
    ):
        if s.endswith(unit):
            s = s[: -len(unit)] + nice
            break
    s = s.replace("_", " ")
    return s[:1].upper() + s[1:]


def indicator_differences(table: pd.DataFrame, *, baseline: str) -> pd.DataFrame:
    """Indicators (rows) × scenarios (columns) with Δ and Δ% columns against ``baseline``.

    Accepts either orientation: scenarios as columns, or scenarios as the index (it is
    transposed). Non-numeric rows are dropped.

    Examples
    --------
    >>> t = pd.DataFrame({"baseline": [100.0, 10.0], "closed": [110.0, 10.0]}, index=["vehicle_km", "vehicle_hours"])
    >>> indicator_differences(t, baseline="baseline").loc["vehicle_km"].tolist()
    [100.0, 110.0, 10.0, 10.0]
    """
    t = table
    if baseline not in t.columns and baseline in t.index:
        t = t.T
    # ldtkit.study.compare.indicators_table adds "<name> Δ" columns: recomputed here
    t = t[[c for c in t.columns if not str(c).endswith(" Δ")]]
    if baseline not in t.columns:
        raise MissingFieldError("indicator table", baseline, expected=f"the baseline as a column or row; have {list(t.columns)}")
    t = t.apply(pd.to_numeric, errors="coerce").dropna(how="all")
    base = t[baseline]
    out = {baseline: base}
    for col in t.columns:
        if col == baseline:
            continue
        out[col] = t[col]
        out[f"Δ {col}"] = t[col] - base
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"Δ% {col}"] = np.where(base.abs() > 0, (t[col] - base) / base.abs() * 100.0, np.nan)
    return pd.DataFrame(out, index=t.index)


def indicator_table_html(
    table: pd.DataFrame,
    *,
    baseline: str,
    scenarios: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    caption: str | None = None,
) -> str:
    """An HTML table: one row per indicator, baseline value, then value, Δ and Δ% per scenario.

    Increases are red and decreases green (for every indicator here, less is better).
    Values and labels are HTML-escaped.
    """
    d = indicator_differences(table, baseline=baseline)
    cols = [c for c in d.columns if c != baseline and not str(c).startswith("Δ")]
    if scenarios is not None:
        cols = [c for c in cols if c in scenarios]
    labels = dict(labels or {})
    th = "style='text-align:right;padding:3px 8px;border-bottom:1px solid #999'"
    head = f"<th style='text-align:left;padding:3px 8px;border-bottom:1px solid #999'>Indicator</th><th {th}>{html.escape(labels.get(baseline, baseline))}</th>"
    for c in cols:
        name = html.escape(labels.get(c, c))
        head += f"<th {th}>{name}</th><th {th}>Δ</th><th {th}>Δ %</th>"
    rows = []
    for ind in d.index:
        cells = f"<td style='text-align:left;padding:3px 8px'>{html.escape(indicator_label(str(ind)))}</td><td style='text-align:right;padding:3px 8px'>{_num(d.at[ind, baseline])}</td>"
        for c in cols:
            delta, pct = d.at[ind, f"Δ {c}"], d.at[ind, f"Δ% {c}"]
            colour = "#b2182b" if delta > 0 else ("#1a7837" if delta < 0 else "#333")
            cells += (
                f"<td style='text-align:right;padding:3px 8px'>{_num(d.at[ind, c])}</td>"
                f"<td style='text-align:right;padding:3px 8px;color:{colour}'>{_num(delta, signed=True)}</td>"
                f"<td style='text-align:right;padding:3px 8px;color:{colour}'>{_pct(pct)}</td>"
            )
        rows.append(f"<tr>{cells}</tr>")
    cap = f"<caption style='text-align:left;font-weight:600;padding:4px 0'>{html.escape(caption)}</caption>" if caption else ""
    return (
        "<table class='ldtkit-indicators' style='border-collapse:collapse;font:13px sans-serif'>"
        f"{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _num(x: float, *, signed: bool = False) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    a = abs(x)
    fmt = "{:+,.0f}" if signed else "{:,.0f}"
    if a < 10:
        fmt = "{:+,.2f}" if signed else "{:,.2f}"
    elif a < 1000:
        fmt = "{:+,.1f}" if signed else "{:,.1f}"
    return fmt.format(x)


def _pct(x: float) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:+.1f}%"


def plot_indicator_changes(
    table: pd.DataFrame,
    *,
    baseline: str,
    scenarios: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    ax=None,
):
    """A horizontal bar chart of the % change of each indicator against the baseline."""
    import matplotlib.pyplot as plt

    d = indicator_differences(table, baseline=baseline)
    cols = [c[3:] for c in d.columns if c.startswith("Δ% ")]
    if scenarios is not None:
        cols = [c for c in cols if c in scenarios]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.45 * len(d) + 1.2), layout="constrained")
    y = np.arange(len(d))
    h = 0.8 / max(len(cols), 1)
    for i, c in enumerate(cols):
        ax.barh(y + i * h - 0.4 + h / 2, np.nan_to_num(d[f"Δ% {c}"].to_numpy(float)), height=h, label=(labels or {}).get(c, c))
    ax.set_yticks(y, [indicator_label(str(i)) for i in d.index])
    ax.axvline(0, color="#333", lw=0.8)
    ax.set_xlabel(f"change against {baseline} (%)")
    ax.invert_yaxis()
    if len(cols) > 1:
        ax.legend(fontsize=8)
    return ax


# --------------------------------------------------------------------------- per-scenario map data
@dataclass
class ScenarioView:
    """What the dashboard maps for one scenario, in the city's CRS.

    Attributes
    ----------
    name
        Scenario name (the whitelist key).
    label
        Human-readable title.
    links
        Road links with ``flow_vph`` (two directions summed per road) and geometry.
    noise
        Receptor points with ``lden_db`` (or ``None`` when noise was not modelled).
    air
        Receptor points with ``no2_ugm3`` (or ``None``).
    """

    name: str
    label: str
    links: gpd.GeoDataFrame
    noise: gpd.GeoDataFrame | None = None
    air: gpd.GeoDataFrame | None = None


def view_from_result(
    name: str,
    result: Any,
    *,
    label: str | None = None,
    bbox_wgs84: Sequence[float] | None = None,
    period: str = "day",
    shared_points: dict | None = None,
) -> ScenarioView:
    """A :class:`ScenarioView` from a :class:`ldtkit.study.runner.ScenarioResult`.

    Link flows are the ``period``'s hourly traffic (``result.traffic``) or, without it, the
    assignment's flows per class summed; both directions of a road are summed. Links are
    clipped to ``bbox_wgs84`` (lon/lat min, max) to keep the map light. ``shared_points``: a
    dict reused across calls, so that maps on the same receptors build their points once.
    """
    import geopandas as gpd

    links = result.network.links
    flow = None
    traffic = getattr(result, "traffic", None) or {}
    if period in traffic:
        t = traffic[period]
        flow = pd.Series(np.asarray(t.total_vph, dtype=float), index=np.asarray(t.link_id))
    elif getattr(result, "assignment", None) is not None:
        a = result.assignment
        total = np.sum([np.asarray(v, dtype=float) for v in a.flow_vph.values()], axis=0)
        flow = pd.Series(total, index=np.asarray(a.link_id))
    if flow is None:
        raise MissingFieldError(f"scenario {name!r}", "traffic", expected="a result with traffic or assignment flows")
    from ldtkit.model.network import CONNECTOR_CLASS

    g = links[["link_id", "source_id", "car_allowed", "road_class", links.geometry.name]].copy()
    g["flow_vph"] = g["link_id"].map(flow).fillna(0.0).to_numpy(float)
    # roads only: no zone connectors, no links closed to cars in every scenario's own network
    g = g[g["car_allowed"].to_numpy(bool) & g.geometry.notna().to_numpy() & (g["road_class"] != CONNECTOR_CLASS).to_numpy()]
    if bbox_wgs84 is not None:
        box = gpd.GeoSeries.from_xy([bbox_wgs84[0], bbox_wgs84[2]], [bbox_wgs84[1], bbox_wgs84[3]], crs=4326).to_crs(g.crs)
        minx, miny = box.x.min(), box.y.min()
        maxx, maxy = box.x.max(), box.y.max()
        g = g.cx[minx:maxx, miny:maxy]
    g = g.assign(source_id=g["source_id"].where(g["source_id"].notna(), "link:" + g["link_id"].astype(str)))
    g = aggregate_directions(g, ["flow_vph"], key="source_id")
    points = shared_points if shared_points is not None else {}
    noise = air = None
    if getattr(result, "noise", None) is not None:
        noise = result.noise.to_geodataframe(geometry=_receptor_points(result.noise.receptors, points))
    if getattr(result, "air", None) is not None:
        air = result.air.to_geodataframe(geometry=_receptor_points(result.air.receptors, points))
    return ScenarioView(name=name, label=label or name, links=g.reset_index(drop=True), noise=noise, air=air)


def _receptor_points(receptors: Any, built: dict) -> Any:
    """The receptors' points, built once per distinct receptor set (``built`` is the memo)."""
    import hashlib

    import geopandas as gpd

    x, y = np.ascontiguousarray(receptors.x, dtype=float), np.ascontiguousarray(receptors.y, dtype=float)
    key = hashlib.sha1(x.tobytes() + y.tobytes()).hexdigest()
    if key not in built:
        built[key] = gpd.points_from_xy(x, y)
    return built[key]


def views_from_results(
    results: Mapping[str, Any],
    *,
    city: Any = None,
    labels: Mapping[str, str] | None = None,
    baseline_label: str = "Baseline (today)",
) -> dict[str, ScenarioView]:
    """:class:`ScenarioView` per result of :func:`ldtkit.study.runner.run`, clipped to the city's focus area.

    ``labels`` maps scenario names to titles (default: the names); the baseline gets ``baseline_label``.
    """
    bbox = None
    if city is not None:
        bbox = city.section("focus").get("bbox") if hasattr(city, "section") else None
    labels = dict(labels or {})
    out: dict[str, ScenarioView] = {}
    points: dict = {}  # the scenarios' maps share their receptors: build the points once
    for name, res in results.items():
        label = baseline_label if name == "baseline" else labels.get(name, name)
        out[name] = view_from_result(name, res, label=label, bbox_wgs84=bbox, shared_points=points)
    return out


def unassigned_summary(results: Mapping[str, Any], *, labels: Mapping[str, str] | None = None) -> str | None:
    """A sentence per scenario whose measures left car trips without a route (``on_disconnected="drop"``).

    Reads ``assignment.unassigned`` (day period, trips per hour); ``None`` when every trip was assigned.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> r = {"walk": NS(assignment=NS(unassigned=pd.DataFrame({"trips": [500.0, 222.6]})))}
    >>> unassigned_summary(r, labels={"walk": "Great Walk"})
    'Great Walk: 723 vehicle trips per hour (day period) have no road route any more and are not assigned.'
    """
    notes = []
    for name, res in results.items():
        un = getattr(getattr(res, "assignment", None), "unassigned", None)
        if un is not None and len(un) and float(un["trips"].sum()) > 0:
            label = (labels or {}).get(name, name)
            notes.append(
                f"{label}: {float(un['trips'].sum()):,.0f} vehicle trips per hour (day period) have no road route any more and are not assigned."
            )
    return " ".join(notes) if notes else None


def focus_center(city: Any) -> tuple[float, float]:
    """``(lat, lon)`` of the middle of the city's ``[focus] bbox`` (WGS84)."""
    bbox = city.section("focus").get("bbox")
    if not bbox or len(bbox) != 4:
        raise MissingFieldError(getattr(city, "config_path", "city.toml"), "focus.bbox", expected="[lon_min, lat_min, lon_max, lat_max]")
    return ((bbox[1] + bbox[3]) / 2.0, (bbox[0] + bbox[2]) / 2.0)


def static_report(
    views: Mapping[str, ScenarioView],
    indicators: pd.DataFrame | None,
    *,
    baseline: str = "baseline",
    title: str = "",
) -> None:
    """Display the report version of a dashboard: tables and static figures, no widgets.

    The indicator table and a chart of the indicator changes of all scenarios; the baseline's
    maps (flow, and Lden and NO2 when modelled); then for every scenario the maps of its
    changes against the baseline, one diverging scale per quantity across scenarios. (The
    dashboard shows each scenario's own maps, side by side with the baseline's.)
    """
    import matplotlib.pyplot as plt
    from IPython.display import HTML, Markdown, display

    from ldtkit.viz.maps import plot_difference, plot_grid, plot_links

    base = views[baseline]
    names = [n for n in views if n != baseline]
    labels = {n: v.label for n, v in views.items()}
    no2 = no2_scale(*[v.air["no2_ugm3"].to_numpy(float) for v in views.values() if v.air is not None], label="NO₂ (µg/m³)")
    # (attribute of the view, column, scale, title, title of the change)
    layers = [("links", "flow_vph", ColorScale.shared(*[v.links["flow_vph"].to_numpy(float) for v in views.values()], label="Traffic flow (veh/h)", vmin=0.0),
               "Traffic flow, mean hour 07–19", "Change in flow (veh/h)")]  # fmt: skip
    if base.noise is not None:
        layers.append(("noise", "lden_db", lden_scale("Lden (dB)"), "Noise Lden", "Change in Lden (dB)"))
    if base.air is not None:
        layers.append(("air", "no2_ugm3", no2, "NO₂ annual mean", "Change in NO₂ (µg/m³)"))
    diffs = {}  # (attribute, scenario) -> scenario − baseline as column d_<col>
    for attr, col, *_ in layers:
        for n in names:
            other = getattr(views[n], attr)
            if other is not None:
                b = getattr(base, attr)
                diffs[attr, n] = flow_difference(b, other) if attr == "links" else grid_difference(b, other, col)
    diff_scales = {
        attr: ColorScale.diverging(*[d[f"d_{col}"].to_numpy(float) for (a, _), d in diffs.items() if a == attr],
                                   label=dlabel, quantile=0.98 if attr == "links" else 0.995)
        for attr, col, _, _, dlabel in layers
        if any(a == attr for a, _ in diffs)
    }  # fmt: skip

    def draw(attr, gdf, col, scale, ax, title, *, change=False):
        if attr == "links":
            (plot_difference if change else plot_links)(
                gdf, col, scale=scale, ax=ax, title=title, background=base.links if change else None
            )
        else:
            plot_grid(gdf, col, scale=scale, ax=ax, title=title, links=base.links if change else None)

    if indicators is not None and names:
        display(Markdown("## Indicators"))
        display(HTML(indicator_table_html(indicators, baseline=baseline, labels=labels)))
        ax = plot_indicator_changes(indicators, baseline=baseline, labels=labels)
        plt.show()
        plt.close(ax.figure)
    display(Markdown(f"## {base.label}"))
    fig, axes = plt.subplots(1, len(layers), figsize=(6.2 * len(layers), 5.2), layout="constrained", squeeze=False)
    for ax, (attr, col, scale, what, _) in zip(axes[0], layers):
        draw(attr, getattr(base, attr), col, scale, ax, what)
    plt.show()
    plt.close(fig)
    for n in names:
        v = views[n]
        display(Markdown(f"## {v.label}\n\nChange against {base.label}."))
        shown = [layer for layer in layers if (layer[0], n) in diffs]
        fig, axes = plt.subplots(1, len(shown), figsize=(6.2 * len(shown), 5.2), layout="constrained", squeeze=False)
        for ax, (attr, col, _, _, dlabel) in zip(axes[0], shown):
            draw(attr, diffs[attr, n], f"d_{col}", diff_scales[attr], ax, dlabel, change=True)
        plt.show()
        plt.close(fig)


def grid_difference(base: gpd.GeoDataFrame, scen: gpd.GeoDataFrame, column: str) -> gpd.GeoDataFrame:
    """Scenario − baseline ``column`` at the same receptors, as ``d_<column>`` (NaN where either
    is not finite, e.g. Lden −inf where no road is heard).

    Raises
    ------
    InvalidValueError
        If the two maps are not on the same receptors (count or positions differ).

    Examples
    --------
    >>> import geopandas as gpd
    >>> pts = gpd.points_from_xy([0, 10], [0, 0])
    >>> b = gpd.GeoDataFrame({"lden_db": [60.0, -np.inf]}, geometry=pts)
    >>> s = gpd.GeoDataFrame({"lden_db": [57.5, 50.0]}, geometry=pts)
    >>> grid_difference(b, s, "lden_db")["d_lden_db"].tolist()
    [-2.5, nan]
    """
    import geopandas as gpd

    if len(base) != len(scen) or not (
        np.allclose(base.geometry.x.to_numpy(), scen.geometry.x.to_numpy())
        and np.allclose(base.geometry.y.to_numpy(), scen.geometry.y.to_numpy())
    ):
        raise InvalidValueError(
            f"grid_difference({column!r}): baseline and scenario maps are not on the same receptors ({len(base)} vs {len(scen)})"
        )
    b, s = base[column].to_numpy(float), scen[column].to_numpy(float)
    d = np.where(np.isfinite(b) & np.isfinite(s), s - b, np.nan)
    return gpd.GeoDataFrame({f"d_{column}": d}, geometry=base.geometry.to_numpy(), crs=base.crs)


def flow_difference(base: gpd.GeoDataFrame, scen: gpd.GeoDataFrame, *, key: str = "source_id") -> gpd.GeoDataFrame:
    """Scenario − baseline ``flow_vph`` per road (outer join on ``key``), as ``d_flow_vph``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> ls = [LineString([(0, 0), (1, 0)]), LineString([(1, 0), (1, 1)])]
    >>> b = gpd.GeoDataFrame({"source_id": ["a", "b"], "flow_vph": [100.0, 50.0]}, geometry=ls)
    >>> s = gpd.GeoDataFrame({"source_id": ["a"], "flow_vph": [30.0]}, geometry=ls[:1])
    >>> flow_difference(b, s).set_index("source_id")["d_flow_vph"].to_dict()
    {'a': -70.0, 'b': -50.0}
    """
    import geopandas as gpd

    b = base.set_index(key)
    s = scen.set_index(key)
    idx = b.index.union(s.index)
    d = s["flow_vph"].reindex(idx).fillna(0.0) - b["flow_vph"].reindex(idx).fillna(0.0)
    geom = b.geometry.reindex(idx)
    geom = geom.where(geom.notna(), s.geometry.reindex(idx))
    out = gpd.GeoDataFrame({key: idx, "d_flow_vph": d.to_numpy(float)}, geometry=geom.to_numpy(), crs=base.crs)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- the dashboard widget
#: A transparent 1 × 1 PNG (placeholder for grid overlays not rendered yet).
_EMPTY_PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
LAYERS: dict[str, str] = {
    "flow": "Traffic flow",
    "diff": "Change in flow",
    "lden": "Noise (Lden)",
    "no2": "NO₂",
}


class ScenarioDashboard:
    """Scenario dropdown + layer switch + split map + indicator table, in one widget.

    Parameters
    ----------
    views
        ``{name: ScenarioView}``, the baseline included.
    baseline
        Name of the baseline view (always the left half of the map).
    indicators
        The indicators table (indicators × scenarios, or scenarios × indicators), or ``None``.
    default
        The scenario shown first (e.g. from :func:`scenario_from_query`).
    notice
        A message shown above the map (e.g. the query notice), or ``None``.
    center, zoom, basemap
        As for :class:`~ldtkit.viz.maps.CompareMap`.
    title
        Heading of the dashboard.
    prerender_grids
        Render the noise and NO2 images of the baseline and the default scenario now (a few
        seconds for 10 m grids) rather than on first click; worth it in a preheated Voila kernel.
    classes
        Draw links in this many colour classes, each class one SVG path (fast in the browser);
        ``None`` draws every road as its own path with its exact colour.

    Examples
    --------
    >>> name, notice = scenario_from_query(current_query_string(), allowed=views, default="closed_both")  # doctest: +SKIP
    >>> ScenarioDashboard(views, baseline="baseline", indicators=table, default=name, notice=notice,
    ...                   center=(51.05, 3.72)).widget  # doctest: +SKIP
    """

    def __init__(
        self,
        views: Mapping[str, ScenarioView],
        *,
        baseline: str,
        indicators: pd.DataFrame | None = None,
        default: str | None = None,
        notice: str | None = None,
        center: tuple[float, float],
        zoom: float = 14,
        basemap: str | None = None,
        title: str = "",
        height: str = "520px",
        classes: int | None = 24,
        prerender_grids: bool = False,
    ) -> None:
        import ipywidgets as w

        self.classes = classes
        if baseline not in views:
            raise InvalidValueError(f"ScenarioDashboard: baseline {baseline!r} is not among the views {list(views)}")
        self.views = dict(views)
        self.baseline = baseline
        self.indicators = indicators
        names = [n for n in self.views if n != baseline] or [baseline]
        default = default if default in names else names[0]
        self._geojson_cache: dict[tuple, Any] = {}
        self._image_cache: dict[tuple, Any] = {}
        base = self.views[baseline]
        self._diffs = {n: flow_difference(base.links, v.links) for n, v in self.views.items()}
        # shared colour scales over every scenario, so switching does not rescale
        self.scales: dict[str, ColorScale] = {
            "flow": ColorScale.shared(
                *[v.links["flow_vph"].to_numpy(float) for v in self.views.values()], cmap="viridis", label="Traffic flow (veh/h)", vmin=0.0
            ),
            "diff": ColorScale.diverging(*[d["d_flow_vph"].to_numpy(float) for d in self._diffs.values()], label="Change in flow (veh/h)"),
            "lden": lden_scale("Noise Lden (dB)"),
            "no2": no2_scale(*[v.air["no2_ugm3"].to_numpy(float) for v in self.views.values() if v.air is not None], label="NO₂ (µg/m³)"),
        }
        self._grey = ColorScale(0.0, 1.0, cmap="Greys", label="")
        layer_options = [(LAYERS["flow"], "flow"), (LAYERS["diff"], "diff")]
        if base.noise is not None:
            layer_options.append((LAYERS["lden"], "lden"))
        if base.air is not None:
            layer_options.append((LAYERS["no2"], "no2"))

        self.dropdown = w.Dropdown(
            options=[(self.views[n].label, n) for n in names],
            value=default,
            description="Scenario:",
            style={"description_width": "initial"},
            layout=w.Layout(width="360px"),
        )
        self.layer_switch = w.ToggleButtons(options=layer_options, value="flow", style={"button_width": "130px"})
        self.notice = w.HTML(self._notice_html(notice), layout=w.Layout(display="block" if notice else "none"))
        self.title = w.HTML(f"<h2 style='margin:4px 0'>{html.escape(title)}</h2>" if title else "")
        self.table = w.HTML()
        self.chart = w.Image(format="png", layout=w.Layout(max_width="760px"))

        self.cmap = CompareMap(base.label, self.views[default].label, center=center, zoom=zoom, basemap=basemap, height=height)
        self._grid_left = self._grid_right = None
        if base.noise is not None or base.air is not None:
            # images are rendered on first use of a grid layer; start with an empty, hidden overlay
            import ipyleaflet

            for side in ("left", "right"):
                layer = ipyleaflet.ImageOverlay(
                    url=_EMPTY_PNG, bounds=[[center[0], center[1]], [center[0], center[1]]], name=f"grid ({side})", visible=False
                )
                self.cmap._register(layer, side, layer.name)
                setattr(self, f"_grid_{side}", layer)
        self._links_left = self.cmap.add_links(base.links, "flow_vph", side="left", scale=self.scales["flow"], name="baseline")
        self._links_right = self.cmap.add_links(
            self.views[default].links, "flow_vph", side="right", scale=self.scales["flow"], name="scenario"
        )
        self._links_left.hover_style = self._links_right.hover_style = {}
        self.legend = self.cmap.add_legend(self.scales["flow"], key="main")
        if prerender_grids:
            for n in (baseline, default):
                for mode in ("lden", "no2"):
                    self._grid_data(n, mode)
        self.dropdown.observe(self._on_change, names="value")
        self.layer_switch.observe(self._on_change, names="value")
        self.widget = w.VBox(
            [
                self.title,
                self.notice,
                w.HBox([self.dropdown, self.layer_switch], layout=w.Layout(flex_flow="row wrap", grid_gap="12px")),
                self.cmap.widget,
                self.table,
                self.chart,
            ],
            layout=w.Layout(width="100%"),
        )
        self._refresh()

    @staticmethod
    def _notice_html(notice: str | None) -> str:
        if not notice:
            return ""
        return (
            "<div class='ldtkit-notice' role='status' style='background:#fff4ce;border-left:4px solid #c99a00;"
            f"padding:6px 10px;font:13px sans-serif'>{html.escape(notice)}</div>"
        )

    def select(self, name: str, notice: str | None = None) -> None:
        """Show scenario ``name`` (one of the dropdown's) and ``notice``.

        Pair with :func:`scenario_from_query`: build the dashboard first (slow, and done before
        the request in a preheated Voila kernel), then select what the URL asks for (fast).
        """
        allowed = [o[1] for o in self.dropdown.options]
        if name not in allowed:
            raise InvalidValueError(f"ScenarioDashboard.select: {name!r} is not one of {allowed}")
        self.dropdown.value = name
        self.show_notice(notice)

    def show_notice(self, notice: str | None) -> None:
        self.notice.value = self._notice_html(notice)
        self.notice.layout.display = "block" if notice else "none"

    @property
    def scenario(self) -> str:
        return self.dropdown.value

    @property
    def layer(self) -> str:
        return self.layer_switch.value

    def _links_data(self, name: str, mode: str):
        """GeoJSON of one side; quiet streets are merged into one grey context path (fast maps)."""
        key = (name, mode)
        if key not in self._geojson_cache:
            v = self.views[name]
            if mode == "flow":
                cut = max(5.0, 0.01 * self.scales["flow"].vmax)
                data = links_geojson(v.links, "flow_vph", self.scales["flow"], width_px=(1.0, 6.0), merge_below=cut, bins=self.classes)
            elif mode == "diff":
                cut = max(5.0, 0.02 * self.scales["diff"].vmax)
                data = links_geojson(
                    self._diffs[name],
                    "d_flow_vph",
                    self.scales["diff"],
                    width_px=(1.0, 7.0),
                    width_by_abs=True,
                    merge_below=cut,
                    bins=self.classes,
                )
            else:  # thin grey streets over a grid: one path
                data = links_geojson(
                    v.links, "flow_vph", self._grey, merge_below=np.inf, merged_style={"color": "#444444", "weight": 0.6, "opacity": 0.5}
                )
            self._geojson_cache[key] = data
        return self._geojson_cache[key]

    def _grid_data(self, name: str, mode: str):
        key = (name, mode)
        if key not in self._image_cache:
            v = self.views[name]
            gdf, col = (v.noise, "lden_db") if mode == "lden" else (v.air, "no2_ugm3")
            self._image_cache[key] = None if gdf is None else grid_image(gdf, col, self.scales[mode])
        return self._image_cache[key]

    def _on_change(self, change=None) -> None:
        try:
            self._refresh()
        except Exception as exc:  # a dashboard shows a message, never a traceback
            self.show_notice(f"Could not update the view: {exc}")

    def _refresh(self) -> None:
        name, mode = self.scenario, self.layer
        left_mode = "flow" if mode == "diff" else mode
        self._links_left.data = self._links_data(self.baseline, left_mode)
        self._links_right.data = self._links_data(name, mode)
        for layer, view_name in ((self._grid_left, self.baseline), (self._grid_right, name)):
            if layer is None:
                continue
            img = self._grid_data(view_name, mode) if mode in ("lden", "no2") else None
            if img is not None:
                layer.url, layer.bounds = img
            layer.visible = img is not None
        right_title = self.views[name].label + (" − baseline" if mode == "diff" else "")
        self.cmap._title_controls[-1].widget.value = (
            "<div style='font:600 13px sans-serif;padding:2px 6px;background:rgba(255,255,255,.85);border-radius:3px'>"
            f"{html.escape(right_title)}</div>"
        )
        self.legend.widget.value = self.scales[mode].to_html()
        if self.indicators is not None:
            self.table.value = indicator_table_html(
                self.indicators,
                baseline=self.baseline,
                scenarios=[name],
                labels={n: v.label for n, v in self.views.items()},
                caption=f"Indicators: {self.views[name].label} against {self.views[self.baseline].label}",
            )
            self._draw_chart(name)

    def _draw_chart(self, name: str) -> None:
        import matplotlib.pyplot as plt

        from ldtkit.viz.maps import figure_to_png

        ax = plot_indicator_changes(self.indicators, baseline=self.baseline, scenarios=[name])
        ax.set_title(f"{self.views[name].label}: change against {self.views[self.baseline].label}", fontsize=10)
        self.chart.value = figure_to_png(ax.figure, dpi=90)
        plt.close(ax.figure)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


# --------------------------------------------------------------------------- Voila launcher
def voila_command(
    notebook: str | Path,
    *,
    port: int = 8866,
    ip: str = "127.0.0.1",
    open_browser: bool = False,
    python: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment to serve ``notebook`` as a locked-down dashboard.

    Uses ``templates/voila.json`` (strip sources, no tracebacks, no template or theme override
    from the URL, one preheated kernel so the page appears as soon as it is asked for, idle
    kernels culled) and the ``ldtkit`` Voila template from ``templates/``. Notebooks read the
    URL query with :func:`current_query_string`, which waits for the request in a preheated
    kernel; put the slow work (imports, model runs) before that call.

    Returns
    -------
    (argv, env)
        Pass to :class:`subprocess.Popen`; ``env`` is a copy of ``os.environ`` with
        ``JUPYTER_PATH`` extended to find the template.

    Examples
    --------
    >>> argv, env = voila_command("notebooks/bridge_closure.ipynb", port=9000)
    >>> "--VoilaConfiguration.allow_template_override=NO" in argv
    True
    """
    python = python or sys.executable
    argv = [
        python,
        "-m",
        "voila",
        str(notebook),
        f"--port={int(port)}",
        f"--Voila.ip={ip}",
        "--no-browser" if not open_browser else "",
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--VoilaConfiguration.allow_template_override=NO",
        "--VoilaConfiguration.allow_theme_override=NO",
    ]
    env = dict(os.environ)
    if TEMPLATES_DIR.is_dir():
        argv += [f"--Voila.config_file_paths=['{TEMPLATES_DIR}']", "--template=ldtkit"]
        env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(TEMPLATES_DIR), env.get("JUPYTER_PATH", "")) if p)
    bindir = str(Path(python).parent)
    env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")])
    return [a for a in argv if a], env


__all__ = [
    "INDICATOR_LABELS",
    "LAYERS",
    "QUERY_KEY",
    "ScenarioDashboard",
    "ScenarioView",
    "current_query_string",
    "flow_difference",
    "grid_difference",
    "focus_center",
    "in_voila",
    "indicator_differences",
    "indicator_label",
    "indicator_table_html",
    "plot_indicator_changes",
    "scenario_from_query",
    "static_report",
    "unassigned_summary",
    "view_from_result",
    "views_from_results",
    "voila_command",
]
