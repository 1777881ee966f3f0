"""Ghent baseline NO2 against the CurieuzeNeuzen 2018 measurements (part A, 404 points).

Runs the real pipeline: Ghent network -> city demand -> equilibrium assignment for the three
periods -> emissions -> dispersion at the measurement points (2.5 m, facade tubes).
Required: Pearson r >= 0.6 and |mean bias| <= 3 ug/m3, calibrating only global
parameters (the NO2 background, documented in ldtkit.model.air.AirConfig).
"""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from ldtkit.model.air import air_transfer, compute_air, validate_no2
from ldtkit.model.receptors import receptors_from_points
from ldtkit.study.sample import sample_points
from ldtkit.viz.air_validation import plot_validation

try:
    from conftest import SHARED
except ImportError:  # pragma: no cover
    from pathlib import Path

    SHARED = Path(__file__).resolve().parents[1].parent / "shared"

CN_PART_A = SHARED / "data" / "ghent" / "curieuzeneuzen_no2_2018_gent_part_a.csv"


@pytest.fixture(scope="module")
def ghent_run(tmp_path_factory):
    """Ghent baseline traffic through the runner, cached in a temporary folder (reused by the CLI test)."""
    from ldtkit.study.runner import run

    workdir = tmp_path_factory.mktemp("ghent_air")
    results = run("ghent", [], models=("traffic",), cache_dir=workdir / ".ldtkit-cache", progress=False)
    return workdir, results["baseline"]


@pytest.mark.slow
def test_ghent_no2_against_curieuzeneuzen_part_a(ghent_run, tmp_path):
    from ldtkit.study.city import load_city

    if not CN_PART_A.exists():
        pytest.skip(f"{CN_PART_A} not found")
    workdir, res = ghent_run
    cn = pd.read_csv(CN_PART_A)
    assert len(cn) == 404
    pts = gpd.GeoDataFrame(cn, geometry=gpd.points_from_xy(cn["lon"], cn["lat"]), crs=4326)
    t0 = time.perf_counter()  # the notebook's and ldtkit sample's pipeline: the traffic from the cache, air at the points
    amap = sample_points("ghent", pts, models=("air",), id_column="code", air_height_m=2.5, cache_dir=workdir / ".ldtkit-cache").air
    seconds = time.perf_counter() - t0
    # the runner's air model at the same receptors
    rec = receptors_from_points(pts, crs=res.network.crs, height_m=2.5, id_column="code")
    cfg = load_city("ghent").config.air
    direct = compute_air(res.network, res.traffic, rec, transfer=air_transfer(res.network, rec, config=cfg), config=cfg)
    np.testing.assert_allclose(amap.no2_ugm3, direct.no2_ugm3, rtol=0, atol=1e-9)
    stats = validate_no2(amap.no2_ugm3, cn["no2"].to_numpy())
    print(f"\nGhent NO2 vs CurieuzeNeuzen part A: {stats}; sampled in {seconds:.1f} s; CO2 {amap.co2_t_per_day:.0f} t/day")
    assert stats["n"] == 404
    assert stats["pearson_r"] >= 0.6
    assert abs(stats["mean_bias_ugm3"]) <= 3.0
    assert stats["rmse_ugm3"] < 6.0  # measured spread is 5.7 ug/m3 (std)
    # the model resolves the street scale: traffic increments reach > 5 ug/m3 NOx at busy facades
    assert np.percentile(amap.nox_traffic_ugm3, 95) > 5.0
    # a plausible climate indicator for a city of 260 000 (hundreds of tonnes CO2 per day)
    assert 200 < amap.co2_t_per_day < 3000
    ax = plot_validation(amap.no2_ugm3, cn["no2"].to_numpy(), title="Ghent NO2, CurieuzeNeuzen 2018 part A")
    ax.figure.savefig(tmp_path / "ghent_no2_scatter.png")
    assert (tmp_path / "ghent_no2_scatter.png").stat().st_size > 1000


@pytest.mark.slow
@pytest.mark.timed
def test_cli_sample_points(ghent_run, monkeypatch):
    """``ldtkit sample ghent --points --out`` on 12 measurement points, baseline from the runner cache."""
    from ldtkit.cli import main

    if not CN_PART_A.exists():
        pytest.skip(f"{CN_PART_A} not found")
    workdir, _ = ghent_run
    cn = pd.read_csv(CN_PART_A).head(12)
    pts = workdir / "points.csv"
    cn.rename(columns={"code": "id"})[["id", "lon", "lat"]].to_csv(pts, index=False)
    monkeypatch.chdir(workdir)  # the CLI reads ./.ldtkit-cache, filled by the fixture
    t0 = time.perf_counter()
    assert main(["sample", "ghent", "--points", str(pts), "--out", str(workdir / "sampled.csv")]) == 0
    assert time.perf_counter() - t0 < 60
    out = pd.read_csv(workdir / "sampled.csv")
    assert list(out["id"].astype(str)) == list(cn["code"].astype(str))
    for col in ("no2_ugm3", "pm10_ugm3", "pm25_ugm3", "lden_db", "lnight_db"):
        assert col in out.columns
    # the 12 points are CurieuzeNeuzen tubes inside the municipality of Ghent, i.e. in the modelled area
    gent = gpd.read_file(SHARED / "data" / "ghent" / "gent.geojson").to_crs(4326).union_all()
    assert gpd.points_from_xy(cn["lon"], cn["lat"], crs=4326).within(gent).all()
    assert not out["outside_network_extent"].astype(bool).any()
    # every value is modelled (no NaN / -inf), and within plausible urban ranges
    for col in ("no2_ugm3", "pm10_ugm3", "pm25_ugm3", "lden_db", "lnight_db"):
        assert np.isfinite(out[col]).all(), col
    assert out["no2_ugm3"].between(15, 80).all() and (out["pm25_ugm3"] < out["pm10_ugm3"]).all()
    assert out["pm10_ugm3"].between(10, 60).all() and out["pm25_ugm3"].between(5, 40).all()
    assert out["lden_db"].between(35, 85).all() and out["lnight_db"].between(25, 80).all()
    assert (out["lden_db"] - out["lnight_db"]).between(5, 15).all()  # ~9 dB here: night traffic ~1/5 of day
    # a point far outside the city is refused with a clear error
    (workdir / "far.csv").write_text("lon,lat\n4.35,50.85\n")
    assert main(["sample", "ghent", "--points", str(workdir / "far.csv"), "--out", str(workdir / "x.csv")]) == 1
    (workdir / "bad.csv").write_text("x,y\n1,2\n")
    assert main(["sample", "ghent", "--points", str(workdir / "bad.csv"), "--out", str(workdir / "x.csv")]) == 1
    assert main(["sample", "ghent", "--scenario", "no-such", "--points", str(pts), "--out", str(workdir / "x.csv")]) == 1


def test_plot_validation_draws_points_the_one_to_one_line_and_the_statistics(tmp_path):
    measured = np.array([22.0, 29.0, 41.0, np.nan])
    modelled = np.array([20.0, 30.0, 40.0, 35.0])
    ax = plot_validation(modelled, measured, title="four tubes")
    assert ax.get_title() == "four tubes"
    assert ax.get_xlabel() == "measured (ug/m3)" and ax.get_ylabel() == "modelled (ug/m3)"
    stats = validate_no2(modelled, measured)
    text = ax.texts[0].get_text()
    assert f"n = {stats['n']}" in text and f"r = {stats['pearson_r']:.2f}" in text and f"RMSE = {stats['rmse_ugm3']:.1f}" in text
    assert [line.get_label() for line in ax.get_lines()] == ["1:1"]
    ax.figure.savefig(tmp_path / "scatter.png")
    assert (tmp_path / "scatter.png").stat().st_size > 1000
