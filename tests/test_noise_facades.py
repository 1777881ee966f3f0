"""Façade receptors: 2 m in front of façades, none inside buildings, population kept."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from ldtkit.errors import EmptyStudyAreaError, MissingFieldError
from ldtkit.model.receptors import receptors_facades

CRS = "EPSG:31370"


def test_facade_points_sit_offset_m_outside_and_share_population():
    # two terraced houses sharing a wall, and a detached block
    b = gpd.GeoDataFrame(
        {"people": [10.0, 6.0, 30.0]},
        geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(50, 0, 80, 20)],
        crs=CRS,
    )
    r = receptors_facades(b, crs=CRS, spacing_m=3.0, offset_m=2.0, height_m=4.0, population_column="people")
    pts = shapely.points(r.x, r.y)
    geoms = b.geometry.to_numpy()
    dist = shapely.distance(pts, geoms[r.ids])
    # every point on the offset outline: 2 m out along walls, up to 2√2 m at mitred corners
    assert np.all((dist >= 2.0 - 1e-6) & (dist <= 2.0 * np.sqrt(2.0) + 1e-6)), dist
    assert np.mean(np.abs(dist - 2.0) < 1e-6) > 0.5  # most of them along straight walls
    assert not shapely.within(pts[:, None], geoms[None, :]).any()  # never inside a building
    assert r.kind == "facade" and np.all(r.z == 4.0)
    assert r.population.sum() == pytest.approx(46.0)
    for i, people in enumerate([10.0, 6.0, 30.0]):
        assert r.population[r.ids == i].sum() == pytest.approx(people)
    # the party wall between the two houses has no façade points inside the neighbour
    assert np.sum((r.ids == 0) & (r.x > 10.0)) == 0


def test_facade_errors():
    b = gpd.GeoDataFrame({"p": [1.0]}, geometry=[box(0, 0, 5, 5)], crs=CRS)
    with pytest.raises(MissingFieldError, match="population"):
        receptors_facades(b, crs=CRS, population_column="population")
    with pytest.raises(EmptyStudyAreaError):
        receptors_facades(b.iloc[:0], crs=CRS)
