"""The interactive backend: a split map in ipyleaflet, baseline on the left and scenario on the right.

:class:`CompareMap` grows layers through its ``add_*`` methods: road links coloured by a value
(:meth:`~CompareMap.add_links`), a scenario − baseline difference (:meth:`~CompareMap.add_difference`),
a receptor grid as an image (:meth:`~CompareMap.add_grid`), any ipyleaflet layer
(:meth:`~CompareMap.add_layer`) and HTML legends (:meth:`~CompareMap.add_legend`). It works
without internet (``basemap=None``: vectors on grey), with a web basemap when online
(``basemap="osm"``) or with local tiles (a URL template).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString
>>> from ldtkit.viz.maps.scales import ColorScale
>>> links = gpd.GeoDataFrame(
...     {"flow_vph": [120.0, 800.0]},
...     geometry=[LineString([(3.72, 51.05), (3.73, 51.05)]), LineString([(3.73, 51.05), (3.73, 51.06)])],
...     crs=4326,
... )
>>> scale = ColorScale.shared(links["flow_vph"], cmap="viridis", label="flow (veh/h)")
>>> m = CompareMap("Baseline", "Bridge closed", center=(51.05, 3.72), zoom=14, basemap=None)
>>> _ = m.add_links(links, "flow_vph", side="left", scale=scale)
>>> _ = m.add_links(links, "flow_vph", side="right", scale=scale)
>>> _ = m.add_legend(scale)
>>> m.widget  # doctest: +SKIP
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ldtkit.errors import InvalidValueError
from ldtkit.viz.maps.context import CONTEXT_PANE, CONTEXT_PANE_Z, attribution_control, context_map_layers
from ldtkit.viz.maps.framing import fit_view, fit_zoom
from ldtkit.viz.maps.geojson import links_geojson
from ldtkit.viz.maps.hover import EMPTY_FEATURES, HIGHLIGHT_STYLE, LinkPicker
from ldtkit.viz.maps.measures import MeasureMark
from ldtkit.viz.maps.raster import grid_image
from ldtkit.viz.maps.scales import ColorScale

if TYPE_CHECKING:  # ipyleaflet and ipywidgets load when a map is made
    import geopandas as gpd
    import ipyleaflet

#: A half of the split map.
Side = Literal["left", "right"]

#: Web basemaps available by name; anything else containing ``{z}`` is used as a tile URL template.
BASEMAPS: dict[str, dict[str, str]] = {
    "osm": {
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": "&copy; OpenStreetMap contributors",
    },
}
#: Style of the label next to a measure's pin.
_LABEL_STYLE = "font:600 12px sans-serif;padding:2px 6px;background:rgba(255,255,255,.92);border:1px solid #111;border-radius:3px"
#: What the hover box says before the first hover.
HOVER_HINT = "<div style='font:12px sans-serif;color:#555'>Hover over a road to see its flow before and after.</div>"
#: Where the zoom buttons sit: at the bottom right, so that each top corner holds its half's caption
#: and, right under it, its legend: both show with the top of the map, on the first screen of a
#: 1366×768 display where the headline above the map leaves room for little more.
ZOOM_POSITION = "bottomright"
#: Where each half's legend sits: under that half's caption (:meth:`CompareMap.add_legend`).
LEGEND_POSITIONS: dict[Side, str] = {"left": "topleft", "right": "topright"}
#: Style of the captions in the top corners of the map.
_TITLE_STYLE = "font:600 13px sans-serif;padding:2px 6px;background:rgba(255,255,255,.85);border-radius:3px"


@dataclass
class _Entry:
    layer: Any
    side: Side
    name: str


def _fmt(value: Any) -> str:
    """A hover value: whole numbers with a sign-free zero, ``–`` when missing."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    if not np.isfinite(v):
        return "–"
    v = round(v)
    return f"{0 if v == 0 else v:,.0f}"


def basemap_layers(basemap: str | None) -> tuple[Any, ...]:
    """The tile layer for ``basemap`` (``None``: none; a name in :data:`BASEMAPS`; a URL template with ``{z}``).

    Examples
    --------
    >>> basemap_layers(None)
    ()
    >>> basemap_layers("osm")[0].name
    'basemap'
    """
    import ipyleaflet

    if basemap is None:
        return ()
    spec = BASEMAPS.get(basemap)
    if spec is None and "{z}" not in str(basemap):
        raise InvalidValueError(
            f"map basemap={basemap!r}: expected None, one of {sorted(BASEMAPS)} or a tile URL template with {{z}}/{{x}}/{{y}}"
        )
    spec = spec or {"url": str(basemap), "attribution": ""}
    return (ipyleaflet.TileLayer(url=spec["url"], attribution=spec["attribution"], name="basemap", base=True, max_zoom=19),)


def measure_layers(marks: Sequence[MeasureMark], *, crs: Any) -> list[Any]:
    """Per measure: its links (dark dashed outline) and a pin with its label, as ipyleaflet layers.

    ``marks`` from :func:`~ldtkit.viz.maps.measures.measure_marks`, their geometry in ``crs``.
    """
    import geopandas as gpd
    import ipyleaflet

    layers: list[Any] = []
    for mark in marks:
        g = gpd.GeoSeries([mark.geometry, mark.anchor], crs=crs).to_crs(4326)
        outline = ipyleaflet.GeoJSON(
            data={"type": "Feature", "geometry": g.iloc[0].__geo_interface__, "properties": {"label": mark.label}},
            style={"color": "#111111", "weight": 9, "opacity": 0.55, "dashArray": "6 4", "lineCap": "butt"},
            name=f"measure: {mark.label}",
        )
        text = html.escape(mark.label, quote=False)
        icon = ipyleaflet.DivIcon(
            html=(
                "<div class='ldtkit-measure' style='display:flex;align-items:center;gap:4px;white-space:nowrap'>"
                "<span style='display:inline-block;width:14px;height:14px;border-radius:50%;background:#111;"
                "border:2px solid #fff;box-shadow:0 0 2px #000'></span>"
                f"<span class='ldtkit-measure-label' style='{_LABEL_STYLE}'>{text}</span></div>"
            ),
            icon_size=[0, 0],
            icon_anchor=[9, 9],
        )
        pin = ipyleaflet.Marker(location=(g.iloc[1].y, g.iloc[1].x), icon=icon, draggable=False, title=mark.label, name=mark.label)
        layers += [outline, pin]
    return layers


def close_layer(layer: Any) -> None:
    """Close a layer taken off a map for good, with its marker icon: a widget that is not closed
    stays in the kernel and is sent to every page that opens (and built there), shown or not.

    Examples
    --------
    >>> import ipyleaflet
    >>> pin = ipyleaflet.Marker(location=(51.05, 3.72), icon=ipyleaflet.DivIcon(html="x"))
    >>> icon = pin.icon
    >>> close_layer(pin)
    >>> pin.comm is None and icon.comm is None
    True
    """
    icon = getattr(layer, "icon", None)
    if icon is not None:
        icon.close()
    layer.close()


def hover_html(feature: Mapping[str, Any], *, fields: Mapping[str, str], title: str = "name") -> str:
    """What the hover box shows for a hovered link: its ``title`` and a row per field.

    Examples
    --------
    >>> text = hover_html({"properties": {"name": "Rooigemlaan", "d": -1408.0}}, fields={"d": "Change (veh/h)"})
    >>> "<b>Rooigemlaan</b>" in text and ">-1,408<" in text
    True
    """
    props = feature.get("properties", {})
    rows = "".join(
        f"<tr><td>{html.escape(cap)}</td><td style='text-align:right;padding-left:8px'>{_fmt(props.get(col))}</td></tr>"
        for col, cap in fields.items()
        if col in props
    )
    name = html.escape(str(props.get(title) or "unnamed road"))
    return f"<div class='ldtkit-hover' style='font:12px sans-serif'><b>{name}</b><table>{rows}</table></div>"


def title_html(text: str) -> str:
    """A caption for a corner of a map (HTML-escaped)."""
    return f"<div style='{_TITLE_STYLE}'>{html.escape(text, quote=False)}</div>"


class CompareMap:
    """A split map: baseline on the left, scenario on the right, with legends.

    Parameters
    ----------
    left_title, right_title
        Captions shown in the top corners of each half.
    center
        ``(lat, lon)`` of the initial view.
    zoom
        Initial zoom level.
    basemap
        ``"osm"`` (web tiles, needs internet), a tile URL template with ``{z}/{x}/{y}``
        (e.g. local tiles served by Voila under ``/voila/files/``), or ``None`` for no
        basemap (vectors on grey; works offline).
    height
        CSS height of the map.
    split
        Whether to add the swipe control (``False`` shows both sides' layers stacked).

    Notes
    -----
    ipyleaflet's split control clips vector layers only when each side's layers sit in their
    own map pane, so every layer is created with ``pane="left"`` or ``pane="right"`` and
    ``"pane"`` is added to its options. The split control takes its layers when the map is
    first displayed; later ``add_*`` calls rebuild it. To switch scenarios in a dashboard,
    change layer data with :meth:`update_links` / :meth:`update_grid` (and the caption with
    :meth:`set_title`) instead of adding layers.

    Examples
    --------
    >>> m = CompareMap("Baseline", "Scenario", center=(51.05, 3.72), zoom=13, basemap=None)
    >>> sorted(m.map.panes)
    ['context', 'hover', 'left', 'right']
    """

    def __init__(
        self,
        left_title: str = "Baseline",
        right_title: str = "Scenario",
        *,
        center: tuple[float, float],
        zoom: float = 13,
        basemap: str | None = "osm",
        height: str = "560px",
        split: bool = True,
    ) -> None:
        import ipyleaflet
        import ipywidgets

        layers = basemap_layers(basemap)
        self.map = ipyleaflet.Map(
            center=list(center),
            zoom=zoom,
            layers=layers,
            # the hover pane lies over both halves' data (hover reaches it) and under the markers (600)
            panes={CONTEXT_PANE: {"zIndex": CONTEXT_PANE_Z}, "left": {"zIndex": 410}, "right": {"zIndex": 420}, "hover": {"zIndex": 430}},
            scroll_wheel_zoom=True,
            zoom_control=False,
            layout=ipywidgets.Layout(height=height, width="100%"),
        )
        self.map.add(ipyleaflet.ZoomControl(position=ZOOM_POSITION))
        self.titles: tuple[str, str] = (left_title, right_title)
        #: the map's size on the page as :meth:`fit_to` assumes it (the height from ``height`` in px)
        self.height_px = float(height[:-2]) if height.endswith("px") else 560.0
        self.width_px = 900.0
        self.split = split
        self._entries: list[_Entry] = []
        self._legends: dict[str, Any] = {}
        self._split_control: ipyleaflet.SplitMapControl | None = None
        self._shown = False
        self._title_controls: dict[Side, ipyleaflet.WidgetControl] = {}
        self._measure_layers: list[Any] = []
        self.hover_layer: Any = None  #: the outline of the road under the mouse (add_hover_info)
        self.hover_box: ipywidgets.HTML | None = None  #: what the hovered road shows
        self.hover_picker: LinkPicker | None = None  #: finds the road under the mouse
        self.hover_paused = False  #: while True (e.g. a zone circle is hovered), roads do not report
        self._hovered: int | None = None
        captions: tuple[tuple[Side, str, str], ...] = (("left", left_title, "topleft"), ("right", right_title, "topright"))
        for side, text, pos in captions:
            if text:
                ctl = ipyleaflet.WidgetControl(widget=ipywidgets.HTML(title_html(text)), position=pos, transparent_bg=True)
                self.map.add(ctl)
                self._title_controls[side] = ctl
        # the page's split control draws its layers among the map's own: a change of the map's layers
        # (measure marks of another scenario) drops them there, so the control is made again
        self.map.observe(self._on_layers, names="layers")

    # layers -------------------------------------------------------------------
    @staticmethod
    def _side(side: str) -> Side:
        if side not in ("left", "right"):
            raise InvalidValueError(f"CompareMap: side must be 'left' or 'right', got {side!r}")
        return side  # type: ignore[return-value]

    def add_layer(self, layer: Any, *, side: Side, name: str | None = None) -> Any:
        """Any ipyleaflet layer on one side (in that side's pane, so the split control clips it).

        The other ``add_*`` methods build their layer and end here. Returns the layer.

        Examples
        --------
        >>> import ipyleaflet
        >>> m = CompareMap(center=(51.05, 3.72), basemap=None)
        >>> m.add_layer(ipyleaflet.Marker(location=(51.05, 3.72)), side="right").pane
        'right'
        """
        side = self._side(side)
        layer.pane = side
        if "pane" not in layer.options:
            layer.options = [*layer.options, "pane"]
        self._entries.append(_Entry(layer, side, name or str(getattr(layer, "name", ""))))
        if not self.split:
            self.map.add(layer)
        elif self._shown:
            self._rebuild_split()
        return layer

    def add_links(
        self,
        gdf: gpd.GeoDataFrame,
        column: str,
        *,
        side: Side,
        scale: ColorScale,
        name: str | None = None,
        width_px: tuple[float, float] = (1.0, 6.0),
        min_abs_value: float | None = None,
    ) -> ipyleaflet.GeoJSON:
        """Road links coloured (and weighted) by ``column`` on one side.

        Use the same ``scale`` on both sides so colours compare. Returns the layer.
        """
        import ipyleaflet

        side = self._side(side)
        data = links_geojson(gdf, column, scale, width_px=width_px, min_abs_value=min_abs_value)
        layer = ipyleaflet.GeoJSON(data=data, name=name or f"{column} ({side})", hover_style={"weight": 8, "opacity": 1.0})
        layer._ldtkit = {"column": column, "width_px": width_px, "min_abs_value": min_abs_value}
        return self.add_layer(layer, side=side, name=layer.name)

    def update_links(self, layer: ipyleaflet.GeoJSON, gdf: gpd.GeoDataFrame, column: str | None = None, *, scale: ColorScale) -> None:
        """Replace the data of a links layer (e.g. when the dashboard switches scenario)."""
        opts = getattr(layer, "_ldtkit", {})
        column = column or opts["column"]
        layer.data = links_geojson(
            gdf,
            column,
            scale,
            width_px=opts.get("width_px", (1.0, 6.0)),
            min_abs_value=opts.get("min_abs_value"),
            width_by_abs=opts.get("width_by_abs", False),
        )

    def add_difference(
        self,
        gdf: gpd.GeoDataFrame,
        column: str,
        *,
        side: Side = "right",
        scale: ColorScale | None = None,
        name: str | None = None,
        width_px: tuple[float, float] = (1.0, 7.0),
        min_abs_value: float | None = None,
    ) -> ipyleaflet.GeoJSON:
        """A scenario − baseline difference on a diverging scale (blue less, red more).

        Line weight grows with the absolute difference. Without ``scale`` a symmetric scale is
        fitted to the data.
        """
        import ipyleaflet

        side = self._side(side)
        scale = scale or ColorScale.diverging(gdf[column].to_numpy(float), label=f"Δ {column}")
        data = links_geojson(gdf, column, scale, width_px=width_px, width_by_abs=True, min_abs_value=min_abs_value)
        layer = ipyleaflet.GeoJSON(data=data, name=name or f"Δ {column}", hover_style={"weight": 9, "opacity": 1.0})
        layer._ldtkit = {"column": column, "width_px": width_px, "min_abs_value": min_abs_value, "width_by_abs": True}
        return self.add_layer(layer, side=side, name=layer.name)

    def add_grid(
        self,
        gdf: gpd.GeoDataFrame,
        column: str,
        *,
        side: Side,
        scale: ColorScale,
        cell_m: float | None = None,
        opacity: float = 0.75,
        name: str | None = None,
    ) -> ipyleaflet.ImageOverlay:
        """A receptor grid (points with ``column``) as an image overlay on one side."""
        import ipyleaflet

        side = self._side(side)
        url, bounds = grid_image(gdf, column, scale, cell_m=cell_m, opacity=opacity)
        layer = ipyleaflet.ImageOverlay(url=url, bounds=bounds, name=name or f"{column} ({side})")
        layer._ldtkit = {"column": column, "cell_m": cell_m, "opacity": opacity}
        return self.add_layer(layer, side=side, name=layer.name)

    def update_grid(self, layer: ipyleaflet.ImageOverlay, gdf: gpd.GeoDataFrame, column: str | None = None, *, scale: ColorScale) -> None:
        """Replace the image of a grid layer."""
        opts = getattr(layer, "_ldtkit", {})
        url, bounds = grid_image(gdf, column or opts["column"], scale, cell_m=opts.get("cell_m"), opacity=opts.get("opacity", 0.75))
        layer.bounds = bounds
        layer.url = url

    def add_legend(
        self, scale: ColorScale, *, title: str | None = None, position: str = LEGEND_POSITIONS["right"], key: str | None = None
    ) -> ipyleaflet.WidgetControl:
        """An HTML legend for ``scale`` (one legend serves both sides when they share the scale).

        By default under the right half's caption (``position="topleft"``: under the left half's,
        :data:`LEGEND_POSITIONS`), so it shows with the top of the map. Calling again with the same
        ``key`` (default: the scale's label) replaces the legend's content.

        Examples
        --------
        >>> from ldtkit.viz.maps.scales import lden_scale
        >>> m = CompareMap(center=(51.05, 3.72), basemap=None)
        >>> m.add_legend(lden_scale()).position, m.add_legend(lden_scale(), key="left", position="topleft").position
        ('topright', 'topleft')
        """
        import ipyleaflet
        import ipywidgets

        key = key or scale.label
        legend_html = scale.to_html(title=title)
        if key in self._legends:
            self._legends[key].widget.value = legend_html
            return self._legends[key]
        ctl = ipyleaflet.WidgetControl(widget=ipywidgets.HTML(legend_html), position=position)
        self.map.add(ctl)
        self._legends[key] = ctl
        return ctl

    def set_legend(self, key: str, scale: ColorScale, *, title: str | None = None) -> None:
        """Change the content of an existing legend."""
        self._legends[key].widget.value = scale.to_html(title=title)

    def set_title(self, side: Side, text: str) -> None:
        """Change the caption of one half (e.g. to the scenario the dashboard now shows).

        Examples
        --------
        >>> m = CompareMap("Baseline", "Scenario", center=(51.05, 3.72), basemap=None)
        >>> m.set_title("right", "Bridge closed − baseline")
        >>> m.titles
        ('Baseline', 'Bridge closed − baseline')
        """
        import ipyleaflet
        import ipywidgets

        side = self._side(side)
        if side in self._title_controls:
            self._title_controls[side].widget.value = title_html(text)
        else:
            ctl = ipyleaflet.WidgetControl(
                widget=ipywidgets.HTML(title_html(text)), position="topleft" if side == "left" else "topright", transparent_bg=True
            )
            self.map.add(ctl)
            self._title_controls[side] = ctl
        self.titles = (text, self.titles[1]) if side == "left" else (self.titles[0], text)

    # where and what -----------------------------------------------------------
    def add_measures(self, marks: Sequence[MeasureMark], *, crs: Any) -> list[Any]:
        """The links each measure touches (dark dashed outline) with a pin and a label, on both halves.

        ``marks`` from :func:`~ldtkit.viz.maps.measures.measure_marks`, their geometry in ``crs``.
        The label stays visible (no click needed). Calling again replaces the previous marks.

        Examples
        --------
        >>> from shapely.geometry import LineString, Point
        >>> from ldtkit.viz.maps.measures import MeasureMark
        >>> m = CompareMap(center=(51.05, 3.72), basemap=None)
        >>> mk = MeasureMark("Bridge: closed both ways", (1,), LineString([(3.72, 51.05), (3.73, 51.05)]), Point(3.725, 51.05))
        >>> [type(x).__name__ for x in m.add_measures([mk], crs=4326)]
        ['GeoJSON', 'Marker']
        """
        for old in self._measure_layers:
            self.map.remove(old)
            close_layer(old)
        self._measure_layers = measure_layers(marks, crs=crs)
        for layer in self._measure_layers:
            self.map.add(layer)
        return list(self._measure_layers)

    def add_context(
        self, layers: Mapping[str, gpd.GeoDataFrame], *, labels: gpd.GeoDataFrame | None = None, attribution: str = ""
    ) -> list[Any]:
        """Context under the data on both halves: ``layers`` (EPSG:4326, from
        :func:`~ldtkit.viz.maps.context.context_layers`) and street ``labels`` (points with ``name``),
        with the layers' credit line ``attribution`` (e.g. from
        :func:`~ldtkit.viz.maps.context.context_attribution`) at the bottom right.

        Works offline; a web basemap, when given, still lies underneath.
        """
        added = context_map_layers(layers, labels=labels)
        for layer in added:
            self.map.add(layer)
        if attribution and layers:
            self.map.add(attribution_control(attribution))
        return added

    def fit_to(self, bounds: tuple[float, float, float, float] | None, *, crs: Any) -> None:
        """Open the map on ``(minx, miny, maxx, maxy)`` in ``crs`` (e.g. from
        :func:`~ldtkit.viz.maps.measures.change_bounds`); ``None`` leaves the view as it is."""
        if bounds is None:
            return
        center, zoom = fit_view(bounds, crs=crs, width_px=self.width_px, height_px=self.height_px)
        self.map.zoom = zoom
        self.map.center = center

    def add_hover_info(self, gdf: gpd.GeoDataFrame, *, fields: Mapping[str, str], title: str = "name") -> LinkPicker:
        """Hovering (or clicking) a road of ``gdf`` shows its ``title`` column and ``fields`` (column -> caption) in a box.

        The map reports the mouse position and a :class:`~ldtkit.viz.maps.hover.LinkPicker` finds
        the road under it in the kernel, so every road of ``gdf`` reports its values (nothing per
        road is sent to the page); the road is outlined while it is shown. Calling again replaces
        the roads. Returns the picker; :attr:`hover_box` holds the box's HTML widget.
        """
        import ipyleaflet
        import ipywidgets

        picker = LinkPicker(gdf, fields=fields, title=title)
        if self.hover_box is None:
            self.hover_box = ipywidgets.HTML(HOVER_HINT)
            self.map.add(ipyleaflet.WidgetControl(widget=self.hover_box, position="bottomleft"))
            layer = ipyleaflet.GeoJSON(data=EMPTY_FEATURES, style=HIGHLIGHT_STYLE, name="hover info")
            layer.pane = "hover"
            layer.options = [*layer.options, "pane"]
            self.map.add(layer)
            self.hover_layer = layer
            self.map.on_interaction(self._on_mouse)
        self.hover_picker = picker
        self._hovered = None
        if self.hover_layer is not None:
            self.hover_layer.data = EMPTY_FEATURES
        return picker

    def _on_mouse(self, **event: Any) -> None:
        """The map's mouse events: show the road under the mouse (mousemove, click)."""
        if event.get("type") not in ("mousemove", "click") or self.hover_picker is None or self.hover_paused:
            return
        lat, lon = event.get("coordinates", (np.nan, np.nan))
        i = self.hover_picker.nearest(lat, lon, zoom=self.map.zoom)
        if i is None or i == self._hovered:
            return
        self._hovered = i
        feature = self.hover_picker.feature(i)
        self.show_hover(feature)
        if self.hover_layer is not None:
            self.hover_layer.data = {"type": "FeatureCollection", "features": [feature]}

    def show_hover(self, feature: Mapping[str, Any], **_: Any) -> None:
        """Show a hovered (or clicked) road's name and values in the hover box."""
        if self.hover_box is not None and self.hover_picker is not None:
            self.hover_box.value = hover_html(feature, fields=self.hover_picker.fields, title=self.hover_picker.title)

    @property
    def layers(self) -> dict[str, list[Any]]:
        """The data layers per side."""
        return {s: [e.layer for e in self._entries if e.side == s] for s in ("left", "right")}

    # display -------------------------------------------------------------------
    def _on_layers(self, change: Any = None) -> None:
        if self.split and self._shown:
            self._rebuild_split()

    def _rebuild_split(self) -> None:
        import ipyleaflet

        if self._split_control is not None:
            self.map.remove(self._split_control)
            # closed, or the page would still get it (and build it) with every other widget's state
            self._split_control.close()
        side = self.layers
        self._split_control = ipyleaflet.SplitMapControl(left_layer=side["left"], right_layer=side["right"])
        self.map.add(self._split_control)

    @property
    def widget(self) -> ipyleaflet.Map:
        """The ipyleaflet map, with the split control in place (display this)."""
        if self.split and not self._shown:
            self._rebuild_split()
        self._shown = True
        return self.map

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


__all__ = [
    "BASEMAPS",
    "HOVER_HINT",
    "CompareMap",
    "Side",
    "basemap_layers",
    "close_layer",
    "fit_view",
    "fit_zoom",
    "hover_html",
    "measure_layers",
    "title_html",
]
