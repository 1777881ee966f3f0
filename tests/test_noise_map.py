"""Noise maps: kernel against the single-path reference, Lden, exposure, cutoff, reuse, properties."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString

from ldtkit.errors import InvalidValueError
from ldtkit.model.limits import LDEN_BANDS_DB, LNIGHT_BANDS_DB, band_labels
from ldtkit.model.network import RoadNetwork, conform_links
from ldtkit.model.noise import (
    A_WEIGHTING_DB,
    compute_noise,
    compute_noise_many,
    emission_per_link,
    exposure_counts,
    lden_db,
    noise_propagation,
    path_attenuation,
)
from ldtkit.model.receptors import Receptors
from ldtkit.model.traffic import LinkTraffic

CRS = "EPSG:31370"


def _network(lines, *, both_ways=False, road_class=None):
    rows, geoms, nid = [], [], 1
    for i, coords in enumerate(lines):
        ls = LineString(coords)
        rows.append(
            dict(
                link_id=len(rows) + 1,
                from_node=nid,
                to_node=nid + 1,
                length_m=ls.length,
                capacity_vph=1800.0,
                free_speed_kmh=50.0,
                road_class=(road_class[i] if road_class else "primary"),
            )
        )
        geoms.append(ls)
        if both_ways:
            rows.append(dict(rows[-1], link_id=len(rows) + 1, from_node=nid + 1, to_node=nid))
            geoms.append(LineString(coords[::-1]))
        nid += 2
    links = conform_links(gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=CRS), source="test")
    nodes = gpd.GeoDataFrame(
        {"node_id": np.arange(1, nid), "is_zone": False}, geometry=gpd.points_from_xy(np.zeros(nid - 1), np.zeros(nid - 1)), crs=CRS
    )
    return RoadNetwork(links, nodes, name="synthetic")


def _traffic(net, light, heavy, speed=50.0, evening=0.5, night=0.2):
    ids = net.links["link_id"].to_numpy()
    n = len(ids)
    mk = lambda f: LinkTraffic(
        ids, np.broadcast_to(light * f, n).astype(float), np.broadcast_to(heavy * f, n).astype(float), np.full(n, speed)
    )
    return {"day": mk(1.0), "evening": mk(evening), "night": mk(night)}


def _receptors(x, y, z=4.0, pop=None):
    x, y = np.asarray(x, float), np.asarray(y, float)
    return Receptors(x, y, np.full(len(x), z), np.ones(len(x)) if pop is None else np.asarray(pop, float), CRS)


# ------------------------------------------------------------------ Lden and exposure
def test_lden_formula_directive_2002_49_annex_i():
    # equal period levels: Lden = L + 10lg((12 + 4·10^0.5 + 8·10)/24)
    assert float(lden_db(60.0, 60.0, 60.0)) == pytest.approx(60 + 10 * np.log10((12 + 4 * 10**0.5 + 80) / 24), abs=1e-12)
    # night-only noise is penalised by 10 dB and weighted 8/24
    assert float(lden_db(-np.inf, -np.inf, 50.0)) == pytest.approx(50 + 10 - 10 * np.log10(3), abs=1e-12)
    assert float(lden_db(70.0, 65.0, 60.0)) == pytest.approx(10 * np.log10((12 * 10**7 + 4 * 10**7 + 8 * 10**7) / 24), abs=1e-12)


def test_exposure_counts_per_end_band():
    lv = np.array([54.99, 55.0, 59.99, 60.0, 64.5, 69.99, 70.0, 74.99, 75.0, 90.0, -np.inf])
    pop = np.arange(1.0, 12.0)
    c = exposure_counts(lv, pop, LDEN_BANDS_DB, name="Lden")
    assert c == {"Lden 55-59": 2 + 3, "Lden 60-64": 4 + 5, "Lden 65-69": 6, "Lden 70-74": 7 + 8, "Lden >=75": 9 + 10}
    n = exposure_counts(lv, pop, LNIGHT_BANDS_DB, name="Lnight")
    assert list(n) == ["Lnight 50-54", "Lnight 55-59", "Lnight 60-64", "Lnight 65-69", "Lnight >=70"]
    assert n["Lnight 50-54"] == 1.0 and n["Lnight >=70"] == 7 + 8 + 9 + 10


# ------------------------------------------------------------------ kernel against the path reference
def _reference_level(road, rec_xyz, lw_line, *, ground_g, spacing=0.5, p=0.5):
    """Energetic sum over 0.5 m point sources of path_attenuation levels (plain Python reference)."""
    ls = LineString(road)
    n = int(np.ceil(ls.length / spacing))
    li = ls.length / n
    e = np.zeros(8)
    for j in range(n):
        pt = ls.interpolate((j + 0.5) * li)
        pa = path_attenuation((pt.x, pt.y, 0.05), rec_xyz, ground_g=ground_g, p_favourable=p)
        e += 10 ** (pa.levels(lw_line + 10 * np.log10(li))["L"] / 10)
    return 10 * np.log10(e)


@pytest.mark.parametrize("method", ["table", "exact"])
def test_map_kernel_matches_point_source_sum_of_path_reference(method):
    road = [(0.0, 0.0), (150.0, 0.0), (260.0, 40.0)]
    net = _network([road])
    rec = _receptors([75.0, 200.0, 100.0, 20.0], [8.0, 60.0, -120.0, 3.0])
    tr = _traffic(net, 900.0, 60.0)
    m = compute_noise(net, tr, rec, ground_g=0.5, cutoff_m=5000, bands=True, method=method, progress=False)
    lw = emission_per_link({"1": [900.0], "3": [60.0]}, {"1": [50.0], "3": [50.0]}, temperature_c=15.0)[0]
    for i in range(len(rec)):
        ref = _reference_level(road, (rec.x[i], rec.y[i], 4.0), lw, ground_g=0.5)
        # the kernel splits sources to ≤ d/2 (NMPB rule) instead of 0.5 m: discretisation error only
        np.testing.assert_allclose(m.bands_db["day"][i], ref, atol=0.1)
        la = 10 * np.log10(np.sum(10 ** ((ref + A_WEIGHTING_DB) / 10)))
        assert m.lday_db[i] == pytest.approx(la, abs=0.1)


def test_table_far_field_and_exact_agree():
    # a 1.2 km x 1.2 km street grid, everything within the cutoff
    xs = np.arange(0, 1201, 100.0)
    lines = [[(x, 0.0), (x, 1200.0)] for x in xs] + [[(0.0, y), (1200.0, y)] for y in xs]
    net = _network(lines, both_ways=True)
    tr = _traffic(net, 400.0, 30.0)
    gx, gy = np.meshgrid(np.arange(-300, 1501, 90.0), np.arange(-300, 1501, 90.0))
    rec = _receptors(gx.ravel(), gy.ravel())
    exact = compute_noise(net, tr, rec, cutoff_m=5000, method="exact", propagation=None, progress=False)
    table = compute_noise(net, tr, rec, cutoff_m=5000, progress=False)
    split = compute_noise(net, tr, rec, propagation=noise_propagation(net, rec, cutoff_m=5000, far_field=False), progress=False)
    assert np.abs(table.lden_db - exact.lden_db).max() < 0.01
    assert np.abs(table.lden_db - split.lden_db).max() < 0.1
    assert table.meta["pair_evaluations"] < split.meta["pair_evaluations"] / 2


def test_maps_computed_together_equal_maps_computed_alone():
    """compute_noise_many stacks the scenarios' periods in one kernel pass: every map must be
    what compute_noise gives alone with the same reference traffic (far-field source positions)."""
    xs = np.arange(0, 1201, 150.0)
    lines = [[(x, 0.0), (x, 1200.0)] for x in xs] + [[(0.0, y), (1200.0, y)] for y in xs]
    net = _network(lines, both_ways=True)
    gx, gy = np.meshgrid(np.arange(-200, 1401, 80.0), np.arange(-200, 1401, 80.0))
    rec = _receptors(gx.ravel(), gy.ravel())
    base = _traffic(net, 400.0, 30.0)
    rng = np.random.default_rng(3)
    n = len(net.links)
    states = {}
    for name in ("closed", "busier", "quieter"):
        light = 400.0 * rng.uniform(0.0, 2.0, n)
        states[name] = {p: LinkTraffic(net.links["link_id"].to_numpy(), light * f, 0.1 * light * f, np.full(n, 50.0))
                        for p, f in (("day", 1.0), ("evening", 0.5), ("night", 0.2))}  # fmt: skip
    prop = noise_propagation(net, rec, cutoff_m=800.0)  # far-field groups in use
    together = compute_noise_many(net, states, rec, reference_traffic=base, propagation=prop)
    assert list(together) == list(states)
    for name, traffic in states.items():
        alone = compute_noise(net, traffic, rec, reference_traffic=base, propagation=prop, progress=False)
        for col in ("lday_db", "levening_db", "lnight_db", "lden_db"):
            np.testing.assert_allclose(getattr(together[name], col), getattr(alone, col), rtol=1e-12, atol=1e-12)
    # without a reference each map places far-field sources by its own power: not the same maps
    own = compute_noise(net, states["closed"], rec, propagation=prop, progress=False)
    assert np.abs(own.lden_db - together["closed"].lden_db).max() > 1e-6
    with pytest.raises(InvalidValueError, match="reference_traffic.*link_id"):
        compute_noise_many(net, states, rec, reference_traffic=_traffic(_network(lines[:2]), 1.0, 0.0), propagation=prop)


# ------------------------------------------------------------------ properties
def test_doubling_flow_adds_3_01_db_and_farther_is_quieter():
    net = _network([[(0.0, 0.0), (1000.0, 0.0)]], both_ways=True)
    rec = _receptors(np.full(6, 500.0), [5.0, 10.0, 20.0, 50.0, 100.0, 200.0])
    prop = noise_propagation(net, rec)
    a = compute_noise(net, _traffic(net, 500.0, 40.0), rec, propagation=prop, progress=False)
    b = compute_noise(net, _traffic(net, 1000.0, 80.0), rec, propagation=prop, progress=False)
    np.testing.assert_allclose(b.lden_db - a.lden_db, 10 * np.log10(2), atol=1e-9)
    assert np.all(np.diff(a.lden_db) < 0)
    # both directions share one source line: 1000 veh/h each way = 2000 veh/h on a one-way link
    one_way = _network([[(0.0, 0.0), (1000.0, 0.0)]])
    c = compute_noise(one_way, _traffic(one_way, 2000.0, 160.0), rec, progress=False)
    np.testing.assert_allclose(c.lden_db, b.lden_db, atol=1e-9)
    assert a.meta["source_segments"] == c.meta["source_segments"]


def test_connectors_and_idle_links_are_silent():
    net = _network([[(0.0, 0.0), (400.0, 0.0)], [(0.0, 30.0), (400.0, 30.0)]], road_class=["primary", "connector"])
    rec = _receptors([200.0], [15.0])
    base = compute_noise(net, _traffic(net, 600.0, 20.0), rec, progress=False)
    only_first = _network([[(0.0, 0.0), (400.0, 0.0)]])
    ref = compute_noise(only_first, _traffic(only_first, 600.0, 20.0), rec, progress=False)
    np.testing.assert_allclose(base.lden_db, ref.lden_db, atol=1e-9)
    silent = compute_noise(net, _traffic(net, 0.0, 0.0), rec, progress=False)
    assert np.isneginf(silent.lden_db).all() and silent.exposure()["Lden 55-59"] == 0.0


def test_noise_map_outputs_and_errors():
    net = _network([[(0.0, 0.0), (300.0, 0.0)]])
    rec = _receptors([100.0, 100.0, 150.0], [10.0, 40.0, 400.0], pop=[10.0, 20.0, 30.0])
    m = compute_noise(net, _traffic(net, 2000.0, 200.0, speed=70.0), rec, bands=True, progress=False)
    gdf = m.to_geodataframe()
    assert {"lday_db", "levening_db", "lnight_db", "lden_db", "day_1000hz_db"} <= set(gdf.columns) and gdf.crs == CRS
    exp = m.exposure()
    assert list(exp) == band_labels("Lden", LDEN_BANDS_DB) + band_labels("Lnight", LNIGHT_BANDS_DB)
    assert sum(v for k, v in exp.items() if k.startswith("Lden")) == pytest.approx(rec.population[m.lden_db >= 55].sum())
    np.testing.assert_allclose(m.lden_db, lden_db(m.lday_db, m.levening_db, m.lnight_db))
    with pytest.raises(InvalidValueError, match="missing periods"):
        compute_noise(net, {"day": _traffic(net, 1.0, 0.0)["day"]}, rec, progress=False)
    with pytest.raises(InvalidValueError, match="cutoff_m"):
        compute_noise(net, _traffic(net, 1.0, 0.0), rec, cutoff_m=0, progress=False)
    with pytest.raises(InvalidValueError, match="not a regular grid"):
        m.grid()


# ------------------------------------------------------------------ Ghent: cutoff effect
@pytest.fixture(scope="module")
def ghent():
    from ldtkit.study.city import load_city
    from ldtkit.study.runner import focus_bounds

    city = load_city("ghent")  # shipped in data/ghent: a failure here is a failure
    net = city.load_network()
    return net, focus_bounds(city, net)


def test_default_cutoff_changes_ghent_grid_by_at_most_0_6_db(ghent):
    from ldtkit.model.receptors import receptors_grid

    net, bounds = ghent
    rec = receptors_grid(bounds, crs=net.crs, cell_m=100.0)
    # flows by functional road class (0 motorway … 8 other road): a plausible city-wide pattern
    per_class = {"0": 3000, "1": 1500, "2": 800, "3": 500, "4": 300, "5": 200, "6": 80, "7": 40, "8": 20}
    flow = net.links["road_class"].astype(str).map(per_class).fillna(0).to_numpy(float) * net.links["car_allowed"].to_numpy()
    ids = net.links["link_id"].to_numpy()
    speed = net.links["free_speed_kmh"].to_numpy()
    tr = {p: LinkTraffic(ids, flow * f * 0.93, flow * f * 0.07, speed) for p, f in (("day", 1.0), ("evening", 0.5), ("night", 0.15))}
    default = compute_noise(net, tr, rec, progress=False)
    whole_city = compute_noise(net, tr, rec, cutoff_m=12000.0, progress=False)  # every link of the municipality
    diff = whole_city.lden_db - default.lden_db
    assert default.meta["cutoff_m"] == 3000.0
    # a larger cutoff only adds sources; the far-field grouping differs between the two pyramids by < 0.1 dB
    assert diff.min() >= -0.1
    # 0.56 dB at most with the OSM speed limits (motorways at 120 km/h where tagged)
    assert diff.max() <= 0.6, f"cutoff effect up to {diff.max():.2f} dB"
    short = compute_noise(net, tr, rec, cutoff_m=500.0, progress=False)
    assert (whole_city.lden_db - short.lden_db).max() > 1.0  # the test can tell a too-short cutoff
