"""First-order façade reflections in maps: the image source's level, the own façade left out, walls below the ray."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from ldtkit.errors import InvalidValueError
from ldtkit.model.buildings import Buildings
from ldtkit.model.network import RoadNetwork, conform_links
from ldtkit.model.noise import compute_noise, noise_propagation
from ldtkit.model.receptors import Receptors
from ldtkit.model.traffic import LinkTraffic

CRS = "EPSG:31370"


def _short_road() -> tuple[RoadNetwork, dict[str, LinkTraffic]]:
    """A 2 m road at the origin along x: one point source seen from tens of metres."""
    links = conform_links(
        gpd.GeoDataFrame(
            {"link_id": [1], "from_node": [1], "to_node": [2], "length_m": [2.0], "capacity_vph": [1800.0],
             "free_speed_kmh": [50.0], "road_class": ["primary"]},
            geometry=[shapely.LineString([(-1, 0), (1, 0)])], crs=CRS,
        ),
        source="test",
    )  # fmt: skip
    nodes = gpd.GeoDataFrame({"node_id": [1, 2], "is_zone": False}, geometry=gpd.points_from_xy([-1, 1], [0, 0]), crs=CRS)
    traffic = {p: LinkTraffic(np.array([1]), np.array([900.0 * f]), np.array([60.0 * f]), np.array([50.0])) for p, f in
               (("day", 1.0), ("evening", 0.5), ("night", 0.15))}  # fmt: skip
    return RoadNetwork(links, nodes, name="point"), traffic


def _receptors(xy: list[tuple[float, float]]) -> Receptors:
    a = np.array(xy, dtype=float)
    return Receptors(a[:, 0].copy(), a[:, 1].copy(), np.full(len(a), 4.0), np.zeros(len(a)), CRS)


def _wall(height_m: float, alpha: float) -> Buildings:
    """A 100 m long block whose south façade is the line y = 30."""
    return Buildings.from_arrays(["w"], [shapely.box(-50, 30, 50, 40)], [height_m], crs=CRS, alpha=np.full(8, alpha))


def test_reflection_adds_the_image_receptors_open_field_level_times_one_minus_alpha():
    net, traffic = _short_road()
    rec = _receptors([(10.0, 20.0), (-25.0, 12.0)])
    b = _wall(15.0, 0.2)
    with_refl = compute_noise(net, traffic, rec, buildings=b, cutoff_m=500.0, progress=False)
    no_refl = compute_noise(
        net, traffic, rec, propagation=noise_propagation(net, rec, cutoff_m=500.0, buildings=b, reflection_order=0), progress=False
    )
    # the images of the receptors in the wall's line, in open field: the unfolded paths
    image = compute_noise(net, traffic, _receptors([(10.0, 40.0), (-25.0, 48.0)]), cutoff_m=500.0, progress=False)
    for name in ("lday_db", "lnight_db", "lden_db"):
        expected = 10 * np.log10(10 ** (getattr(no_refl, name) / 10) + 0.8 * 10 ** (getattr(image, name) / 10))
        np.testing.assert_allclose(getattr(with_refl, name), expected, atol=0.005)
    gain = with_refl.lden_db - no_refl.lden_db
    assert np.all(gain > 0.3) and np.all(gain < 3.0)  # a farther image: less than doubling
    assert "reflections" in with_refl.meta["propagation"] and "reflections" not in no_refl.meta["propagation"]


def test_own_facade_and_walls_below_the_ray_do_not_reflect():
    net, traffic = _short_road()
    own = _receptors([(10.0, 28.0)])  # 2 m in front of the wall, as a façade receptor
    b = _wall(15.0, 0.2)
    a = compute_noise(net, traffic, own, buildings=b, cutoff_m=500.0, progress=False)
    prop0 = noise_propagation(net, own, cutoff_m=500.0, buildings=b, reflection_order=0)
    assert noise_propagation(net, own, cutoff_m=500.0, buildings=b).arrays.reflectors.start.tolist() == [0, 0]
    assert a.lden_db[0] == pytest.approx(compute_noise(net, traffic, own, propagation=prop0, progress=False).lden_db[0], abs=1e-9)
    # a 2 m wall: the specular point of the receptor at 20 m lies 3 m up the ray, above the roof
    low = _wall(2.0, 0.2)
    rec = _receptors([(10.0, 20.0)])
    with_low = compute_noise(net, traffic, rec, buildings=low, cutoff_m=500.0, progress=False)
    open_field = compute_noise(net, traffic, rec, cutoff_m=500.0, progress=False)
    assert with_low.lden_db[0] == pytest.approx(open_field.lden_db[0], abs=1e-9)


def test_reflected_path_screened_by_a_building_adds_the_diffracted_image_level():
    net, traffic = _short_road()
    rec = _receptors([(10.0, 20.0)])
    # a tall block between the source and the specular point (x = 7.5 on the wall), clear of the direct path
    screen = shapely.box(1.5, 12.0, 5.0, 16.0)
    b = Buildings.from_arrays(["w", "x"], [shapely.box(-50, 30, 50, 40), screen], [15.0, 6.0], crs=CRS, alpha=np.full((2, 8), 0.2))
    m = compute_noise(net, traffic, rec, buildings=b, cutoff_m=500.0, progress=False)
    m0 = compute_noise(
        net, traffic, rec, propagation=noise_propagation(net, rec, cutoff_m=500.0, buildings=b, reflection_order=0), progress=False
    )
    # unfolded, the reflected path is the direct path to the receptor's image (10, 40) over the same block
    image = _receptors([(10.0, 40.0)])
    only_screen = Buildings.from_arrays(["x"], [screen], [6.0], crs=CRS)
    mi = compute_noise(
        net, traffic, image,
        propagation=noise_propagation(net, image, cutoff_m=500.0, buildings=only_screen, reflection_order=0), progress=False,
    )  # fmt: skip
    open_image = compute_noise(net, traffic, image, cutoff_m=500.0, progress=False)
    assert mi.lden_db[0] < open_image.lden_db[0] - 5.0  # the block does screen the image path
    for name in ("lday_db", "lnight_db", "lden_db"):
        expected = 10 * np.log10(10 ** (getattr(m0, name) / 10) + 0.8 * 10 ** (getattr(mi, name) / 10))
        np.testing.assert_allclose(getattr(m, name), expected, atol=0.005)
    assert m.lden_db[0] > m0.lden_db[0] + 0.002  # a few dB under the direct path: a small gain, but a gain


def _tc25(*, barrier: bool = True) -> tuple[dict, Buildings]:
    """ISO/TR 17534-4 TC25 (flat ground, G = 0): its two buildings and its 5 m barrier as a 0.1 m thick block."""
    import json

    from conftest import SHARED

    path = SHARED / "reference" / "noise" / "iso17534_tc06_tc28_geometry.json"
    if not path.exists():
        pytest.skip(f"{path} not found")
    case = json.loads(path.read_text())["cases"]["TC25"]
    g = case["geometry"]
    polys = [shapely.Polygon(bd["polygon_xy"]) for bd in g["buildings"]]
    heights = [bd["z_top"] for bd in g["buildings"]]
    alphas = [bd["alpha_per_band"] for bd in g["buildings"]]
    for w in g["thin_walls_barriers"] if barrier else []:
        line = shapely.LineString([p[:2] for p in w["polyline_xyz_top"]])
        polys.append(line.buffer(0.05, cap_style="flat"))
        heights.append(w["polyline_xyz_top"][0][2])
        alphas.append(w["alpha_per_band"] or [0.0] * 8)
    b = Buildings.from_arrays([f"b{i}" for i in range(len(polys))], polys, heights, crs=CRS, alpha=np.array(alphas, dtype=float))
    return case, b


def test_reflection_screened_by_a_barrier_matches_iso_17534_4_tc25():
    """The reflection on the façade y = 26 of TC25, diffracted over the 5 m barrier on its first leg."""
    from ldtkit.model.kernels import noise as kernels
    from ldtkit.model.noise.propagation import _band_terms
    from ldtkit.model.noise.reflections import facade_reflectors
    from ldtkit.model.noise.screening import building_obstacles

    case, _ = _tc25()
    g = case["geometry"]
    s, r = g["source_point"], g["receiver_point"]
    ref = case["expected"]["paths"]["reflection"]
    lw = case["computation_conditions"]["sound_power_per_band_dB"]
    bands = _band_terms(0.0, 10.0, 70.0)

    def level(p: float, barrier: bool) -> np.ndarray:
        b = _tc25(barrier=barrier)[1]
        obst = building_obstacles(b, (0.0, -20.0, 150.0, 60.0), cell_m=10.0)
        refl = facade_reflectors(obst, np.array([r["x"]]), np.array([r["y"]]))
        rows = np.flatnonzero((np.abs(refl.wall[:, 3] - 26.0) < 1e-9) & (np.abs(refl.wall[:, 5]) < 1e-9))
        assert len(rows) == 1  # the south façade of the first building reflects
        w = int(rows[0])
        ground = kernels.Ground(g_path=0.0, g_source=0.0, p_favourable=p)
        tr, rt = np.zeros(8), np.zeros(8)
        hit = kernels._reflected(
            r["x"], r["y"], r["z"], w, w + 1, s["x"], s["y"], s["z"], refl, obst, np.zeros((0, 8)), 0.0, 1e12, ground, bands,
            10.0**0.3, tr, rt, False, np.zeros((1, 8)), 1.0, np.zeros(1), np.ones(8), kernels.screen_scratch(bands),
            np.zeros((3, 1)), 0.0,
        )  # fmt: skip
        assert hit
        return lw + 10 * np.log10(rt)

    # homogeneous (p = 0) and favourable (p = 1) conditions against L_H and L_F (measured: within 0.01 dB)
    for p, ref_level in ((0.0, ref["H"]["L_H"]), (1.0, ref["F"]["L_F"])):
        screened = level(p, True)
        np.testing.assert_allclose(screened, ref_level["values"], atol=ref_level["tol"])
        # the barrier does screen this path: without it the reflection is louder by its diffraction
        assert np.all(level(p, False) - screened > 2.0)


def _canyon(order: int, *, ground_g: float = 0.0) -> tuple[float, float]:
    """Lden at (10, 8) between the façades y = 15 and y = -15 of two 100 m blocks (α = 0.2), and the
    sum of the second-order images' open-field energies (10^(L/10))."""
    net, traffic = _short_road()
    rec = _receptors([(10.0, 8.0)])
    b = Buildings.from_arrays(
        ["n", "s"], [shapely.box(-50, 15, 50, 25), shapely.box(-50, -25, 50, -15)], [15.0, 15.0], crs=CRS, alpha=np.full((2, 8), 0.2)
    )
    prop = noise_propagation(net, rec, cutoff_m=500.0, buildings=b, reflection_order=order, ground_g=ground_g)
    m = compute_noise(net, traffic, rec, propagation=prop, progress=False)
    return float(m.lden_db[0]), m


def test_second_order_adds_the_two_image_sources_of_a_street_canyon():
    net, traffic = _short_road()
    l1, _ = _canyon(1)
    l2, _ = _canyon(2)
    # images of (10, 8): in y = 15 → (10, 22), then in y = -15 → (10, -52); in y = -15 → (10, -38), then in y = 15 → (10, 68)
    images = _receptors([(10.0, -52.0), (10.0, 68.0)])
    im = compute_noise(net, traffic, images, cutoff_m=500.0, ground_g=0.0, progress=False)
    expected = 10 * np.log10(10 ** (l1 / 10) + 0.8**2 * np.sum(10 ** (im.lden_db / 10)))
    assert l2 == pytest.approx(expected, abs=0.01)
    assert l2 - l1 > 0.05


def test_levels_grow_with_the_reflection_order():
    net, traffic = _short_road()
    rng = np.random.default_rng(3)
    boxes = [shapely.box(-50, 15, 50, 25), shapely.box(-50, -25, 50, -15)]
    for x, y in rng.uniform(-40, 40, size=(6, 2)):
        if abs(y) > 4.0:  # off the road
            boxes.append(shapely.box(x, y, x + rng.uniform(3, 10), y + rng.uniform(2, 6)))
    b = Buildings.from_arrays(
        [f"b{i}" for i in range(len(boxes))], boxes, rng.uniform(4.0, 20.0, len(boxes)), crs=CRS, alpha=np.full((len(boxes), 8), 0.3)
    )
    xy = [(x, y) for x in range(-45, 46, 9) for y in (-12.0, -7.0, 6.0, 11.0)]
    rec = _receptors(xy)
    levels = [
        compute_noise(
            net, traffic, rec, propagation=noise_propagation(net, rec, cutoff_m=500.0, buildings=b, reflection_order=k), progress=False
        ).lden_db
        for k in (0, 1, 2)
    ]
    ok = np.isfinite(levels[0])
    assert ok.sum() > 20
    assert np.all(levels[1][ok] >= levels[0][ok] - 1e-9) and np.all(levels[2][ok] >= levels[1][ok] - 1e-9)
    assert np.any(levels[2][ok] > levels[1][ok] + 0.01)


def test_reflection_order_above_2_is_refused():
    net, _ = _short_road()
    with pytest.raises(InvalidValueError, match="reflection_order must be 0, 1 or 2"):
        noise_propagation(net, _receptors([(10.0, 20.0)]), buildings=_wall(15.0, 0.2), reflection_order=3)
