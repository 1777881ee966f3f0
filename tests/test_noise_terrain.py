"""Terrain under noise paths: DEM rasters and breaklines, their errors, and maps over terrain."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from conftest import SHARED
from rasterio.transform import from_origin
from test_noise_map import CRS, _network, _receptors, _traffic

from ldtkit.errors import ConfigError, InputFileNotFoundError, InvalidValueError, UnreadableFormatError
from ldtkit.model.kernels import noise as nk
from ldtkit.model.kernels import noise_terrain as kt
from ldtkit.model.noise import compute_noise, direct_profile, noise_propagation, profile_attenuation
from ldtkit.model.noise.propagation import _band_terms
from ldtkit.model.noise.screening import no_obstacles
from ldtkit.model.noise.terrain import terrain_from_breaklines, terrain_from_grid, terrain_from_raster, terrain_grid

GEOMETRY = SHARED / "reference" / "noise" / "iso17534_tc06_tc28_geometry.json"


def _write_dem(path, z, *, x0=-200.0, y_top=300.0, step=5.0, crs=CRS, nodata=None):
    """A north-up GeoTIFF with ``z`` (rows from north to south) and its top-left corner at (x0, y_top)."""
    profile = dict(
        driver="GTiff", height=z.shape[0], width=z.shape[1], count=1, dtype="float32", transform=from_origin(x0, y_top, step, step)
    )
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z.astype("float32"), 1)
    return path


def _plane_dem(tmp_path, name="dem.tif", **kw):
    # z = 10 + 0.02 x - 0.05 y sampled at the cell centres
    xs = -200.0 + 2.5 + 5.0 * np.arange(120)
    ys = 300.0 - 2.5 - 5.0 * np.arange(100)
    gx, gy = np.meshgrid(xs, ys)
    return _write_dem(tmp_path / name, 10.0 + 0.02 * gx - 0.05 * gy, **kw)


def test_dem_raster_is_sampled_bilinearly_in_its_own_coordinates(tmp_path):
    t = terrain_from_raster(_plane_dem(tmp_path), crs=CRS)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-190, 390, 200), rng.uniform(-190, 290, 200)
    # bilinear interpolation reproduces a plane exactly
    np.testing.assert_allclose(t.elevation(x, y), 10.0 + 0.02 * x - 0.05 * y, atol=1e-4)
    assert np.isnan(t.elevation([-199.0], [0.0])[0])  # outside the cell centres
    s, z = t.profile((0.0, 0.0), (100.0, 50.0))
    # a plane under a straight path is one straight piece
    assert len(s) == 2
    np.testing.assert_allclose(z, [10.0, 10.0 + 2.0 - 2.5], atol=1e-4)


def test_bad_dem_files_are_refused_naming_the_file(tmp_path):
    with pytest.raises(InvalidValueError, match=r"dem\.tif: the DEM is in EPSG:4326; expected EPSG:31370"):
        terrain_from_raster(_plane_dem(tmp_path, crs="EPSG:4326"), crs=CRS)
    with pytest.raises(InvalidValueError, match=r"nocrs\.tif: the DEM has no CRS; expected EPSG:31370"):
        terrain_from_raster(_plane_dem(tmp_path, name="nocrs.tif", crs=None), crs=CRS)
    text = tmp_path / "notes.tif"
    text.write_text("not a raster")
    with pytest.raises(UnreadableFormatError, match=r"notes\.tif: cannot read as a DEM raster"):
        terrain_from_raster(text)
    with pytest.raises(InputFileNotFoundError, match="terrain raster not found"):
        terrain_from_raster(tmp_path / "missing.tif")


def test_a_path_across_a_nodata_hole_is_refused(tmp_path):
    z = np.full((100, 120), 5.0)
    z[40:45, 50:55] = -9999.0
    t = terrain_from_raster(_write_dem(tmp_path / "holes.tif", z, nodata=-9999.0), crs=CRS)
    hole_x, hole_y = -200.0 + 5.0 * 52, 300.0 - 5.0 * 42
    with pytest.raises(InvalidValueError, match=r"terrain .*holes\.tif: no elevation at .* nodata hole"):
        direct_profile((hole_x - 100, hole_y, 6.0), (hole_x + 100, hole_y, 9.0), terrain=t)
    assert len(direct_profile((hole_x - 100, hole_y + 40, 6.0), (hole_x + 100, hole_y + 40, 9.0), terrain=t)) == 2


def _road_map(terrain, **kw):
    net = _network([[(-150.0, 0.0), (150.0, 0.0)]], both_ways=True)
    tr = _traffic(net, 800.0, 60.0)
    x, y = np.meshgrid(np.arange(-60.0, 61.0, 30.0), np.arange(40.0, 121.0, 20.0))
    rec = _receptors(x.ravel(), y.ravel())
    prop = noise_propagation(net, rec, cutoff_m=1000.0, far_field=False, method="exact", terrain=terrain, **kw)
    return compute_noise(net, tr, rec, propagation=prop, progress=False), prop


def test_a_constant_dem_gives_the_flat_map():
    flat, _ = _road_map(None)
    level = terrain_from_grid(np.full((60, 80), 37.5), x0_m=-200.0, y0_m=-50.0, step_m=5.0, source="level")
    raised, prop = _road_map(level)
    assert prop.screening.startswith("propagation over the terrain of level")
    assert np.abs(raised.lden_db - flat.lden_db).max() <= 0.01


def test_a_berm_between_the_road_and_the_receptors_lowers_their_levels():
    flat, _ = _road_map(None)
    # a 4 m berm along the road, 10-25 m from it
    lines = [[(-200, y, z), (200, y, z)] for y, z in ((-50, 0), (10, 0), (15, 4), (20, 4), (25, 0), (150, 0))]
    berm, prop = _road_map(terrain_from_breaklines(lines, source="berm"))
    drop = flat.lden_db - berm.lden_db
    assert drop.min() > 1.0  # every receptor behind the berm is quieter
    assert drop.max() < 25.0


def test_terrain_map_errors():
    net = _network([[(-150.0, 0.0), (150.0, 0.0)]])
    rec = _receptors([0.0, 500.0], [50.0, 50.0])
    small = terrain_from_grid(np.zeros((40, 40)), x0_m=-200.0, y0_m=-100.0, step_m=10.0, source="small dem")
    with pytest.raises(InvalidValueError, match=r"terrain small dem: no elevation under 1 receptors \(the first at \(500.0, 50.0\)\)"):
        noise_propagation(net, rec, terrain=small)


@pytest.fixture(scope="module")
def geometry():
    if not GEOMETRY.exists():
        pytest.skip(f"{GEOMETRY} not found")
    return json.loads(GEOMETRY.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["TC06", "TC20", "TC23"])
def test_one_pair_of_the_map_kernel_gives_the_cut_profile_level(geometry, name):
    # the ISO geometry on one ground factor: the map kernel's pair against profile_attenuation on the cut profile
    g_path = 0.5
    g = geometry["cases"][name]["geometry"]
    terrain = terrain_from_breaklines(g["topography_lines_xyz"])
    s, r = g["source_point"], g["receiver_point"]
    pts = direct_profile((s["x"], s["y"], s["z"]), (r["x"], r["y"], r["z"]), terrain=terrain, default_g=g_path)
    want = profile_attenuation(pts, temperature_c=10.0, humidity_pct=70.0, g_source=g_path).levels(np.zeros(8))["L"]
    fine = terrain.as_grid(step_m=0.05)
    grid = terrain_grid(fine, sample_m=0.05, max_samples=8192)
    scratch, ts = nk.screen_scratch(_band_terms(g_path, 10.0, 70.0)), kt.terrain_scratch(8192)
    hs, hr = s["z"] - pts[0]["zGround"], r["z"] - pts[-1]["zGround"]
    ground = nk.Ground(g_path, g_path, 0.5)
    assert kt.terrain_transfer(s["x"], s["y"], hs, r["x"], r["y"], hr, grid, ground, scratch, ts, no_obstacles())
    assert np.abs(10.0 * np.log10(ts.tr) - want).max() <= 0.1


def test_city_config_names_the_dem_and_its_errors(tmp_path):
    from ldtkit.study.city import load_city
    from ldtkit.study.inputs import noise_terrain

    def city(value):
        (tmp_path / "city.toml").write_text(f'name = "x"\ncrs = "{CRS}"\n[noise]\nterrain = "{value}"\n')
        return load_city(tmp_path)

    _plane_dem(tmp_path, name="dem.tif")
    t = noise_terrain(city("dem.tif"))
    assert t is not None and t.source == str(tmp_path / "dem.tif")
    assert abs(float(t.elevation([0.0], [0.0])[0]) - 10.0) < 1e-4
    with pytest.raises(InputFileNotFoundError, match=r"city\.toml field 'noise\.terrain' not found: .*nowhere\.tif"):
        noise_terrain(city("nowhere.tif"))
    _plane_dem(tmp_path, name="wgs84.tif", crs="EPSG:4326")
    with pytest.raises(ConfigError, match=r"city\.toml: \[noise\] terrain = 'wgs84\.tif': .*the DEM is in EPSG:4326; expected EPSG:31370"):
        noise_terrain(city("wgs84.tif"))
    (tmp_path / "text.tif").write_text("elevations")
    with pytest.raises(ConfigError, match=r"city\.toml: \[noise\] terrain = 'text\.tif': .*cannot read as a DEM raster"):
        noise_terrain(city("text.tif"))


def test_a_scenario_over_terrain_updated_from_the_baseline_equals_its_full_map():
    from ldtkit.model.noise import update_noise

    net = _network([[(-150.0, 0.0), (150.0, 0.0)], [(-150.0, -40.0), (150.0, -40.0)]])
    base = _traffic(net, 800.0, 60.0)
    ids = net.links["link_id"].to_numpy()
    closed = {k: v.__class__(ids, v.light_vph * [1.0, 0.0], v.heavy_vph * [1.0, 0.0], v.speed_kmh) for k, v in base.items()}
    x, y = np.meshgrid(np.arange(-60.0, 61.0, 30.0), np.arange(40.0, 121.0, 20.0))
    rec = _receptors(x.ravel(), y.ravel())
    lines = [[(-200, y, z), (200, y, z)] for y, z in ((-80, 0), (10, 0), (15, 4), (20, 4), (25, 0), (150, 0))]
    prop = noise_propagation(net, rec, cutoff_m=1000.0, terrain=terrain_from_breaklines(lines, source="berm"))
    base_map = compute_noise(net, base, rec, propagation=prop, progress=False)
    full = compute_noise(net, closed, rec, propagation=prop, reference_traffic=base, progress=False)
    updated = update_noise(net, base_map, base, closed, propagation=prop)
    assert (base_map.lden_db - full.lden_db).min() > 0.5  # the closed road mattered
    np.testing.assert_allclose(updated.lden_db, full.lden_db, atol=0.01)


def test_a_map_path_across_a_nodata_hole_is_refused():
    net = _network([[(-150.0, 0.0), (150.0, 0.0)]])
    rec = _receptors([0.0], [80.0])
    z = np.zeros((60, 80))
    z[28:32, 38:42] = np.nan  # around (0, 40), between the road and the receptor
    holed = terrain_from_grid(z, x0_m=-200.0, y0_m=-100.0, step_m=5.0, source="holed dem")
    prop = noise_propagation(net, rec, cutoff_m=1000.0, terrain=holed)
    with pytest.raises(InvalidValueError, match=r"terrain holed dem: \d+ source–receptor paths leave the terrain or cross a nodata hole"):
        compute_noise(net, _traffic(net, 800.0, 60.0), rec, propagation=prop, progress=False)


def _blocks():
    import shapely

    from ldtkit.model.buildings import Buildings

    # two rows of houses between the road and the receptors, with gaps
    polys = [shapely.box(x, y, x + 20.0, y + 10.0) for x in (-90.0, -40.0, 10.0, 60.0) for y in (15.0, 60.0)]
    return Buildings.from_arrays([f"b{i}" for i in range(len(polys))], polys, [8.0] * len(polys), crs=CRS)


def test_buildings_over_a_constant_dem_screen_as_over_flat_ground():
    opts = dict(buildings=_blocks(), reflection_order=0, prune_db=0.0)
    flat, _ = _road_map(None, **opts)
    level = terrain_from_grid(np.full((60, 80), 12.0), x0_m=-200.0, y0_m=-50.0, step_m=5.0, source="level")
    raised, prop = _road_map(level, **opts)
    assert "screening by 8 buildings" in prop.screening
    inside = np.isnan(flat.lden_db)
    assert np.array_equal(inside, np.isnan(raised.lden_db))
    open_field, _ = _road_map(None)
    assert (open_field.lden_db - flat.lden_db)[~inside].max() > 5.0  # the houses do screen
    assert np.abs(raised.lden_db - flat.lden_db)[~inside].max() <= 0.01
    # a receptor inside a house has no level, over terrain as over flat ground
    net = _network([[(-150.0, 0.0), (150.0, 0.0)]])
    rec = _receptors([-80.0, -80.0], [20.0, 40.0])
    prop = noise_propagation(net, rec, terrain=level, **opts)
    lden = compute_noise(net, _traffic(net, 800.0, 60.0), rec, propagation=prop, progress=False).lden_db
    assert np.isnan(lden[0]) and np.isfinite(lden[1])


def test_houses_on_a_berm_screen_more_than_either():
    lines = [[(-200, y, z), (200, y, z)] for y, z in ((-50, 0), (10, 0), (15, 3), (25, 3), (30, 0), (150, 0))]
    berm = terrain_from_breaklines(lines, source="berm")
    houses = dict(buildings=_blocks(), reflection_order=0, prune_db=0.0)
    only_berm, _ = _road_map(berm)
    only_houses, _ = _road_map(None, **houses)
    both, _ = _road_map(berm, **houses)
    ok = np.isfinite(both.lden_db)
    # roofs standing 3 m higher on the berm: no receptor louder than with the houses or the berm alone
    assert (both.lden_db - only_houses.lden_db)[ok].max() <= 0.05
    assert (both.lden_db - only_berm.lden_db)[ok].max() <= 0.05
    assert (only_houses.lden_db - both.lden_db)[ok].max() > 1.0
