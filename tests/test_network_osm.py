"""OpenStreetMap loader: tag parsing on a hand-written fixture, and the Porto extract."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest
from conftest import ROOT
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ldtkit.model.loaders.osm import parse_maxspeed, parse_oneway
from ldtkit.model.network import network_from_osm

TINY = ROOT / "tests" / "fixtures" / "tiny.osm"


@pytest.mark.parametrize(
    "value, kmh",
    [
        ("50", 50.0),
        ("50 km/h", 50.0),
        ("30 mph", 48.2803),
        ("BE:urban", 50.0),
        ("PT:urban", 50.0),
        ("PT:rural", 90.0),
        ("zone:30", 30.0),
        ("DE:zone30", 30.0),
        ("BE-VLG:zone30", 30.0),
        ("DE:zone:20", 20.0),
        ("BE:living_street", 20.0),
        ("30;50", 30.0),
        ("none", math.nan),
        ("signals", math.nan),
        ("", math.nan),
        (None, math.nan),
    ],
)
def test_parse_maxspeed(value, kmh):
    got = parse_maxspeed(value)
    assert (math.isnan(got) and math.isnan(kmh)) or got == pytest.approx(kmh, abs=1e-3)


@pytest.mark.parametrize(
    "tags, highway, expected",
    [
        ({"oneway": "yes"}, "residential", "forward"),
        ({"oneway": "1"}, "residential", "forward"),
        ({"oneway": "true"}, "residential", "forward"),
        ({"oneway": "-1"}, "residential", "backward"),
        ({"oneway": "no"}, "motorway", "both"),
        ({}, "motorway", "forward"),
        ({}, "motorway_link", "forward"),
        ({"junction": "roundabout"}, "secondary", "forward"),
        ({}, "primary", "both"),
    ],
)
def test_parse_oneway(tags, highway, expected):
    assert parse_oneway(tags, highway) == expected


@pytest.fixture(scope="module")
def tiny():
    return network_from_osm(TINY, cleanup=False)


def _by_way(net, way):
    return net.links[net.links["source_id"] == str(way)].sort_values("link_id")


def test_fixture_ways_are_split_at_intersections(tiny):
    assert tiny.crs.to_epsg() == 32631  # UTM zone of the extract centre (Ghent)
    # way 101 (1-2-3) is cut at node 2 where the roundabout way 104 joins
    w = _by_way(tiny, 101)
    assert list(zip(w["from_node"], w["to_node"])) == [(1, 2), (2, 3)]
    assert w["length_m"].to_numpy() == pytest.approx([70.1, 70.1], abs=0.2)  # 0.001 deg lon at 51.05 N
    # the footway 107 is not loaded, and node 10 (footway only) is no node
    assert "107" not in set(tiny.links["source_id"]) and 10 not in set(tiny.nodes["node_id"])


def test_fixture_tags(tiny):
    w = _by_way(tiny, 101)  # oneway=yes, 50 mph
    assert not w["reversed"].any() and w["free_speed_kmh"].to_numpy() == pytest.approx([80.4672] * 2)
    w = _by_way(tiny, 102)  # oneway=-1, BE:urban
    assert w["reversed"].all() and list(zip(w["from_node"], w["to_node"])) == [(5, 4), (6, 5)]
    assert (w["free_speed_kmh"] == 50).all()
    w = _by_way(tiny, 103)  # motorway: implied oneway, maxspeed=none -> class default, ref as name
    assert len(w) == 2 and not w["reversed"].any()
    assert (w["free_speed_kmh"] == 120).all() and (w["lanes"] == 2).all() and (w["capacity_vph"] == 4000).all()
    assert (w["name"] == "E40").all() and not w["walk_allowed"].any()
    w = _by_way(tiny, 104)  # roundabout: one-way, zone:30
    assert len(w) == 1 and (w["free_speed_kmh"] == 30).all()
    w = _by_way(tiny, 105)  # two-way bridge, lanes=4 -> 2 per direction, DE:zone30
    assert sorted(w["reversed"]) == [False, True] and w["bridge"].all() and (w["lanes"] == 2).all()
    assert (w["free_speed_kmh"] == 30).all() and (w["name"] == "Test Bridge").all()
    w = _by_way(tiny, 106)  # motor_vehicle=no: walk link only
    assert len(w) == 2 and not w["car_allowed"].any() and w["walk_allowed"].all()
    w = _by_way(tiny, 108)  # "30;50", hgv=no, lanes:forward/backward
    assert (w["free_speed_kmh"] == 30).all() and not w["hgv_allowed"].any() and w["car_allowed"].all()
    assert w.set_index("reversed")["lanes"].to_dict() == {False: 2.0, True: 1.0}
    w = _by_way(tiny, 109)  # maxspeed=signals -> residential default 30; maxspeed:backward=20; tunnel
    assert w.set_index("reversed")["free_speed_kmh"].to_dict() == {False: 30.0, True: 20.0}
    assert w["tunnel"].all()


def test_fixture_cleanup_drops_one_way_dead_ends(tiny, tmp_path):
    with pytest.warns(UserWarning, match=r"tiny.osm: the network cleanup dropped 17.5 % of the car network \(0.2 km"):
        net = network_from_osm(TINY)
    rep = net.meta["cleanup"]
    # 1->2->3 and 6->5->4 lead into dead ends / out of sources; 7->8->9 ends at 9
    assert rep["car_links_dropped"] == 3 and rep["links_kept"] == net.n_links == 10
    # the share of car km dropped is reported, and above 10 % it is a warning
    assert rep["car_km_share_dropped"] == pytest.approx(rep["car_km_dropped"] / (rep["car_km_dropped"] + rep["car_km_kept"]), abs=2e-3)
    assert rep["car_km_share_dropped"] > 0.10 and "take a larger extract" in rep["warning"]
    assert set(net.nodes["node_id"]) == {1, 2, 4, 5, 7, 8}
    # .osm.gz reads the same
    gz = tmp_path / "tiny.osm.gz"
    gz.write_bytes(gzip.compress(TINY.read_bytes()))
    with pytest.warns(UserWarning, match="cleanup dropped"):
        net_gz = network_from_osm(gz)
    assert net_gz.n_links == net.n_links and net_gz.links["length_m"].sum() == pytest.approx(net.links["length_m"].sum())


@pytest.fixture(scope="module")
def porto():
    from ldtkit.study.city import load_city

    return load_city("porto").load_network()


def _largest_scc_nodes(links):
    car = links[links["car_allowed"]]
    ids, inv = np.unique(np.concatenate([car["from_node"], car["to_node"]]), return_inverse=True)
    g = coo_matrix((np.ones(len(car)), (inv[: len(car)], inv[len(car) :])), shape=(len(ids), len(ids)))
    n, lab = connected_components(g, directed=True, connection="strong")
    return n, set(ids[lab == np.argmax(np.bincount(lab))])


@pytest.mark.parametrize("bridge", ["Ponte Dom Luís I (tabuleiro inferior)", "Ponte Infante Dom Henrique"])
def test_porto_douro_bridges_flagged_and_connected(porto, bridge):
    assert porto.crs.to_epsg() == 32629
    n_comp, main = _largest_scc_nodes(porto.links)
    assert n_comp == 1
    b = porto.links[(porto.links["name"] == bridge) & porto.links["car_allowed"]]
    assert len(b) >= 2 and b["bridge"].all()
    assert set(b["from_node"]) <= main and set(b["to_node"]) <= main
    # both banks can be reached: traffic crosses in both directions (two links or two one-way ways)
    assert b["geometry"].apply(lambda g: g.coords[-1][1] - g.coords[0][1]).pipe(lambda dy: (dy > 0).any() and (dy < 0).any())
    # the bridge spans the Douro: well over 150 m of deck
    assert b["length_m"].sum() > 300


def test_porto_extract_summary(porto):
    rep = porto.meta["cleanup"]
    assert rep["car_links_dropped"] > 0 and rep["car_km_dropped"] < 0.2 * rep["car_km_kept"]
    s = porto.summary()
    assert s["strong_components"] == 1
    # the Luís I upper deck (metro + pedestrians) is a bridge but not a car link
    upper = porto.links[porto.links["name"] == "Ponte Dom Luís I (tabuleiro superior)"]
    assert len(upper) and upper["bridge"].all() and not upper["car_allowed"].any()
    # Via de Cintura Interna is tagged maxspeed=100 on some ways, default 120 elsewhere
    vci = porto.links[porto.links["name"] == "Via de Cintura Interna"]
    assert {100.0, 120.0} <= set(vci["free_speed_kmh"])
