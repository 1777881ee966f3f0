"""Direct cut profiles from the scene geometry (buildings, thin walls, ground zones) against ISO/TR 17534-4."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from conftest import SHARED

from ldtkit.errors import InvalidValueError
from ldtkit.model.noise import direct_profile, profile_attenuation

GEOMETRY = SHARED / "reference" / "noise" / "iso17534_tc06_tc28_geometry.json"
#: The cases on flat ground (no breaklines): the direct path is cut from the geometry alone.
FLAT = ["TC07", "TC08", "TC10", "TC11", "TC12", "TC14", "TC15", "TC25", "TC26", "TC28"]


@pytest.fixture(scope="module")
def geometry():
    if not GEOMETRY.exists():
        pytest.skip(f"{GEOMETRY} not found")
    return json.loads(GEOMETRY.read_text(encoding="utf-8"))


def _profile(case):
    g = case["geometry"]
    s, r = g["source_point"], g["receiver_point"]
    return direct_profile(
        (s["x"], s["y"], s["z"]),
        (r["x"], r["y"], r["z"]),
        buildings=[(shapely.Polygon(b["polygon_xy"]), b["z_top"]) for b in g["buildings"]],
        walls=[w["polyline_xyz_top"] for w in g["thin_walls_barriers"]],
        ground_zones=[(shapely.Polygon(z["polygon"]), z["G"]) for z in g["ground_zones"]],
        default_g=g["G_default_outside_zones"],
    )


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
    lw = case["computation_conditions"]["sound_power_per_band_dB"]
    levels = profile_attenuation(pts, temperature_c=10.0, humidity_pct=70.0).levels(lw)
    expected = case["expected"]["paths"]["direct"]
    for cond in ("H", "F"):
        q = expected[cond].get(f"L_{cond}")
        if q is None:
            continue
        want = np.array([np.nan if v is None else v for v in q["values"]])
        ok = np.isfinite(want)
        assert np.abs(levels[f"L{cond}"][ok] - want[ok]).max() <= q["tol"] + 1e-9, f"{name} L_{cond}"


def test_receiver_below_ground_and_coincident_points_are_refused():
    with pytest.raises(InvalidValueError, match="receiver height -1.0 m is below the ground"):
        direct_profile((0, 0, 1), (10, 0, -1))
    with pytest.raises(InvalidValueError, match="same"):
        direct_profile((0, 0, 1), (0, 0, 4))
