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


def test_reflected_path_screened_by_a_building_is_left_out():
    net, traffic = _short_road()
    rec = _receptors([(10.0, 20.0)])
    # a tall block between the source and the specular point (x = 7.5 on the wall), clear of the direct path
    blocks = [shapely.box(-50, 30, 50, 40), shapely.box(1.5, 12.0, 5.0, 16.0)]
    b = Buildings.from_arrays(["w", "x"], blocks, [15.0, 20.0], crs=CRS, alpha=np.full((2, 8), 0.2))
    m = compute_noise(net, traffic, rec, buildings=b, cutoff_m=500.0, progress=False)
    m0 = compute_noise(
        net, traffic, rec, propagation=noise_propagation(net, rec, cutoff_m=500.0, buildings=b, reflection_order=0), progress=False
    )
    assert m.lden_db[0] == pytest.approx(m0.lden_db[0], abs=1e-9)


def test_reflection_order_outside_0_1_is_refused():
    net, _ = _short_road()
    with pytest.raises(InvalidValueError, match="reflection_order"):
        noise_propagation(net, _receptors([(10.0, 20.0)]), buildings=_wall(15.0, 0.2), reflection_order=2)
