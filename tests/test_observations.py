"""Observations in (CSV, Telraam JSON, NGSI-LD), sites matched to links, validation statistics and plot."""

from __future__ import annotations

import io
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString

from ldtkit.errors import InvalidValueError, MissingFieldError, UnreadableFormatError
from ldtkit.model.calibration import geh
from ldtkit.study.city import load_city
from ldtkit.study.observations import (
    calibrate_city,
    match_counts,
    match_positions,
    read_air_quality_observed,
    read_counts,
    read_counts_csv,
    read_measurements_csv,
    read_noise_level_observed,
    read_telraam_json,
    read_traffic_flow_observed,
    validate_counts,
    validation_statistics,
)


def _csv(text: str, name: str = "counts.csv"):
    return read_counts_csv(io.StringIO(text), source=name)


# ------------------------------------------------------------------ readers
def test_csv_by_position_direction_and_hour():
    c = _csv(
        "site_id,lon,lat,direction,hour,vehicle_class,count\nS1,3.7,51.0,N,8,light,600\nS1,3.7,51.0,S,8,light,500\nS1,3.7,51.0,N,21,light,200\n"
    )
    t = c.table
    assert t["heading_deg"].tolist() == [0.0, 180.0, 0.0]
    assert t["period"].tolist() == ["day", "day", "evening"]
    day = c.for_period("day", vehicle_class="light").table
    assert sorted(day["count_vph"]) == [500.0, 600.0]


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("site_id,link_id,count\nA,1,10\nB,2,-1\n", InvalidValueError, "counts.csv: site B: count must be finite and >= 0, got -1.0"),
        ("site_id,link_id,count\nA,1,10\nA,1,12\n", InvalidValueError, "counts.csv: duplicate counts for site A"),
        ("site_id,link_id,period,count\nA,1,evning,10\n", InvalidValueError, "site A: unknown period 'evning'.*did you mean 'evening'"),
        ("site_id,lon,lat,direction,count\nA,3.7,51,NNE,10\n", InvalidValueError, "site A: unknown direction 'NNE'"),
        ("site_id,link_id,flow\nA,1,10\n", MissingFieldError, "counts.csv: missing required field 'count'"),
        ("site_id,count\nA,10\n", MissingFieldError, "link_id, or init_node and term_node, or lon and lat"),
        ("site_id,link_id,count\nA,1,10\nB,x7,10\n", InvalidValueError, "site B: link_id must be a link id .*got 'x7'"),
        ("link_id,count\n4.5,10\n", InvalidValueError, "site row 2: link_id must be a link id .*got 4.5"),
        ("init_node,term_node,count\n1,2,10\n,1,5\n", InvalidValueError, "site row 3: give both init_node and term_node, or neither"),
        ("site_id,link_id,hour,count\nA,1,25,10\n", InvalidValueError, "site A: hour must be an hour of the day .*got 25"),
        ("site_id,link_id,hour,count\nA,1,8h,10\n", InvalidValueError, "site A: hour must be an hour of the day .*got '8h'"),
        ("site_id,lon,lat,heading,count\nA,3.7,51,east,10\n", InvalidValueError, "site A: heading must be a heading in degrees"),
        ("site_id,lon,lat,count\nA,51,95,10\n", InvalidValueError, "site A: lat must be a latitude in degrees .*got 95"),
        ("site_id,link_id,lon,lat,count\nA,,3.7,,10\n", InvalidValueError, "site A: no location; give link_id"),
    ],
)
def test_bad_csv_counts_name_the_site(text, error, message):
    with pytest.raises(error, match=message):
        _csv(text)


def test_csv_may_mix_sites_by_link_and_by_position():
    c = _csv("link_id,lon,lat,heading,hour,period,count\n4,,,,,Day,10\n,3.7,51.0,90,8,,20\n")
    t = c.table
    assert t["site_id"].tolist() == ["link 4", "row 3"] and t["link_id"].tolist() == [4, -1]
    assert t["period"].tolist() == ["day", "day"] and t["hour"].tolist() == [-1, 8]
    assert np.isnan(t["lon"].iloc[0]) and t["heading_deg"].iloc[1] == 90.0


def test_telraam_hours_are_local_in_the_rows_timezone(tmp_path):
    row = {"segment_id": 7, "date": "2023-05-02T05:00:00.000Z", "uptime": 1.0, "car": 10, "heavy": 1}
    p = tmp_path / "telraam.json"
    p.write_text(json.dumps({"report": [{**row, "timezone": "Europe/Brussels"}, {**row, "segment_id": 8}]}))
    t = read_telraam_json(p).table.drop_duplicates("site_id").set_index("site_id")
    assert t.loc["7", ["hour", "period"]].tolist() == [7, "day"]  # 05:00 UTC is 07:00 in Brussels in May
    assert t.loc["8", ["hour", "period"]].tolist() == [5, "night"]  # no timezone: UTC
    p.write_text(json.dumps({"report": [{**row, "timezone": "Europe/Brusels"}]}))
    with pytest.raises(InvalidValueError, match="telraam.json: segment 7: unknown timezone 'Europe/Brusels'"):
        read_telraam_json(p)
    p.write_text(json.dumps({"report": [{**row, "date": "yesterday"}]}))
    with pytest.raises(InvalidValueError, match="segment 7: date must be an ISO 8601 date-time, got 'yesterday'"):
        read_telraam_json(p)


def test_telraam_report_per_direction_and_uptime(tmp_path):
    report = {
        "report": [
            {"segment_id": 9000001, "date": "2023-05-02T07:00:00.000Z", "interval": "hourly", "uptime": 0.8,
             "car": 200, "heavy": 8, "car_lft": 120, "car_rgt": 80, "heavy_lft": 4, "heavy_rgt": 4},
            {"segment_id": 9000001, "date": "2023-05-02T08:00:00.000Z", "interval": "hourly", "uptime": 0.0,
             "car": 0, "heavy": 0, "car_lft": 0, "car_rgt": 0, "heavy_lft": 0, "heavy_rgt": 0},
        ]
    }  # fmt: skip
    p = tmp_path / "telraam.json"
    p.write_text(json.dumps(report))
    t = read_telraam_json(p).table
    assert len(t) == 4  # the hour without uptime is left out
    light = t[t["vehicle_class"] == "light"].set_index("site_id")["count_vph"]
    assert light.to_dict() == {"9000001 lft": 150.0, "9000001 rgt": 100.0}
    assert (t["link_id"] == 9000001).all() and (t["period"] == "day").all()
    assert read_counts(p).table.equals(t)
    every = read_telraam_json(p).all_vehicles().for_period("day").table.set_index("site_id")["count_vph"]
    assert every.to_dict() == {"9000001 lft": 155.0, "9000001 rgt": 105.0}


def test_traffic_flow_observed_example_entity(shared):
    f = shared / "reference/standards/smart-data-models/Transportation/TrafficFlowObserved/example-normalized.jsonld"
    t = read_traffic_flow_observed(f).table
    row = t.iloc[0]
    assert row["count_vph"] == pytest.approx(197 * 12)  # 197 vehicles in 5 minutes
    assert row["hour"] == 11 and row["period"] == "day"
    # the direction of travel is that of the LineString's middle segment (here south-south-west)
    (x0, y0), (x1, y1) = [-4.73414858659993, 41.6600594193478], [-4.73447575302641, 41.659585195093]
    expected = np.degrees(np.arctan2((x1 - x0) * np.cos(np.radians((y0 + y1) / 2)), y1 - y0)) % 360
    assert row["heading_deg"] == pytest.approx(expected) and 180 < expected < 225


def test_malformed_entity_is_named(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps([{"type": "TrafficFlowObserved", "intensity": {"type": "Property", "value": 3}}]))
    with pytest.raises(UnreadableFormatError, match="an entity without id or type"):
        read_traffic_flow_observed(p)
    p.write_text(json.dumps([{"id": "urn:ngsi-ld:TrafficFlowObserved:x", "type": "TrafficFlowObserved"}]))
    with pytest.raises(MissingFieldError, match="in entity urn:ngsi-ld:TrafficFlowObserved:x"):
        read_traffic_flow_observed(p)


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"intensity": {"type": "Property", "value": "many"}}, "intensity must be a number of vehicles, got 'many'"),
        ({"intensity": 5, "location": {"type": "Point", "coordinates": ["x", 51]}}, "location coordinates must be [lon, lat] numbers"),
        ({"intensity": 5, "dateObservedFrom": "last tuesday"}, "dateObservedFrom must be an ISO 8601 date-time, got 'last tuesday'"),
        (
            {"intensity": 5, "dateObservedFrom": "2024-05-02T07:00:00+02:00", "dateObservedTo": "2024-05-02T08:00:00"},
            "dateObservedFrom and dateObservedTo must both have a UTC offset or neither",
        ),
    ],
)
def test_unreadable_traffic_flow_observed_names_the_entity(tmp_path, attributes, message):
    p = tmp_path / "tfo.json"
    p.write_text(json.dumps([{"id": "urn:ngsi-ld:TrafficFlowObserved:ok", "type": "TrafficFlowObserved", "intensity": 3},
                             {"id": "urn:ngsi-ld:TrafficFlowObserved:x", "type": "TrafficFlowObserved", **attributes}]))  # fmt: skip
    with pytest.raises(InvalidValueError, match=re.escape(f"tfo.json: entity urn:ngsi-ld:TrafficFlowObserved:x: {message}")):
        read_traffic_flow_observed(p)


def test_traffic_flow_observed_hour_is_that_of_its_own_offset(tmp_path):
    p = tmp_path / "tfo.json"
    e = {"id": "urn:ngsi-ld:TrafficFlowObserved:a", "type": "TrafficFlowObserved", "intensity": 150,
         "dateObservedFrom": "2024-05-02T06:30:00+02:00", "dateObservedTo": "2024-05-02T05:00:00Z"}  # fmt: skip
    p.write_text(json.dumps(e))
    row = read_traffic_flow_observed(p).table.iloc[0]
    assert (row["hour"], row["period"], row["count_vph"]) == (6, "night", 300.0)  # 150 vehicles in 30 minutes


def test_noise_levels_exported_by_ldtkit_are_read_back(tmp_path):
    p = tmp_path / "noise.json"
    prop = lambda v: {"type": "Property", "value": v, "unitCode": "2N"}
    e = {"id": "urn:ngsi-ld:NoiseLevelObserved:ghent:1_2", "type": "NoiseLevelObserved", "LAeq_d": prop(59.4),
         "Lden": prop(60.3), "Levening": prop(56.0), "Lnight": prop(50.7),
         "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [3.72, 51.05]}}}  # fmt: skip
    p.write_text(json.dumps(e))
    m = read_noise_level_observed(p)
    assert dict(zip(m.table["quantity"], m.table["value"])) == {"laeq_day_dba": 59.4, "lden_dba": 60.3, "lnight_dba": 50.7}
    p.write_text(json.dumps({**e, "Lden": prop("loud")}))
    with pytest.raises(InvalidValueError, match="entity urn:ngsi-ld:NoiseLevelObserved:ghent:1_2: Lden must be a number, got 'loud'"):
        read_noise_level_observed(p)


def test_air_and_noise_example_entities(shared):
    base = shared / "reference/standards/smart-data-models/Environment"
    air = read_air_quality_observed(base / "AirQualityObserved/example-normalized.jsonld")
    assert air.of("no2_ugm3")["value"].tolist() == [69.0]
    noise = read_noise_level_observed(base / "NoiseLevelObserved/example-normalized.jsonld")
    assert noise.of("laeq_dba")["value"].tolist() == [67.8]
    assert noise.of("laeq_day_dba")["value"].tolist() == [65.4]


def test_measurements_csv_long_and_errors():
    m = read_measurements_csv(io.StringIO("site_id,lon,lat,quantity,value\nA,3.7,51,no2_ugm3,30\nA,3.7,51,lden_dba,62\n"))
    assert m.of("lden_dba")["value"].tolist() == [62.0]
    with pytest.raises(InvalidValueError, match="site A: unknown quantity 'no2_ugm'.*did you mean 'no2_ugm3'"):
        read_measurements_csv(io.StringIO("site_id,lon,lat,quantity,value\nA,3.7,51,no2_ugm,30\n"))


# ------------------------------------------------------------------ matching
def _links():
    # a two-way street (two opposite links) and, 4 m north, a parallel one-way service road
    geoms = [LineString([(0, 0), (200, 0)]), LineString([(200, 0), (0, 0)]), LineString([(0, 4), (200, 4)])]
    return gpd.GeoDataFrame({"link_id": [1, 2, 3]}, geometry=geoms, crs="EPSG:31370")


def test_matching_by_heading_ambiguity_and_distance():
    sites = pd.DataFrame(
        {
            "site_id": ["west", "east", "far", "east_south"],
            "x": [100.0, 100.0, 100.0, 100.0],
            "y": [-2.0, 2.0, 80.0, -10.0],
            "heading_deg": [270.0, 90.0, 90.0, 90.0],
        }
    )
    t = match_positions(_links(), sites).table.set_index("site_id")
    assert t.loc["west", ["status", "link_id"]].tolist() == ["matched", 2]
    assert t.loc["west", "distance_m"] == pytest.approx(2.0)
    # heading east, 2 m from link 1 and 2 m from the service road: two parallel candidates, both listed
    assert t.loc["east", "status"] == "ambiguous" and t.loc["east", "link_id"] == -1
    assert {t.loc["east", "nearest_link_id"], t.loc["east", "second_link_id"]} == {1, 3}
    assert t.loc["east", "distance_m"] == pytest.approx(2.0) and t.loc["east", "second_distance_m"] == pytest.approx(2.0)
    assert t.loc["west", "nearest_link_id"] == 2 and t.loc["far", "nearest_link_id"] == -1
    assert t.loc["far", "status"] == "unmatched" and np.isnan(t.loc["far", "distance_m"])
    # 10 m south: link 1 at 10 m, the service road at 14 m, within the ambiguity margin of 5 m
    assert t.loc["east_south", "status"] == "ambiguous"
    t2 = match_positions(_links(), sites, ambiguity_m=3.0).table.set_index("site_id")
    assert t2.loc["east_south", ["status", "link_id"]].tolist() == ["matched", 1]
    assert t2.loc["east_south", "second_distance_m"] == pytest.approx(14.0)


def test_matching_counts_on_a_city_network_by_position():
    city = load_city("ghent")
    net = city.load_network()
    links = net.links
    row = int(np.argmax(links.geometry.length.to_numpy()))
    line = links.geometry.iloc[row]
    mid = line.interpolate(0.5, normalized=True)
    a, b = line.interpolate(0.45, normalized=True), line.interpolate(0.55, normalized=True)
    heading = float(np.degrees(np.arctan2(b.x - a.x, b.y - a.y)) % 360)
    p = gpd.GeoSeries([mid], crs=links.crs).to_crs(4326).iloc[0]
    c = _csv(f"site_id,lon,lat,heading,count\nS,{p.x},{p.y},{heading},500\nFAR,{p.x + 1},{p.y},{heading},500\n")
    rep = match_counts(net, c)
    t = rep.table.set_index("site_id")
    assert t.loc["FAR", "status"] == "unmatched"
    if t.loc["S", "status"] == "matched":
        assert t.loc["S", "link_id"] == links["link_id"].iloc[row]
    else:  # a parallel link drawn on the same street
        assert t.loc["S", "status"] == "ambiguous"
        assert links["link_id"].iloc[row] in (t.loc["S", "second_link_id"], -1)
    assert t.loc["S", "distance_m"] < 1.0
    assert rep.summary().endswith("1 unmatched")


def test_unknown_link_id_is_named_with_the_closest():
    net = load_city("ghent").load_network()
    first = int(net.links["link_id"].iloc[0])
    wrong = int(net.links["link_id"].max()) + 1
    with pytest.raises(InvalidValueError, match=rf"counts.csv: site B: link_id {wrong} is not a link of the network"):
        match_counts(net, _csv(f"site_id,link_id,count\nA,{first},10\nB,{wrong},10\n"))


def test_city_counts_of_a_period_without_counts_are_refused():
    counts = _csv("site_id,link_id,hour,count\nA,1,3,10\n")
    with pytest.raises(InvalidValueError, match="counts.csv: no counts of every vehicle in period 'day'"):
        calibrate_city(load_city("ghent"), counts, period="day")


# ------------------------------------------------------------------ statistics
def test_geh_values():
    # GEH(110, 100) = sqrt(2 * 100 / 210); GEH(1000, 850) = sqrt(2 * 22500 / 1850)
    np.testing.assert_allclose(geh([110.0, 1000.0], [100.0, 850.0]), [np.sqrt(200 / 210), np.sqrt(45000 / 1850)])


def test_validation_statistics_against_hand_computed_values():
    obs = np.array([100.0, 400.0, 900.0, 1600.0])
    mod = np.array([120.0, 380.0, 1060.0, 1500.0])
    v = validation_statistics(mod, obs, site_id=["a", "b", "c", "d"], screenline=["r", "r", "c", None])
    assert v.sites["geh_below_5"].tolist() == [True, True, False, True]  # GEH(1060, 900) = 5.16
    assert v.geh_below_5_share == 0.75 and not v.meets_geh_criterion
    assert v.slope == pytest.approx(np.dot(obs, mod) / np.dot(obs, obs))
    assert v.r2 == pytest.approx(np.corrcoef(obs, mod)[0, 1] ** 2)
    s = v.screenlines.set_index("screenline")
    assert s.loc["r", "difference_pct"] == pytest.approx(0.0)  # 500 counted, 500 modelled
    assert s.loc["c", "difference_pct"] == pytest.approx(100 * 160 / 900)
    assert s["within_5pct"].tolist() == [False, True] and s["within_10pct"].tolist() == [False, True]
    assert "share of sites with GEH < 5" in v.summary()["statistic"].tolist()


def test_validate_counts_uses_matched_sites_only():
    counts = _csv("site_id,link_id,count,screenline\nA,1,100,x\nB,2,200,x\n").table
    matches = pd.DataFrame({"site_id": ["A", "B"], "heading_deg": [np.nan, np.nan], "status": ["matched", "ambiguous"], "link_id": [1, -1]})
    v = validate_counts(counts, matches, np.array([1, 2]), np.array([90.0, 300.0]))
    assert v.sites["site_id"].tolist() == ["A"] and v.sites["modelled_vph"].tolist() == [90.0]


def test_scatter_plot_has_the_one_to_one_line():
    import matplotlib

    matplotlib.use("Agg")
    from ldtkit.viz.validation_plots import plot_count_validation

    v = validation_statistics([95.0, 480.0, 700.0], [100.0, 500.0, 500.0], site_id=["a", "b", "c"])
    ax = plot_count_validation(v, label="calibrated")
    one_to_one = [ln for ln in ax.get_lines() if ln.get_label() == "1:1"]
    assert len(one_to_one) == 1 and list(one_to_one[0].get_xdata()) == list(one_to_one[0].get_ydata())
    red = [c for c in ax.collections if "GEH >= 5" in str(c.get_label())]
    assert len(red) == 1 and len(red[0].get_offsets()) == 1
    assert "67%" in ax.get_title()
