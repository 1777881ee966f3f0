"""OSM speed limits matched onto road segments: the matcher, the shipped Ghent file, the `attributes` key."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import DATA
from shapely.geometry import LineString

from ldtkit.errors import InputFileNotFoundError, InvalidValueError, MissingFieldError
from ldtkit.model.loaders.conflate import conflate_osm, parse_maxspeed
from ldtkit.model.loaders.segments import SegmentAttributes
from ldtkit.model.network import network_from_segments
from ldtkit.study.city import load_city

GHENT = DATA / "ghent"
#: Extent of the OSM file the Ghent speeds were matched from (lon/lat, as data/README.md gives it).
OSM_EXTENT_WGS84 = (3.635, 50.995, 3.842, 51.113)
MAPPING = {"id": "sid", "name": "street", "road_class": "frc", "direction": "dir"}


def test_maxspeed_parsing_numbers_units_and_implicit_values():
    got = parse_maxspeed(pd.Series(["30", "70 km/h", "20 mph", "BE:zone30", "BE:urban", "BE-VLG:rural", "BE:motorway", "none", "", None]))
    np.testing.assert_array_equal(got.to_numpy()[:7], [30.0, 70.0, 32.0, 30.0, 50.0, 70.0, 120.0])
    assert got.iloc[7:].isna().all()


def test_matching_uses_geometry_bearing_and_name():
    seg = gpd.GeoDataFrame(
        {"id": ["along", "cross", "renamed", "unnamed_way", "far"], "name": ["Dok", "Dok", "Kaai", "Lei", "Lei"],
         "dir": ["both", "both", "both", "backward", "both"]},
        geometry=[
            LineString([(0, 0), (100, 0)]),  # a way runs along it, same name
            LineString([(50, -50), (50, 50)]),  # crosses the way: wrong bearing
            LineString([(0, 200), (100, 200)]),  # a way along it but named differently
            LineString([(0, 400), (100, 400)]),  # a way without a name along it, one-way the other way
            LineString([(0, 600), (100, 600)]),  # no way within the buffer
        ],
        crs="EPSG:31370",
    )  # fmt: skip
    way = gpd.GeoDataFrame(
        {"highway": ["residential", "residential", "living_street", "cycleway"], "name": ["Dok", "Veld", None, "Lei"],
         "maxspeed": ["30", "50", None, "20"], "oneway": [None, None, "yes", None]},
        geometry=[
            LineString([(-10, 4), (110, 3)]),
            LineString([(-10, 203), (110, 203)]),
            LineString([(-10, 405), (110, 405)]),
            LineString([(-100, -100), (-100, 700)]),  # not a car way; spans the extent
        ],
        crs="EPSG:31370",
    )  # fmt: skip
    c = conflate_osm(seg, way, id_column="id", name_column="name", direction_column="dir")
    assert c.n_segments == 5  # the file's extent (the cycleway spans it) holds every segment
    got = c.speeds.set_index("segment_id")
    assert sorted(got.index) == ["along", "unnamed_way"]
    assert got.loc["along", "speed_kmh"] == 30.0 and got.loc["along", "source"] == "maxspeed"
    assert got.loc["unnamed_way", "speed_kmh"] == 20.0 and got.loc["unnamed_way", "source"] == "highway=living_street"
    assert got.loc["unnamed_way", "score"] == pytest.approx(0.8)  # a way without a name weighs 0.8
    assert c.oneway_disagreements.empty  # one-way both in the segment and in OSM
    c = conflate_osm(seg, way, id_column="id", name_column="name", direction_column="dir", check_orientation=True)
    ow = c.oneway_disagreements.set_index("segment_id")
    assert ow.loc["unnamed_way", "osm_direction"] == "forward" and ow.loc["unnamed_way", "segment_direction"] == "backward"
    seg.loc[0, "dir"] = "forward"  # one-way in the segment file, two-way in OSM
    ow = conflate_osm(seg, way, id_column="id", name_column="name", direction_column="dir").oneway_disagreements
    assert ow[["segment_id", "segment_direction", "osm_direction"]].values.tolist() == [["along", "oneway", "both"]]


def test_shipped_ghent_speeds_cover_half_of_the_car_segments_in_the_osm_extent():
    city = load_city("ghent")
    net = city.network_config()
    assert net.attributes is not None and net.attributes.path == "osm-speeds-ghent.csv"
    speeds = pd.read_csv(GHENT / net.attributes.path, dtype={"wegsegid": str})
    assert list(speeds.columns) == ["wegsegid", "speed_kmh", "source", "score"]
    assert speeds["speed_kmh"].between(5, 130).all() and speeds["score"].between(0.5, 1.0).all()
    seg = gpd.read_file(GHENT / "wegsegmenten-gent.geojson.zip")
    car_class = ~seg["functional_roadclass"].astype(str).isin(["9", "10"])
    inside = seg.geometry.within(LineString([OSM_EXTENT_WGS84[:2], OSM_EXTENT_WGS84[2:]]).envelope)
    car = seg[car_class & (seg["rijrichting"] != "N") & inside]
    share = car["wegsegid"].isin(speeds["wegsegid"]).mean()
    assert len(car) > 10_000
    assert share >= 0.5, f"{share:.1%} of {len(car)} car segments have an OSM speed limit"
    assert speeds["wegsegid"].isin(seg["wegsegid"]).all()


@pytest.fixture
def segments(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"sid": ["A", "B", "C"], "street": ["Main", "Main", "Side"], "frc": ["4", "4", "6"], "dir": ["D", "D", "D"]},
        geometry=[LineString([(0, 0), (200, 0)]), LineString([(200, 0), (400, 0)]), LineString([(200, 0), (200, 200)])],
        crs="EPSG:31370",
    )
    path = tmp_path / "segments.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path


def _attrs(tmp_path, text: str, **columns: str) -> SegmentAttributes:
    p = tmp_path / "speeds.csv"
    p.write_text(text)
    return SegmentAttributes(p, id=columns.get("id", "sid"), speed_kmh=columns.get("speed_kmh", "speed_kmh"))


def test_attributes_override_the_class_speed_of_the_listed_segments(segments, tmp_path):
    net = network_from_segments(segments, MAPPING, crs="EPSG:31370", attributes=_attrs(tmp_path, "sid,speed_kmh\nA,30\nC,20\n"))
    speed = net.links.groupby("source_id")["free_speed_kmh"].first()
    assert speed.to_dict() == {"A": 30.0, "B": 50.0, "C": 20.0}  # B keeps the class-4 default
    assert net.meta["attributes"] == {"file": "speeds.csv", "segments": 2}


def test_attributes_errors_name_file_column_and_ids(segments, tmp_path):
    with pytest.raises(InputFileNotFoundError, match="nowhere.csv"):
        network_from_segments(segments, MAPPING, attributes=SegmentAttributes(tmp_path / "nowhere.csv", id="sid", speed_kmh="v"))
    with pytest.raises(MissingFieldError, match=r"speeds.csv: missing required field 'speed'.*\['speed_kmh'"):
        network_from_segments(segments, MAPPING, attributes=_attrs(tmp_path, "sid,speed_kmh\nA,30\n", speed_kmh="speed"))
    with pytest.raises(InvalidValueError, match=r"2 of 3 ids in column 'sid' are not segments of the network \(e.g. \['X', 'Y'\]\)"):
        network_from_segments(segments, MAPPING, attributes=_attrs(tmp_path, "sid,speed_kmh\nA,30\nX,20\nY,20\n"))
    with pytest.raises(InvalidValueError, match=r"1 values that are not speeds > 0 km/h \(e.g. ids \['B'\]\)"):
        network_from_segments(segments, MAPPING, attributes=_attrs(tmp_path, "sid,speed_kmh\nA,30\nB,fast\n"))


def test_city_config_missing_attributes_file_names_the_key(tmp_path, segments):
    (tmp_path / "city.toml").write_text(
        'name = "t"\ncrs = "EPSG:31370"\n[network]\nsource = "segments"\npath = "segments.geojson"\n'
        'attributes = { path = "speeds.csv", id = "sid", speed_kmh = "speed_kmh" }\n'
        '[network.mapping]\nid = "sid"\nname = "street"\nroad_class = "frc"\ndirection = "dir"\n'
    )
    with pytest.raises(InputFileNotFoundError, match=r"'network.attributes.path'.*speeds.csv"):
        load_city(tmp_path).load_network()
