"""Two maps side by side, baseline left and scenario right, moving together.

:class:`SideBySideMap` is the alternative to the split handle of
:class:`~ldtkit.viz.maps.leaflet.CompareMap`: each half is a whole ipyleaflet map with its own
caption, legend and measure marks; their centre and zoom are linked, so panning or zooming one
moves the other (in the page and in the kernel's state).

Examples
--------
>>> m = SideBySideMap("Baseline", "Bridge closed", center=(51.05, 3.72), zoom=14)
>>> m.left.center = [51.06, 3.73]
>>> m.right.center, m.right.zoom
([51.06, 3.73], 14.0)
>>> m.right.zoom = 15
>>> m.left.zoom
15.0
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ldtkit.errors import InvalidValueError
from ldtkit.viz.maps.context import CONTEXT_PANE, CONTEXT_PANE_Z, attribution_control, context_map_layers
from ldtkit.viz.maps.framing import fit_view
from ldtkit.viz.maps.hover import EMPTY_FEATURES, HIGHLIGHT_STYLE, LinkPicker
from ldtkit.viz.maps.leaflet import (
    HOVER_HINT,
    ZOOM_POSITION,
    Side,
    basemap_layers,
    hover_html,
    measure_layers,
    title_html,
)
from ldtkit.viz.maps.measures import MeasureMark

if TYPE_CHECKING:  # ipyleaflet loads when a map is made
    import geopandas as gpd
    import ipyleaflet


class SideBySideMap:
    """Two synced maps: ``left`` and ``right`` share centre and zoom; each has a caption and a legend.

    Parameters
    ----------
    left_title, right_title
        Captions in the top corner of each map.
    center, zoom
        The initial view (``(lat, lon)``, zoom level).
    basemap
        As for :class:`~ldtkit.viz.maps.leaflet.CompareMap` (``None``: offline, no tiles).
    height
        CSS height of both maps.

    Attributes
    ----------
    left, right
        The two ``ipyleaflet.Map`` widgets.
    legends
        Per side, the HTML widget of that map's legend.
    widget
        The two maps in a row (display this).
    """

    def __init__(
        self,
        left_title: str = "Baseline",
        right_title: str = "Scenario",
        *,
        center: tuple[float, float],
        zoom: float = 13,
        basemap: str | None = None,
        height: str = "520px",
    ) -> None:
        import ipyleaflet
        import ipywidgets as w

        def one_map() -> ipyleaflet.Map:
            return ipyleaflet.Map(
                center=list(center),
                zoom=zoom,
                layers=basemap_layers(basemap),
                panes={CONTEXT_PANE: {"zIndex": CONTEXT_PANE_Z}},
                scroll_wheel_zoom=True,
                zoom_control=False,
                layout=w.Layout(height=height, width="50%"),
            )

        self.left, self.right = one_map(), one_map()
        # linked in the kernel: a pan in the page reaches the kernel, which moves the other map
        self._links = [w.link((self.left, "center"), (self.right, "center")), w.link((self.left, "zoom"), (self.right, "zoom"))]
        self.height_px = float(height[:-2]) if height.endswith("px") else 520.0
        self.width_px = 450.0
        self.titles: dict[Side, Any] = {}
        self.legends: dict[Side, Any] = {}
        captions: tuple[tuple[Side, str, str], ...] = (("left", left_title, "topleft"), ("right", right_title, "topright"))
        for side, text, corner in captions:
            m = self.map(side)
            self.titles[side] = w.HTML(title_html(text))
            m.add(ipyleaflet.ZoomControl(position=ZOOM_POSITION))
            m.add(ipyleaflet.WidgetControl(widget=self.titles[side], position=corner, transparent_bg=True))
            # under the caption, as on the split map: it shows with the top of the map
            self.legends[side] = w.HTML()
            m.add(ipyleaflet.WidgetControl(widget=self.legends[side], position=corner))
        self._measure_layers: dict[Side, list[Any]] = {"left": [], "right": []}
        self.hover_layers: dict[Side, Any] = {}  #: per side, the outline of the road under the mouse
        self.hover_boxes: dict[Side, Any] = {}  #: per side, what the hovered road shows (both show the same)
        self.hover_picker: LinkPicker | None = None  #: finds the road under the mouse
        self.hover_paused = False  #: while True (e.g. a zone circle is hovered), roads do not report
        self._hovered: int | None = None
        self.widget = w.HBox([self.left, self.right], layout=w.Layout(width="100%"))

    def map(self, side: Side) -> ipyleaflet.Map:
        """The map of one side."""
        if side not in ("left", "right"):
            raise InvalidValueError(f"SideBySideMap: side must be 'left' or 'right', got {side!r}")
        return self.left if side == "left" else self.right

    def add_layer(self, layer: Any, *, side: Side) -> Any:
        """Any ipyleaflet layer on one map; returns it."""
        self.map(side).add(layer)
        return layer

    def set_title(self, side: Side, text: str) -> None:
        """Change the caption of one map."""
        self.titles[side].value = title_html(text)

    def set_legend(self, side: Side, legend_html: str) -> None:
        """Set the legend of one map (e.g. :meth:`~ldtkit.viz.maps.scales.ColorScale.to_html`)."""
        self.legends[side].value = legend_html

    def add_context(self, layers: Mapping[str, gpd.GeoDataFrame], *, labels: gpd.GeoDataFrame | None = None, attribution: str = "") -> None:
        """The offline context, street names and the layers' credit line on both maps, as on the
        split map (:meth:`~ldtkit.viz.maps.leaflet.CompareMap.add_context`); call before adding data layers."""
        sides: tuple[Side, Side] = ("left", "right")
        for side in sides:
            for layer in context_map_layers(layers, labels=labels):
                self.map(side).add(layer)
            if attribution and layers:
                self.map(side).add(attribution_control(attribution))

    def add_measures(self, marks: Sequence[MeasureMark], *, crs: Any) -> None:
        """The measures' links, pins and labels on both maps (replacing earlier ones)."""
        sides: tuple[Side, Side] = ("left", "right")
        for side in sides:
            m = self.map(side)
            for old in self._measure_layers[side]:
                m.remove(old)
            self._measure_layers[side] = measure_layers(marks, crs=crs)
            for layer in self._measure_layers[side]:
                m.add(layer)

    def add_hover_info(self, gdf: gpd.GeoDataFrame, *, fields: Mapping[str, str], title: str = "name") -> LinkPicker:
        """Hovering (or clicking) a road of ``gdf`` on either map shows its ``title`` and ``fields`` on both.

        As :meth:`~ldtkit.viz.maps.leaflet.CompareMap.add_hover_info` (the road under the mouse is
        found in the kernel, every road reports); calling again replaces the roads. Returns the picker.
        """
        import ipyleaflet
        import ipywidgets as w

        self.hover_picker = LinkPicker(gdf, fields=fields, title=title)
        self._hovered = None
        sides: tuple[Side, Side] = ("left", "right")
        for side in sides:
            m = self.map(side)
            if side not in self.hover_boxes:
                self.hover_boxes[side] = w.HTML(HOVER_HINT)
                m.add(ipyleaflet.WidgetControl(widget=self.hover_boxes[side], position="bottomleft"))
                self.hover_layers[side] = ipyleaflet.GeoJSON(data=EMPTY_FEATURES, style=HIGHLIGHT_STYLE, name="hover info")
                m.add(self.hover_layers[side])
                m.on_interaction(functools.partial(self._on_mouse, m))
            self.hover_layers[side].data = EMPTY_FEATURES
        return self.hover_picker

    def _on_mouse(self, m: ipyleaflet.Map, **event: Any) -> None:
        """Either map's mouse events: show the road under the mouse on both (mousemove, click)."""
        if event.get("type") not in ("mousemove", "click") or self.hover_picker is None or self.hover_paused:
            return
        lat, lon = event.get("coordinates", (float("nan"), float("nan")))
        i = self.hover_picker.nearest(lat, lon, zoom=m.zoom)
        if i is None or i == self._hovered:
            return
        self._hovered = i
        feature = self.hover_picker.feature(i)
        self.show_hover(feature)
        for layer in self.hover_layers.values():
            layer.data = {"type": "FeatureCollection", "features": [feature]}

    def show_hover(self, feature: Mapping[str, Any], **_: Any) -> None:
        """Show a hovered road's name and values in both maps' hover boxes."""
        if self.hover_picker is None:
            return
        text = hover_html(feature, fields=self.hover_picker.fields, title=self.hover_picker.title)
        for box in self.hover_boxes.values():
            box.value = text

    def fit_to(self, bounds: tuple[float, float, float, float] | None, *, crs: Any) -> None:
        """Show ``(minx, miny, maxx, maxy)`` in ``crs`` on both maps; ``None`` leaves the view as it is."""
        if bounds is None:
            return
        center, zoom = fit_view(bounds, crs=crs, width_px=self.width_px, height_px=self.height_px)
        self.left.zoom = zoom
        self.left.center = center

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


__all__ = ["SideBySideMap"]
