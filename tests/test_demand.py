"""Unit tests of ldtkit.model.demand and ldtkit.model.zones: profile, gravity/Furness, skims, OD I/O, zoning, connectors."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import DATA, SHARED

from ldtkit.errors import EmptyStudyAreaError, InvalidValueError, UnreadableFormatError
from ldtkit.model.demand import (
    DEFAULT_HOURLY_PROFILE,
    Demand,
    calibrate_gravity,
    furness,
    gravity,
    period_factors_from_profile,
    read_od,
    read_od_csv,
    read_omx,
    read_tntp_trips,
    skim_free_flow,
    write_od,
)
from ldtkit.model.network import RoadNetwork, conform_links, conform_nodes

TNTP = SHARED / "data" / "tntp"


# --------------------------------------------------------------------- profile
def test_period_factors_follow_hourly_means():
    p = np.array(DEFAULT_HOURLY_PROFILE)
    assert math.isclose(p.sum(), 1.0, abs_tol=1e-9)
    f = period_factors_from_profile(p)
    day = p[7:19].mean()
    assert f["day"] == 1.0
    assert math.isclose(f["evening"] * day, p[19:23].mean())
    assert math.isclose(f["night"] * day, (p[23] + p[:7].sum()) / 8)
    # 12 day hours + 4 evening + 8 night hours rebuild the daily total
    assert math.isclose(day * (12 + 4 * f["evening"] + 8 * f["night"]), 1.0, rel_tol=1e-12)
    # a flat profile gives 1 everywhere
    assert period_factors_from_profile([2.0] * 24) == {"day": 1.0, "evening": 1.0, "night": 1.0}
    # traffic by day and at night but none 19-23 gives 0 evening (night hours 23-07 as busy as the day: 1)
    day_and_night = [1.0] * 7 + [1.0] * 12 + [0.0] * 4 + [1.0]
    assert period_factors_from_profile(day_and_night) == {"day": 1.0, "evening": 0.0, "night": 1.0}
    # traffic only at night leaves no day hour to relate the periods to
    with pytest.raises(InvalidValueError, match="no traffic between 07 and 19"):
        period_factors_from_profile([1.0] * 7 + [0.0] * 16 + [1.0])


@pytest.mark.parametrize(
    ("hour", "evening", "night"),
    [(6, 0.0, 0.5), (7, 0.0, 0.0), (18, 0.0, 0.0), (19, 1.0, 0.0), (22, 1.0, 0.0), (23, 0.0, 0.5), (0, 0.0, 0.5)],
)
def test_period_factors_hour_boundaries(hour, evening, night):
    # END periods: day 07-19 (hours 7..18), evening 19-23 (19..22), night 23-07 (23, 0..6).
    # One vehicle in every day hour plus 4 vehicles in `hour`: a spike in the evening gives 4/4 = 1 per
    # evening hour, in the night 4/8 = 0.5 per night hour (day mean 1, or 16/12 when the spike is by day).
    p = [0.0] * 24
    for h in range(7, 19):
        p[h] = 1.0
    p[hour] += 4.0
    f = period_factors_from_profile(p)
    assert f["day"] == 1.0
    assert math.isclose(f["evening"], evening, abs_tol=1e-12)
    assert math.isclose(f["night"], night, abs_tol=1e-12)


@pytest.mark.parametrize("bad", [[1.0] * 23, [1.0] * 23 + [-1.0], [1.0] * 23 + [float("nan")], [0.0] * 24])
def test_period_factors_reject_bad_profiles(bad):
    with pytest.raises(InvalidValueError, match="hourly profile"):
        period_factors_from_profile(bad)


# ---------------------------------------------------------------------- gravity
def test_furness_balances_margins():
    rng = np.random.default_rng(1)
    seed = rng.uniform(0.1, 1.0, (30, 40))
    rows = rng.uniform(1, 10, 30)
    cols = rng.uniform(1, 10, 40)
    cols *= rows.sum() / cols.sum()
    m = furness(seed, rows, cols)
    np.testing.assert_allclose(m.sum(axis=1), rows, rtol=1e-8)
    np.testing.assert_allclose(m.sum(axis=0), cols, rtol=1e-8)
    # IPF keeps cross-product ratios of the seed
    assert math.isclose(m[0, 0] * m[1, 1] / (m[0, 1] * m[1, 0]), seed[0, 0] * seed[1, 1] / (seed[0, 1] * seed[1, 0]), rel_tol=1e-9)


def test_furness_errors():
    with pytest.raises(InvalidValueError, match="row totals sum to"):
        furness(np.ones((2, 2)), np.array([1.0, 1.0]), np.array([1.0, 2.0]))
    seed = np.ones((2, 2))
    seed[1] = 0.0
    with pytest.raises(InvalidValueError, match=r"rows \[1\]"):
        furness(seed, np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    with pytest.raises(InvalidValueError, match=r"furness: row totals must be finite and >= 0; 1 of 2 fail, e.g. \[0\] = -1.0"):
        furness(np.ones((2, 2)), np.array([-1.0, 3.0]), np.array([1.0, 1.0]))


def test_gravity_calibration_hits_target_and_orders_by_cost():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 10, (25, 2))
    t = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 2.0 + 1.0
    np.fill_diagonal(t, 0.0)
    p = rng.uniform(1, 5, 25)
    a = rng.uniform(1, 5, 25)
    m, beta = calibrate_gravity(t, p, a, target_mean=8.0)
    assert math.isclose((m * t).sum() / m.sum(), 8.0, rel_tol=1e-6)
    np.testing.assert_allclose(m.sum(axis=1), p, rtol=1e-8)
    assert np.all(np.diag(m) == 0)
    # a stronger deterrence gives shorter trips
    m2 = gravity(t, p, a, beta=beta * 2)
    assert (m2 * t).sum() / m2.sum() < 8.0
    with pytest.raises(InvalidValueError, match="exceeds the longest possible mean"):
        calibrate_gravity(t, p, a, target_mean=1000.0)


# ------------------------------------------------------------------------ skims
def _toy_network(zone_through: bool = False) -> RoadNetwork:
    """Zones 1 and 2 at the ends of a line 1-3-4-2, plus a fast shortcut through zone node 5."""
    pts = {1: (0, 0), 3: (1000, 0), 4: (2000, 0), 2: (3000, 0), 5: (1500, 500)}
    rows = []
    for lid, (a, b, speed) in enumerate([(1, 3, 50), (3, 4, 50), (4, 2, 50), (3, 5, 200), (5, 4, 200)], start=1):
        for k, (u, v) in enumerate([(a, b), (b, a)]):
            L = math.dist(pts[u], pts[v])
            rows.append({"link_id": lid * 10 + k, "from_node": u, "to_node": v, "length_m": L, "capacity_vph": 1000.0,
                         "free_speed_kmh": float(speed), "geometry": shapely.LineString([pts[u], pts[v]])})  # fmt: skip
    links = conform_links(gpd.GeoDataFrame(rows, crs="EPSG:3035"), source="toy")
    nodes = conform_nodes(
        gpd.GeoDataFrame(
            {"node_id": list(pts), "is_zone": [n in (1, 2, 5) for n in pts]},
            geometry=[shapely.Point(p) for p in pts.values()],
            crs="EPSG:3035",
        ),
        source="toy",
    )
    return RoadNetwork(links=links, nodes=nodes, name="toy", zone_through=zone_through)


def test_skim_blocks_paths_through_zone_nodes():
    net = _toy_network()
    sk = skim_free_flow(net)
    assert sk.zone_ids.tolist() == [1, 2, 5]
    # 1 -> 2 along the line: 3 km at 50 km/h = 3.6 min (the shortcut via zone 5 is barred)
    assert math.isclose(sk.time_min[0, 1], 3.6, rel_tol=1e-9)
    assert math.isclose(sk.length_km[0, 1], 3.0, rel_tol=1e-9)
    through = skim_free_flow(_toy_network(zone_through=True))
    shortcut_km = (1000 + 2 * math.hypot(500, 500) + 1000) / 1000
    assert math.isclose(through.length_km[0, 1], shortcut_km, rel_tol=1e-9)
    assert through.time_min[0, 1] < sk.time_min[0, 1]


def test_skim_siouxfalls_free_flow_times():
    from ldtkit.model.network import network_from_tntp

    net = network_from_tntp(TNTP / "SiouxFalls")
    sk = skim_free_flow(net)
    # SiouxFalls free-flow times: 1->2 is link 1 (6 min), 1->3 link 2 (4 min); 1->6 = 1-2-6 (6 + 5)
    assert sk.time_min[0, 1] == 6.0 and sk.time_min[0, 2] == 4.0 and sk.time_min[0, 5] == 11.0
    assert np.isfinite(sk.time_min).all()


# ------------------------------------------------------------------------ OD I/O
def test_read_tntp_trips_reference_totals():
    sf = read_tntp_trips(TNTP / "SiouxFalls" / "SiouxFalls_trips.tntp")
    assert sf.total() == 360600.0 and len(sf.zone_ids) == 24
    assert sf.trips["light"][0, 1] == 100.0 and sf.trips["light"][0, 9] == 1300.0
    chicago = read_tntp_trips(TNTP / "Chicago-Sketch" / "ChicagoSketch_trips.tntp")  # has '~' comments
    assert len(chicago.zone_ids) == 387
    assert math.isclose(chicago.total(), 1260907.44, rel_tol=1e-9)


def test_tntp_stated_total_mismatch_is_reported(tmp_path):
    text = (TNTP / "SiouxFalls" / "SiouxFalls_trips.tntp").read_text().replace("<TOTAL OD FLOW> 360600.0", "<TOTAL OD FLOW> 360000.0")
    bad = tmp_path / "bad_trips.tntp"
    bad.write_text(text)
    with pytest.raises(InvalidValueError, match=r"bad_trips.tntp: <TOTAL OD FLOW> states a total of 360000 but the cells sum to 360600"):
        read_tntp_trips(bad)
    neg = tmp_path / "neg_trips.tntp"
    neg.write_text((TNTP / "SiouxFalls" / "SiouxFalls_trips.tntp").read_text().replace("2 :    100.0;", "2 :   -100.0;", 1))
    with pytest.raises(
        InvalidValueError,
        match=r"neg_trips.tntp: trips \(origin -> destination zone\) must be finite and >= 0; 1 of 576 fail, e.g. id 1 -> 2 = -100.0",
    ):
        read_tntp_trips(neg)
    with pytest.raises(UnreadableFormatError, match="no <END OF METADATA>"):
        (tmp_path / "x.tntp").write_text("hello")
        read_tntp_trips(tmp_path / "x.tntp")


def test_demand_names_bad_cells_by_zone():
    m = np.array([[0.0, 1.0], [float("nan"), 0.0]])
    with pytest.raises(InvalidValueError, match=r"Demand: class 'heavy' trips \(origin -> destination zone\) .* e.g. id 20 -> 10 = nan"):
        Demand(np.array([10, 20]), {"heavy": m})


@pytest.mark.parametrize("suffix", [".omx", ".csv", ".tntp"])
def test_od_round_trip(tmp_path, suffix):
    rng = np.random.default_rng(5)
    ids = np.array([1, 2, 3, 4, 5])
    light = rng.uniform(0, 50, (5, 5)).round(3)
    heavy = (light * 0.1).round(3)
    np.fill_diagonal(light, 0.0)
    np.fill_diagonal(heavy, 0.0)
    d = Demand(ids, {"light": light, "heavy": heavy}, period_factors={"day": 1.0, "evening": 0.5, "night": 0.12})
    path = tmp_path / f"od{suffix}"
    if suffix == ".tntp":
        write_od(d, path, vehicle_class="heavy")
        back = read_od(path)
        np.testing.assert_allclose(back.trips["light"], heavy, atol=1e-6)
        return
    write_od(d, path)
    back = read_od(path)
    assert back.zone_ids.tolist() == ids.tolist()
    for c in ("light", "heavy"):
        np.testing.assert_allclose(back.trips[c], d.trips[c], rtol=1e-8)
    assert back.pcu == {"light": 1.0, "heavy": 2.0}
    if suffix == ".omx":
        assert back.period_factors == d.period_factors


def _fail_midway(monkeypatch, suffix):
    """Make the low-level writer behind ``write_od(..., od<suffix>)`` write part of its target, then fail."""
    from pathlib import Path

    if suffix == ".csv":  # write_od_csv: DataFrame.to_csv

        def half_csv(self, path_or_buf=None, *args, **kwargs):
            Path(path_or_buf).write_text("origin,destination,class,trips\n1,2,li")
            raise OSError("disk full")

        monkeypatch.setattr(pd.DataFrame, "to_csv", half_csv)
    elif suffix == ".omx":  # write_omx: openmatrix File.create_matrix, once per class
        import openmatrix as omx

        real_create = omx.File.create_matrix
        calls = []

        def second_matrix_fails(self, name, *args, **kwargs):
            calls.append(name)
            if len(calls) == 2:  # the first matrix is already in the (temporary) HDF5 file
                raise OSError("disk full")
            return real_create(self, name, *args, **kwargs)

        monkeypatch.setattr(omx.File, "create_matrix", second_matrix_fails)
    else:  # write_tntp_trips: Path.write_text
        real_write_text = Path.write_text

        def half_text(self, data, *args, **kwargs):
            real_write_text(self, data[: len(data) // 2], *args, **kwargs)
            raise OSError("disk full")

        monkeypatch.setattr(Path, "write_text", half_text)


@pytest.mark.parametrize("suffix", [".omx", ".csv", ".tntp"])
def test_od_write_failing_midway_keeps_the_old_file(tmp_path, monkeypatch, suffix):
    ids = np.array([1, 2, 3])
    light = np.array([[0.0, 4.0, 1.0], [2.0, 0.0, 3.0], [5.0, 6.0, 0.0]])
    path = tmp_path / f"od{suffix}"
    write_od(Demand(ids, {"light": light, "heavy": light / 10}), path)
    before = path.read_bytes()
    _fail_midway(monkeypatch, suffix)
    with pytest.raises(OSError, match="disk full"):
        write_od(Demand(ids, {"light": light * 7, "heavy": light}), path)
    monkeypatch.undo()
    assert path.read_bytes() == before, "the old file is untouched"
    assert list(tmp_path.iterdir()) == [path], "no temporary or partial file left behind"
    # the old demand still reads back: 21 light + 2.1 heavy vehicles/h (.tntp stores their sum)
    assert math.isclose(read_od(path).total(), 23.1, rel_tol=1e-9)


def test_omx_total_attribute_checked(tmp_path):
    import openmatrix as omx

    d = Demand(np.array([10, 20]), {"light": np.array([[0.0, 4.0], [6.0, 0.0]])})
    p = write_od(d, tmp_path / "m.omx")
    f = omx.open_file(str(p), "a")
    f["light"].attrs.total_vph = 11.0
    f.close()
    with pytest.raises(InvalidValueError, match=r"m.omx: matrix 'light' attribute total_vph states a total of 11 but the cells sum to 10"):
        read_omx(p)


def test_csv_errors_name_the_line(tmp_path):
    p = tmp_path / "od.csv"
    pd.DataFrame({"origin": [1, 2, 2], "destination": [2, 1, 3], "trips": [5.0, -1.0, 2.0]}).to_csv(p, index=False)
    with pytest.raises(InvalidValueError, match=r"od.csv: trips must be finite and >= 0; 1 of 3 fail, e.g. id 2 -> 1 \(line 3\) = -1.0"):
        read_od_csv(p)
    pd.DataFrame({"origin": [1, 2], "destination": [2, 9], "trips": [5.0, 1.0]}).to_csv(p, index=False)
    with pytest.raises(InvalidValueError, match=r"destination zone ids \[9\] are not known zones"):
        read_od_csv(p, zone_ids=[1, 2])


# ------------------------------------------------------------------------ zones
def test_corine_zones_ghent():
    from ldtkit.model.zones import zones_from_corine

    z = zones_from_corine(
        DATA / "ghent" / "CLC2018_V2020_20u1_flanders.tif", DATA / "ghent" / "CLC2018_V2018_legend_grouped.csv",
        DATA / "ghent" / "gent.geojson", crs="EPSG:31370", cell_m=1000, population_total=265000, jobs_total=180000,
    )  # fmt: skip
    assert math.isclose(z["population"].sum(), 265000, rel_tol=1e-6)
    assert math.isclose(z["jobs"].sum(), 180000, rel_tol=1e-6)
    # Ghent municipality ~ 156 km2: about that many 1 km cells carry activity
    assert 140 <= len(z) <= 230
    # the historic centre (Korenmarkt) lies in one of the densest 10 % of cells (continuous urban fabric)
    korenmarkt = gpd.GeoSeries([shapely.Point(3.7215, 51.0545)], crs=4326).to_crs(31370).iloc[0]
    dens = z["population"] / z.geometry.area
    hit = z.geometry.contains(korenmarkt)
    assert hit.sum() == 1
    assert dens[hit].iloc[0] >= dens.quantile(0.9)
    # zones lie inside the municipality
    boundary = gpd.read_file(DATA / "ghent" / "gent.geojson").to_crs(31370).geometry.iloc[0]
    assert shapely.contains_xy(boundary.buffer(1.0), z["x"], z["y"]).all()


def _boxes(rows, crs="EPSG:3035"):
    """A GeoDataFrame of rectangles ``(xmin, ymin, xmax, ymax, **columns)`` in a metric CRS."""
    geoms = [shapely.box(*r[:4]) for r in rows]
    cols = {k: [r[4][k] for r in rows] for k in (rows[0][4] if len(rows[0]) > 4 else {})}
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=crs)


def test_block_zones_hand_computed():
    from ldtkit.model.zones import zones_from_blocks

    area = shapely.box(0, 0, 1000, 1000)
    blocks = _boxes([
        (0, 0, 100, 100),  # 1 ha, cell (0, 0)
        (600, 0, 800, 100),  # 2 ha, cell (0, 1)
        (2000, 0, 2100, 100),  # 1 ha outside the study area: counts for the file's total, gets no zone
        (0, 600, 300, 900),  # 9 ha > 4 ha: open space, no residents
    ])  # fmt: skip
    # population_total is the whole file's: 4000 residents / (1 + 2 + 1) ha of built blocks = 1000 per ha
    z = zones_from_blocks(blocks, area, crs="EPSG:3035", cell_m=500, population_total=4000, jobs_per_resident=1.5, max_block_area_m2=40000)
    assert z.attrs["residents_per_ha"] == pytest.approx(1000.0, rel=1e-12)
    assert z["zone"].tolist() == ["blk0_0", "blk0_1"]  # the open-space cell has no activity and is dropped
    np.testing.assert_allclose(z["population"], [1000.0, 2000.0], rtol=1e-12)
    np.testing.assert_allclose(z["jobs"], [1500.0, 3000.0], rtol=1e-12)  # 1.5 jobs per resident
    # without the open-space rule the 9 ha block takes residents: 4000 / 13 ha ~ 307.69 per ha
    z13 = zones_from_blocks(blocks, area, crs="EPSG:3035", cell_m=500, population_total=4000)
    assert z13.attrs["residents_per_ha"] == pytest.approx(307.6923077, rel=1e-9)
    assert z13["population"].sum() == pytest.approx(4000.0 * 12 / 13, rel=1e-12)  # all but the outside 1 ha
    # a study area holding every block gets the whole file's population
    everything = zones_from_blocks(
        blocks, shapely.box(-10, -10, 2200, 1000), crs="EPSG:3035", cell_m=500, population_total=4000, max_block_area_m2=40000
    )
    assert everything["population"].sum() == pytest.approx(4000.0, rel=1e-12)
    # an explicit density wins; doubling it doubles every zone's residents and jobs
    d50 = zones_from_blocks(blocks, area, crs="EPSG:3035", cell_m=500, residents_per_ha=50.0, max_block_area_m2=40000)
    d100 = zones_from_blocks(blocks, area, crs="EPSG:3035", cell_m=500, residents_per_ha=100.0, max_block_area_m2=40000)
    np.testing.assert_allclose(d50["population"], [50.0, 100.0], rtol=1e-12)
    np.testing.assert_allclose(d100["population"], 2 * d50["population"], rtol=1e-12)
    np.testing.assert_allclose(d100["jobs"], 2 * d50["jobs"], rtol=1e-12)


def test_block_zones_athens_density():
    from ldtkit.model.zones import zones_from_blocks

    blocks = gpd.read_file(DATA / "athens" / "network" / "extra" / "Athina_OT_4501000001.shp")
    assert len(blocks) == 6816  # the municipality's statistical blocks (ELSTAT)
    kw = dict(crs="EPSG:2100", cell_m=500, population_total=643452, jobs_per_resident=2.0, max_block_area_m2=40000)
    whole = zones_from_blocks(blocks, shapely.box(*blocks.to_crs(2100).total_bounds).buffer(10), **kw)
    # all blocks together hold the municipality's census population (ELSTAT 2021: 643,452)
    assert math.isclose(whole["population"].sum(), 643452, rel_tol=1e-9)
    # net density on built blocks exceeds the gross density of the 38.96 km2 municipality (~ 165/ha)
    # and stays far below 1,000 residents/ha
    assert 643452 / 3896 < whole.attrs["residents_per_ha"] < 1000
    area = shapely.box(474000, 4201500, 477000, 4204000)
    z = zones_from_blocks(blocks, area, **kw)
    # the 7.5 km2 box of the centre holds a part of the municipality; it includes the Acropolis and the
    # National Garden, so at least half the municipality's gross density
    assert 0.5 * 643452 / 3896 * 750 < z["population"].sum() < 643452
    np.testing.assert_allclose(z["jobs"], 2.0 * z["population"])


def _three_buildings():
    # footprints (m2), storeys and tags; one garage (ignored type) and one building outside the area
    return _boxes([
        (100, 100, 110, 120, {"building": "apartments", "levels": 4.0}),  # 200 m2 x 4 = 800 m2 residential
        (200, 100, 210, 110, {"building": "yes", "levels": np.nan}),  # 100 m2 x 3 (default) = 300 m2, 70 % residential
        (600, 100, 620, 115, {"building": "commercial", "levels": 2.0}),  # 300 m2 x 2 = 600 m2 of jobs
        (300, 300, 310, 310, {"building": "garage", "levels": 1.0}),  # ignored
        (1500, 100, 1520, 120, {"building": "house", "levels": 2.0}),  # outside the study area
    ])  # fmt: skip


def test_osm_building_zones_hand_computed():
    from ldtkit.model.zones import zones_from_osm_buildings

    b = _three_buildings()
    area = shapely.box(0, 0, 1000, 500)
    z = zones_from_osm_buildings(b, area, crs="EPSG:3035", cell_m=500)
    # 40 m2 per resident, 30 m2 per job (documented defaults):
    #   cell (0, 0): apartments 800 / 40 = 20 residents; untagged 300 m2 -> 0.7 x 300 / 40 = 5.25 residents
    #                and 0.3 x 300 / 30 = 3 jobs
    #   cell (0, 1): commercial 600 / 30 = 20 jobs
    assert z["zone"].tolist() == ["osm0_0", "osm0_1"]
    np.testing.assert_allclose(z["population"], [25.25, 0.0], rtol=1e-12)
    np.testing.assert_allclose(z["jobs"], [3.0, 20.0], rtol=1e-12)
    assert z.attrs["buildings"] == 4  # the garage is dropped, the outside house is read but not zoned
    # doubling the floor area per resident halves the residents and leaves the jobs alone
    z2 = zones_from_osm_buildings(b, area, crs="EPSG:3035", cell_m=500, options={"m2_per_resident": 80.0})
    np.testing.assert_allclose(z2["population"], z["population"] / 2, rtol=1e-12)
    np.testing.assert_allclose(z2["jobs"], z["jobs"], rtol=1e-12)
    # the same 600 m2 tagged residential instead of commercial: 15 residents, no jobs
    res = b.copy()
    res.loc[2, "building"] = "residential"
    zr = zones_from_osm_buildings(res, area, crs="EPSG:3035", cell_m=500)
    assert zr["population"].tolist() == pytest.approx([25.25, 15.0], rel=1e-12)
    assert zr["jobs"].tolist() == pytest.approx([3.0, 0.0], rel=1e-12)
    # with city totals the zones carry exactly those, in the same proportions
    zt = zones_from_osm_buildings(b, area, crs="EPSG:3035", cell_m=500, population_total=1000.0, jobs_total=460.0)
    np.testing.assert_allclose(zt["population"], [1000.0, 0.0], rtol=1e-12)
    np.testing.assert_allclose(zt["jobs"], [60.0, 400.0], rtol=1e-12)  # 3 : 20 of 460


def test_osm_buildings_porto():
    from ldtkit.model.zones import read_osm_buildings, zones_from_osm_buildings

    b = read_osm_buildings(DATA / "porto" / "porto.osm.pbf", crs="EPSG:32629")
    assert 10500 <= len(b) <= 11600  # the extract holds ~ 11k buildings
    assert (b.geometry.area > 0).all()
    area = shapely.box(*b.total_bounds)
    z = zones_from_osm_buildings(b, area, crs="EPSG:32629", cell_m=500)
    # plausibility: central Porto / Gaia is denser than the municipality's mean (~ 5,700 residents/km2),
    # but the box also holds the Douro and industrial quays: between 3,000 and 20,000 residents per km2
    km2 = area.area / 1e6
    assert 3000 < z["population"].sum() / km2 < 20000
    assert 0 < z["jobs"].sum() < 3 * z["population"].sum()
    zt = zones_from_osm_buildings(b, area, crs="EPSG:32629", cell_m=500, population_total=100000.0, jobs_total=80000.0)
    assert math.isclose(zt["population"].sum(), 100000.0, rel_tol=1e-9)
    assert math.isclose(zt["jobs"].sum(), 80000.0, rel_tol=1e-9)


def test_connect_zones_ids_and_errors():
    from ldtkit.model.zones import connect_zones

    net = _toy_network()
    zones = gpd.GeoDataFrame(
        {"zone": ["a", "b"], "kind": "internal", "population": [10.0, 5.0], "jobs": [1.0, 1.0], "x": [1000.0, 2000.0], "y": [-100.0, -50.0]},
        geometry=[shapely.Point(1000, -100), shapely.Point(2000, -50)], crs="EPSG:3035",
    )  # fmt: skip
    out = connect_zones(net, zones, n_connectors=1, speed_kmh=30.0)
    new_nodes = sorted(set(out.nodes["node_id"]) - set(net.nodes["node_id"]))
    assert new_nodes == [6, 7] and out.nodes.set_index("node_id").loc[new_nodes, "is_zone"].all()
    con = out.links[out.links["road_class"] == "connector"]
    assert con["link_id"].tolist() == [52, 53, 54, 55]  # after the largest link id (51), in zone order
    assert sorted(zip(con["from_node"], con["to_node"])) == [(3, 6), (4, 7), (6, 3), (7, 4)]
    assert np.allclose(con["length_m"], [100, 100, 50, 50])
    assert out.meta["zones"]["node_id"].tolist() == [6, 7]
    assert net.n_links == 10  # the input network is untouched
    far = zones.assign(x=[1000.0, 9000.0], y=[-100.0, 9000.0])
    with pytest.raises(EmptyStudyAreaError, match=r"zone 'b' at \(9000, 9000\): no car node within 2000 m"):
        connect_zones(net, far, on_unconnected="error")
    dropped = connect_zones(net, far, on_unconnected="drop")
    assert dropped.meta["zones_dropped"] == ["b"]


def test_balance_relaxes_what_cannot_be_met_and_keeps_the_total():
    from ldtkit.model.demand.gravity import balance

    rng = np.random.default_rng(3)
    seed = rng.uniform(0.1, 1.0, (12, 12))
    np.fill_diagonal(seed, 0.0)
    rows, cols = rng.uniform(1, 10, 12), rng.uniform(1, 10, 12)
    cols *= rows.sum() / cols.sum()
    # a consistent problem is balanced exactly, as by furness
    b = balance(seed, rows, cols)
    assert not b.relaxed and np.allclose(b.matrix, furness(seed, rows, cols), rtol=1e-12)
    # zone 0 cannot be left (an origin reachable one way only) and zone 1 cannot be reached
    cut = seed.copy()
    cut[0, :] = 0.0
    cut[:, 1] = 0.0
    b = balance(cut, rows, cols)
    assert b.relaxed_rows.tolist() == [0] and b.relaxed_cols.tolist() == [1]
    assert math.isclose(b.matrix.sum(), rows.sum(), rel_tol=1e-9)
    assert np.all(b.matrix[cut == 0] == 0)
    # the others keep their relative totals
    kept = np.arange(1, 12)
    shares = b.matrix.sum(axis=1)[kept] / rows[kept]
    assert np.allclose(shares, shares[0], rtol=1e-6)
    # one zone with more than half of all trips and no intrazonal cell: infeasible for Furness,
    # its row is met by the production-constrained fallback and the columns that miss are named
    p = np.array([8.0, 1.0, 1.0])
    t = 1.0 - np.eye(3)
    with pytest.raises(InvalidValueError, match="did not balance"):
        furness(t, p, p)
    b = balance(t, p, p)
    np.testing.assert_allclose(b.matrix.sum(axis=1), p, rtol=1e-12)
    assert b.relaxed_cols.tolist() == [0, 1, 2] and b.max_row_error > 1e-4


def test_gravity_relaxed_calibration_uses_the_closest_mean_it_can_reach():
    rng = np.random.default_rng(0)
    t = rng.uniform(2, 30, (20, 20))
    with pytest.raises(InvalidValueError, match="exceeds the longest possible"):
        calibrate_gravity(t, np.ones(20), np.ones(20), target_mean=100.0)
    m, beta = calibrate_gravity(t, np.ones(20), np.ones(20), target_mean=100.0, relax=True)
    assert beta == 1e-4 and math.isclose(m.sum(), 20.0, rel_tol=1e-9)
    # a single zone: no trip can be made (no intrazonal cell), and nothing is raised
    m1, _ = calibrate_gravity(np.zeros((1, 1)), np.ones(1), np.ones(1), target_mean=2.0, relax=True)
    assert m1.sum() == 0.0


def test_connect_zones_extends_far_zones_and_reports_their_population_share():
    from ldtkit.model.zones import connect_zones

    net = _toy_network()
    zones = gpd.GeoDataFrame(
        {"zone": ["a", "b"], "kind": "internal", "population": [10.0, 30.0], "jobs": [1.0, 1.0], "x": [1000.0, 9000.0], "y": [-100.0, 9000.0]},
        geometry=[shapely.Point(1000, -100), shapely.Point(9000, 9000)], crs="EPSG:3035",
    )  # fmt: skip
    out = connect_zones(net, zones, n_connectors=1, on_unconnected="extend")
    assert out.meta["zones_dropped"] == []
    assert out.meta["zones_extended"] == [{"zone": "b", "distance_m": round(math.hypot(9000 - 2000, 9000), 1)}]
    assert out.meta["zones_access"]["zones_extended"] == 1 and out.meta["zones_access"]["population_share_extended"] == 0.75
    con = out.links[out.links["road_class"] == "connector"]
    assert sorted(zip(con["from_node"], con["to_node"])) == [(3, 6), (4, 7), (6, 3), (7, 4)]
    with pytest.raises(InvalidValueError, match="'error', 'drop' or 'extend'"):
        connect_zones(net, zones, on_unconnected="skip")


def test_reattach_connectors_moves_a_closed_streets_connectors_to_the_nearest_open_road():
    from dataclasses import replace

    from ldtkit.model.zones import connect_zones, reattach_connectors

    # a 1 km line 1-3-4-2 with a side street 3-6 (200 m south of node 3): the zone sits on the side street
    net = _toy_network()
    side = gpd.GeoDataFrame(
        [{"link_id": 90 + k, "from_node": u, "to_node": v, "length_m": 200.0, "capacity_vph": 500.0, "free_speed_kmh": 30.0,
          "geometry": shapely.LineString([(1000, 0), (1000, -200)][:: 1 if k == 0 else -1])} for k, (u, v) in enumerate([(3, 6), (6, 3)])],
        crs="EPSG:3035",
    )  # fmt: skip
    nodes = pd.concat(
        [net.nodes, gpd.GeoDataFrame({"node_id": [6], "is_zone": [False]}, geometry=[shapely.Point(1000, -200)], crs="EPSG:3035")]
    )
    net = replace(
        net,
        links=conform_links(gpd.GeoDataFrame(pd.concat([net.links, conform_links(side, source="toy")]), crs="EPSG:3035"), source="toy"),
        nodes=conform_nodes(gpd.GeoDataFrame(nodes, crs="EPSG:3035"), source="toy"),
    )
    zones = gpd.GeoDataFrame(
        {"zone": ["z"], "kind": "internal", "population": [10.0], "jobs": [1.0], "x": [1000.0], "y": [-300.0]},
        geometry=[shapely.Point(1000, -300)], crs="EPSG:3035",
    )  # fmt: skip
    con = connect_zones(net, zones, n_connectors=1)
    z = int(con.meta["zones"]["node_id"].iloc[0])
    assert sorted(con.links.loc[con.links["road_class"] == "connector", "to_node"]) == [6, z]
    closed = con.links.copy()
    closed.loc[closed["link_id"].isin([90, 91]), "car_allowed"] = False  # the side street is pedestrianised
    moved = reattach_connectors(replace(con, links=closed), max_walk_m=500.0)
    c = moved.links[moved.links["road_class"] == "connector"]
    assert sorted(zip(c["from_node"], c["to_node"])) == [(3, z), (z, 3)] and c["car_allowed"].all()
    assert np.allclose(c["length_m"], 300.0)
    rep = moved.meta["connectors_reattached"]
    assert rep["new_node"].tolist() == [3, 3] and np.allclose(rep["walk_m"], 300.0)
    # with no open road within the walk distance the connectors are closed (the trips are dropped later)
    far = reattach_connectors(replace(con, links=closed), max_walk_m=100.0)
    assert not far.links.loc[far.links["road_class"] == "connector", "car_allowed"].any()
    assert far.meta["connectors_reattached"]["new_node"].tolist() == [-1, -1]
    assert con.links.loc[con.links["link_id"].isin([90, 91]), "car_allowed"].all()  # the input is untouched


def test_scaled_by_cell_multiplies_each_class_and_rejects_a_wrong_shape():
    d = Demand(
        np.array([1, 2, 3]),
        {"light": np.arange(9.0).reshape(3, 3) * (1 - np.eye(3)), "heavy": np.ones((3, 3)) - np.eye(3)},
    )
    factor = np.array([[1.0, 2.0, 0.5], [3.0, 1.0, 0.0], [1.5, 1.0, 1.0]])
    out = d.scaled(factor)
    for cls in ("light", "heavy"):
        np.testing.assert_array_equal(out.trips[cls], d.trips[cls] * factor)
    assert out.pcu == d.pcu and out.period_factors == d.period_factors
    with pytest.raises(InvalidValueError, match=r"factor has shape \(2, 3\), expected a number or \(3, 3\)"):
        d.scaled(np.ones((2, 3)))
