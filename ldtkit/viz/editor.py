"""A scenario editor for JupyterLab: select links, pick an action, see the TOML, run, see the changes.

:class:`ScenarioEditor` turns a selection (a street name, link ids, clicks on its map or a lasso: a polygon or
rectangle drawn on it) and an action into a
:class:`~ldtkit.study.scenario.Scenario`, shows the TOML it stands for, runs it against the
baseline (cached, warm-started) and shows the change maps of
:class:`~ldtkit.viz.dashboard.ScenarioDashboard`. Every problem (an empty selection, an unknown
street, an action that leaves zones without a route) is a plain message in the widget, never a
traceback. Published Voila dashboards stay read-only: in Voila the editor works only when the
notebook passes ``allow_in_voila=True``.

Examples
--------
>>> editor = ScenarioEditor("ghent", baseline=results["baseline"])  # doctest: +SKIP
>>> editor.select("Rooigemlaan")  # doctest: +SKIP
>>> editor.lasso([(51.045, 3.725), (51.045, 3.735), (51.05, 3.735), (51.05, 3.725)])  # doctest: +SKIP
>>> editor.set_action("close one direction", direction="northbound")  # doctest: +SKIP
>>> print(editor.toml)  # doctest: +SKIP
>>> editor.run()  # doctest: +SKIP
>>> editor.widget  # doctest: +SKIP
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ldtkit.errors import LdtkitError
from ldtkit.study.city import City, load_city
from ldtkit.study.runner import DEFAULT_CACHE, ScenarioResult, run
from ldtkit.study.scenario import Scenario
from ldtkit.study.select_link import parse_selection, selected_rows
from ldtkit.viz.dashboard import ScenarioDashboard, focus_center, in_voila, views_from_results

#: A click selects the nearest road within this distance (m).
CLICK_MAX_M = 30.0
#: The editor's actions: label -> (scenario action, the value it sets or None, whether it needs a direction).
ACTIONS: dict[str, tuple[str, str | None, bool]] = {
    "close both ways": ("close", None, False),
    "close one direction": ("close", None, True),
    "set lanes": ("set", "lanes", False),
    "set speed (km/h)": ("set", "free_speed_kmh", False),
    "set capacity (veh/h)": ("set", "capacity_vph", False),
    "bar heavy vehicles": ("bar_heavy", None, False),
}


class ScenarioEditor:
    """Edit one scenario against a computed baseline and show what it changes.

    Parameters
    ----------
    city
        A :class:`~ldtkit.study.city.City`, a shipped city name or a city folder.
    baseline
        The baseline's result (``ldtkit.run(city, [])["baseline"]``); links are checked against its network.
    models, cache_dir
        As for :func:`ldtkit.study.runner.run` (the baseline comes from the cache).
    name
        The scenario's name.
    allow_in_voila
        Let a Voila page edit and run scenarios (off: published dashboards stay read-only).

    Attributes
    ----------
    message
        The last message shown to the user ("" when all is well).
    result
        The scenario's result after :meth:`run`, else ``None``.
    dashboard
        The change maps after :meth:`run` (a :class:`~ldtkit.viz.dashboard.ScenarioDashboard`), else ``None``.
    """

    def __init__(
        self,
        city: City | str | Path,
        *,
        baseline: ScenarioResult,
        models: Sequence[str] = ("traffic",),
        cache_dir: str | Path | None = DEFAULT_CACHE,
        name: str = "edited",
        allow_in_voila: bool = False,
    ) -> None:
        import ipywidgets as w

        self.city = city if isinstance(city, City) else load_city(city)
        self.baseline = baseline
        self.models = tuple(models)
        self.cache_dir = cache_dir
        self.name = name
        self.enabled = allow_in_voila or not in_voila()
        self.message = ""
        self.result: ScenarioResult | None = None
        self.dashboard: ScenarioDashboard | None = None
        self._select: dict[str, Any] | None = None
        self._action = "close both ways"
        self._value: float | None = None
        self._direction = "both"

        self.selection_box = w.Text(description="Links:", placeholder="a street name, or link ids: 12, 13")
        self.action_box = w.Dropdown(options=list(ACTIONS), value=self._action, description="Action:")
        self.value_box = w.FloatText(description="Value:", value=0.0)
        self.direction_box = w.Text(description="Direction:", value="both", placeholder="both, northbound, forward, ...")
        self.run_button = w.Button(description="Run", button_style="primary", disabled=not self.enabled)
        self.toml_box = w.HTML()
        self.message_box = w.HTML()
        self.maps = w.VBox()
        self._roads: Any = None  # the baseline's roads (no connectors) and their spatial index, built on first use
        self.pick_map = self._pick_map()
        self.run_button.on_click(lambda _b: self._run_from_widgets())
        self.widget = w.VBox(
            [
                self.pick_map,
                self.selection_box,
                w.HBox([self.action_box, self.value_box, self.direction_box]),
                self.run_button,
                self.toml_box,
                self.message_box,
                self.maps,
            ]
        )
        if not self.enabled:
            self._say("Editing scenarios is switched off in this dashboard.")

    # the Python API ----------------------------------------------------------------
    def select(self, links: str | Sequence[int]) -> int:
        """Select links by a street name or link ids; returns how many network links that is (0: see :attr:`message`)."""
        text = links if isinstance(links, str) else ", ".join(str(int(i)) for i in links)
        self.selection_box.value = text
        parsed = parse_selection(text)
        self._select = None
        try:
            rows = selected_rows(self.baseline, parsed)
        except LdtkitError as exc:
            self._say(str(exc))
            return 0
        self._select = {"ids": parsed} if isinstance(parsed, list) else {"street": parsed}
        self._say("")
        return len(rows)

    def click(self, latlon: tuple[float, float]) -> int | None:
        """Add the road nearest to a map click ``(lat, lon)`` to the selection (as link ids); returns its id.

        ``None`` (and a message) when no road lies within :data:`CLICK_MAX_M`.
        """
        import pyproj
        from shapely.geometry import Point

        links = self.baseline.network.links
        roads, tree = self._road_index()
        to_crs = pyproj.Transformer.from_crs(4326, links.crs, always_xy=True)
        point = Point(*to_crs.transform(float(latlon[1]), float(latlon[0])))
        hit = tree.query_nearest(point, max_distance=CLICK_MAX_M, return_distance=False)
        if len(hit) == 0:
            self._say(f"No road within {CLICK_MAX_M:.0f} m of the click; click on a road.")
            return None
        link_id = int(roads["link_id"].to_numpy()[int(hit[0])])
        ids = list(self._select["ids"]) if self._select and "ids" in self._select else []
        self.select([*ids, link_id] if link_id not in ids else ids)
        return link_id

    def lasso(self, shape: Mapping[str, Any] | Sequence[tuple[float, float]]) -> list[int]:
        """Add the roads whose middle lies inside a drawn shape to the selection; returns their ids.

        ``shape`` is a GeoJSON polygon (geometry or feature, lon/lat, as the map's draw tool gives it)
        or the polygon's corners as ``(lat, lon)`` pairs. A shape around no road selects nothing and
        says so in :attr:`message` (the selection stays as it was).
        """
        import pyproj
        import shapely
        from shapely.geometry import Polygon
        from shapely.geometry import shape as geojson_shape

        try:
            if isinstance(shape, Mapping):
                geometry = shape.get("geometry", shape)
                polygon = geojson_shape(geometry)
            else:
                polygon = Polygon([(float(lon), float(lat)) for lat, lon in shape])
            if polygon.geom_type not in ("Polygon", "MultiPolygon") or polygon.is_empty or polygon.area == 0:
                raise ValueError(f"a {polygon.geom_type} with no area")
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            self._say(f"The drawn shape is not a polygon ({exc}); draw a polygon or a rectangle around the roads.")
            return []
        roads, tree = self._road_index()
        to_crs = pyproj.Transformer.from_crs(4326, self.baseline.network.links.crs, always_xy=True)
        area = shapely.transform(polygon, lambda xy: np.column_stack(to_crs.transform(xy[:, 0], xy[:, 1])))
        near = tree.query(area)
        middles = shapely.line_interpolate_point(roads.geometry.to_numpy()[near], 0.5, normalized=True)
        inside = near[shapely.contains(area, middles)]
        if len(inside) == 0:
            self._say("No road inside the drawn shape; draw around the roads to select them.")
            return []
        found = sorted(int(i) for i in roads["link_id"].to_numpy()[inside])
        ids = list(self._select["ids"]) if self._select and "ids" in self._select else []
        self.select([*ids, *(i for i in found if i not in ids)])
        return found

    def set_action(self, action: str, *, value: float | None = None, direction: str = "both") -> None:
        """Choose the action (one of :data:`ACTIONS`), its value (lanes, km/h, veh/h) and direction."""
        if action not in ACTIONS:
            self._say(f"Unknown action {action!r}; choose one of {', '.join(ACTIONS)}.")
            return
        self._action, self._value, self._direction = action, value, direction if ACTIONS[action][2] else "both"
        self.action_box.value = action
        if value is not None:
            self.value_box.value = float(value)
        self.direction_box.value = self._direction
        self._say("")

    @property
    def scenario(self) -> Scenario | None:
        """The scenario the selection and the action make, or ``None`` (the reason in :attr:`message`)."""
        if self._select is None:
            self._say("Select links first: a street name, or link ids such as 12, 13.")
            return None
        kind, key, directed = ACTIONS[self._action]
        measure: dict[str, Any] = {"action": kind, **self._select, "direction": self._direction if directed else "both"}
        if key is not None:
            if self._value is None:
                self._say(f"'{self._action}' needs a value.")
                return None
            measure[key] = float(self._value)
        try:
            return Scenario.from_dict(
                {"name": self.name, "description": f"{self._action}: {self._selection_text()}", "measures": [measure]}
            )
        except LdtkitError as exc:
            self._say(str(exc))
            return None

    @property
    def toml(self) -> str:
        """The scenario as a TOML file (what ``ldtkit run CITY --scenario scenario.toml`` reads), or ``""``."""
        import tomli_w

        scenario = self.scenario
        return tomli_w.dumps(scenario.to_dict()) if scenario is not None else ""

    def run(self) -> ScenarioResult | None:
        """Run the scenario against the baseline and show its change maps; ``None`` on a problem (see :attr:`message`)."""
        if not self.enabled:
            self._say("Editing scenarios is switched off in this dashboard.")
            return None
        scenario = self.scenario
        if scenario is None:
            return None
        self.toml_box.value = f"<pre class='ldtkit-scenario-toml'>{html.escape(self.toml)}</pre>"
        try:
            results = run(self.city, [scenario], models=self.models, cache_dir=self.cache_dir, on_disconnected="raise", progress=False)
        except LdtkitError as exc:
            self._say(f"The scenario cannot run: {exc}")
            return None
        self.result = results[scenario.name]
        views = views_from_results(results, city=self.city, labels={scenario.name: scenario.description}, cache_dir=self.cache_dir)
        self.dashboard = ScenarioDashboard(
            views, baseline="baseline", default=scenario.name, center=focus_center(self.city), basemap=None, classes=24
        )
        self.dashboard.layer_switch.value = "diff"
        self.maps.children = [self.dashboard.widget]
        self._say("")
        return self.result

    # the widgets -------------------------------------------------------------------------
    def _road_index(self) -> tuple[Any, Any]:
        """The baseline's roads (no connectors) and their spatial index, built on first use."""
        from shapely import STRtree

        if self._roads is None:
            links = self.baseline.network.links
            roads = links[links["road_class"].to_numpy() != "connector"]
            self._roads = (roads, STRtree(roads.geometry.to_numpy()))
        return self._roads  # type: ignore[no-any-return]

    def _pick_map(self) -> Any:
        """A map of the baseline's roads (one grey path); a click selects the nearest road."""
        import ipyleaflet
        import ipywidgets as w

        from ldtkit.viz.maps import ColorScale, links_geojson

        roads = self.baseline.network.links
        roads = roads[roads["road_class"].to_numpy() != "connector"].assign(one=1.0)
        grey = ColorScale(0.0, 1.0, cmap="Greys")
        data = links_geojson(roads, "one", grey, merge_below=np.inf, merged_style={"color": "#555555", "weight": 1})
        lat, lon = focus_center(self.city)
        m = ipyleaflet.Map(center=[lat, lon], zoom=14, layers=(), scroll_wheel_zoom=True, layout=w.Layout(height="360px"))
        m.add(ipyleaflet.GeoJSON(data=data, name="roads"))

        def on_interaction(**event: Any) -> None:
            if event.get("type") == "click":
                self.click(tuple(event["coordinates"]))

        m.on_interaction(on_interaction)
        # the lasso: a polygon or rectangle drawn on the map selects the roads inside
        draw = ipyleaflet.DrawControl(polyline={}, circlemarker={}, circle={}, marker={})
        draw.polygon = {"shapeOptions": {"color": "#c0392b", "weight": 2, "fillOpacity": 0.1}}
        draw.rectangle = {"shapeOptions": {"color": "#c0392b", "weight": 2, "fillOpacity": 0.1}}

        def on_draw(control: Any, action: str, geo_json: Mapping[str, Any]) -> None:
            if action == "created":
                try:
                    self.lasso(geo_json)
                except Exception as exc:  # a widget shows a message, never a traceback
                    self._say(f"Could not select the roads in the shape: {exc}")
                control.clear()

        draw.on_draw(on_draw)
        m.add(draw)
        self.draw_control = draw
        return m

    def _run_from_widgets(self) -> None:
        try:
            if self.select(self.selection_box.value) == 0:
                return
            self.set_action(self.action_box.value, value=self.value_box.value, direction=self.direction_box.value)
            self.run()
        except Exception as exc:  # a widget shows a message, never a traceback
            self._say(f"Could not run the scenario: {exc}")

    def _selection_text(self) -> str:
        sel = self._select or {}
        return str(sel.get("street") or ", ".join(map(str, sel.get("ids", []))))

    def _say(self, text: str) -> None:
        self.message = text
        self.message_box.value = (
            f"<div class='ldtkit-notice' role='status' style='background:#fff4ce;padding:6px 10px'>{html.escape(text)}</div>"
            if text
            else ""
        )


__all__ = ["ACTIONS", "ScenarioEditor"]
