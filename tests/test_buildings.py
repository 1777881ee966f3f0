"""Buildings as an input: heights from OSM tags, footprint files with a column mapping, city blocks, checks."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from ldtkit.errors import InvalidValueError, MissingFieldError
from ldtkit.model.buildings import (
    ATHENS_BLOCK_HEIGHT_M,
    HEIGHT_BY_TYPE_M,
    Buildings,
    buildings_from_blocks,
    buildings_from_file,
    buildings_from_osm,
    parse_height_m,
)

ROOT = Path(__file__).resolve().parents[1]


def _osm(tmp_path: Path, buildings: list[dict[str, str]]) -> Path:
    """A small .osm file: one 20 m square building way per tag set, 40 m apart, near Porto."""
    nodes, ways = [], []
    nid = 1
    for k, tags in enumerate(buildings):
        lon0, lat0 = -8.61 + k * 0.0005, 41.15
        d = 0.00018  # about 15-20 m
        refs = []
        for lon, lat in ((lon0, lat0), (lon0 + d, lat0), (lon0 + d, lat0 + d), (lon0, lat0 + d)):
            nodes.append(f'<node id="{nid}" version="1" lat="{lat}" lon="{lon}"/>')
            refs.append(nid)
            nid += 1
        nds = "".join(f'<nd ref="{r}"/>' for r in [*refs, refs[0]])
        tg = "".join(f'<tag k="{a}" v="{b}"/>' for a, b in tags.items())
        ways.append(f'<way id="{k + 1}" version="1">{nds}{tg}</way>')
    path = tmp_path / "b.osm"
    path.write_text('<?xml version="1.0"?><osm version="0.6">' + "".join(nodes) + "".join(ways) + "</osm>")
    return path


def test_osm_heights_from_height_levels_and_type(tmp_path):
    path = _osm(
        tmp_path,
        [
            {"building": "apartments", "height": "12.5 m"},
            {"building": "residential", "building:levels": "4"},
            {"building": "house"},
            {"building": "yes"},
        ],
    )
    b = buildings_from_osm(path)
    assert b.ids == ("w1", "w2", "w3", "w4")
    np.testing.assert_allclose(b.height_m, [12.5, 12.0, HEIGHT_BY_TYPE_M["house"], HEIGHT_BY_TYPE_M["yes"]])
    assert b.height_source == ("height", "levels", "type:house", "type:yes")
    assert b.crs == "EPSG:32629"  # UTM 29N for Porto
    # footprints in metres: about 15 m x 20 m, and a point in the middle of the first is inside
    assert np.all((b.footprint_area_m2 > 200) & (b.footprint_area_m2 < 500))
    c = shapely.centroid(b.polygons[0])
    assert b.inside(np.array([c.x, c.x + 1000]), np.array([c.y, c.y])).tolist() == [True, False]
    assert len(b.near(c, 50.0)) == 2  # itself and its neighbour 40 m away


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (
            {"building": "bunker"},
            r"b\.osm: building w1, field height: no height, no building:levels and no default height for building='bunker'",
        ),
        ({"building": "yes", "height": "450"}, r"b\.osm: building w1, field height: 450\.0 m is above 300\.0 m"),
        ({"building": "yes", "height": "0"}, r"b\.osm: building w1, field height: 0\.0 m; expected > 0 m"),
        ({"building": "yes", "height": "tall"}, r"b\.osm: building w1, field height: 'tall' is not a height in m"),
        ({"building": "yes", "building:levels": "many"}, r"building w1, field building:levels: 'many' is not a number"),
    ],
)
def test_osm_bad_heights_name_file_feature_and_field(tmp_path, tags, message):
    with pytest.raises(InvalidValueError, match=message):
        buildings_from_osm(_osm(tmp_path, [tags]))


def test_unknown_type_takes_the_fallback_when_given(tmp_path):
    b = buildings_from_osm(_osm(tmp_path, [{"building": "bunker"}]), fallback_height_m=4.0)
    assert b.height_m.tolist() == [4.0] and b.height_source == ("assumed",)


def test_footprint_file_with_column_mapping(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"OIDN": [10, 11, 12], "HOOGTE": [8.0, None, None], "NIV": [None, 2, None]},
        geometry=[shapely.box(0, 0, 10, 10), shapely.box(20, 0, 30, 10), shapely.box(40, 0, 50, 10)],
        crs="EPSG:31370",
    )
    path = tmp_path / "gbg.gpkg"
    gdf.to_file(path)
    with pytest.raises(InvalidValueError, match=r"gbg\.gpkg: building 12, field HOOGTE/NIV: no height"):
        buildings_from_file(path, columns={"id": "OIDN", "height": "HOOGTE", "levels": "NIV"})
    b = buildings_from_file(path, columns={"id": "OIDN", "height": "HOOGTE", "levels": "NIV"}, default_height_m=7.0)
    assert b.ids == ("10", "11", "12") and b.height_m.tolist() == [8.0, 6.0, 7.0]
    assert b.height_source == ("height", "levels", "assumed") and b.crs == "EPSG:31370"
    with pytest.raises(MissingFieldError, match=r"gbg\.gpkg: missing required field 'HOOGT'.*did you mean HOOGTE"):
        buildings_from_file(path, columns={"id": "OIDN", "height": "HOOGT"})


def test_invalid_polygon_is_reported(tmp_path):
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)])
    gdf = gpd.GeoDataFrame({"id": ["a", "b"], "h": [9.0, 9.0]}, geometry=[shapely.box(20, 0, 30, 10), bowtie], crs="EPSG:3763")
    path = tmp_path / "fp.geojson"
    gdf.to_file(path, driver="GeoJSON")
    with pytest.raises(InvalidValueError, match=r"fp\.geojson: building b, field geometry: invalid polygon \(Self-intersection"):
        buildings_from_file(path, columns={"id": "id", "height": "h"})


def test_from_arrays_checks_absorption_and_lengths():
    with pytest.raises(InvalidValueError, match="building x, field alpha"):
        Buildings.from_arrays(["x"], [shapely.box(0, 0, 1, 1)], [5.0], crs=None, alpha=np.full(8, 1.2))
    with pytest.raises(InvalidValueError, match="differ in length"):
        Buildings.from_arrays(["x", "y"], [shapely.box(0, 0, 1, 1)], [5.0, 6.0], crs=None)


def test_parse_height():
    assert parse_height_m("12") == 12.0 and parse_height_m("7,5m") == 7.5 and parse_height_m("100 ft") == 30.48
    assert np.isnan(parse_height_m("~10"))


def test_athens_blocks_at_the_assumed_height():
    shp = ROOT / "data" / "athens" / "network" / "extra" / "Athina_OT_4501000001.shp"
    if not shp.exists():
        pytest.skip("Athens blocks not shipped here")
    b = buildings_from_blocks(shp, id_column="ESYECODE")
    assert len(b) == 6816 and b.crs == "EPSG:2100"
    assert np.all(b.height_m == ATHENS_BLOCK_HEIGHT_M) and set(b.height_source) == {"assumed"}


def test_cities_screen_noise_with_their_buildings_by_default(tmp_path):
    import dataclasses

    from ldtkit.errors import ConfigError
    from ldtkit.study.city import load_city
    from ldtkit.study.inputs import noise_buildings

    athens = load_city("athens")
    assert athens.config.noise.buildings == "blocks"
    b = noise_buildings(athens)
    assert b is not None and len(b) == 6816 and b.crs == athens.config.crs
    assert np.all(b.height_m == athens.config.noise.block_height_m) and b.ids[0] == "row 0"
    # auto: block zoning gives the blocks, a segment network without blocks gives open field
    auto = dataclasses.replace(athens.config, noise=dataclasses.replace(athens.config.noise, buildings="auto", block_height_m=12.0))
    b_auto = noise_buildings(dataclasses.replace(athens, config=auto))
    assert b_auto is not None and np.all(b_auto.height_m == 12.0)
    ghent = load_city("ghent")
    assert ghent.config.noise.buildings == "auto" and noise_buildings(ghent) is None
    wrong = dataclasses.replace(ghent.config, noise=dataclasses.replace(ghent.config.noise, buildings="osm"))
    with pytest.raises(ConfigError, match=r"\[noise\] buildings = 'osm' needs an OpenStreetMap network"):
        noise_buildings(dataclasses.replace(ghent, config=wrong))


def test_buildings_round_trip_through_a_cache_entry(tmp_path):
    from ldtkit.study.result_store import read_entry, write_entry

    polys = [shapely.box(0, 0, 10, 10), shapely.Polygon([(20, 0), (40, 0), (40, 20)], holes=[[(35, 2), (38, 2), (38, 5)]])]
    b = Buildings.from_arrays(["a", "b"], polys, [6.0, 12.0], crs="EPSG:32629", kinds=["house", "yes"])
    back = read_entry(write_entry(tmp_path / "entry", {"buildings": b}))["buildings"]
    assert back.ids == b.ids and back.kinds == b.kinds and back.crs == b.crs
    assert all(shapely.equals_exact(p, q, tolerance=0.0) for p, q in zip(back.polygons, b.polygons, strict=True))
    np.testing.assert_array_equal(back.height_m, b.height_m)
    assert back.inside(np.array([5.0, 37.0, 30.0]), np.array([5.0, 3.0, 5.0])).tolist() == [True, False, True]
