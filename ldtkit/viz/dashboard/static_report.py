"""The report version of a dashboard: the indicator table, a chart and static maps, no widgets.

HTML reports (:mod:`ldtkit.viz.report`) cannot run widgets offline, so a use-case notebook
run with ``interactive = False`` calls :func:`static_report` instead of showing the
:class:`~ldtkit.viz.dashboard.widget.ScenarioDashboard`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd

from ldtkit.viz.dashboard.indicator_table import headline_html, indicator_table_html, plot_indicator_changes, terms_html
from ldtkit.viz.dashboard.views import ZONE_COLOURS, ScenarioView, SelectLinkView, flow_difference, grid_difference
from ldtkit.viz.maps import ColorScale, change_scale, lden_scale, no2_scale, plot_difference, plot_grid, plot_links
from ldtkit.viz.maps.measures import change_bounds, places_of, plot_marks
from ldtkit.viz.maps.scales import ChangeOf

if TYPE_CHECKING:
    import geopandas as gpd
    import matplotlib.axes


class _Layer(NamedTuple):
    """One quantity of the report: where a view holds it, its scale, its title and its change scale's kind."""

    attr: str  # attribute of ScenarioView: "links", "noise" or "air"
    column: str
    scale: ColorScale
    title: str
    change: ChangeOf


def plot_select_link(
    sl: SelectLinkView, *, background: gpd.GeoDataFrame, ax: matplotlib.axes.Axes, title: str, scale: ColorScale | None = None
) -> matplotlib.axes.Axes:
    """Who used the selected links: the select-link flow on every road that traffic took, and a
    circle per zone it came from (filled) or went to (ring), its area in proportion to the trips.

    The report's version of the dashboard's *Who used it* layer; ``background`` is the network
    drawn grey underneath. The axes are framed on the roads and zones shown.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import geopandas as gpd, matplotlib.pyplot as plt
    >>> from shapely.geometry import LineString, Point
    >>> roads = gpd.GeoDataFrame({"select_link_vph": [80.0]}, geometry=[LineString([(0, 0), (100, 0)])], crs=31370)
    >>> zones = gpd.GeoDataFrame({"zone": [1, 2], "origin_vph": [80.0, 0.0], "destination_vph": [0.0, 80.0]},
    ...                          geometry=[Point(0, 0), Point(100, 0)], crs=31370)
    >>> fig, ax = plt.subplots()
    >>> ax = plot_select_link(SelectLinkView((7,), roads, zones, 80.0), background=roads, ax=ax, title="Who used link 7")
    >>> [c.get_sizes().tolist() for c in ax.collections[-2:]]  # origin, destination: the same trips
    [[420.0], [420.0]]
    >>> plt.close(fig)
    """
    import geopandas as gpd

    scale = scale or ColorScale.shared(sl.links["select_link_vph"].to_numpy(float), label="Trips using the selection (veh/h)", vmin=0.0)
    plot_links(sl.links, "select_link_vph", scale=scale, ax=ax, title=title, width=(0.8, 6.0), background=background)
    zones = sl.zones.to_crs(sl.links.crs) if sl.zones.crs is not None and sl.links.crs is not None else sl.zones
    zones = zones[(zones["origin_vph"].to_numpy(float) > 0) | (zones["destination_vph"].to_numpy(float) > 0)]
    biggest = max(float(zones[["origin_vph", "destination_vph"]].to_numpy(float).max(initial=0.0)), 1.0)
    for kind, filled in (("origin", True), ("destination", False)):
        vph = zones[f"{kind}_vph"].to_numpy(float)
        at = zones[vph > 0]
        colour = ZONE_COLOURS[kind]
        ax.scatter(
            at.geometry.x,
            at.geometry.y,
            s=20.0 + 400.0 * vph[vph > 0] / biggest,
            facecolors=colour if filled else "none",
            edgecolors=colour,
            linewidths=1.5,
            alpha=0.75,
            zorder=4,
            label=f"{kind}s of these trips (area: trips)",
        )
    frame = gpd.GeoSeries(list(sl.links.geometry) + list(zones.geometry), crs=sl.links.crs).total_bounds
    pad = 0.05 * max(frame[2] - frame[0], frame[3] - frame[1], 1.0)
    ax.set_xlim(frame[0] - pad, frame[2] + pad)
    ax.set_ylim(frame[1] - pad, frame[3] + pad)
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    return ax


def static_report(
    views: Mapping[str, ScenarioView],
    indicators: pd.DataFrame | None,
    *,
    baseline: str = "baseline",
    title: str = "",
    noise_note: str | None = None,
) -> None:
    """Display the report version of a dashboard: tables and static figures, no widgets.

    The indicator table and a chart of the indicator changes of all scenarios; the baseline's
    maps (flow, and Lden and NO2 when modelled); then for every scenario the maps of its
    changes against the baseline, one diverging scale per quantity across scenarios, and, for a
    scenario with measures, who used the measures' roads before (:func:`plot_select_link`). (The
    dashboard shows each scenario's own maps, side by side with the baseline's.) ``title`` is
    accepted for symmetry with the dashboard; the report's title is the notebook's heading.
    ``noise_note`` (:func:`ldtkit.study.compare.noise_note`: how the noise was computed and where its
    people are counted) is shown under the indicators' heading.
    """
    import matplotlib.pyplot as plt
    from IPython.display import HTML, Markdown, display

    base = views[baseline]
    names = [n for n in views if n != baseline]
    labels = {n: v.label for n, v in views.items()}
    flow = ColorScale.shared(*[v.links["flow_vph"].to_numpy(float) for v in views.values()], label="Traffic flow (veh/h)", vmin=0.0)
    layers = [_Layer("links", "flow_vph", flow, "Traffic flow, mean hour 07–19", "flow")]
    if base.noise is not None:
        layers.append(_Layer("noise", "lden_db", lden_scale("Lden (dB)"), "Noise Lden", "lden"))
    if base.air is not None:
        no2 = no2_scale(*[v.air["no2_ugm3"].to_numpy(float) for v in views.values() if v.air is not None], label="NO₂ (µg/m³)")
        layers.append(_Layer("air", "no2_ugm3", no2, "NO₂ annual mean", "no2"))
    diffs: dict[tuple[str, str], gpd.GeoDataFrame] = {}  # (attribute, scenario) -> scenario − baseline as column d_<col>
    for layer in layers:
        for n in names:
            other = getattr(views[n], layer.attr)
            if other is not None:
                b = getattr(base, layer.attr)
                diffs[layer.attr, n] = flow_difference(b, other) if layer.attr == "links" else grid_difference(b, other, layer.column)
    # one diverging scale per quantity across scenarios, as the dashboard's
    diff_scales = {
        layer.attr: change_scale(layer.change, *[d[f"d_{layer.column}"].to_numpy(float) for (a, _), d in diffs.items() if a == layer.attr])
        for layer in layers
        if any(a == layer.attr for a, _ in diffs)
    }

    def draw(
        attr: str, gdf: gpd.GeoDataFrame, col: str, scale: ColorScale, ax: matplotlib.axes.Axes, title: str, *, change: bool = False
    ) -> None:
        if attr == "links":
            (plot_difference if change else plot_links)(
                gdf, col, scale=scale, ax=ax, title=title, background=base.links if change else None
            )
        else:
            plot_grid(gdf, col, scale=scale, ax=ax, title=title, links=base.links if change else None)

    if indicators is not None and names:
        display(Markdown("## Indicators"))
        if noise_note:
            display(Markdown(noise_note))
        for name in names:
            display(HTML(headline_html(indicators, baseline=baseline, scenario=name, labels=labels)))
        display(HTML(indicator_table_html(indicators, baseline=baseline, labels=labels) + terms_html(open_=True)))
        fig = plot_indicator_changes(indicators, baseline=baseline, labels=labels)
        plt.show()
        plt.close(fig)
    display(Markdown(f"## {base.label}"))
    fig, axes = plt.subplots(1, len(layers), figsize=(6.2 * len(layers), 5.2), layout="constrained", squeeze=False)
    every_mark = places_of([m for n in names for m in views[n].marks])  # where the scenarios act, not what they do there
    for ax, layer in zip(axes[0], layers):
        draw(layer.attr, getattr(base, layer.attr), layer.column, layer.scale, ax, layer.title)
        plot_marks(ax, every_mark)
    plt.show()
    plt.close(fig)
    for n in names:
        display(Markdown(f"## {views[n].label}\n\nChange against {base.label}."))
        shown = [layer for layer in layers if (layer.attr, n) in diffs]
        fig, axes = plt.subplots(1, len(shown), figsize=(6.2 * len(shown), 5.2), layout="constrained", squeeze=False)
        frame = change_bounds(diffs["links", n], "d_flow_vph", views[n].marks) if ("links", n) in diffs else None
        for ax, layer in zip(axes[0], shown):
            scale = diff_scales[layer.attr]
            draw(layer.attr, diffs[layer.attr, n], f"d_{layer.column}", scale, ax, scale.label, change=True)
            plot_marks(ax, views[n].marks, bounds=frame)  # where and what: the measures, framed on what changes
        plt.show()
        plt.close(fig)
        sl = views[n].select_link
        if sl is not None and len(sl.links):  # where the traffic on the measure's roads came from and went to
            what = ", ".join(dict.fromkeys(m.label for m in views[n].marks))  # each measure once
            display(
                Markdown(
                    f"### Who used {what}\n\n{sl.trips_vph:,.0f} vehicles per hour used these roads in {base.label} "
                    f"(day period, {sl.directions_text}), coming from the filled circles and going to the rings."
                )
            )
            fig, ax = plt.subplots(figsize=(7.5, 6.2), layout="constrained")
            plot_select_link(sl, background=base.links, ax=ax, title=f"{base.label}: trips using the measures' roads (veh/h)")
            plot_marks(ax, views[n].marks)
            plt.show()
            plt.close(fig)


__all__ = ["plot_select_link", "static_report"]
