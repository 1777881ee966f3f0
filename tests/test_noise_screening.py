"""Noise maps that respect buildings: path tracing through footprint edges, diffraction over roofs
(the same terms as the cut-profile model), receptors inside buildings masked, Porto courtyards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.ops import polylabel

from ldtkit.errors import InvalidValueError
from ldtkit.model.buildings import Buildings
from ldtkit.model.kernels import noise as K
from ldtkit.model.noise import compute_noise, profile_attenuation
from ldtkit.model.noise.propagation import _band_terms
from ldtkit.model.noise.screening import building_obstacles
from ldtkit.model.receptors import Receptors

CRS = "EPSG:32629"
PORTO = Path(__file__).resolve().parents[1] / "data" / "porto"


def _reference_db(zs: float, zr: float, dp: float, roofs: list[tuple[float, float, float]], g: float, p: float) -> np.ndarray:
    """Band levels of a 0 dB point source from the cut-profile model (buildings as entry/exit points)."""
    pts = [{"type": "Source", "x": 0.0, "y": 0.0, "z": zs, "zGround": 0.0, "G": g}]
    for s0, s1, h in roofs:
        pts.append({"type": "Building", "x": s0, "y": 0.0, "z": h, "zGround": 0.0, "G": g, "intersection": "BUILDING_ENTER"})
        pts.append({"type": "Building", "x": s1, "y": 0.0, "z": h, "zGround": 0.0, "G": g, "intersection": "BUILDING_EXIT"})
    pts.append({"type": "Receiver", "x": dp, "y": 0.0, "z": zr, "zGround": 0.0, "G": g})
    return profile_attenuation(pts, g_source=0.0).levels(0.0, p_favourable=p)["L"]


@pytest.mark.parametrize(
    ("dp", "roofs", "g"),
    [
        (100.0, [(40.0, 60.0, 10.0)], 0.5),  # one block
        (60.0, [(10.0, 22.0, 15.0), (35.0, 50.0, 9.0)], 0.0),  # two blocks, hard ground
        (400.0, [(20.0, 40.0, 6.0), (370.0, 390.0, 8.0)], 1.0),  # long path: curved rays clear the roofs
    ],
)
def test_map_kernel_diffraction_equals_cut_profile_model(dp, roofs, g):
    polys = [shapely.box(s0, -30.0, s1, 30.0) for s0, s1, _ in roofs]
    b = Buildings.from_arrays([str(i) for i in range(len(roofs))], polys, [h for *_, h in roofs], crs=CRS)
    obst = building_obstacles(b, (-10.0, -40.0, dp + 10.0, 40.0), cell_m=7.0)
    scratch = K.screen_scratch(_band_terms(g, 15.0, 70.0))
    n = K.trace_crossings(dp, 0.0, 0.0, 0.0, obst, scratch.cs, scratch.ch, scratch.ce)
    assert n == 2 * len(roofs)
    assert np.allclose(scratch.cs[:n], np.ravel([(s0, s1) for s0, s1, _ in roofs]))
    assert K.screened_transfer(dp, 0.05, 4.0, scratch.cs, scratch.ch, n, K.Ground(g, 0.0, 0.5), scratch)
    ref = _reference_db(0.05, 4.0, dp, roofs, g, 0.5)
    np.testing.assert_allclose(10 * np.log10(scratch.tr), ref, atol=0.01)
    # screening only lowers the level against open field
    open_field = np.empty(8)
    K._point_transfer(dp, 0.05, 4.0, K.Ground(g, 0.0, 0.5), _band_terms(g, 15.0, 70.0), 10 ** (0.3 * (1 - g)), open_field)
    assert np.all(scratch.tr < open_field)


def test_path_tracing_finds_every_edge_crossing_once():
    rng = np.random.default_rng(3)
    centres = rng.uniform(0.0, 300.0, size=(60, 2))
    polys = [shapely.box(x, y, x + rng.uniform(5, 25), y + rng.uniform(5, 25)) for x, y in centres]
    polys = list(shapely.get_parts(shapely.union_all(polys)))  # no overlaps, some with holes
    b = Buildings.from_arrays([str(i) for i in range(len(polys))], polys, np.full(len(polys), 12.0), crs=CRS)
    obst = building_obstacles(b, (-20.0, -20.0, 340.0, 340.0), cell_m=16.0)
    scratch = K.screen_scratch(_band_terms(0.5, 15.0, 70.0))
    boundary = shapely.union_all([p.boundary for p in polys])
    for _ in range(200):
        (rx, ry), (sx, sy) = rng.uniform(-10.0, 330.0, size=(2, 2))
        n = K.trace_crossings(rx, ry, sx, sy, obst, scratch.cs, scratch.ch, scratch.ce)
        hits = shapely.get_parts(shapely.intersection(shapely.LineString([(sx, sy), (rx, ry)]), boundary))
        expected = np.sort([np.hypot(q.x - sx, q.y - sy) for q in hits if q.geom_type == "Point"])
        assert n == len(expected)
        np.testing.assert_allclose(scratch.cs[:n], expected, atol=1e-6)


def test_walls_between_touching_buildings_are_left_out_without_changing_the_transfer():
    # a row of three houses, 9, 9 and 15 m high, the last drawn clockwise; and a house drawn twice
    row = [shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10), shapely.Polygon([(20, 0), (20, 10), (30, 10), (30, 0)])]
    twice = [shapely.box(40, 0, 50, 10)] * 2
    b = Buildings.from_arrays(["a", "b", "c", "d", "d2"], row + twice, [9.0, 9.0, 15.0, 9.0, 9.0], crs=CRS)
    obst = building_obstacles(b, (-50.0, -50.0, 80.0, 50.0), cell_m=8.0)
    # the wall between the 9 m houses goes, so does the 9 m copy of the wall under the 15 m roof; a
    # house drawn twice has the inside on the same side of both copies: no wall between two buildings
    assert len(obst.ex0) == 20 - 3
    scratch = K.screen_scratch(_band_terms(0.5, 15.0, 70.0))
    n = K.trace_crossings(60.0, 5.0, -30.0, 5.0, obst, scratch.cs, scratch.ch, scratch.ce)
    np.testing.assert_allclose(scratch.cs[:n], [30.0, 50.0, 60.0, 70.0, 70.0, 80.0, 80.0], atol=1e-9)
    np.testing.assert_allclose(scratch.ch[:n], [9.0, 15.0, 15.0, 9.0, 9.0, 9.0, 9.0])
    ground = K.Ground(0.5, 0.0, 0.5)
    assert K.screened_transfer(90.0, 0.05, 4.0, scratch.cs, scratch.ch, n, ground, scratch)
    kept = scratch.tr.copy()
    # every wall of every footprint, as a path crosses them
    every = [(30, 9), (40, 9), (40, 9), (50, 9), (50, 15), (60, 15), (70, 9), (70, 9), (80, 9), (80, 9)]
    cs, ch = np.zeros(len(every) + 2), np.zeros(len(every) + 2)
    cs[: len(every)], ch[: len(every)] = np.array(every, dtype=float).T
    assert K.screened_transfer(90.0, 0.05, 4.0, cs, ch, len(every), ground, scratch)
    np.testing.assert_allclose(kept, scratch.tr, rtol=1e-12)


def test_receptor_height_below_ground_is_an_error_naming_the_field():
    with pytest.raises(InvalidValueError, match=r"field z .* receptor 1"):
        Receptors(np.zeros(2), np.zeros(2), np.array([4.0, -1.0]), np.zeros(2), CRS)


# --------------------------------------------------------------------------- Porto courtyards
PER_CLASS_VPH = {
    "motorway": 3000, "motorway_link": 600, "trunk": 2000, "primary": 1200, "primary_link": 400, "secondary": 800,
    "secondary_link": 300, "tertiary": 500, "unclassified": 150, "residential": 150, "living_street": 50, "service": 30,
}  # fmt: skip


@pytest.fixture(scope="module")
def porto_courtyards():
    """Courtyard centres of the largest enclosed courtyards of Porto's blocks and, for each, a point on
    the street in front of the same block, 5 m from the centre line of the nearest road; the Lden at
    both with the OSM buildings and in open field."""
    from ldtkit.model.traffic import LinkTraffic
    from ldtkit.study.city import load_city
    from ldtkit.study.inputs import noise_buildings

    with pytest.warns(UserWarning):
        city = load_city("porto")
        net = city.load_network()
    b = noise_buildings(city)  # the buildings Porto's maps use by default: its OSM extract's
    assert b is not None and b.source.endswith("porto.osm.pbf") and b.crs == CRS
    links = net.links
    flow = links["road_class"].astype(str).map(PER_CLASS_VPH).fillna(0).to_numpy(float) * links["car_allowed"].to_numpy()
    traffic = {
        p: LinkTraffic(links["link_id"].to_numpy(), flow * f * 0.95, flow * f * 0.05, links["free_speed_kmh"].to_numpy())
        for p, f in (("day", 1.0), ("evening", 0.5), ("night", 0.15))
    }
    roads = links.geometry.to_numpy()[(flow > 0) & ~links["tunnel"].astype(bool).to_numpy()]
    tree = shapely.STRtree(roads)
    blocks = shapely.get_parts(shapely.union_all(b.polygons))
    holes = sorted((shapely.Polygon(r) for p in blocks for r in p.interiors), key=lambda h: -h.area)[:12]
    yards, streets = [], []
    for h in holes:
        c = polylabel(h, 1.0)
        road = roads[int(np.atleast_1d(tree.nearest(c))[0])]
        if road.intersects(h):
            continue  # a street runs through it: not an enclosed courtyard
        q = shapely.shortest_line(road, c).coords[0]
        v = np.array([c.x - q[0], c.y - q[1]])
        s = np.array(q) + 5.0 * v / np.linalg.norm(v)
        if b.inside(s[:1], s[1:]).any():
            continue  # narrow street: 5 m from the road is inside the block's front building
        yards.append((c.x, c.y))
        streets.append(s)
    xy = np.array(yards + streets)
    rec = Receptors(xy[:, 0].copy(), xy[:, 1].copy(), np.full(len(xy), 4.0), np.zeros(len(xy)), CRS)
    screened = compute_noise(net, traffic, rec, buildings=b, cutoff_m=1000.0, progress=False)
    open_field = compute_noise(net, traffic, rec, cutoff_m=1000.0, progress=False)
    n = len(yards)
    return n, screened, open_field


def test_porto_courtyards_are_15_db_below_the_street_in_front(porto_courtyards):
    n, screened, open_field = porto_courtyards
    assert n >= 3
    yard, street = screened.lden_db[:n], screened.lden_db[n:]
    assert np.all(street - yard >= 15.0), (street - yard).round(1)
    # without buildings the courtyards are only a few dB quieter: the difference comes from screening
    assert np.all(open_field.lden_db[n:] - open_field.lden_db[:n] < 12.0)
    assert screened.meta["propagation"].startswith("screening by")
    assert open_field.meta["propagation"] == "open-field propagation: no building data"


@pytest.mark.parametrize("order", [1, 2])
def test_left_out_negligible_paths_lower_levels_by_at_most_the_budget(order):
    """Screened and reflected paths (screened ones too, up to the second order) from beyond 100 m are left
    out only within prune_db of each level."""
    import geopandas as gpd

    from ldtkit.model.network import RoadNetwork, conform_links
    from ldtkit.model.noise import noise_propagation
    from ldtkit.model.traffic import LinkTraffic

    rng = np.random.default_rng(5)
    centres = rng.uniform(0.0, 400.0, size=(150, 2))
    polys = [shapely.box(x, y, x + rng.uniform(8, 25), y + rng.uniform(8, 25)) for x, y in centres]
    polys = list(shapely.get_parts(shapely.union_all(polys)))
    b = Buildings.from_arrays([str(i) for i in range(len(polys))], polys, rng.uniform(6.0, 20.0, len(polys)), crs=CRS)
    roads = [[(-100, -20), (500, -20)], [(-100, 420), (500, 420)], [(-20, -100), (-20, 500)], [(200, -100), (200, 500)]]
    links = conform_links(
        gpd.GeoDataFrame(
            {"link_id": [1, 2, 3, 4], "from_node": [1, 3, 5, 7], "to_node": [2, 4, 6, 8], "length_m": [600.0] * 4,
             "capacity_vph": [1800.0] * 4, "free_speed_kmh": [50.0] * 4, "road_class": ["primary"] * 4},
            geometry=[shapely.LineString(r) for r in roads], crs=CRS,
        ),
        source="test",
    )  # fmt: skip
    nodes = gpd.GeoDataFrame({"node_id": np.arange(1, 9), "is_zone": False}, geometry=gpd.points_from_xy(np.zeros(8), np.zeros(8)), crs=CRS)
    net = RoadNetwork(links, nodes, name="blocks")
    ids = np.arange(1, 5)
    traffic = {p: LinkTraffic(ids, np.full(4, 900.0 * f), np.full(4, 50.0 * f), np.full(4, 50.0)) for p, f in
               (("day", 1.0), ("evening", 0.5), ("night", 0.15))}  # fmt: skip
    xy = rng.uniform(60.0, 340.0, size=(80, 2))
    rec = Receptors(xy[:, 0].copy(), xy[:, 1].copy(), np.full(80, 4.0), np.zeros(80), CRS)
    prop_full = noise_propagation(net, rec, cutoff_m=800.0, buildings=b, prune_db=0.0, reflection_order=order)
    full = compute_noise(net, traffic, rec, propagation=prop_full, progress=False)
    prop_pruned = noise_propagation(net, rec, cutoff_m=800.0, buildings=b, prune_db=0.1, reflection_order=order)
    pruned = compute_noise(net, traffic, rec, propagation=prop_pruned, progress=False)
    ok = np.isfinite(full.lden_db)
    for name in ("lday_db", "levening_db", "lnight_db", "lden_db"):
        d = getattr(pruned, name)[ok] - getattr(full, name)[ok]
        assert np.all(d <= 1e-9) and np.all(d >= -0.1), (name, d.min())
    assert (pruned.lden_db[ok] - full.lden_db[ok] < -1e-4).sum() >= 10  # paths were left out at many receptors
    assert pruned.meta["pair_evaluations"] == full.meta["pair_evaluations"]  # pairs counted before pruning
