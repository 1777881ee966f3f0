"""GIS exports: receptor grids as GeoTIFF, points as GeoPackage, QGIS styles for links."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pytest
import rasterio

from ldtkit.errors import EmptyStudyAreaError, MissingFieldError
from ldtkit.viz.export import export_results, qgis_line_style, write_grid_geotiff, write_points_gpkg
from ldtkit.viz.maps.scales import ColorScale

CELL = 10.0
X0, Y0 = 104_000.0, 193_000.0  # Lambert 72, central Ghent


def _grid(nx: int = 40, ny: int = 30) -> gpd.GeoDataFrame:
    """Receptors at cell centres, values a known function of position (west-east and south-north ramps)."""
    cx = X0 + (np.arange(nx) + 0.5) * CELL
    cy = Y0 + (np.arange(ny) + 0.5) * CELL
    gx, gy = np.meshgrid(cx, cy)
    x, y = gx.ravel(), gy.ravel()
    return gpd.GeoDataFrame(
        {
            "lden_db": 45.0 + (x - X0) / 20.0,
            "lnight_db": 35.0 + (y - Y0) / 20.0,
            "no2_ugm3": 18.0 + (x - X0) / 100.0 + (y - Y0) / 50.0,
            "population": np.full(len(x), 2.5),
        },
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:31370",
    )


def test_geotiff_has_the_grid_crs_transform_and_values(tmp_path):
    g = _grid()
    out = write_grid_geotiff(g, ["lden_db", "lnight_db"], tmp_path / "noise.tif")
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 31370
        assert (src.width, src.height, src.count) == (40, 30, 2)
        t = src.transform
        assert (t.a, t.e, t.c, t.f) == (CELL, -CELL, X0, Y0 + 30 * CELL)  # north-west corner, square pixels
        assert [src.descriptions[0], src.descriptions[1]] == ["lden_db", "lnight_db"]
        lden, lnight = src.read(1), src.read(2)
        assert src.dtypes[0] == "float32"
    # every receptor's value is found at the pixel its coordinates fall in
    rows, cols = rasterio.transform.rowcol(t, g.geometry.x.to_numpy(), g.geometry.y.to_numpy())
    np.testing.assert_allclose(lden[rows, cols], g["lden_db"], rtol=1e-6)
    np.testing.assert_allclose(lnight[rows, cols], g["lnight_db"], rtol=1e-6)
    assert lden[0, 0] < lden[0, -1] and lnight[0, 0] > lnight[-1, 0]  # east louder; north row first


def test_pixels_without_a_receptor_are_nodata(tmp_path):
    g = _grid()
    holed = g[~((g.geometry.x < X0 + 50) & (g.geometry.y < Y0 + 50))]  # no receptors in the south-west corner
    out = write_grid_geotiff(holed, ["no2_ugm3"], tmp_path / "no2.tif", cell_m=CELL)
    with rasterio.open(out) as src:
        a = src.read(1)
        assert np.isnan(src.nodata)
        assert np.isnan(a[-1, 0]) and np.isfinite(a[0, 0])
        assert np.count_nonzero(np.isnan(a)) == 25


def test_bad_grid_input_names_what_is_wrong(tmp_path):
    with pytest.raises(MissingFieldError, match="lden"):
        write_grid_geotiff(_grid(), ["lden"], tmp_path / "x.tif")
    with pytest.raises(EmptyStudyAreaError, match="x.tif"):
        write_grid_geotiff(_grid().iloc[:0], ["lden_db"], tmp_path / "x.tif")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_points_round_trip_through_geopackage(tmp_path):
    g = _grid(4, 3)
    out = write_points_gpkg({"noise_baseline": g}, tmp_path / "points.gpkg")
    back = gpd.read_file(out, layer="noise_baseline")
    assert back.crs.to_epsg() == 31370 and len(back) == 12
    np.testing.assert_allclose(back["lden_db"], g["lden_db"])


def test_qgis_style_classes_cover_the_data_symmetrically():
    d = np.array([-720.0, -5.0, 0.0, 3.0, 140.0])
    qml = qgis_line_style("flow_diff_vph_closed", ColorScale.diverging(d), classes=6)
    root = ET.fromstring(qml.split("\n", 1)[1])
    renderer = root.find("renderer-v2")
    assert renderer is not None and renderer.get("attr") == "flow_diff_vph_closed"
    ranges = renderer.findall("ranges/range")
    assert len(ranges) == 6 and len(renderer.findall("symbols/symbol")) == 6
    lows = [float(r.get("lower")) for r in ranges]
    highs = [float(r.get("upper")) for r in ranges]
    assert lows[0] <= d.min() and highs[-1] >= d.max()  # every value has a class
    assert lows[1:] == highs[:-1]  # contiguous
    np.testing.assert_allclose(highs[2], 0.0, atol=1e-9)  # zero splits the classes in the middle
    assert float(ranges[1].get("lower")) == pytest.approx(-480.0)  # ±720 in 6 classes of 240
    colours = [s.find("layer/Option/Option[@name='line_color']").get("value") for s in renderer.findall("symbols/symbol")]
    assert len(set(colours)) == 6


def test_export_results_writes_grids_points_and_styles(tmp_path):
    g = _grid(8, 6)
    noise = SimpleNamespace(to_geodataframe=lambda: g)
    air = SimpleNamespace(to_geodataframe=lambda: g[["no2_ugm3", "population", "geometry"]])
    traffic = lambda v: {"day": SimpleNamespace(total_vph=np.asarray(v, float))}
    results = {
        "baseline": SimpleNamespace(noise=noise, air=air, traffic=traffic([100.0, 720.0, 50.0])),
        "closed": SimpleNamespace(noise=noise, air=None, traffic=traffic([160.0, 0.0, 80.0])),
    }
    written = export_results(results, tmp_path)
    names = sorted(p.name for p in written)
    assert names == sorted(
        ["noise_baseline.tif", "no2_baseline.tif", "noise_closed.tif", "points.gpkg", "flow_vph_baseline.qml", "flow_diff_vph_closed.qml"]
    )
    assert gpd.list_layers(tmp_path / "points.gpkg")["name"].tolist() == ["noise_baseline", "air_baseline", "noise_closed"]
    qml = (tmp_path / "flow_diff_vph_closed.qml").read_text()
    assert 'attr="flow_diff_vph_closed"' in qml and "-720" in qml  # scaled to the largest change


def test_run_with_grids_writes_geotiffs_points_and_styles_for_every_result(tmp_path, capsys):
    """``ldtkit run --grids``: the grids of the baseline and the scenario, in the city's CRS, hold
    the receptor levels that ``points.gpkg`` holds."""
    from pathlib import Path

    from ldtkit.cli import main
    from ldtkit.study.city import load_city

    scenario = sorted((Path(__file__).resolve().parents[1] / "data" / "athens" / "scenarios").glob("*.toml"))[0]
    code = main(["run", "athens", "--scenario", str(scenario), "--grids", "--out", str(tmp_path)])
    assert code == 0
    grids = tmp_path / "athens" / "grids"
    names = sorted(p.name for p in grids.iterdir())
    scen = [n[len("noise_") : -len(".tif")] for n in names if n.startswith("noise_") and n != "noise_baseline.tif"]
    assert len(scen) == 1
    (s,) = scen
    assert names == sorted(
        [
            "noise_baseline.tif",
            f"noise_{s}.tif",
            "no2_baseline.tif",
            f"no2_{s}.tif",
            "points.gpkg",
            "points.gpkg.json",
            "flow_vph_baseline.qml",
            f"flow_diff_vph_{s}.qml",
        ]
    )
    assert str(grids) in capsys.readouterr().out
    crs = load_city("athens").config.crs
    for name in ("baseline", s):
        with rasterio.open(grids / f"noise_{name}.tif") as src:
            assert src.count == 2 and src.crs == rasterio.crs.CRS.from_user_input(crs)
            lden = src.read(1, masked=True)
        points = gpd.read_file(grids / "points.gpkg", layer=f"noise_{name}")
        assert points.crs == src.crs
        np.testing.assert_allclose(float(lden.max()), points["lden_db"].max(), rtol=1e-6)
        np.testing.assert_allclose(float(lden.min()), points["lden_db"].min(), rtol=1e-6)
