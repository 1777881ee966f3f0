"""Direct cut profiles from the scene geometry (buildings, thin walls, ground zones, terrain) against ISO/TR 17534-4."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from conftest import SHARED

from ldtkit.errors import InvalidValueError
from ldtkit.model.noise import direct_profile, profile_attenuation
from ldtkit.model.noise.terrain import terrain_from_breaklines

GEOMETRY = SHARED / "reference" / "noise" / "iso17534_tc06_tc28_geometry.json"
#: The cases on flat ground (no breaklines): the direct path is cut from the geometry alone.
FLAT = ["TC07", "TC08", "TC10", "TC11", "TC12", "TC14", "TC15", "TC25", "TC26", "TC28"]
#: The cases on terrain (triangulated breaklines): every one of them with a direct path.
TERRAIN = ["TC06", "TC09", "TC13", "TC16", "TC17", "TC18", "TC19", "TC20", "TC21", "TC22", "TC23", "TC24", "TC27"]


@pytest.fixture(scope="module")
def geometry():
    if not GEOMETRY.exists():
        pytest.skip(f"{GEOMETRY} not found")
    return json.loads(GEOMETRY.read_text(encoding="utf-8"))


def _profile(case):
    g = case["geometry"]
    s, r = g["source_point"], g["receiver_point"]
    lines = g["topography_lines_xyz"]
    return direct_profile(
        (s["x"], s["y"], s["z"]),
        (r["x"], r["y"], r["z"]),
        buildings=[(shapely.Polygon(b["polygon_xy"]), b["z_top"]) for b in g["buildings"]],
        walls=[w["polyline_xyz_top"] for w in g["thin_walls_barriers"]],
        # where zones overlap (TC23's berm on the G = 0 field) the reference takes the first one listed
        ground_zones=[(shapely.Polygon(z["polygon"]), z["G"]) for z in g["ground_zones"]][::-1],
        default_g=g["G_default_outside_zones"],
        terrain=terrain_from_breaklines(lines) if lines else None,
    )


def _assert_iso_levels(case, name, pts):
    lw = case["computation_conditions"]["sound_power_per_band_dB"]
    levels = profile_attenuation(pts, temperature_c=10.0, humidity_pct=70.0).levels(lw)
    expected = case["expected"]["paths"]["direct"]
    checked = 0
    for cond in ("H", "F"):
        q = expected[cond].get(f"L_{cond}")
        if q is None:
            continue
        want = np.array([np.nan if v is None else v for v in q["values"]])
        ok = np.isfinite(want)
        assert np.abs(levels[f"L{cond}"][ok] - want[ok]).max() <= q["tol"] + 1e-9, f"{name} L_{cond}"
        checked += 1
    assert checked


@pytest.mark.parametrize("name", FLAT)
def test_direct_profile_from_geometry_gives_the_iso_levels(geometry, name):
    case = geometry["cases"][name]
    assert not case["geometry"]["topography_lines_xyz"]
    pts = _profile(case)
    # the same cut points as the reference path finder (it also lists a zero-length ground change
    # where a zone boundary passes exactly through the source or the receiver)
    ref = [
        p
        for p in case["cut_profiles"][f"{name}_Direct"]["points"]
        if not (p["type"] == "GroundEffect" and p["x"] in (pts[0]["x"], pts[-1]["x"]) and p["y"] in (pts[0]["y"], pts[-1]["y"]))
    ]
    assert [p["type"] for p in pts] == [p["type"] for p in ref]
    np.testing.assert_allclose([[p["x"], p["y"], p["z"]] for p in pts], [[p["x"], p["y"], p["z"]] for p in ref], atol=0.01)
    _assert_iso_levels(case, name, pts)


@pytest.mark.parametrize("name", TERRAIN)
def test_direct_profile_over_triangulated_breaklines_gives_the_iso_levels(geometry, name):
    case = geometry["cases"][name]
    assert case["geometry"]["topography_lines_xyz"]
    pts = _profile(case)
    ref = case["cut_profiles"][f"{name}_Direct"]["points"]
    # the same cut points (TC27 lists a zone change and a break of slope at one spot in the other order)
    assert sorted(p["type"] for p in pts) == sorted(p["type"] for p in ref)

    def xyz(points):
        a = np.array([[p["x"], p["y"], p["z"], p["zGround"], p["G"]] for p in points])
        return a[np.lexsort((a[:, 2], a[:, 0]))]

    np.testing.assert_allclose(xyz(pts), xyz(ref), atol=0.01)
    _assert_iso_levels(case, name, pts)


def test_a_profile_off_the_terrain_is_refused_naming_it():
    hill = terrain_from_breaklines([[(0, -50, 0), (0, 50, 0)], [(100, -50, 0), (100, 50, 0)]], source="hill lines")
    with pytest.raises(InvalidValueError, match=r"terrain hill lines: no elevation at \(120.0, 0.0\)"):
        direct_profile((0, 0, 1), (120, 0, 4), terrain=hill)
    with pytest.raises(InvalidValueError, match="source height -1.0 m is below the ground"):
        direct_profile((50, 0, -1), (90, 0, 4), terrain=hill)


def test_receiver_below_ground_and_coincident_points_are_refused():
    with pytest.raises(InvalidValueError, match="receiver height -1.0 m is below the ground"):
        direct_profile((0, 0, 1), (10, 0, -1))
    with pytest.raises(InvalidValueError, match="same"):
        direct_profile((0, 0, 1), (0, 0, 4))
