"""Levels at points (``ldtkit sample``, :func:`ldtkit.study.sample.sample_points`) in cities with buildings:
Porto, whose ``[noise] buildings = "osm"`` screens its maps, and Athens, whose statistical blocks do
(``[noise] buildings = "blocks"``). A point's level is the runner's façade-map level there, screened by
the buildings; a point inside a building has no noise level."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from ldtkit.study.sample import InsideBuildingWarning, sample_points

#: Courtyards of Porto's centre enclosed by building rows (30-85 m from the nearest road), a point 40 m
#: beside the Ponte Infante Dom Henrique on the Porto bank, and a point inside a building.
POINTS = pd.DataFrame(
    {
        "id": ["yard-a", "yard-b", "yard-c", "by-the-bridge", "in-a-building"],
        "lon": [-8.608114, -8.616661, -8.594288, -8.601177, -8.612658],
        "lat": [41.142122, 41.142237, 41.148017, 41.141056, 41.138061],
    }
)
YARDS = slice(0, 3)
INSIDE = 4
#: Athens: points in side streets 60-100 m from the nearest road of the study network, with blocks
#: (15 m high) between them and it: by the Metropolitan Cathedral, in Plaka, west of Thissio; and a
#: point inside a block by Ermou, 20 m from its edge.
ATHENS_POINTS = pd.DataFrame(
    {
        "id": ["by-the-cathedral", "plaka", "west-of-thissio", "in-a-block"],
        "lon": [23.729433, 23.731150, 23.717475, 23.730766],
        "lat": [37.975096, 37.972396, 37.975609, 37.976397],
    }
)
ATHENS_BEHIND = slice(0, 3)
ATHENS_INSIDE = 3


def _points(frame: pd.DataFrame = POINTS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326)


def _traffic(tmp_path_factory, name, scenario_file=None):
    """A shipped city, its scenario in ``scenario_file`` (or None) and the traffic of both in a results cache of the module's own."""
    from ldtkit.study.city import load_city
    from ldtkit.study.runner import run
    from ldtkit.study.scenario import load_scenarios

    cache = tmp_path_factory.mktemp(f"{name}_sample") / ".ldtkit-cache"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the extract's cleanup share, reported by the city tests
        city = load_city(name)
        scenario = load_scenarios(city.root / "scenarios" / scenario_file)[0] if scenario_file else None
        results = run(city, [scenario] if scenario else [], models=("traffic",), cache_dir=cache, progress=False)
    return city, scenario, results, cache


@pytest.fixture(scope="module")
def porto(tmp_path_factory):
    """Porto, its bridge closure and the traffic of both (about 30 s)."""
    return _traffic(tmp_path_factory, "porto", "01_bridge_closed.toml")


@pytest.fixture(scope="module")
def athens(tmp_path_factory):
    """Athens and its baseline traffic (about 10 s)."""
    return _traffic(tmp_path_factory, "athens")


def _sample(town, points=None, **kw):
    city, _, _, cache = town
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*network cleanup")
        warnings.simplefilter("ignore", InsideBuildingWarning)
        return sample_points(city, _points() if points is None else points, cache_dir=cache, **kw)


def _open_field(town, levels):
    """The baseline's noise at the sampled points in open field: what sampling gave before it took the city's buildings."""
    from ldtkit.model.noise import compute_noise
    from ldtkit.study.inputs import city_noise_propagation

    city, _, results, _ = town
    base, rec = results["baseline"], levels.noise.receptors
    prop = city_noise_propagation(city, base.network, rec, buildings=None, terrain=None)
    return compute_noise(base.network, base.traffic, rec, progress=False, propagation=prop)


def _runner_facade_levels(town, levels, result, *, warm_start=None):
    """The levels the runner's façade map (:func:`~ldtkit.study.facades.with_facades`) gives at the sampled points."""
    from ldtkit.model.receptors import Receptors
    from ldtkit.study.facades import FacadeReceptors, with_facades
    from ldtkit.study.inputs import noise_buildings, noise_terrain

    city, _, results, _ = town
    r = levels.noise.receptors
    n = len(r)
    rec = Receptors(r.x, r.y, r.z, np.ones(n), r.crs, kind="facade", ids=np.arange(n))
    inputs = SimpleNamespace(
        city=city, network=results["baseline"].network, noise_buildings=noise_buildings(city), noise_terrain=noise_terrain(city),
        facades=FacadeReceptors(rec, np.ones(n), 0.0, 1.0, 5.0, shared=np.zeros(n, dtype=bool)), facade_propagation=None,
    )  # fmt: skip
    return with_facades(inputs, result, warm_start=warm_start).noise_facades


def test_porto_courtyards_are_screened_by_the_buildings_around_them(porto):
    levels = _sample(porto, _points(POINTS.drop(index=INSIDE)))
    assert levels.scenario == "baseline" and list(levels.ids) == list(POINTS["id"].drop(index=INSIDE))
    assert not levels.inside_building.any() and not levels.outside_network_extent.any()
    assert np.isfinite(levels.noise.lden_db).all() and np.isfinite(levels.air.no2_ugm3).all()
    assert levels.noise.meta["propagation"].startswith("screening by")
    open_field = _open_field(porto, levels)
    screening = open_field.lden_db - levels.noise.lden_db
    print(f"\nPorto, Lden open field minus screened (dB): {dict(zip(levels.ids, screening.round(1).tolist()))}")
    assert np.all(screening[YARDS] >= 10.0), screening  # courtyards: 14-20 dB quieter behind their rows
    assert np.all(open_field.lnight_db[YARDS] - levels.noise.lnight_db[YARDS] >= 10.0)


def test_sampled_levels_are_the_runner_facade_map_levels_at_the_points(porto):
    from ldtkit.model.noise import compute_noise
    from ldtkit.study.inputs import city_noise_propagation, noise_buildings, noise_terrain

    city, _, results, _ = porto
    levels = _sample(porto, _points(POINTS.drop(index=INSIDE)), models=("noise",))
    assert levels.air is None and levels.noise is not None
    runner = _runner_facade_levels(porto, levels, results["baseline"])
    np.testing.assert_allclose(levels.noise.lden_db, runner.lden_db, rtol=0, atol=1e-9)
    np.testing.assert_allclose(levels.noise.lnight_db, runner.lnight_db, rtol=0, atol=1e-9)
    # and compute_noise with the city's noise propagation (buildings and terrain from city.toml)
    base, rec, cfg = results["baseline"], levels.noise.receptors, city.config.noise
    prop = city_noise_propagation(city, base.network, rec, buildings=noise_buildings(city), terrain=noise_terrain(city))
    direct = compute_noise(
        base.network, base.traffic, rec, coefficients=cfg.coefficients, surface=cfg.surface, propagation=prop, progress=False
    )
    np.testing.assert_allclose(levels.noise.lden_db, direct.lden_db, rtol=0, atol=1e-9)


def test_a_scenario_is_sampled_as_the_runner_maps_it(porto):
    """The scenario's traffic on the baseline network, the baseline's traffic placing the far-field sources."""
    _, closed, results, _ = porto
    points = _points(POINTS.drop(index=INSIDE))
    levels = _sample(porto, points, scenario=closed, models=("noise",))
    assert levels.scenario == "bridge-closed"
    runner = _runner_facade_levels(porto, levels, results["bridge-closed"], warm_start=results["baseline"])
    np.testing.assert_allclose(levels.noise.lden_db, runner.lden_db, rtol=0, atol=1e-9)
    before = _sample(porto, points, models=("noise",))
    by_the_bridge = list(levels.ids).index("by-the-bridge")
    assert before.noise.lden_db[by_the_bridge] - levels.noise.lden_db[by_the_bridge] > 1.0  # the closed bridge is quieter


def test_a_point_inside_a_building_has_no_noise_level_and_is_named(porto):
    city, _, _, cache = porto
    with pytest.warns(InsideBuildingWarning, match=r"points with ids \['in-a-building'\]: inside a building footprint of porto's"):
        warnings.filterwarnings("ignore", message=".*network cleanup")
        levels = sample_points(city, _points(), cache_dir=cache, where="points.csv")
    assert levels.inside_building.tolist() == [False, False, False, False, True]
    assert np.isnan(levels.noise.lden_db[INSIDE]) and np.isnan(levels.noise.lnight_db[INSIDE])
    assert np.isfinite(np.delete(levels.noise.lden_db, INSIDE)).all()
    assert np.isfinite(levels.air.no2_ugm3).all()  # the air model does not see buildings
    table = levels.to_dataframe()
    assert list(table.columns[-3:]) == ["outside_network_extent", "inside_building", "scenario"]
    # only points inside buildings: no level anywhere, no error
    with pytest.warns(InsideBuildingWarning, match=r"ids \['in-a-building'\]"):
        alone = sample_points(city, _points(POINTS.iloc[[INSIDE]]), cache_dir=cache, models=("noise",))
    assert alone.inside_building.tolist() == [True] and np.isnan(alone.noise.lden_db).all()


def test_athens_blocks_screen_the_points_behind_them_and_a_point_inside_one_has_no_noise_level(athens):
    city, _, results, cache = athens
    with pytest.warns(InsideBuildingWarning, match=r"points with ids \['in-a-block'\]: inside a building footprint of athens's"):
        levels = sample_points(city, _points(ATHENS_POINTS), cache_dir=cache, models=("noise",))
    assert levels.inside_building.tolist() == [False, False, False, True] and not levels.outside_network_extent.any()
    assert np.isnan(levels.noise.lden_db[ATHENS_INSIDE]) and np.isnan(levels.noise.lnight_db[ATHENS_INSIDE])
    assert np.isfinite(levels.noise.lden_db[ATHENS_BEHIND]).all() and levels.noise.meta["propagation"].startswith("screening by")
    screening = _open_field(athens, levels).lden_db - levels.noise.lden_db
    print(f"\nAthens, Lden open field minus screened (dB): {dict(zip(levels.ids, screening.round(1).tolist()))}")
    assert np.all(screening[ATHENS_BEHIND] >= 10.0), screening  # 15-19 dB quieter behind the blocks
    runner = _runner_facade_levels(athens, levels, results["baseline"])
    np.testing.assert_allclose(levels.noise.lden_db, runner.lden_db, rtol=0, atol=1e-9)


def test_cli_sample_in_a_city_with_buildings(porto, tmp_path, monkeypatch, capsys):
    from ldtkit.cli import main

    _, _, _, cache = porto
    monkeypatch.chdir(cache.parent)  # the CLI reads ./.ldtkit-cache, filled by the fixture
    POINTS.to_csv(tmp_path / "points.csv", index=False)
    assert main(["sample", "porto", "--points", str(tmp_path / "points.csv"), "--out", str(tmp_path / "levels.csv")]) == 0
    err = capsys.readouterr().err
    assert f"ldtkit: warning: {tmp_path / 'points.csv'}: no noise level at the points with ids ['in-a-building'] on lines [6]" in err
    out = pd.read_csv(tmp_path / "levels.csv")
    assert list(out.columns) == [
        "id", "lon", "lat", "no2_ugm3", "pm10_ugm3", "pm25_ugm3", "lden_db", "lnight_db", "outside_network_extent", "inside_building",
        "scenario",
    ]  # fmt: skip
    levels = _sample(porto)
    np.testing.assert_array_equal(out["lden_db"].to_numpy(), np.round(levels.noise.lden_db, 1))
    np.testing.assert_array_equal(out["no2_ugm3"].to_numpy(), np.round(levels.air.no2_ugm3, 2))
    assert out["inside_building"].tolist() == [False, False, False, False, True] and out["lden_db"].isna().tolist()[INSIDE]
    assert main(["sample", "porto", "--points", str(tmp_path / "points.csv"), "--out", str(tmp_path / "air.csv"), "--no-noise"]) == 0
    assert "lden_db" not in pd.read_csv(tmp_path / "air.csv").columns and "no noise level" not in capsys.readouterr().err


def test_sample_points_checks_its_arguments(porto):
    from ldtkit.errors import InvalidValueError, MissingFieldError

    city, _, _, cache = porto
    with pytest.raises(InvalidValueError, match=r"models \['air', 'nosie'\]: expected one or more of \['air', 'noise'\]"):
        sample_points(city, _points(), models=("air", "nosie"), cache_dir=cache)
    with pytest.raises(InvalidValueError, match=r"noise_height_m = 0.0: expected a height above ground in metres"):
        sample_points(city, _points(), noise_height_m=0.0, cache_dir=cache)
    with pytest.raises(MissingFieldError, match=r"sample_points: missing required field 'code'"):
        sample_points(city, _points(), id_column="code", cache_dir=cache)
    swapped = gpd.GeoDataFrame({"id": [7]}, geometry=gpd.points_from_xy([41.142], [-8.608]), crs=4326)
    with pytest.raises(InvalidValueError, match=r"sample_points: the points with ids \[7\] lie outside .* did you swap lat and lon"):
        sample_points(city, swapped, cache_dir=cache)
