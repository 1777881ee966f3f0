"""Maps: colour scales, split-map panes, grid images, pydeck view, static figures, dashboard helpers.

Synthetic but geographically real inputs: links and a receptor grid in Belgian Lambert 72
(EPSG:31370) over central Ghent, so reprojection to Web Mercator is exercised.
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from shapely.geometry import LineString

from ldtkit.errors import InvalidValueError, MissingFieldError
from ldtkit.model.limits import MAP_LDEN_BANDS_DB, NO2_LIMIT_UGM3
from ldtkit.model.receptors import receptors_grid
from ldtkit.viz import dashboard, maps

# Ghent Korenmarkt in Lambert 72 (EPSG:31370), metres
X0, Y0 = 104_500.0, 194_000.0


@pytest.fixture(scope="module")
def links() -> gpd.GeoDataFrame:
    """A 5 × 5 street grid (200 m blocks), both directions per street, flows rising eastwards."""
    rows = []
    lid = 0
    for i in range(5):
        for j in range(4):
            for a, b, sid in (
                ((X0 + j * 200, Y0 + i * 200), (X0 + (j + 1) * 200, Y0 + i * 200), f"h{i}{j}"),
                ((X0 + i * 200, Y0 + j * 200), (X0 + i * 200, Y0 + (j + 1) * 200), f"v{i}{j}"),
            ):
                for rev in (False, True):
                    geom = LineString([b, a] if rev else [a, b])
                    flow = 100.0 * (1 + j) + (50.0 if rev else 0.0) + 10 * i
                    rows.append(
                        {"link_id": lid, "source_id": sid, "reversed": rev, "car_allowed": True, "flow_vph": flow, "geometry": geom}
                    )
                    lid += 1
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:31370")


@pytest.fixture(scope="module")
def grid() -> gpd.GeoDataFrame:
    """A 10 m receptor grid 800 × 600 m with Lden falling off westwards and NO2 rising northwards."""
    r = receptors_grid((X0, Y0, X0 + 800, Y0 + 600), crs="EPSG:31370", cell_m=10.0)
    lden = 50.0 + 25.0 * (r.x - X0) / 800.0
    no2 = 20.0 + 30.0 * (r.y - Y0) / 600.0
    return r.to_geodataframe(lden_db=lden, no2_ugm3=no2)


# ----------------------------------------------------------------------------- the package
@pytest.mark.parametrize(
    "name, module",
    [
        ("ColorScale", "scales"),
        ("lden_scale", "scales"),
        ("no2_scale", "scales"),
        ("change_scale", "scales"),
        ("CompareMap", "leaflet"),
        ("BASEMAPS", "leaflet"),
        ("deck_flows", "deck"),
        ("deck_to_html", "deck"),
        ("plot_links", "static"),
        ("plot_compare", "static"),
        ("figure_to_png", "static"),
        ("links_geojson", "geojson"),
        ("grid_image", "raster"),
        ("rasterise_points", "raster"),
        ("aggregate_directions", "inputs"),
    ],
)
def test_every_name_is_reexported_from_its_backend_module(name, module):
    assert getattr(maps, name) is getattr(importlib.import_module(f"ldtkit.viz.maps.{module}"), name)
    assert name in maps.__all__


def test_limits_have_one_home():
    assert maps.MAP_LDEN_BANDS_DB is MAP_LDEN_BANDS_DB and maps.NO2_LIMIT_UGM3 is NO2_LIMIT_UGM3
    assert not hasattr(maps, "LDEN_BANDS_DB")  # the END reporting bands live in ldtkit.model.limits only


def test_importing_maps_loads_no_backend():
    code = "import sys; from ldtkit.viz import maps; print(sorted(m for m in ('matplotlib', 'ipyleaflet', 'pydeck', 'geopandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- colour scales
def test_colorscale_endpoints_match_the_colormap():
    s = maps.ColorScale(10.0, 20.0, cmap="viridis")
    cm = matplotlib.colormaps["viridis"]
    rgba = s.rgba([10.0, 15.0, 20.0, 99.0, np.nan])
    np.testing.assert_allclose(rgba[0], cm(0.0))
    np.testing.assert_allclose(rgba[1], cm(0.5))
    np.testing.assert_allclose(rgba[2], cm(1.0))
    np.testing.assert_allclose(rgba[3], cm(1.0))  # clipped
    assert rgba[4, 3] == 0.0  # NaN transparent


def test_shared_scale_covers_both_sides_and_diverging_is_symmetric():
    a, b = np.array([0.0, 100.0, 200.0]), np.array([50.0, 400.0])
    s = maps.ColorScale.shared(a, b, quantiles=(0.0, 1.0), vmin=0.0)
    assert (s.vmin, s.vmax) == (0.0, 400.0)
    d = maps.ColorScale.diverging(np.array([-30.0, 10.0]), np.array([5.0]), quantile=1.0)
    assert (d.vmin, d.vmax) == (-30.0, 30.0) and d.is_diverging
    # zero sits on the colormap's midpoint (white-ish for RdBu_r)
    np.testing.assert_allclose(d.rgba([0.0])[0], matplotlib.colormaps["RdBu_r"](0.5))


def test_flow_change_scale_shows_the_detours_not_only_the_closed_road():
    # a bridge closure: most roads unchanged, detours of 100-800 veh/h, the bridge itself -2,986 veh/h
    rng = np.random.default_rng(3)
    detours = rng.uniform(100.0, 800.0, 400) * rng.choice([-1.0, 1.0], 400)
    change = np.r_[np.zeros(4000), rng.uniform(-20.0, 20.0, 400), detours, -2986.0]
    s = maps.change_scale("flow", change)
    typical = float(np.median(np.abs(detours)))
    # a typical detour is clearly coloured (a scale to ±2,986 left it within 0.08 of white)...
    assert abs(float(s.norm()(typical)) - 0.5) > 0.2
    # ... and the closed bridge takes the darkest blue, its value beyond the legend's end
    rdbu = matplotlib.colormaps[s.cmap]
    np.testing.assert_allclose(s.rgba([-2986.0])[0], rdbu(0.0))
    assert s.extends and s.vmax < 2986.0
    legend = s.to_html()
    assert f"≤ {maps.format_number(s.vmin)}" in legend and f"≥ +{maps.format_number(s.vmax)}" in legend
    assert ">less traffic<" in legend and ">more traffic<" in legend
    # noise and NO2 changes: what each end means, in words
    assert maps.change_scale("lden", change / 500.0).ends == ("quieter", "louder")
    assert maps.change_scale("no2", change / 1000.0).ends == ("less NO₂", "more NO₂")
    # the report's colour bar says it too: open ends, the words at the bottom (less) and the top (more)
    g = gpd.GeoDataFrame({"d": change[-3:]}, geometry=[LineString([(i, 0), (i + 1, 0)]) for i in range(3)], crs="EPSG:31370")
    ax = maps.plot_difference(g, "d", scale=s)
    bar = ax.figure.axes[-1]
    assert (bar.get_xlabel(), bar.get_title()) == ("less traffic", "more traffic")
    plt.close(ax.figure)


def test_lden_bands_give_one_colour_per_5db_band():
    s = maps.lden_scale()
    assert s.bounds == MAP_LDEN_BANDS_DB  # the map classes of ldtkit.model.limits
    assert s.band_labels() == ["< 45", "45–50", "50–55", "55–60", "60–65", "65–70", "70–75", "≥ 75"]
    c = s.hex([55.1, 59.9, 60.1, 80.0, 90.0, 30.0, 40.0])
    assert c[0] == c[1] != c[2]  # same band, then next band
    assert c[3] == c[4] and c[5] == c[6]  # open-ended extremes
    assert len(set(s.hex(s.band_values()))) == len(s.band_labels())  # 8 distinct swatches
    html = s.to_html()
    assert html.count("<span style='width:18px") == 8 and "70–75" in html


def test_no2_scale_reaches_at_least_the_eu_limit():
    assert maps.no2_scale(np.array([10.0, 20.0])).vmax == NO2_LIMIT_UGM3
    assert maps.no2_scale(np.array([10.0, 60.0])).vmax > 50.0


def test_no2_scale_starts_at_the_background_not_at_zero():
    urban = np.linspace(26.0, 45.0, 1000)  # Ghent-like: background 26, roads up to 45
    s = maps.no2_scale(urban)
    assert s.vmin == 25.0 and s.vmin <= urban.min() and s.vmax >= 44.0
    assert maps.no2_scale(np.array([2.0, 8.0])).vmin == 0.0
    assert maps.no2_scale(np.array([60.0, 80.0])).vmin == NO2_LIMIT_UGM3 - 10.0  # the limit stays on the scale


# ----------------------------------------------------------------------------- geometry helpers
def test_aggregate_directions_sums_both_directions(links):
    agg = maps.aggregate_directions(links, ["flow_vph"])
    assert len(agg) == len(links) // 2
    assert agg["flow_vph"].sum() == pytest.approx(links["flow_vph"].sum())
    h00 = links[links["source_id"] == "h00"]["flow_vph"].sum()
    assert agg.set_index("source_id").loc["h00", "flow_vph"] == pytest.approx(h00)
    with pytest.raises(MissingFieldError, match="flow"):
        maps.aggregate_directions(links, ["flow"])


def test_links_geojson_is_wgs84_with_value_driven_styles(links):
    scale = maps.ColorScale.shared(links["flow_vph"], quantiles=(0, 1), vmin=0.0)
    fc = maps.links_geojson(links, "flow_vph", scale, width_px=(1.0, 6.0))
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == len(links)
    coords = np.array([c for f in fc["features"] for c in f["geometry"]["coordinates"]])
    # Ghent centre: lon 3.72, lat 51.05
    assert coords[:, 0].min() > 3.70 and coords[:, 0].max() < 3.75
    assert coords[:, 1].min() > 51.03 and coords[:, 1].max() < 51.07
    flows = np.array([f["properties"]["flow_vph"] for f in fc["features"]])
    weights = np.array([f["properties"]["style"]["weight"] for f in fc["features"]])
    assert np.all(np.diff(weights[np.argsort(flows)]) >= 0)  # weight grows with flow
    top = fc["features"][int(np.argmax(flows))]["properties"]["style"]
    assert top["color"] == scale.hex([flows.max()])[0] and top["weight"] == pytest.approx(1.0 + 5.0 * flows.max() / scale.vmax, abs=0.01)
    # filter small values out
    fc2 = maps.links_geojson(links, "flow_vph", scale, min_abs_value=300.0)
    assert len(fc2["features"]) == int((links["flow_vph"] >= 300.0).sum())


def test_rasterise_points_inverts_a_receptor_grid(grid):
    arr, (minx, miny, maxx, maxy) = maps.rasterise_points(grid.geometry.x, grid.geometry.y, grid["lden_db"].to_numpy(), cell=10.0)
    assert arr.shape == (60, 80)
    assert (minx, miny, maxx, maxy) == pytest.approx((X0, Y0, X0 + 800, Y0 + 600))
    # receptors_grid is row-major from the south-west; rasters start at the north edge
    np.testing.assert_allclose(arr, np.flipud(grid["lden_db"].to_numpy().reshape(60, 80)))


def test_grid_image_lines_up_with_the_grid_in_wgs84(grid):
    scale = maps.ColorScale(50.0, 75.0, cmap="viridis")
    url, bounds = maps.grid_image(grid, "lden_db", scale, opacity=0.8)
    assert url.startswith("data:image/png;base64,")
    img = plt.imread(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    corners = grid.to_crs(4326).total_bounds  # cell centres
    (s, w), (n, e) = bounds
    # the image extends half a cell (~5 m ≈ 7e-5° lon, 4.5e-5° lat) beyond the cell centres
    assert w < corners[0] < w + 1.5e-4 and e - 1.5e-4 < corners[2] < e
    assert s < corners[1] < s + 1.0e-4 and n - 1.0e-4 < corners[3] < n
    h, wpx = img.shape[:2]
    assert 0.8 * 80 < wpx < 1.3 * 80 and 0.8 * 60 < h < 1.3 * 60  # about one pixel per 10 m cell
    mid = h // 2
    np.testing.assert_allclose(img[mid, 0, :3], scale.rgba([50.0 + 25.0 * 5 / 800])[0, :3], atol=0.03)  # west: quiet
    np.testing.assert_allclose(img[mid, -1, :3], scale.rgba([75.0 - 25.0 * 5 / 800])[0, :3], atol=0.03)  # east: loud
    np.testing.assert_allclose(img[mid, wpx // 2, 3], 0.8, atol=0.01)


# ----------------------------------------------------------------------------- split map
def test_compare_map_puts_each_side_in_its_own_pane(links, grid):
    import ipyleaflet

    scale = maps.ColorScale.shared(links["flow_vph"], vmin=0.0)
    m = maps.CompareMap("Baseline", "Closed", center=(51.05, 3.72), zoom=15, basemap=None)
    assert not [l for l in m.map.layers if isinstance(l, ipyleaflet.TileLayer)]  # offline: no tiles
    left = m.add_links(links, "flow_vph", side="left", scale=scale)
    right = m.add_links(links.assign(flow_vph=links["flow_vph"] * 2), "flow_vph", side="right", scale=scale)
    g = m.add_grid(grid, "lden_db", side="right", scale=maps.lden_scale())
    d = m.add_difference(links.assign(d=np.linspace(-100, 50, len(links))), "d", side="right")
    for layer, side in ((left, "left"), (right, "right"), (g, "right"), (d, "right")):
        assert layer.pane == side and "pane" in layer.options
    w = m.widget
    split = [c for c in w.controls if isinstance(c, ipyleaflet.SplitMapControl)]
    assert len(split) == 1 and split[0].left_layer == [left] and split[0].right_layer == [right, g, d]
    # same scale → same colour for the same value on both sides
    lc = {f["properties"]["flow_vph"]: f["properties"]["style"]["color"] for f in left.data["features"]}
    rc = {f["properties"]["flow_vph"]: f["properties"]["style"]["color"] for f in right.data["features"]}
    common = set(lc) & set(rc)
    assert common and all(lc[v] == rc[v] for v in common)
    # legend
    ctl = m.add_legend(scale, key="flow")
    assert isinstance(ctl, ipyleaflet.WidgetControl) and "linear-gradient" in ctl.widget.value
    # adding after display rebuilds the split control with the new layer
    old = split[0]
    extra = m.add_links(links, "flow_vph", side="left", scale=scale)
    split = [c for c in w.controls if isinstance(c, ipyleaflet.SplitMapControl)]
    assert len(split) == 1 and split[0].left_layer == [left, extra]
    assert old.comm is None and split[0].comm is not None  # the replaced control is closed: a page never gets it


def test_compare_map_add_layer_and_set_title():
    import ipyleaflet

    m = maps.CompareMap("Baseline", "", center=(51.05, 3.72), basemap=None)
    marker = m.add_layer(ipyleaflet.Marker(location=(51.05, 3.72), name="bridge"), side="right")
    assert marker.pane == "right" and m.layers == {"left": [], "right": [marker]}
    with pytest.raises(InvalidValueError, match="side"):
        m.add_layer(ipyleaflet.Marker(location=(51.05, 3.72)), side="top")

    def captions():
        return [c.widget.value for c in m.map.controls if isinstance(c, ipyleaflet.WidgetControl)]

    assert len(captions()) == 1  # no caption for an empty title
    m.set_title("right", "Closed <both>")
    m.set_title("left", "Today")
    assert m.titles == ("Today", "Closed <both>")
    assert len(captions()) == 2 and any("Closed &lt;both&gt;" in c for c in captions()) and any("Today" in c for c in captions())


def test_compare_map_basemaps():
    import ipyleaflet

    m = maps.CompareMap(center=(51.05, 3.72), basemap="osm")
    tiles = [l for l in m.map.layers if isinstance(l, ipyleaflet.TileLayer)]
    assert len(tiles) == 1 and "openstreetmap" in tiles[0].url
    local = maps.CompareMap(center=(51.05, 3.72), basemap="/voila/files/tiles/{z}/{x}/{y}.png")
    assert [l.url for l in local.map.layers] == ["/voila/files/tiles/{z}/{x}/{y}.png"]
    with pytest.raises(InvalidValueError, match="basemap"):
        maps.CompareMap(center=(51.05, 3.72), basemap="google")
    with pytest.raises(InvalidValueError, match="side"):
        m.add_links(
            gpd.GeoDataFrame({"v": [1.0]}, geometry=[LineString([(0, 0), (1, 1)])], crs=4326),
            "v",
            side="middle",
            scale=maps.ColorScale(0, 1),
        )


# ----------------------------------------------------------------------------- pydeck
def test_deck_flows_extrudes_links_in_proportion_to_flow(links):
    deck = maps.deck_flows(links, "flow_vph", max_height_m=500.0)
    spec = json.loads(deck.to_json())
    (layer,) = spec["layers"]
    assert layer["@@type"] == "PolygonLayer" and layer["extruded"] is True
    rows = layer["data"]
    assert len(rows) == len(links)
    h = np.array([r["height"] for r in rows])
    v = np.array([r["value"] for r in rows])
    np.testing.assert_allclose(h, v * 500.0 / v.max(), rtol=1e-3, atol=0.1)
    ring = np.array(rows[0]["polygon"])
    assert ring.shape[1] == 2 and 3.70 < ring[:, 0].mean() < 3.75 and 51.03 < ring[:, 1].mean() < 51.07
    assert deck.map_provider is None  # no basemap service or token needed


def test_deck_to_html_offline_inlines_the_bundle(links, tmp_path):
    deck = maps.deck_flows(links, "flow_vph")
    online = maps.deck_to_html(deck)
    offline = maps.deck_to_html(deck, tmp_path / "deck.html", offline=True)
    assert "cdn.jsdelivr.net/npm/@deck.gl/jupyter-widget" in online
    assert "<script src='https://cdn.jsdelivr.net/npm/@deck.gl/jupyter-widget" not in offline
    assert len(offline) > len(online) + 1_000_000  # the ~4 MB bundle is inline
    assert (tmp_path / "deck.html").read_text() == offline


# ----------------------------------------------------------------------------- static figures
def test_static_figures_use_the_shared_scale(links, grid):
    base = maps.aggregate_directions(links, ["flow_vph"])
    scen = base.assign(flow_vph=base["flow_vph"] * 1.5)
    scale = maps.ColorScale.shared(base["flow_vph"], scen["flow_vph"], quantiles=(0, 1), vmin=0.0)
    fig = maps.plot_compare(base, scen, "flow_vph", scale=scale, titles=("Baseline", "Closed"))
    ax_l, ax_r = fig.axes[:2]
    assert [ax_l.get_title(), ax_r.get_title()] == ["Baseline", "Closed"]
    cbar = fig.axes[2]
    assert cbar.get_ylabel() == scale.label or cbar.get_xlabel() == scale.label
    (lc,) = ax_r.collections
    top = np.argmax(scen["flow_vph"].to_numpy())
    colours = lc.get_colors()
    # the drawn colours of the scenario are the scale's colours (sorted: biggest last)
    np.testing.assert_allclose(colours[-1], scale.rgba([scen["flow_vph"].iloc[top]])[0], atol=1e-6)
    png = maps.figure_to_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    plt.close(fig)

    ax = maps.plot_grid(grid, "lden_db", scale=maps.lden_scale(), links=base, title="Lden")
    (im,) = ax.images
    assert im.get_array().shape == (60, 80) and ax.get_title() == "Lden"
    plt.close(ax.figure)

    diff = dashboard.flow_difference(base, scen)
    ax = maps.plot_difference(diff, "d_flow_vph")
    assert ax.collections and np.all(diff["d_flow_vph"] > 0)
    plt.close(ax.figure)


def test_grid_difference_same_receptors_only():
    import geopandas as gpd

    pts = gpd.points_from_xy([0.0, 10.0, 20.0], [0.0, 0.0, 0.0])
    base = gpd.GeoDataFrame({"lden_db": [60.0, -np.inf, 55.0]}, geometry=pts, crs="EPSG:31370")
    scen = gpd.GeoDataFrame({"lden_db": [57.0, 48.0, np.nan]}, geometry=pts, crs="EPSG:31370")
    d = dashboard.grid_difference(base, scen, "lden_db")["d_lden_db"].to_numpy()
    assert d[0] == pytest.approx(-3.0) and np.isnan(d[1]) and np.isnan(d[2])  # no difference against silence or NaN
    moved = scen.set_geometry(gpd.points_from_xy([0.0, 10.0, 25.0], [0.0, 0.0, 0.0]), crs="EPSG:31370")
    with pytest.raises(InvalidValueError, match="same receptors"):
        dashboard.grid_difference(base, moved, "lden_db")
    with pytest.raises(InvalidValueError, match="same receptors"):
        dashboard.grid_difference(base, scen.iloc[:2], "lden_db")


# ----------------------------------------------------------------------------- offline context
def test_ghent_ships_small_offline_context_layers():
    from ldtkit.viz.maps.context import context_layers

    folder = Path(__file__).resolve().parents[1] / "data" / "ghent" / "context"
    layers = context_layers(folder)
    assert list(layers) == ["parks", "waterways", "boundary"]  # parks under water under the boundary
    assert all(g.crs.to_epsg() == 4326 and len(g) for g in layers.values())
    assert sum(p.stat().st_size for p in folder.glob("*.geojson")) < 400_000  # small enough for the repository
    # the Leie/Schelde and the Coupure reach the centre; the boundary encloses the bridge
    assert layers["waterways"].cx[3.70:3.74, 51.04:51.06].shape[0] > 5
    minx, miny, maxx, maxy = layers["boundary"].total_bounds
    assert minx < 3.733 < maxx and miny < 51.045 < maxy  # Rooigemlaan bridge


def test_context_layers_name_an_unreadable_file(tmp_path):
    from ldtkit.errors import UnreadableFormatError
    from ldtkit.viz.maps.context import context_layers

    assert context_layers(tmp_path / "none") == {}
    (tmp_path / "parks.geojson").write_text("{not json")
    with pytest.raises(UnreadableFormatError, match="parks.geojson"):
        context_layers(tmp_path)


def test_context_is_drawn_on_both_halves_with_street_names():
    import ipyleaflet

    from ldtkit.viz.maps.context import context_layers, major_street_labels

    layers = context_layers(Path(__file__).resolve().parents[1] / "data" / "ghent" / "context")
    links = gpd.GeoDataFrame(
        {"name": ["Rooigemlaan", "Rooigemlaan", "Korte Straat"]},
        geometry=[
            LineString([(104_000, 195_000), (104_600, 195_000)]),
            LineString([(104_600, 195_000), (104_900, 195_400)]),
            LineString([(0, 0), (0, 50)]),
        ],
        crs="EPSG:31370",
    )
    labels = major_street_labels(links)
    assert labels["name"].tolist() == ["Rooigemlaan"]
    m = maps.CompareMap(center=(51.05, 3.72), basemap=None)
    added = m.add_context(layers, labels=labels)
    geo = [a for a in added if isinstance(a, ipyleaflet.GeoJSON)]
    assert [g.name for g in geo] == ["context: parks", "context: waterways", "context: boundary"]
    assert all(g.pane == "context" and "pane" in g.options for g in geo)  # one pane under both halves, not clipped to one
    assert m.map.panes["context"]["zIndex"] < 400  # under the data, over a basemap's tiles (200)
    group = added[-1]
    assert isinstance(group, ipyleaflet.LayerGroup) and "Rooigemlaan" in group.layers[0].icon.html


# ----------------------------------------------------------------------------- context from an OSM extract
PORTO_AREA = (-8.63375, 41.12875, -8.58125, 41.15425)  # Porto's focus area with a quarter's margin on each side


def test_osm_city_context_has_the_river_and_parks_from_its_extract_cached(tmp_path, monkeypatch):
    import shapely

    from ldtkit.study.city import load_city
    from ldtkit.viz.maps import osm_context
    from ldtkit.viz.maps.context import compact_geojson

    layers, credit = osm_context.city_context(load_city("porto"), cache_dir=tmp_path)
    assert sorted(layers) == ["parks", "waterways"] and credit == osm_context.OSM_ATTRIBUTION
    assert "© OpenStreetMap contributors (ODbL)" in credit
    water = layers["waterways"].to_crs(32629)
    # the Douro between the bridges: a water area of over 100 ha that covers a point mid-river under Ponte Dom Luís I
    douro = water[water.area > 1e6]
    assert len(douro) == 1
    mid_river = gpd.GeoSeries(gpd.points_from_xy([-8.6095], [41.1395]), crs=4326).to_crs(32629).iloc[0]
    assert douro.geometry.iloc[0].contains(mid_river)
    for g in layers.values():  # inside the area, no grass patches (every area at least MIN_AREA_M2)
        x0, y0, x1, y1 = g.total_bounds
        assert PORTO_AREA[0] - 1e-9 <= x0 and x1 <= PORTO_AREA[2] + 1e-9 and PORTO_AREA[1] - 1e-9 <= y0 and y1 <= PORTO_AREA[3] + 1e-9
        polys = g[g.geom_type.str.contains("Polygon")]
        assert (polys.to_crs(32629).area >= osm_context.MIN_AREA_M2).all()
    assert len(layers["parks"]) > 20
    # small enough to send to a page: under 80 kB for both layers together
    assert sum(len(json.dumps(compact_geojson(g))) for g in layers.values()) < 80_000
    # the second time the cached layers are read, not the extract
    (folder,) = (tmp_path / "context").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == ["layers.json", "parks.geojson", "waterways.geojson"]

    def no_read(*a, **k):
        raise AssertionError("the extract was read again")

    monkeypatch.setattr(osm_context, "read_osm_context", no_read)
    again, _ = osm_context.city_context(load_city("porto"), cache_dir=tmp_path)
    assert len(again["parks"]) == len(layers["parks"])
    assert shapely.equals_exact(again["waterways"].geometry.iloc[0], layers["waterways"].geometry.iloc[0], 1e-9)
    # another area is another cache entry (and reads the extract)
    with pytest.raises(AssertionError, match="read again"):
        osm_context.osm_context_layers(
            Path(__file__).resolve().parents[1] / "data" / "porto" / "porto.osm.pbf",
            bbox_wgs84=(-8.62, 41.14, -8.60, 41.15),
            cache_dir=tmp_path,
        )


def test_city_context_is_the_shipped_folder_else_none_and_bad_extracts_are_named(tmp_path):
    from ldtkit.errors import UnreadableFormatError
    from ldtkit.study.city import load_city
    from ldtkit.viz.maps import osm_context

    ghent, credit = osm_context.city_context(load_city("ghent"), cache_dir=tmp_path)
    assert list(ghent) == ["parks", "waterways", "boundary"] and "Stad Gent" in credit
    assert osm_context.city_context(load_city("athens"), cache_dir=tmp_path) == ({}, "")  # no OSM extract, no context folder
    assert not (tmp_path / "context").exists()
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"not an extract")
    with pytest.raises(UnreadableFormatError, match="broken.osm.pbf"):
        osm_context.read_osm_context(bad, bbox_wgs84=PORTO_AREA)
    with pytest.raises(UnreadableFormatError, match="missing.osm.pbf"):
        osm_context.read_osm_context(tmp_path / "missing.osm.pbf", bbox_wgs84=PORTO_AREA)


def test_split_control_is_made_again_when_the_map_layers_change(links):
    """The page's split control draws its layers among the map's own: a change of the map's layers
    (e.g. another scenario's measure marks) would drop them, so the control is made again."""
    import ipyleaflet

    m = maps.CompareMap(center=(51.05, 3.72), basemap=None)
    scale = maps.ColorScale.shared(links["flow_vph"], label="flow")
    left = m.add_links(links, "flow_vph", side="left", scale=scale)
    right = m.add_links(links, "flow_vph", side="right", scale=scale)
    _ = m.widget
    (first,) = [c for c in m.map.controls if isinstance(c, ipyleaflet.SplitMapControl)]
    m.map.add(ipyleaflet.Marker(location=(51.05, 3.72)))
    (again,) = [c for c in m.map.controls if isinstance(c, ipyleaflet.SplitMapControl)]
    assert again is not first and list(again.left_layer) == [left] and list(again.right_layer) == [right]
