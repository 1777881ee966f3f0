"""The scenario editor on the Ghent baseline: select, act, see the TOML, run, see the change maps."""

from __future__ import annotations

import tomllib
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from ldtkit.study.runner import run
from ldtkit.study.select_link import select_link
from ldtkit.viz.editor import ScenarioEditor


@pytest.fixture(scope="module")
def baseline():
    return run("ghent", [], models=("traffic",), progress=False)["baseline"]


def test_editor_closes_the_bridge_shows_the_toml_and_the_change_maps(baseline):
    editor = ScenarioEditor("ghent", baseline=baseline, models=("traffic",), name="bridge-north")
    assert editor.select("Rooigemlaan") >= 2
    editor.set_action("close one direction", direction="northbound")
    spec = tomllib.loads(editor.toml)
    assert spec["name"] == "bridge-north"
    assert spec["measures"] == [{"action": "close", "street": "Rooigemlaan", "direction": "northbound"}]
    result = editor.run()
    assert result is not None and editor.message == ""
    # the closed direction carries nothing any more, and the change maps show the difference
    closed = baseline.network.links["car_allowed"].to_numpy(bool) & ~result.network.links["car_allowed"].to_numpy(bool)
    assert closed.sum() >= 1
    assert result.traffic["day"].total_vph[closed].sum() == pytest.approx(0.0, abs=1e-6)
    assert baseline.traffic["day"].total_vph[closed].sum() > 100  # it carried traffic before
    assert editor.dashboard is not None and editor.dashboard.layer == "diff"
    assert editor.dashboard.scales["diff"].vmax > 100  # the traffic moves elsewhere
    assert "ldtkit-scenario-toml" in editor.toml_box.value and "northbound" in editor.toml_box.value

    # "who used the bridge": the baseline traffic on the closed direction, drawn as the select-link view
    dash = editor.dashboard
    assert "select" in [key for _, key in dash.layer_switch.options]
    dash.layer_switch.value = "select"
    view = dash.views["bridge-north"].select_link
    closed_ids = baseline.network.links["link_id"].to_numpy()[closed]
    assert view is not None and sorted(view.link_ids) == sorted(closed_ids.tolist())
    sl = select_link(baseline, list(view.link_ids))
    links = baseline.network.links
    per_road = (
        pd.DataFrame({"source_id": links["source_id"], "vph": sl.flow_vph})[(links["road_class"] != "connector").to_numpy()]
        .groupby("source_id")["vph"]
        .sum()
    )
    per_road = per_road[per_road > 0]
    drawn = view.links.set_index("source_id")["select_link_vph"]
    assert sorted(drawn.index) == sorted(per_road.index)
    np.testing.assert_allclose(drawn.reindex(per_road.index).to_numpy(), per_road.to_numpy(), rtol=1e-9)
    # the map's right half carries those flows (roads under 1 % of the largest merge into one grey path)
    features = dash._links_right.data["features"]
    values = [f["properties"]["select_link_vph"] for f in features if f["properties"]["select_link_vph"] is not None]
    cut = max(1.0, 0.01 * dash.scales["select"].vmax) + 1e-3  # (sums in another order may fall either side of the cut itself)
    shown = sorted(v for v in values if v >= cut)
    drawn_c = Counter(round(v, 3) for v in shown)
    expected_c = Counter(np.round(per_road[per_road >= cut].to_numpy(), 3).tolist())
    assert len(shown) > 100 and not drawn_c - expected_c  # every road drawn carries its select-link flow
    short = view.links.geometry.length.to_numpy() < 2.0  # roads under 2 m may vanish at the map's 1 m precision
    assert sum((expected_c - drawn_c).values()) <= int((short & (drawn.to_numpy() >= cut)).sum())
    # origins and destinations: every trip starts and ends in a zone, and the selection carries them all
    bridge_vph = baseline.traffic["day"].total_vph[closed]
    assert view.zones["origin_vph"].sum() == pytest.approx(view.trips_vph, rel=1e-9)
    assert view.zones["destination_vph"].sum() == pytest.approx(view.trips_vph, rel=1e-9)
    assert bridge_vph.max() * (1 - 1e-6) <= view.trips_vph <= bridge_vph.sum() * (1 + 1e-6)
    zones = dash._zones_right.data["features"]
    assert len(zones) == int((view.zones["origin_vph"] > 0).sum() + (view.zones["destination_vph"] > 0).sum())
    assert "origins (zones)" in dash.legend.widget.value and "Who used" in dash.legend.widget.value


def test_editor_bad_input_gives_a_clear_message(baseline):
    editor = ScenarioEditor("ghent", baseline=baseline, models=("traffic",))
    assert editor.select("") == 0 and "empty selection" in editor.message
    assert editor.run() is None and "Select links first" in editor.message
    assert editor.select("Rooigemlan") == 0 and "Rooigemlaan" in editor.message  # the closest street name
    editor.set_action("set lanes")
    assert editor.select("Rooigemlaan") >= 2 and editor.run() is None and "needs a value" in editor.message


def test_an_action_that_disconnects_zones_is_a_message(baseline, monkeypatch):
    """The editor runs with on_disconnected="raise"; the runner's error becomes the widget's message.

    (In Ghent a closure rarely cuts a zone off: connectors of closed streets move to the nearest open
    road within 500 m, so the runner's error is raised here as the runner raises it.)
    """
    from ldtkit.errors import DisconnectedDemandError
    from ldtkit.viz import editor as module

    asked = {}

    def disconnected(city, scenarios, **kw):
        asked.update(kw)
        raise DisconnectedDemandError(f"scenario {scenarios[0].name!r}, day period: 12 OD pairs with demand have no path")

    monkeypatch.setattr(module, "run", disconnected)
    editor = ScenarioEditor("ghent", baseline=baseline, models=("traffic",))
    editor.select([int(i) for i in baseline.network.links["link_id"][:4]])
    editor.set_action("close both ways")
    editor.run_button.click()  # through the widget, as a user would
    assert asked["on_disconnected"] == "raise"
    assert editor.message == "The scenario cannot run: scenario 'edited', day period: 12 OD pairs with demand have no path"
    assert "12 OD pairs" in editor.message_box.value and "Traceback" not in editor.message_box.value
    assert editor.result is None and editor.maps.children == ()


def test_editor_is_off_in_a_voila_page_unless_the_notebook_allows_it(baseline, monkeypatch):
    from ldtkit.viz import editor as module

    monkeypatch.setattr(module, "in_voila", lambda: True)
    locked = ScenarioEditor("ghent", baseline=baseline)
    assert locked.run_button.disabled and "switched off" in locked.message
    locked.select("Rooigemlaan")
    assert locked.run() is None and "switched off" in locked.message
    assert not ScenarioEditor("ghent", baseline=baseline, allow_in_voila=True).run_button.disabled


def test_a_click_on_the_map_selects_the_nearest_road(baseline):
    import geopandas as gpd

    editor = ScenarioEditor("ghent", baseline=baseline, models=("traffic",))
    links = baseline.network.links
    bridge = links[(links["name"] == "Rooigemlaan") & links["bridge"].astype(bool)]
    middle = gpd.GeoSeries([bridge.geometry.iloc[0].interpolate(0.5, normalized=True)], crs=links.crs).to_crs(4326).iloc[0]
    picked = editor.click((middle.y, middle.x))
    assert picked in set(bridge["link_id"]) and editor._select == {"ids": [picked]}
    assert editor.selection_box.value == str(picked)
    # a click far from any road selects nothing and says so
    assert editor.click((middle.y + 0.5, middle.x)) is None and "No road within 30 m" in editor.message
    assert editor._select == {"ids": [picked]}
    # the map forwards its clicks
    editor._select = None
    editor.pick_map._handle_leaflet_event(None, {"event": "interaction", "type": "click", "coordinates": [middle.y, middle.x]}, [])
    assert editor._select == {"ids": [picked]}


def test_a_lasso_selects_the_roads_inside_and_a_lasso_over_no_road_says_so(baseline):
    import geopandas as gpd
    import shapely

    editor = ScenarioEditor("ghent", baseline=baseline, models=("traffic",))
    links = baseline.network.links
    bridge = links[(links["name"] == "Rooigemlaan") & links["bridge"].astype(bool)]
    # a 40 m square around the bridge's middle, drawn as the map's draw tool sends it (lon/lat GeoJSON)
    middle = bridge.geometry.iloc[0].interpolate(0.5, normalized=True)
    square = gpd.GeoSeries([middle.buffer(20.0, cap_style="square")], crs=links.crs).to_crs(4326).iloc[0]
    feature = {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(square)}
    editor.draw_control._handle_leaflet_event(None, {"event": "draw:created", "geo_json": feature}, [])
    roads = links[links["road_class"] != "connector"]
    inside = roads[shapely.contains(middle.buffer(20.0, cap_style="square"), roads.geometry.interpolate(0.5, normalized=True))]
    assert editor.message == "" and set(bridge["link_id"]) <= set(inside["link_id"])
    assert editor._select == {"ids": sorted(inside["link_id"].astype(int))}
    # the same shape as (lat, lon) corners through the Python API adds nothing new
    corners = [(lat, lon) for lon, lat in square.exterior.coords]
    assert editor.lasso(corners) == sorted(inside["link_id"].astype(int))
    assert editor._select == {"ids": sorted(inside["link_id"].astype(int))}
    # a lasso over no road: a clear message, the selection unchanged
    far = [(lat + 0.5, lon) for lat, lon in corners]
    assert editor.lasso(far) == [] and editor.message == "No road inside the drawn shape; draw around the roads to select them."
    assert editor._select == {"ids": sorted(inside["link_id"].astype(int))} and "No road inside" in editor.message_box.value
    # a shape with no area is not a lasso
    assert editor.lasso([(51.05, 3.72), (51.06, 3.73)]) == [] and "not a polygon" in editor.message
