"""Athens: links + nodes shapefiles with attributes given (network_from_shapefiles)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import DATA, SHARED

NET = DATA / "athens" / "network"
LINKS = NET / "scenario0" / "experimental_field_athens_links.shp"
NODES = NET / "nodes" / "experimental_field_athens_nodes.shp"


@pytest.fixture(scope="module")
def athens():
    from ldtkit.study.city import load_city

    return load_city("athens").load_network()


def test_shipped_files_are_the_shared_ones():
    up = SHARED / "data" / "athens" / "network"
    if not up.exists():
        pytest.skip("shared data not available")
    for rel in ("scenario0/experimental_field_athens_links.dbf", "nodes/experimental_field_athens_nodes.shp"):
        assert (NET / rel).read_bytes() == (up / rel).read_bytes()


def test_athens_counts_match_the_files(athens):
    links = gpd.read_file(LINKS)
    nodes = gpd.read_file(NODES)
    # the upstream README says "257 nodes and 400 links"; the shipped scenario0 files hold more
    assert (len(links), len(nodes)) == (413, 269)
    assert athens.meta["source_links"] == 413 and athens.meta["source_nodes"] == 269
    no_geom = links[links.geometry.isna()]
    assert athens.meta["skipped_links"]["ids"] == [str(i) for i in no_geom["id"]] == ["10325"]
    usable = links[links.geometry.notna()]
    two_way = int((usable["oneway"] == 0).sum())
    assert athens.n_links == len(usable) + two_way == 510
    assert athens.meta["cleanup"]["car_links_dropped"] == 0  # the study network is strongly connected
    # nodes: 30000 coincides with zone 3000 (merged), node 71 is used by no link
    assert athens.meta["merged_nodes"] == {30000: 3000}
    assert athens.n_nodes == 269 - 2
    assert 71 not in set(athens.nodes["node_id"]) and 30000 not in set(athens.nodes["node_id"])


def test_athens_zones_and_attributes(athens):
    assert athens.zone_ids.tolist() == [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]
    # every zone is joined to the road network in both directions
    for z in athens.zone_ids:
        assert ((athens.links["from_node"] == z) & athens.links["car_allowed"]).any()
        assert ((athens.links["to_node"] == z) & athens.links["car_allowed"]).any()
    src = gpd.read_file(LINKS).set_index("id")
    links = athens.links
    sid = links["source_id"].astype(int)
    assert np.array_equal(links["free_speed_kmh"], src.loc[sid, "freespeed"].to_numpy())
    assert np.array_equal(links["lanes"], src.loc[sid, "permlanes"].to_numpy())
    assert np.allclose(links["length_m"], src.loc[sid, "length"].to_numpy())
    # capacity 1200 per lane (city.toml: capacity_is_per_lane)
    assert np.array_equal(links["capacity_vph"], 1200.0 * links["lanes"])
    # modes: 36 source links without car are walk-only, 31 without walk are car-only
    no_car = src.loc[sid, "modes"].str.contains("car").to_numpy() == False  # noqa: E712
    assert np.array_equal(~links["car_allowed"].to_numpy(), no_car)
    assert links.loc[~links["car_allowed"], "source_id"].nunique() == 36
    assert links.loc[~links["walk_allowed"], "source_id"].nunique() == 31
    # one-way links only along the digitisation; geometry ends at its nodes
    one = links[links["oneway_source"] == 1]
    assert not one["reversed"].any()
    nodes = athens.nodes.set_index("node_id").geometry
    d0 = shapely.distance(shapely.get_point(links.geometry.values, 0), nodes.loc[links["from_node"]].values)
    d1 = shapely.distance(shapely.get_point(links.geometry.values, -1), nodes.loc[links["to_node"]].values)
    assert d0.max() < 1.0 and d1.max() < 1.0
    # sidewalk/crossing classes are carried along for the pedestrian analyses
    assert {"inf", "pav", "obst", "cross"} <= set(links.columns)
