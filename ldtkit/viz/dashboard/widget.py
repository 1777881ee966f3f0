"""The dashboard widget: scenario dropdown, layer switch, headline, split map and indicator table in one.

A policymaker opens a use-case notebook as a dashboard (Voila strips the code and hides
tracebacks). :class:`ScenarioDashboard` is the one widget the notebook displays: a scenario
dropdown, a layer switch (:data:`LAYERS`: traffic flow, noise Lden, NO2, the change of each, and who
used the measure's roads in the baseline), the headline (what changes, better or worse, above the
map), a split map baseline | scenario on shared colour scales (or, :data:`MAP_VIEWS`, two synced
maps side by side), and the indicator table with differences against the baseline.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ldtkit.errors import InvalidValueError
from ldtkit.viz.dashboard.indicator_table import headline_html, indicator_table_html, plot_indicator_changes, terms_html
from ldtkit.viz.dashboard.views import ZONE_COLOURS, ScenarioView, flow_difference, grid_difference, zones_geojson
from ldtkit.viz.maps import (
    ColorScale,
    CompareMap,
    Side,
    SideBySideMap,
    change_scale,
    figure_to_png,
    grid_image,
    lden_scale,
    links_geojson,
    no2_scale,
)
from ldtkit.viz.maps.context import major_street_labels, street_name_markers
from ldtkit.viz.maps.leaflet import LEGEND_POSITIONS, close_layer, hover_html
from ldtkit.viz.maps.measures import change_bounds

#: Style of the street network drawn under both halves (every road, one path).
NETWORK_STYLE: dict[str, Any] = {"color": "#8c8c8c", "weight": 0.8, "opacity": 0.7}
#: What the hover box lists for a road: column -> caption.
HOVER_FIELDS = {"flow_base_vph": "Before (veh/h)", "flow_vph": "After (veh/h)", "d_flow_vph": "Change (veh/h)"}
#: What hovering a zone circle of the "who used it" view shows: that traffic's trips from and to the zone.
ZONE_HOVER_FIELDS = {"origin_vph": "Trips from here (veh/h)", "destination_vph": "Trips to here (veh/h)"}

if TYPE_CHECKING:  # ipyleaflet loads when a dashboard is made
    import geopandas as gpd
    import ipyleaflet

#: A transparent 1 × 1 PNG (placeholder for grid overlays not rendered yet).
_EMPTY_PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
#: The layer switch's choices: key -> button label.
LAYERS: dict[str, str] = {
    "flow": "Traffic flow",
    "diff": "Change in flow",
    "lden": "Noise (Lden)",
    "no2": "NO₂",
    "dlden": "Change in Lden",
    "dno2": "Change in NO₂",
    "select": "Who used it",
}
#: Tooltips of the layer switch's buttons (the others say what they show).
LAYER_TOOLTIPS: dict[str, str] = {
    "select": "Who used the measure's roads before it: the routes of that traffic and the zones it came from and went to",
}
#: What the left half shows next to each change layer (the baseline, absolute).
_LEFT_OF = {"diff": "flow", "dlden": "lden", "dno2": "no2"}
#: What the left half shows next to the select-link view: the baseline's flow, all traffic.
_LEFT_SIDE = {**_LEFT_OF, "select": "flow"}
#: Origins (filled) and destinations (ring) of the select-link view: colour.
_ZONE_STYLE = ZONE_COLOURS
_EMPTY_FC: dict[str, Any] = {"type": "FeatureCollection", "features": []}
#: Grid layers: key -> (view attribute, column).
_GRIDS = {"lden": ("noise", "lden_db"), "no2": ("air", "no2_ugm3"), "dlden": ("noise", "lden_db"), "dno2": ("air", "no2_ugm3")}
#: The map arrangements: key -> button label (one map with a split handle, or two synced maps).
MAP_VIEWS: dict[str, str] = {"split": "Split map", "side": "Side by side"}


def notice_html(notice: str | None) -> str:
    """The notice box above the map (HTML-escaped), or ``""`` for no notice.

    Examples
    --------
    >>> notice_html("Unknown scenario <b>")[-32:]
    'Unknown scenario &lt;b&gt;</div>'
    """
    if not notice:
        return ""
    return (
        "<div class='ldtkit-notice' role='status' style='background:#fff4ce;border-left:4px solid #c99a00;"
        f"padding:6px 10px;font:13px sans-serif'>{html.escape(notice)}</div>"
    )


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
    context
        Offline map context drawn on both halves (from :func:`~ldtkit.viz.maps.context.context_layers`:
        water, parks, boundary); the names of the major streets are added when the links carry ``name``.
    attribution
        The context layers' credit line (:func:`~ldtkit.viz.maps.context.context_attribution`),
        shown on every map that draws them.
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
        context: Mapping[str, gpd.GeoDataFrame] | None = None,
        attribution: str = "",
    ) -> None:
        import ipyleaflet
        import ipywidgets as w

        self.classes = classes
        if baseline not in views:
            raise InvalidValueError(f"ScenarioDashboard: baseline {baseline!r} is not among the views {list(views)}")
        self.views = dict(views)
        self.baseline = baseline
        self.indicators = indicators
        names = [n for n in self.views if n != baseline] or [baseline]
        default = default if default in names else names[0]
        # per (scenario, layer): the map data, built on first view and reused when switching back
        self._geojson_cache: dict[tuple[str, str], dict[str, Any]] = {}
        self._image_cache: dict[tuple[str, str], tuple[str, list[list[float]]] | None] = {}
        base = self.views[baseline]
        self._diffs = {n: flow_difference(base.links, v.links) for n, v in self.views.items()}
        # shared colour scales over every scenario, so switching does not rescale
        self.scales: dict[str, ColorScale] = {
            "flow": ColorScale.shared(
                *[v.links["flow_vph"].to_numpy(float) for v in self.views.values()], cmap="viridis", label="Traffic flow (veh/h)", vmin=0.0
            ),
            "diff": change_scale("flow", *[d["d_flow_vph"].to_numpy(float) for d in self._diffs.values()]),
            "lden": lden_scale("Noise Lden (dB)"),
            "no2": no2_scale(*[v.air["no2_ugm3"].to_numpy(float) for v in self.views.values() if v.air is not None], label="NO₂ (µg/m³)"),
        }
        # noise and NO2 changes at the receptors, one symmetric scale across scenarios
        self._grid_diffs: dict[tuple[str, str], gpd.GeoDataFrame] = {}
        for mode, of in (("dlden", "lden"), ("dno2", "no2")):
            attr, column = _GRIDS[mode]
            if getattr(base, attr) is None:
                continue
            for n, v in self.views.items():
                if n != baseline and getattr(v, attr) is not None:
                    self._grid_diffs[mode, n] = grid_difference(getattr(base, attr), getattr(v, attr), column)
            if any(m == mode for m, _ in self._grid_diffs):
                self.scales[mode] = change_scale(
                    of, *[d[f"d_{column}"].to_numpy(float) for (m, _), d in self._grid_diffs.items() if m == mode]
                )
        selected = [v.select_link.links["select_link_vph"].to_numpy(float) for v in self.views.values() if v.select_link is not None]
        if selected:
            self.scales["select"] = ColorScale.shared(
                *selected, cmap="plasma_r", label="Baseline traffic using the measure's roads (veh/h)", vmin=0.0
            )
        self._grey = ColorScale(0.0, 1.0, cmap="Greys", label="")
        layer_options = [(LAYERS["flow"], "flow"), (LAYERS["diff"], "diff")]
        if base.noise is not None:
            layer_options.append((LAYERS["lden"], "lden"))
        if base.air is not None:
            layer_options.append((LAYERS["no2"], "no2"))
        layer_options += [(LAYERS[m], m) for m in ("dlden", "dno2", "select") if m in self.scales]

        self.dropdown = w.Dropdown(
            options=[(self.views[n].label, n) for n in names],
            value=default,
            description="Scenario:",
            style={"description_width": "initial"},
            layout=w.Layout(width="360px"),
        )
        self.layer_switch = w.ToggleButtons(
            options=layer_options,
            value="flow",
            tooltips=[LAYER_TOOLTIPS.get(key, label) for label, key in layer_options],
            style={"button_width": "130px"},
        )
        self.notice = w.HTML(notice_html(notice), layout=w.Layout(display="block" if notice else "none"))
        self.title = w.HTML(f"<h2 style='margin:4px 0'>{html.escape(title)}</h2>" if title else "")
        #: what changes for the scenario shown, above the map: the first thing the page says
        self.headline = w.HTML()
        self.table = w.HTML()
        self.chart = w.Image(format="png", layout=w.Layout(max_width="760px"))

        self.cmap = CompareMap(base.label, self.views[default].label, center=center, zoom=zoom, basemap=basemap, height=height)
        self._basemap, self._height, self._context = basemap, height, dict(context or {})
        self._attribution = attribution
        self.pair: SideBySideMap | None = None  #: the side-by-side maps, built when first shown
        self._pair_layers: dict[str, tuple[Any, Any]] = {}
        self._pair_zones: Any = None
        self._pair_marked: str | None = None
        self.map_view = w.ToggleButtons(options=[(v, k) for k, v in MAP_VIEWS.items()], value="split", style={"button_width": "110px"})
        # the map goes in when the dashboard is complete (:meth:`_refresh`): its split control is made once
        self.map_box = w.Box([], layout=w.Layout(width="100%"))
        self._grid_left = self._grid_right = None
        if base.noise is not None or base.air is not None:
            # images are rendered on first use of a grid layer; start with an empty, hidden overlay
            self._grid_left = self._empty_overlay("left", center)
            self._grid_right = self._empty_overlay("right", center)
        self._links_left = self.cmap.add_links(base.links, "flow_vph", side="left", scale=self.scales["flow"], name="baseline")
        self._links_right = self.cmap.add_links(
            self.views[default].links, "flow_vph", side="right", scale=self.scales["flow"], name="scenario"
        )
        self._links_left.hover_style = self._links_right.hover_style = {}
        #: origins and destinations of the select-link view (right half; empty in the other views)
        self._zones_right = self.cmap.add_layer(self._zones_layer(pane="right"), side="right", name="origins and destinations")
        # each under its half's caption: with the top of the map, on the first screen
        self.legend = self.cmap.add_legend(self.scales["flow"], key="main", position=LEGEND_POSITIONS["right"])
        self.legend_left = self.cmap.add_legend(self.scales["flow"], key="left", position=LEGEND_POSITIONS["left"])
        #: the major streets named on every map (with the offline context)
        self.street_labels = major_street_labels(base.links) if context and "name" in base.links.columns else None
        #: every road as one thin grey path under both halves (quiet roads are not drawn twice)
        self._network_data = self._network_geojson()
        #: whether the street network and the context (water, parks, street names) are drawn on the split
        #: map: their layers are there from the start, empty, and get their data once the page has drawn
        #: the roads with traffic (:meth:`add_context`), so the first view comes sooner
        self.context_shown = False
        self._deferred: list[tuple[Any, Any]] = []
        if context:
            self._defer(self.cmap.add_context(self._context, attribution=attribution))
        self.network_layer = self._defer([ipyleaflet.GeoJSON(data=_EMPTY_FC, name="street network")], content=self._network_data)[0]
        self.cmap.map.add(self.network_layer)
        if context and self.street_labels is not None:
            labels = self.street_labels
            self._defer(self.cmap.add_context({}, labels=labels), make=lambda: street_name_markers(labels))
        self.cmap.map.observe(self._on_first_paint, names="bounds")
        self._marked: str | None = None
        self._show_where(default, frame=True)
        if prerender_grids:
            for n in (baseline, default):
                for mode in ("lden", "no2", "dlden", "dno2"):
                    if mode in self.scales and (n != baseline or mode not in _LEFT_OF):
                        self._grid_data(n, mode)
        self.dropdown.observe(self._on_change, names="value")
        self.layer_switch.observe(self._on_change, names="value")
        self.map_view.observe(self._on_change, names="value")
        self.widget = w.VBox(
            [
                self.title,
                self.notice,
                w.HBox([self.dropdown, self.layer_switch, self.map_view], layout=w.Layout(flex_flow="row wrap", grid_gap="12px")),
                self.headline,
                self.map_box,
                self.table,
                self.chart,
            ],
            layout=w.Layout(width="100%"),
        )
        self._refresh()

    def _on_first_paint(self, change: Any = None) -> None:
        """The page drew the map (it reports its bounds): now add the context under the data."""
        self.cmap.map.unobserve(self._on_first_paint, names="bounds")
        self.add_context()

    def _defer(self, layers: list[Any], *, content: dict[str, Any] | None = None, make: Callable[[], list[Any]] | None = None) -> list[Any]:
        """Empty ``layers`` (GeoJSON, or groups of markers) now; :meth:`add_context` gives them their content.

        A GeoJSON layer gets ``content`` later (default: its own data). A group of markers gets its own
        markers back, or, with ``make``, the markers ``make()`` returns: they are then closed now and made
        again later, so that the page's first message does not carry them.
        """
        import ipyleaflet

        for layer in layers:
            if isinstance(layer, ipyleaflet.GeoJSON):
                self._deferred.append((layer, layer.data if content is None else content))
                layer.data = _EMPTY_FC
            elif isinstance(layer, ipyleaflet.LayerGroup):
                made = tuple(layer.layers)
                layer.layers = ()
                if make is not None:
                    for marker in made:
                        close_layer(marker)
                self._deferred.append((layer, make if make is not None else made))
        return layers

    def add_context(self) -> None:
        """Draw the offline context, the street network and the major street names on the split map (once).

        Called when the page has drawn the map; call it directly to have them before display. The
        layers are on the map from the start (a change of the map's layers would redraw the halves).
        """
        import ipyleaflet

        if self.context_shown:
            return
        for layer, content in self._deferred:
            if isinstance(layer, ipyleaflet.GeoJSON):  # a GeoJSON layer is a LayerGroup too
                layer.data = content
            else:
                layer.layers = tuple(content() if callable(content) else content)
        self.context_shown = True

    def _network_geojson(self) -> dict[str, Any]:
        """Every road of every view, as one thin grey path (drawn under both halves)."""
        roads = pd.concat([v.links[["source_id", "flow_vph", v.links.geometry.name]] for v in self.views.values()], ignore_index=True)
        roads = roads.drop_duplicates("source_id")
        return links_geojson(roads, "flow_vph", self._grey, merge_below=np.inf, merged_style=NETWORK_STYLE)

    def _show_where(self, name: str, *, frame: bool = False) -> None:
        """Mark ``name``'s measures, make its changed roads hoverable and (``frame``) open on the area that changes."""
        if self._marked == name:
            return
        view, diff = self.views[name], self._diffs[name]
        crs = self.views[self.baseline].links.crs
        self.cmap.add_measures(view.marks, crs=crs)
        self.cmap.add_hover_info(diff, fields=HOVER_FIELDS)  # every road, changed or not
        if frame:
            self.cmap.fit_to(change_bounds(diff, "d_flow_vph", view.marks), crs=crs)
        self._marked = name

    def _empty_overlay(self, side: Side, center: tuple[float, float]) -> ipyleaflet.ImageOverlay:
        import ipyleaflet

        layer = ipyleaflet.ImageOverlay(url=_EMPTY_PNG, bounds=[list(center), list(center)], name=f"grid ({side})", visible=False)
        return self.cmap.add_layer(layer, side=side)

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
        bounds = change_bounds(self._diffs[name], "d_flow_vph", self.views[name].marks)
        self.cmap.fit_to(bounds, crs=self.views[self.baseline].links.crs)
        if self.pair is not None:
            self.pair.fit_to(bounds, crs=self.views[self.baseline].links.crs)

    def show_notice(self, notice: str | None) -> None:
        """Show ``notice`` above the map, or hide the notice when it is ``None``."""
        self.notice.value = notice_html(notice)
        self.notice.layout.display = "block" if notice else "none"

    @property
    def scenario(self) -> str:
        """The scenario shown on the right."""
        return self.dropdown.value

    @property
    def layer(self) -> str:
        """The key in :data:`LAYERS` of the layer shown."""
        return self.layer_switch.value

    def _side_by_side(self) -> SideBySideMap:
        """The two synced maps (built on first use, on the split map's current view)."""
        import ipyleaflet

        if self.pair is None:
            lat, lon = self.cmap.map.center
            pair = SideBySideMap(
                self.views[self.baseline].label, "", center=(lat, lon), zoom=self.cmap.map.zoom, basemap=self._basemap, height=self._height
            )
            if self._context:
                pair.add_context(self._context, attribution=self._attribution)
            for m in (pair.left, pair.right):
                m.add(ipyleaflet.GeoJSON(data=self._network_data, name="street network"))
            if self._context and self.street_labels is not None:
                pair.add_context({}, labels=self.street_labels)
            sides: tuple[Side, Side] = ("left", "right")
            for side in sides:
                grid = None
                if self._grid_left is not None:
                    grid = pair.add_layer(
                        ipyleaflet.ImageOverlay(url=_EMPTY_PNG, bounds=[[lat, lon], [lat, lon]], visible=False), side=side
                    )
                links = pair.add_layer(ipyleaflet.GeoJSON(data=_EMPTY_FC, name=side), side=side)
                self._pair_layers[side] = (grid, links)
            self._pair_zones = pair.add_layer(self._zones_layer(pane=None), side="right")
            self.pair = pair
        return self.pair

    def _links_data(self, name: str, mode: str) -> dict[str, Any]:
        """GeoJSON of one side: the roads above a small cut, in colour classes (the street network
        layer draws every road underneath in grey, once for both halves); over a grid, every road
        as one thin grey path."""
        key = (name, mode)
        if key not in self._geojson_cache:
            v = self.views[name]
            if mode == "flow":
                cut = max(5.0, 0.01 * self.scales["flow"].vmax)
                data = links_geojson(v.links, "flow_vph", self.scales["flow"], width_px=(1.0, 6.0), min_abs_value=cut, bins=self.classes)
            elif mode == "select":  # the baseline traffic that used the measure's roads; none without measures
                sl = v.select_link
                cut = max(1.0, 0.01 * self.scales["select"].vmax)
                data = (
                    _EMPTY_FC
                    if sl is None
                    else links_geojson(sl.links, "select_link_vph", self.scales["select"], width_px=(1.5, 8.0), min_abs_value=cut)
                )
            elif mode == "diff":
                cut = max(5.0, 0.02 * self.scales["diff"].vmax)
                data = links_geojson(
                    self._diffs[name],
                    "d_flow_vph",
                    self.scales["diff"],
                    width_px=(1.0, 7.0),
                    width_by_abs=True,
                    min_abs_value=cut,
                    bins=self.classes,
                )
            else:  # thin grey streets over a grid: one path
                data = links_geojson(
                    v.links, "flow_vph", self._grey, merge_below=np.inf, merged_style={"color": "#444444", "weight": 0.6, "opacity": 0.5}
                )
            self._geojson_cache[key] = data
        return self._geojson_cache[key]

    def _zones_layer(self, *, pane: str | None) -> ipyleaflet.GeoJSON:
        """An empty layer for the origins and destinations (circles; in ``pane`` on the split map);
        hovering or clicking a circle shows its trips in the hover box."""
        import ipyleaflet

        point_style: dict[str, Any] = {"radius": 4, "pane": pane} if pane else {"radius": 4}
        layer = ipyleaflet.GeoJSON(data=_EMPTY_FC, point_style=point_style, name="origins and destinations")
        layer.on_hover(self.show_zone)
        layer.on_click(self.show_zone)
        layer.on_msg(self._zone_mouse)
        return layer

    def _zone_mouse(self, _: Any, content: Mapping[str, Any], buffers: Any = None) -> None:
        """While the mouse is on a zone circle, the roads under it do not take over the hover box."""
        event = content.get("event") if isinstance(content, Mapping) else None
        if event in ("mouseover", "mouseout"):
            paused = event == "mouseover"
            self.cmap.hover_paused = paused
            if self.pair is not None:
                self.pair.hover_paused = paused

    def show_zone(self, feature: Mapping[str, Any], **_: Any) -> None:
        """Show a hovered (or clicked) zone circle's trips from and to it in every map's hover box."""
        text = hover_html(feature, fields=ZONE_HOVER_FIELDS)
        boxes = [self.cmap.hover_box, *(self.pair.hover_boxes.values() if self.pair is not None else ())]
        for box in boxes:
            if box is not None:
                box.value = text

    def zones_data(self, name: str) -> dict[str, Any]:
        """GeoJSON of where the traffic on ``name``'s measure roads came from (filled) and went to (ring).

        Each zone is a circle whose area grows with its trips (``origin_vph``, ``destination_vph``);
        every circle carries both values and the zone's ``name`` for the hover box.
        """
        return zones_geojson(self.views[name].select_link)

    def _select_legend(self, name: str) -> str:
        """The select-link view's legend: the flow scale, then the origin and destination circles."""
        sl = self.views[name].select_link
        what = ", ".join(dict.fromkeys(m.label for m in self.views[name].marks)) or "no measure"
        total = "" if sl is None else f"{sl.trips_vph:,.0f} veh/h in the baseline, {sl.directions_text}"
        circles = "".join(
            f"<div><span style='display:inline-block;width:10px;height:10px;border-radius:50%;border:2px solid {c};"
            f"background:{c if k == 'origin' else 'transparent'};opacity:.8'></span> {k}s (zones)</div>"
            for k, c in _ZONE_STYLE.items()
        )
        return (
            self.scales["select"].to_html(title=f"Who used {what}: {total}")
            + f"<div class='ldtkit-select-zones' style='font:11px sans-serif;padding:2px 6px;background:#fff'>{circles}</div>"
        )

    def _grid_data(self, name: str, mode: str) -> tuple[str, list[list[float]]] | None:
        key = (name, mode)
        if key not in self._image_cache:
            attr, column = _GRIDS[mode]
            if mode in _LEFT_OF:  # a change: scenario − baseline
                gdf, column = self._grid_diffs.get((mode, name)), f"d_{column}"
            else:
                gdf = getattr(self.views[name], attr)
            self._image_cache[key] = None if gdf is None else grid_image(gdf, column, self.scales[mode])
        return self._image_cache[key]

    def _on_change(self, change: Any = None) -> None:
        try:
            self._refresh()
        except Exception as exc:  # a dashboard shows a message, never a traceback
            self.show_notice(f"Could not update the view: {exc}")

    def _refresh(self) -> None:
        name, mode = self.scenario, self.layer
        left_mode = _LEFT_SIDE.get(mode, mode)
        right_title = self.views[name].label + (" − baseline" if mode in _LEFT_OF else "")
        if mode == "select":
            right_title = f"{self.views[name].label}: who used its measure's roads (baseline)"
        legends = {
            "left": self.scales[left_mode].to_html(title=f"{self.views[self.baseline].label}: {self.scales[left_mode].label}"),
            "right": self._select_legend(name)
            if mode == "select"
            else self.scales[mode].to_html(title=f"{self.views[name].label}: {self.scales[mode].label}"),
        }
        zones = self.zones_data(name) if mode == "select" else _EMPTY_FC
        # what each half shows: (view, layer key, links layer, grid layer)
        if self.map_view.value == "side":
            pair = self._side_by_side()
            halves = [(self.baseline, left_mode, *self._pair_layers["left"][::-1]), (name, mode, *self._pair_layers["right"][::-1])]
            pair.set_title("right", right_title)
            pair.set_legend("left", legends["left"])
            pair.set_legend("right", legends["right"])
            if self._pair_marked != name:
                pair.add_measures(self.views[name].marks, crs=self.views[self.baseline].links.crs)
                pair.add_hover_info(self._diffs[name], fields=HOVER_FIELDS)
                self._pair_marked = name
            self._pair_zones.data = zones
            self.map_box.children = [pair.widget]
        else:
            halves = [(self.baseline, left_mode, self._links_left, self._grid_left), (name, mode, self._links_right, self._grid_right)]
            self.cmap.set_title("right", right_title)
            self.legend.widget.value = legends["right"]
            self.legend_left.widget.value = legends["left"]
            self._show_where(name)
            self._zones_right.data = zones
            self.map_box.children = [self.cmap.widget]
        for view_name, side_mode, links, grid in halves:
            links.data = self._links_data(view_name, side_mode)
            if grid is None:
                continue
            img = self._grid_data(view_name, side_mode) if side_mode in _GRIDS else None
            if img is not None:
                grid.url, grid.bounds = img
            grid.visible = img is not None
        if self.indicators is not None:
            labels = {n: v.label for n, v in self.views.items()}
            self.headline.value = headline_html(self.indicators, baseline=self.baseline, scenario=name, labels=labels) + terms_html()
            self.table.value = indicator_table_html(
                self.indicators,
                baseline=self.baseline,
                scenarios=[name],
                labels=labels,
                caption=f"Indicators: {self.views[name].label} against {self.views[self.baseline].label}",
            )
            self._draw_chart(self.indicators, name)

    def _draw_chart(self, indicators: pd.DataFrame, name: str) -> None:
        import matplotlib.pyplot as plt

        fig = plot_indicator_changes(
            indicators, baseline=self.baseline, scenarios=[name], labels={n: v.label for n, v in self.views.items()}
        )
        self.chart.value = figure_to_png(fig, dpi=90)
        plt.close(fig)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


__all__ = ["LAYERS", "MAP_VIEWS", "ScenarioDashboard", "notice_html"]
