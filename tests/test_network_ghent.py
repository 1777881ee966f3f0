"""Ghent: the whole municipality's road segments (wegsegmenten) via network_from_segments."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import DATA
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

SEGMENTS = DATA / "ghent" / "wegsegmenten-gent.geojson.zip"


@pytest.fixture(scope="module")
def ghent():
    from ldtkit.study.city import load_city

    return load_city("ghent").load_network()


@pytest.fixture(scope="module")
def raw():
    """The segment file read independently of the loader, in the city CRS."""
    return gpd.read_file(f"zip://{SEGMENTS}").to_crs("EPSG:31370")


def _strong_components(links):
    car = links[links["car_allowed"]]
    ids, inv = np.unique(np.concatenate([car["from_node"], car["to_node"]]), return_inverse=True)
    n = len(ids)
    g = coo_matrix((np.ones(len(car)), (inv[: len(car)], inv[len(car) :])), shape=(n, n))
    return connected_components(g, directed=True, connection="strong")[0]


def test_ghent_car_network_is_one_strong_component_and_cleanup_is_reported(ghent, raw):
    assert ghent.crs.to_epsg() == 31370
    assert _strong_components(ghent.links) == 1
    rep = ghent.meta["cleanup"]
    car = ghent.links["car_allowed"]
    # what was dropped is reported and adds up
    assert rep["car_components_before"] > 1
    assert rep["car_links_dropped"] > 0 and rep["car_km_dropped"] > 0
    assert rep["links_in"] - rep["links_kept"] == rep["car_links_dropped"] + rep["non_car_links_dropped"]
    assert rep["links_kept"] == ghent.n_links
    assert rep["car_km_kept"] == pytest.approx(ghent.links.loc[car, "length_m"].sum() / 1000, abs=0.01)
    # the dropped part is small: the municipality's car network is essentially connected
    assert rep["car_km_dropped"] < 0.05 * rep["car_km_kept"]
    # every segment of the file is represented (split pieces keep the segment id) unless dropped
    kept_segments = set(ghent.links["source_id"])
    assert len(kept_segments) > 0.97 * len(raw)
    # the municipality's car network: > 2,000 km of directed car links
    assert 2000 < rep["car_km_kept"] < 2600
    # all nodes are used and every link length matches its geometry
    used = np.union1d(ghent.links["from_node"], ghent.links["to_node"])
    assert np.array_equal(np.sort(ghent.nodes["node_id"]), used)
    assert np.allclose(shapely.length(ghent.links.geometry.values), ghent.links["length_m"], atol=0.11)


def test_every_bridge_segment_is_flagged(ghent, raw):
    bridges_in_file = raw[raw["kenmerk"] == "Brug"]
    assert len(bridges_in_file) == 11
    flagged = ghent.links[ghent.links["bridge"]]
    assert set(flagged["source_id"]) == set(bridges_in_file["wegsegid"])
    assert len(flagged) == 20  # 9 two-way segments x 2 + Palinghuizen (FT) + Kongostraat (TF)
    assert sorted(flagged["name"].dropna().unique()) == [
        "Albertina Sisulubrug",
        "Biesrek",
        "Groene Valleibrug",
        "Henri Maerenbrug",
        "Kongostraat",
        "Melkgracht",
        "Palinghuizen",
        "Rooigemlaan",
        "Westerringspoorbrug",
    ]
    assert flagged["name"].isna().sum() == 4  # two unnamed segments, both ways
    # the R40 bridges carry cars: Palinghuizen one way along the digitisation, Rooigemlaan both ways
    r40 = flagged[flagged["name"].isin(["Palinghuizen", "Rooigemlaan"])]
    assert r40["car_allowed"].all() and (r40["route"] == "R40").all()
    assert sorted(r40.loc[r40["name"] == "Palinghuizen", "reversed"]) == [False]
    assert sorted(r40.loc[r40["name"] == "Rooigemlaan", "reversed"]) == [False, True]
    # cycle/foot bridges stay as walk links without cars
    assert not flagged.loc[flagged["name"] == "Groene Valleibrug", "car_allowed"].any()
    assert flagged.loc[flagged["name"] == "Groene Valleibrug", "walk_allowed"].all()


@pytest.mark.parametrize(
    "street, code",
    [("Holstraat", "TF"), ("Twaalfkameren", "FT"), ("Korte Meer", "FT"), ("Nieuwpoort", "TF"), ("Lammerstraat", "FT")],
)
def test_one_way_direction_on_named_streets(ghent, raw, street, code):
    segs = raw[(raw["straatnaam"] == street) & (raw["rijrichting"] == code)]
    assert len(segs) >= 2
    nodes = ghent.nodes.set_index("node_id").geometry
    checked = 0
    for _, seg in segs.iterrows():
        links = ghent.links[ghent.links["source_id"] == seg["wegsegid"]]
        assert len(links) >= 1, f"{street} segment {seg['wegsegid']} was dropped"
        assert links["car_allowed"].all()
        # one-way: every link runs the same way, along (FT) or against (TF) the digitisation
        assert (links["reversed"] == (code == "TF")).all()
        line = seg.geometry if seg.geometry.geom_type == "LineString" else shapely.line_merge(seg.geometry)
        entry = shapely.Point(line.coords[0] if code == "FT" else line.coords[-1])
        exit_ = shapely.Point(line.coords[-1] if code == "FT" else line.coords[0])
        # the first piece starts where traffic enters the segment, the last ends where it leaves
        starts = [nodes[f].distance(entry) for f in links["from_node"]]
        ends = [nodes[t].distance(exit_) for t in links["to_node"]]
        assert min(starts) < 0.5 and min(ends) < 0.5
        # geometry runs in the direction of travel
        for geom, f, t in zip(links.geometry, links["from_node"], links["to_node"]):
            assert shapely.Point(geom.coords[0]).distance(nodes[f]) < 0.5
            assert shapely.Point(geom.coords[-1]).distance(nodes[t]) < 0.5
        checked += 1
    assert checked == len(segs)


def test_class_defaults_from_city_config(ghent):
    import pandas as pd

    from ldtkit.study.city import load_city

    links = ghent.links
    # segments with an OpenStreetMap speed limit ([network] attributes) take it; the others the class default
    osm = pd.read_csv(load_city("ghent").root / "osm-speeds-ghent.csv", dtype={"wegsegid": str}).set_index("wegsegid")["speed_kmh"]
    listed = links["source_id"].isin(osm.index)
    assert 0.4 < listed[links["car_allowed"]].mean() < 0.9
    np.testing.assert_array_equal(links.loc[listed, "free_speed_kmh"], osm.loc[links.loc[listed, "source_id"]].to_numpy())
    frc = links[links["road_class"] == "2"]
    assert (frc.loc[~listed, "free_speed_kmh"] == 50).all() and (frc["capacity_vph"] == 2400).all()
    local = links[links["road_class"] == "7"]
    assert (local.loc[~listed, "free_speed_kmh"] == 30).all() and (local["capacity_vph"] == 500).all()
    assert not links.loc[links["road_class"] == "10", "car_allowed"].any()
    assert not links.loc[links["road_class"] == "0", "walk_allowed"].any()
    assert np.allclose(links["free_flow_time_min"], links["length_m"] / 1000 / links["free_speed_kmh"] * 60)


def test_focus_area_holds_the_inner_ring_and_its_bridges(ghent):
    from shapely.geometry import box

    from ldtkit.study.city import load_city

    focus = box(*load_city("ghent").config.focus.bbox)
    wgs = ghent.to_geodataframe(to_wgs84=True)
    r40 = wgs[wgs["route"] == "R40"]
    assert len(r40) > 100 and r40.geometry.within(focus).all()
    assert wgs[wgs["bridge"] & wgs["name"].isin(["Palinghuizen", "Rooigemlaan"])].geometry.within(focus).all()
    # ... and is an inner-city window, not the municipality (5-25 % of the car network's km)
    car = wgs[wgs["car_allowed"]]
    inside = car.geometry.within(focus)
    assert 0.05 < car.loc[inside, "length_m"].sum() / car["length_m"].sum() < 0.25
