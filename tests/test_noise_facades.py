"""Façade receptors: 2 m in front of façades, none inside buildings, population kept."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from ldtkit.errors import EmptyStudyAreaError, InvalidValueError, MissingFieldError
from ldtkit.model.receptors import receptors_facades

CRS = "EPSG:31370"


def test_facade_points_sit_offset_m_outside_and_share_population():
    # two terraced houses sharing a wall, and a detached block
    b = gpd.GeoDataFrame(
        {"people": [10.0, 6.0, 30.0]},
        geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(50, 0, 80, 20)],
        crs=CRS,
    )
    r = receptors_facades(b, crs=CRS, spacing_m=3.0, offset_m=2.0, height_m=4.0, population_column="people")
    pts = shapely.points(r.x, r.y)
    geoms = b.geometry.to_numpy()
    dist = shapely.distance(pts, geoms[r.ids])
    # every point on the offset outline: 2 m out along walls, up to 2√2 m at mitred corners
    assert np.all((dist >= 2.0 - 1e-6) & (dist <= 2.0 * np.sqrt(2.0) + 1e-6)), dist
    assert np.mean(np.abs(dist - 2.0) < 1e-6) > 0.5  # most of them along straight walls
    assert not shapely.within(pts[:, None], geoms[None, :]).any()  # never inside a building
    assert r.kind == "facade" and np.all(r.z == 4.0)
    assert r.population.sum() == pytest.approx(46.0)
    for i, people in enumerate([10.0, 6.0, 30.0]):
        assert r.population[r.ids == i].sum() == pytest.approx(people)
    # the party wall between the two houses has no façade points inside the neighbour
    assert np.sum((r.ids == 0) & (r.x > 10.0)) == 0


def test_facade_errors():
    b = gpd.GeoDataFrame({"p": [1.0]}, geometry=[box(0, 0, 5, 5)], crs=CRS)
    with pytest.raises(MissingFieldError, match="population"):
        receptors_facades(b, crs=CRS, population_column="population")
    with pytest.raises(EmptyStudyAreaError):
        receptors_facades(b.iloc[:0], crs=CRS)


# --------------------------------------------------------------------------- exposure per building
def test_zone_population_goes_to_residential_floor_area():
    from ldtkit.model.buildings import Buildings
    from ldtkit.model.noise.exposure import building_population

    polys = [box(0, 0, 10, 10), box(20, 0, 40, 10), box(50, 0, 60, 10), box(70, 0, 80, 10), box(300, 0, 310, 10)]
    b = Buildings.from_arrays(
        list("abcde"), polys, [6.0, 9.0, 12.0, 6.0, 6.0], crs=CRS, kinds=["house", "apartments", "office", "yes", "office"]
    )
    zones = gpd.GeoDataFrame({"population": [100.0, 7.0]}, geometry=[box(-5, -5, 95, 15), box(290, -5, 320, 15)], crs=CRS)
    p = building_population(b, zones, share_untagged=0.5)
    # floor area: 100 m² x 2 storeys, 200 m² x 3, offices none, untagged 100 x 2 x 0.5
    floor = np.array([200.0, 600.0, 0.0, 100.0, 0.0])
    np.testing.assert_allclose(p.floor_area_m2, floor)
    np.testing.assert_allclose(p.population, 100.0 * floor / floor.sum())
    assert p.unplaced == 7.0  # a zone of offices only: reported, not placed
    assert p.population.sum() + p.unplaced == pytest.approx(zones["population"].sum())


def _street_with_two_rows():
    """A straight road along y = 0 and two rows of 15 m blocks: one lining the street (façade at
    y = 10) and one behind it (y = 40 to 60), each with its own residents."""
    from ldtkit.model.buildings import Buildings
    from ldtkit.model.network import RoadNetwork, conform_links

    links = conform_links(
        gpd.GeoDataFrame(
            {"link_id": [1], "from_node": [1], "to_node": [2], "length_m": [600.0], "capacity_vph": [1800.0],
             "free_speed_kmh": [50.0], "road_class": ["primary"]},
            geometry=[shapely.LineString([(-300, 0), (300, 0)])], crs=CRS,
        ),
        source="test",
    )  # fmt: skip
    nodes = gpd.GeoDataFrame({"node_id": [1, 2], "is_zone": False}, geometry=gpd.points_from_xy([-300, 300], [0, 0]), crs=CRS)
    net = RoadNetwork(links, nodes, name="street")
    polys = [box(-60, 10, 60, 30), box(-60, 40, 60, 60)]
    b = Buildings.from_arrays(["front", "back"], polys, [15.0, 15.0], crs=CRS, kinds=["apartments", "apartments"])
    return net, b


def test_most_exposed_and_quiet_facade_per_building_with_screening():
    from ldtkit.model.noise import compute_noise
    from ldtkit.model.noise.exposure import facade_exposure
    from ldtkit.model.traffic import LinkTraffic

    net, b = _street_with_two_rows()
    fronts = gpd.GeoDataFrame(geometry=list(b.polygons), crs=CRS)
    r = receptors_facades(fronts, crs=CRS, spacing_m=5.0, height_m=4.0)
    traffic = {p: LinkTraffic(np.array([1]), np.array([800.0 * f]), np.array([40.0 * f]), np.array([50.0])) for p, f in
               (("day", 1.0), ("evening", 0.5), ("night", 0.15))}  # fmt: skip
    m = compute_noise(net, traffic, r, buildings=b, cutoff_m=1000.0, progress=False)
    e = facade_exposure(m, [60.0, 40.0])
    front, back = 0, 1
    # the street façade is the front block's most exposed, its courtyard side the quiet one, far below
    street_side = (r.ids == front) & (r.y < 10.0)
    assert e.lden_db[front] == pytest.approx(np.nanmax(m.lden_db[street_side]))
    assert e.lden_db[front] - e.lden_quiet_db[front] > 15.0
    # the block behind is screened by the front row: its most exposed façade is quieter than the street
    assert e.lden_db[back] < e.lden_db[front] - 10.0
    assert np.all(e.lnight_db < e.lden_db) and np.all(e.n_points == np.bincount(r.ids))
    # people counted once, in the band of their building's most exposed façade
    counts = e.exposure()
    lden_people = sum(v for k, v in counts.items() if k.startswith("Lden"))
    assert lden_people == pytest.approx(60.0 * (e.lden_db[front] >= 55) + 40.0 * (e.lden_db[back] >= 55))
    # without the buildings the rear row's street-facing façade would be far louder (its ends see the street past the front row)
    open_field = compute_noise(net, traffic, r, cutoff_m=1000.0, progress=False)
    behind = (r.ids == back) & (r.y < 40.0) & (np.abs(r.x) < 40.0)
    assert np.all(open_field.lden_db[behind] > m.lden_db[behind] + 10.0)
    assert facade_exposure(open_field, [60.0, 40.0]).lden_db[back] > e.lden_db[back]
    # apartment blocks share their residents among their façade points, each share at its own level:
    # the front block's courtyard side is quiet, so fewer people than above sit in its loudest band
    shared = facade_exposure(m, [60.0, 40.0], share_facades=[True, True])
    expected = dict.fromkeys(counts, 0.0)
    for level, row in zip(m.lden_db, r.ids):
        for label, lo, hi in zip(expected, (55, 60, 65, 70, 75), (60, 65, 70, 75, np.inf)):
            if label.startswith("Lden") and lo <= level < hi:
                expected[label] += [60.0, 40.0][row] / np.count_nonzero(r.ids == row)
    got = shared.exposure()
    for label in expected:
        if label.startswith("Lden"):
            assert got[label] == pytest.approx(expected[label]), label
    top = max(k for k in counts if k.startswith("Lden") and counts[k] > 0)
    assert got[top] < counts[top]
    with pytest.raises(InvalidValueError, match="one per building"):
        facade_exposure(m, [60.0, 40.0], share_facades=[True])


def test_facade_exposure_needs_facade_receptors():
    from ldtkit.errors import InvalidValueError
    from ldtkit.model.noise import compute_noise
    from ldtkit.model.noise.exposure import facade_exposure
    from ldtkit.model.receptors import Receptors
    from ldtkit.model.traffic import LinkTraffic

    net, _ = _street_with_two_rows()
    r = Receptors(np.array([0.0]), np.array([20.0]), np.array([4.0]), np.array([1.0]), CRS)
    traffic = {p: LinkTraffic(np.array([1]), np.array([800.0]), np.array([40.0]), np.array([50.0])) for p in ("day", "evening", "night")}
    m = compute_noise(net, traffic, r, cutoff_m=500.0, progress=False)
    with pytest.raises(InvalidValueError, match="expected façade receptors"):
        facade_exposure(m, [1.0])


def test_grid_population_inside_buildings_counts_at_the_nearest_point_outside():
    from ldtkit.model.buildings import Buildings
    from ldtkit.model.receptors import Receptors, population_out_of_buildings, receptors_grid

    g = receptors_grid((0, 0, 100, 100), crs=CRS, cell_m=10.0, height_m=4.0)
    pop = np.arange(len(g), dtype=float)
    jitter = np.random.default_rng(5).uniform(-2.0, 2.0, size=(2, len(g)))  # no ties between nearest points
    r = Receptors(g.x + jitter[0], g.y + jitter[1], g.z, pop, CRS, kind="grid", grid_shape=g.grid_shape, cell_m=g.cell_m)
    b = Buildings.from_arrays(["block"], [box(22, 22, 58, 48)], [15.0], crs=CRS)
    inside = b.inside(r.x, r.y)
    moved = population_out_of_buildings(r, inside)
    assert moved.population.sum() == pytest.approx(pop.sum()) and np.all(moved.population[inside] == 0.0)
    assert moved.meta["population_moved_out_of_buildings"] == pytest.approx(pop[inside].sum())
    # each inside point's people went to the nearest outside point: the gain of the outside points adds up per nearest
    out = np.flatnonzero(~inside)
    nearest = out[np.argmin(np.hypot(r.x[inside][:, None] - r.x[out], r.y[inside][:, None] - r.y[out]), axis=1)]
    expected = pop.copy()
    np.add.at(expected, nearest, pop[inside])
    expected[inside] = 0.0
    np.testing.assert_allclose(moved.population, expected)
    with pytest.raises(EmptyStudyAreaError, match="every receptor lies inside a building"):
        population_out_of_buildings(r, np.ones(len(r), dtype=bool))
