"""Loader edge cases on small fixtures, and clear errors naming the file and the field."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from conftest import DATA, ROOT
from shapely.geometry import LineString

from ldtkit.errors import (
    EmptyStudyAreaError,
    InputFileNotFoundError,
    InvalidValueError,
    LdtkitError,
    MissingFieldError,
    UnreadableFormatError,
)
from ldtkit.model.network import RoadNetwork, network_from_osm, network_from_segments, network_from_shapefiles

ATHENS = DATA / "athens" / "network"
LINKS = ATHENS / "scenario0" / "experimental_field_athens_links.shp"
NODES = ATHENS / "nodes" / "experimental_field_athens_nodes.shp"
GHENT = DATA / "ghent" / "wegsegmenten-gent.geojson.zip"
MAPPING = {"id": "sid", "name": "street", "road_class": "frc", "direction": "dir", "bridge": {"column": "feature", "value": "Brug"}}


@pytest.fixture
def segments(tmp_path):
    """Six segments in Lambert 72 with an unsplit T-junction, near-miss ends and a walk-only path.

    A (0,0)-(200,0) two-way; B starts 0.3 m off A's middle; C starts 0.2 m off A's end and is
    one-way along its digitisation; D is one-way against it; E starts 0.8 m from A's start
    (beyond the 0.5 m tolerance) and joins the rest only through the path F.
    """
    rows = [
        ("A", "Main", "4", "D", None, [(0, 0), (200, 0)]),
        ("B", "Side", "6", "D", None, [(100, 0.3), (100, 100)]),
        ("C", "East", "6", "FT", "Brug", [(200, 0.2), (200, 100)]),
        ("D", "North", "6", "TF", None, [(100, 100), (200, 100)]),
        ("E", "West", "6", "D", None, [(0, 0.8), (0, 100)]),
        ("F", "Path", "10", "D", None, [(0, 100), (100, 100)]),
    ]
    gdf = gpd.GeoDataFrame(
        {
            "sid": [r[0] for r in rows],
            "street": [r[1] for r in rows],
            "frc": [r[2] for r in rows],
            "dir": [r[3] for r in rows],
            "feature": [r[4] for r in rows],
        },
        geometry=[LineString(r[5]) for r in rows],
        crs="EPSG:31370",
    )
    path = tmp_path / "segments.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path


def test_segments_junction_split_snapping_and_cleanup(segments):
    net = network_from_segments(segments, MAPPING, crs="EPSG:31370", name="t")
    links = net.links
    per = links.groupby("source_id").size().to_dict()
    # A is split at B's junction: 2 pieces x 2 directions; C and D one link each; E dropped
    assert per == {"A": 4, "B": 2, "C": 1, "D": 1, "F": 2}
    assert net.meta["segments_split_at_junctions"] == 1
    c = links[links["source_id"] == "C"].iloc[0]
    d = links[links["source_id"] == "D"].iloc[0]
    assert not c["reversed"] and d["reversed"] and c["bridge"] and not d["bridge"]
    xy = net.nodes.set_index("node_id").geometry
    assert (xy[c["from_node"]].x, xy[c["from_node"]].y) == pytest.approx((200, 0.1), abs=0.11)  # ends 0.2 m apart snapped
    assert (xy[d["from_node"]].x, xy[d["from_node"]].y) == pytest.approx((200, 100))
    rep = net.meta["cleanup"]
    assert rep["car_links_dropped"] == 2 and rep["car_km_dropped"] == pytest.approx(0.199, abs=0.002)
    assert rep["dropped_car_streets_top10"] == {"West": 2}
    f = links[links["source_id"] == "F"]
    assert not f["car_allowed"].any() and f["walk_allowed"].all()
    assert net.n_nodes == 6  # (0,0) (100,0) (200,0) (100,100) (200,100) (0,100)
    # classes 4/6 defaults (FRC table): 50 and 30 km/h
    assert links.set_index("source_id").loc["A", "free_speed_kmh"].tolist() == [50.0] * 4


def test_segments_round_trip_gpkg_and_geoparquet(segments, tmp_path):
    net = network_from_segments(segments, MAPPING, crs="EPSG:31370", name="t")
    for suffix in (".gpkg", ".parquet"):
        back = RoadNetwork.from_file(net.to_file(tmp_path / f"net{suffix}"))
        assert back.name == "t" and back.crs == net.crs
        assert list(back.links.columns) == list(net.links.columns)
        for col in ("link_id", "from_node", "to_node", "bridge", "car_allowed", "reversed", "lanes"):
            assert np.array_equal(back.links[col], net.links[col]), (suffix, col)
        assert np.allclose(back.links["length_m"], net.links["length_m"])
        assert back.links["name"].tolist() == net.links["name"].tolist()
        assert back.links.geometry.geom_equals_exact(net.links.geometry, 1e-6).all()
        assert back.nodes["node_id"].tolist() == net.nodes["node_id"].tolist()


def test_athens_round_trip_keeps_zones_and_nan_names(tmp_path):
    net = network_from_shapefiles(LINKS, NODES, crs="EPSG:2100", name="athens", zone_ids=[1000, 9000])
    for suffix in (".gpkg", ".parquet"):
        back = RoadNetwork.from_file(net.to_file(tmp_path / f"a{suffix}"))
        assert back.zone_ids.tolist() == [1000, 9000]
        assert back.n_links == net.n_links == 510
        assert back.links["name"].isna().all()  # no "nan" strings after a GeoPackage trip
        assert (back.links["cross"] == net.links["cross"]).all()


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "call",
    [
        lambda p: network_from_osm(p / "nowhere.osm.pbf"),
        lambda p: network_from_segments(p / "nowhere.geojson", MAPPING),
        lambda p: network_from_shapefiles(p / "nowhere.shp", NODES),
        lambda p: network_from_shapefiles(LINKS, p / "nowhere.shp"),
    ],
)
def test_missing_file(tmp_path, call):
    with pytest.raises(InputFileNotFoundError, match="nowhere"):
        call(tmp_path)


def test_unreadable_format(tmp_path):
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"this is not an OSM file\x00\x01")
    with pytest.raises(UnreadableFormatError, match=r"broken\.osm\.pbf.*OpenStreetMap"):
        network_from_osm(bad)
    bad = tmp_path / "broken.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(UnreadableFormatError, match=r"broken\.geojson"):
        network_from_segments(bad, MAPPING)


def test_missing_required_field():
    with pytest.raises(MissingFieldError, match=r"experimental_field_athens_links\.shp.*'capacity_total'"):
        network_from_shapefiles(LINKS, NODES, columns={"capacity_vph": "capacity_total"})
    with pytest.raises(MissingFieldError, match=r"experimental_field_athens_nodes\.shp.*'node_no'"):
        network_from_shapefiles(LINKS, NODES, columns={"node_id": "node_no"})


def test_road_class_defaults_without_a_required_value_name_the_file_classes_and_field(segments):
    defaults = {
        "4": {"speed_kmh": 50, "capacity_per_lane_vph": 900},
        "6": {"speed_kmh": 30, "capacity_per_lane_vph": 600},
        "10": {"speed_kmh": 15, "lanes": 1, "capacity_per_lane_vph": 0, "car": False},
    }
    with pytest.raises(MissingFieldError) as exc:
        network_from_segments(segments, MAPPING, road_class_defaults=defaults)
    message = str(exc.value)
    assert str(segments) in message and "road classes '4', '6'" in message and "'10'" not in message
    assert "missing required field 'lanes'" in message and "field 'frc'" in message
    defaults["6"]["lanes"] = 1
    defaults["4"] = {"lanes": 1, "speed_kmh": 50}
    with pytest.raises(
        MissingFieldError, match=r"segments\.geojson: road_class_defaults of road class '4': missing required field 'capacity_per_lane_vph'"
    ):
        network_from_segments(segments, MAPPING, road_class_defaults=defaults)


def test_empty_study_area(segments, tmp_path):
    with pytest.raises(EmptyStudyAreaError, match=r"footways_only\.osm.*'highway'"):
        network_from_osm(ROOT / "tests" / "fixtures" / "footways_only.osm")
    paths_only = gpd.read_file(segments).assign(frc="10")
    p = tmp_path / "paths.geojson"
    paths_only.to_file(p, driver="GeoJSON")
    with pytest.raises(EmptyStudyAreaError, match=r"paths\.geojson.*car_allowed"):
        network_from_segments(p, MAPPING)


def test_mapping_naming_a_missing_column():
    mapping = {"name": "straatnaam", "road_class": "functional_roadclass", "direction": "richting"}
    with pytest.raises(MissingFieldError, match=r"wegsegmenten-gent\.geojson\.zip.*'richting'.*'direction'") as exc:
        network_from_segments(GHENT, mapping, crs="EPSG:31370")
    assert "rijrichting" in str(exc.value)  # the message lists the columns the file has
    assert isinstance(exc.value, LdtkitError)


def test_unknown_codes_name_the_field(segments):
    with pytest.raises(InvalidValueError, match=r"segments\.geojson.*'dir'.*\['D'\]"):
        network_from_segments(segments, {**MAPPING, "direction_codes": {"forward": "FT", "backward": "TF"}})
    with pytest.raises(InvalidValueError, match=r"segments\.geojson.*'frc'.*\['10'\]"):
        network_from_segments(
            segments,
            MAPPING,
            road_class_defaults={
                "4": {"speed_kmh": 50, "lanes": 1, "capacity_per_lane_vph": 900},
                "6": {"speed_kmh": 30, "lanes": 1, "capacity_per_lane_vph": 600},
            },
        )
