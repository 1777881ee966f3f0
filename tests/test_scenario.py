"""Scenarios: parsing, selectors, direction handling, validation errors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point

from ldtkit.errors import ConfigError, SelectorError, UnreadableFormatError
from ldtkit.model.network import RoadNetwork, conform_links, conform_nodes
from ldtkit.study.scenario import Measure, Scenario, load_scenarios, select_links

CRS = "EPSG:31370"


def _toy() -> RoadNetwork:
    """A two-way east-west street (Main St, a bridge in the middle) and a north-south one."""
    pts = {1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (100, 100)}
    rows = []
    lid = 1
    for a, b, name, bridge in [(1, 2, "Main St", False), (2, 3, "Main St", True), (2, 4, "North Rd", False)]:
        for frm, to, rev in [(a, b, False), (b, a, True)]:
            rows.append(
                dict(
                    link_id=lid,
                    from_node=frm,
                    to_node=to,
                    length_m=100.0,
                    capacity_vph=1000.0,
                    free_speed_kmh=50.0,
                    name=name,
                    bridge=bridge,
                    reversed=rev,
                    geometry=LineString([pts[frm], pts[to]]),
                )
            )
            lid += 1
    links = conform_links(gpd.GeoDataFrame(rows, crs=CRS), source="toy")
    nodes = conform_nodes(gpd.GeoDataFrame({"node_id": list(pts)}, geometry=[Point(p) for p in pts.values()], crs=CRS), source="toy")
    return RoadNetwork(links, nodes, name="toy")


def test_close_both_and_one_direction_keep_ids_and_do_not_mutate_baseline():
    net = _toy()
    both = Scenario.from_dict({"name": "b", "measures": [{"action": "close", "street": "main st", "bridge": True}]}).apply(net)
    east = Scenario.from_dict(
        {"name": "e", "measures": [{"action": "close", "street": "Main St", "bridge": True, "direction": "eastbound"}]}
    ).apply(net)
    fwd = Scenario.from_dict(
        {"name": "f", "measures": [{"action": "close", "street": "Main St", "bridge": True, "direction": "forward"}]}
    ).apply(net)
    assert both.links["link_id"].tolist() == net.links["link_id"].tolist()
    assert sorted(both.links.loc[~both.links["car_allowed"], "link_id"]) == [3, 4]
    assert east.links.loc[~east.links["car_allowed"], "link_id"].tolist() == [3]  # 2 -> 3 runs east
    assert fwd.links.loc[~fwd.links["car_allowed"], "link_id"].tolist() == [3]
    assert net.links["car_allowed"].all(), "the baseline network must not be mutated"


def test_from_to_places_direction():
    net = _toy()
    # places given in WGS84: convert two points of the toy CRS
    pts = gpd.GeoSeries([Point(200, 0), Point(100, 0)], crs=CRS).to_crs(4326)
    d = {"from": [pts[0].x, pts[0].y], "to": [pts[1].x, pts[1].y]}
    rows = select_links(net, {"street": "Main St", "bridge": True}, direction=d)
    assert net.links.loc[rows, "link_id"].tolist() == [4]  # 3 -> 2 runs westward


def test_pedestrianise_bar_heavy_and_set():
    net = _toy()
    s = Scenario.from_dict(
        {
            "name": "p",
            "measures": [
                {"action": "pedestrianise", "street": "North Rd"},
                {"action": "bar_heavy", "ids": [1, 2]},
                {"action": "set", "ids": [3], "lanes": 2},
                {"action": "set", "ids": [4], "free_speed_kmh": 25, "capacity_factor": 0.5},
            ],
        }
    )
    out = s.apply(net).links.set_index("link_id")
    assert not out.loc[[5, 6], "car_allowed"].any() and out.loc[[5, 6], "walk_allowed"].all()
    assert not out.loc[[1, 2], "hgv_allowed"].any() and out.loc[[1, 2], "car_allowed"].all()
    assert out.loc[3, "capacity_vph"] == pytest.approx(2000.0)  # 1 lane -> 2 lanes doubles capacity
    assert out.loc[4, "capacity_vph"] == pytest.approx(500.0)
    assert out.loc[4, "free_flow_time_min"] == pytest.approx(0.1 / 25 * 60)


def test_within_polygon_with_buffer():
    net = _toy()
    poly = gpd.GeoSeries([Point(150, 0)], crs=CRS).to_crs(4326).iloc[0]
    rows = select_links(net, {"within": poly.wkt, "buffer_m": 10})
    assert sorted(net.links.loc[rows, "link_id"]) == [3, 4]


def test_unknown_street_suggests_close_names():
    with pytest.raises(SelectorError, match=r"no street named \['Mian St'\]; did you mean \['Main St'"):
        Scenario.from_dict({"name": "x", "measures": [{"action": "close", "street": "Mian St"}]}).apply(_toy())


def test_unknown_ids_name_the_ids_and_nearest():
    with pytest.raises(SelectorError, match=r"unknown link ids \[99\].*nearest existing ids: \[6\]"):
        Scenario.from_dict({"name": "x", "measures": [{"action": "close", "ids": [99]}]}).apply(_toy())


def test_bad_measures_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="action 'demolish'"):
        Scenario.from_dict({"name": "x", "measures": [{"action": "demolish", "ids": [1]}]})
    with pytest.raises(ConfigError, match="no selector"):
        Scenario.from_dict({"name": "x", "measures": [{"action": "close"}]})
    with pytest.raises(ConfigError, match=r"\[x\], measure 2 \(close\): direction 'up'"):  # refused on reading
        Scenario.from_dict({"name": "x", "measures": [{"action": "close", "ids": [1]}, {"action": "close", "ids": [1], "direction": "up"}]})
    with pytest.raises(ConfigError, match="'measures' must be a list of tables"):
        Scenario.from_dict({"name": "x", "measures": {"action": "close"}})
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [unclosed")
    with pytest.raises(UnreadableFormatError, match="bad.toml"):
        Scenario.from_toml(bad)


@pytest.mark.parametrize(
    ("measure", "message"),
    [
        ({"action": "close", "street": "A", "bridge": "no"}, r"measure 1 \(close\): bridge = 'no'; expected true or false"),
        ({"action": "close", "ids": [1, 2.5]}, r"ids = \[1, 2.5\]; expected a non-empty list of integer link ids"),
        ({"action": "close", "ids": []}, r"ids = \[\]; expected a non-empty list"),
        ({"action": "close", "ids": [1], "lanes": 1}, r"\['lanes'\] set link values, which a 'close' measure does not do"),
    ],
)
def test_selector_values_of_the_wrong_kind_and_values_without_set_are_refused(measure, message):
    with pytest.raises(ConfigError, match=message):
        Scenario.from_dict({"name": "x", "measures": [measure]})


def test_fingerprint_ignores_name_but_not_measures():
    a = Scenario.from_dict({"name": "a", "measures": [{"action": "close", "ids": [1]}]})
    b = Scenario.from_dict({"name": "b", "description": "other", "measures": [{"action": "close", "ids": [1]}]})
    c = Scenario.from_dict({"name": "a", "measures": [{"action": "close", "ids": [2]}]})
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


@pytest.fixture(scope="module")
def ghent():
    from ldtkit.study.city import load_city

    return load_city("ghent").load_network()


def test_ghent_scenario_files_close_the_rooigemlaan_bridge(ghent):
    scen = {s.name: s for s in load_scenarios("data/ghent/scenarios")}
    assert set(scen) == {"bridge-closed-both", "bridge-closed-southbound", "bridge-closed-northbound"}
    closed = {}
    for name, s in scen.items():
        links = s.apply(ghent).links
        closed[name] = links.loc[~links["car_allowed"] & ghent.links["car_allowed"], ["link_id", "name", "bridge"]]
        assert (closed[name]["name"] == "Rooigemlaan").all() and closed[name]["bridge"].all()
    assert len(closed["bridge-closed-both"]) == 2
    south, north = closed["bridge-closed-southbound"]["link_id"].tolist(), closed["bridge-closed-northbound"]["link_id"].tolist()
    assert len(south) == len(north) == 1 and south != north
    assert sorted(south + north) == sorted(closed["bridge-closed-both"]["link_id"])


def test_unknown_measure_key_suggests_the_closest():
    with pytest.raises(ConfigError, match=r"unknown measure keys \['stret'\]; did you mean 'street'\?"):
        Measure.from_dict({"action": "close", "stret": "Rooigemlaan"}, source="s.toml")


def test_touched_vph_sums_each_selected_link_once():
    net = _toy()  # links 1-4 on Main St (3, 4 the bridge), 5-6 on North Rd
    flow = np.array([10.0, 20.0, 40.0, 80.0, 160.0, 320.0])
    bridge = Scenario.from_dict({"name": "b", "measures": [{"action": "close", "street": "Main St", "bridge": True}]})
    assert bridge.touched_vph(net, flow) == 120.0
    # a link selected by two measures counts once
    overlap = Scenario.from_dict(
        {"name": "o", "measures": [{"action": "close", "street": "Main St"}, {"action": "bar_heavy", "ids": [1, 5]}]}
    )
    assert overlap.touched_vph(net, flow) == 10.0 + 20.0 + 40.0 + 80.0 + 160.0
    assert Scenario("baseline").touched_vph(net, flow) == 0.0
