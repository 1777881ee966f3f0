"""CNOSSOS-EU propagation with obstacles against ISO/TR 17534-4 TC01–TC28, and ``ldtkit noise conformity``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SHARED

from ldtkit.cli import main
from ldtkit.errors import InvalidValueError
from ldtkit.model.noise import conformity
from ldtkit.model.noise.diffraction import delta_dif_db, profile_attenuation, upper_hull

REF = SHARED / "reference" / "noise"
CASES = conformity.load_cases()
NAMES = [c["case"] for c in CASES["cases"]]


def _case(name):
    return next(c for c in CASES["cases"] if c["case"] == name)


@pytest.mark.parametrize("name", NAMES)
def test_every_path_of_the_case_within_the_reference_tolerance(name):
    """L_H and L_F of every path, every asserted band, against the ISO value and its tolerance."""
    case = _case(name)
    result = conformity.run_case(case, CASES["conditions"])
    off = []
    for path, got in zip(case["paths"], result.paths, strict=True):
        for key in ("L_H", "L_F"):
            q = path["expected"].get(key)
            if q is None:
                continue
            want = np.array([np.nan if v is None else v for v in q["values"]])
            ok = np.isfinite(want)
            dev = np.abs(got.levels[key][ok] - want[ok])
            if dev.max() > q["tol"] + 1e-9:
                off.append(f"{path['path']} {key}: max deviation {dev.max():.3f} dB > {q['tol']}")
    assert not off, "; ".join(off)
    assert result.passed


def test_shipped_cases_are_the_reference_extractions():
    """The shipped file is exactly what the two reference extractions give (no hand edits)."""
    a, b = REF / "cnossos_reference_cases.json", REF / "iso17534_tc06_tc28_geometry.json"
    if not (a.exists() and b.exists()):
        pytest.skip("reference extractions not found")
    assert conformity.build_cases(a, b) == json.loads(conformity.DEFAULT_CASES.read_text(encoding="utf-8"))
    assert [f"TC{i:02d}" for i in range(1, 29)] == NAMES


def test_path_levels_reproduce_the_receiver_total():
    """TC08: the energetic sum of the three paths' p-weighted, A-weighted levels is the asserted total LA."""
    file = REF / "iso17534_tc06_tc28_geometry.json"
    if not file.exists():
        pytest.skip("reference extraction not found")
    geo = json.loads(file.read_text())
    total = np.array(geo["cases"]["TC08"]["expected"]["receiver_total"]["LA_all_paths"]["values"])
    result = conformity.run_case(_case("TC08"), CASES["conditions"])
    la = 10 * np.log10(sum(10 ** (p.levels["LA"] / 10) for p in result.paths))
    np.testing.assert_allclose(la, total, atol=0.02)


def test_diffraction_properties():
    # δ = 0 (grazing) gives 10·lg 3 in every band; deep shadow grows with frequency; δ < −λ/20 gives 0
    np.testing.assert_allclose(delta_dif_db(0.0), 10 * np.log10(3.0))
    deep = delta_dif_db(1.0)
    assert np.all(np.diff(deep) > 0)
    assert delta_dif_db(-0.5)[7] == 0.0
    # multiple diffraction (C'' → 3) attenuates more than one edge at high frequency
    assert delta_dif_db(1.0, e_m=10.0)[7] > deep[7] + 4.0
    assert upper_hull(np.array([0.0, 1, 2, 3, 4]), np.array([0.0, 1, 3, 1, 0])).tolist() == [0, 2, 4]


def test_a_higher_barrier_screens_more_and_nothing_above_the_ray_is_open_field():
    def level(top):
        pts = [
            {"type": "Source", "x": 0.0, "y": 0.0, "z": 1.0, "zGround": 0.0, "G": 0.0},
            {"type": "Wall", "x": 20.0, "y": 0.0, "z": top, "zGround": 0.0, "G": 0.0},
            {"type": "Receiver", "x": 100.0, "y": 0.0, "z": 4.0, "zGround": 0.0, "G": 0.0},
        ]
        pa = profile_attenuation(pts, temperature_c=10.0)
        return pa.levels(93.0)["LH"], pa.delta_dif_h

    (low, d_low), (mid, d_mid), (high, d_high) = level(3.0), level(6.0), level(12.0)
    assert np.all(d_high > d_mid) and np.all(d_mid > d_low)
    # below the 25 dB bound on Δdif(S,R) (which the ground terms then reduce) the level falls too
    assert np.all(high[:4] < mid[:4]) and np.all(mid[:4] < low[:4])
    # a wall far below the ray is open field: the same as no wall at all
    open_field = profile_attenuation(
        [
            {"type": "Source", "x": 0.0, "y": 0.0, "z": 1.0, "zGround": 0.0, "G": 0.0},
            {"type": "Receiver", "x": 100.0, "y": 0.0, "z": 4.0, "zGround": 0.0, "G": 0.0},
        ],
        temperature_c=10.0,
    ).levels(93.0)["LH"]
    np.testing.assert_allclose(level(0.1)[0], open_field, atol=1e-9)


def test_reflection_absorption_is_ten_lg_one_minus_alpha():
    alpha = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.5]
    pts = [
        {"type": "Source", "x": 0.0, "y": 0.0, "z": 1.0, "zGround": 0.0, "G": 0.0},
        {"type": "Reflection", "x": 50.0, "y": 20.0, "z": 2.5, "zGround": 0.0, "G": 0.0, "wall_alpha": alpha},
        {"type": "Receiver", "x": 100.0, "y": 0.0, "z": 4.0, "zGround": 0.0, "G": 0.0},
    ]
    pa = profile_attenuation(pts, temperature_c=10.0)
    np.testing.assert_allclose(pa.delta_abs, 10 * np.log10(1 - np.array(alpha)))


def test_receiver_below_ground_is_refused():
    pts = [
        {"type": "Source", "x": 0.0, "y": 0.0, "z": 1.0, "zGround": 0.0, "G": 0.0},
        {"type": "Receiver", "x": 50.0, "y": 0.0, "z": 9.0, "zGround": 10.0, "G": 0.0},
    ]
    with pytest.raises(InvalidValueError, match=r"TC99 direct: receiver height -1\.00 m above ground .*expected >= 0"):
        profile_attenuation(pts, name="TC99 direct")


def test_bad_cases_file_names_file_case_and_field(tmp_path):
    data = json.loads(conformity.DEFAULT_CASES.read_text(encoding="utf-8"))
    del data["cases"][7]["paths"][0]["profile"][0]["zGround"]
    bad = tmp_path / "cases.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(InvalidValueError, match=r"cases\.json: TC08 direct: profile point 0: missing field 'zGround'"):
        conformity.load_cases(bad)
    data = json.loads(conformity.DEFAULT_CASES.read_text(encoding="utf-8"))
    del data["cases"][2]["lw_db"]
    bad.write_text(json.dumps(data))
    with pytest.raises(InvalidValueError, match=r"TC03: missing field 'lw_db'"):
        conformity.load_cases(bad)
    bad.write_text("{not json")
    with pytest.raises(InvalidValueError, match="not valid JSON"):
        conformity.load_cases(bad)
    with pytest.raises(InvalidValueError, match="did you mean"):
        conformity.run_conformity(cases=["TC8"])


def test_cli_prints_per_path_lines_and_writes_json(tmp_path, capsys):
    out = tmp_path / "conf.json"
    assert main(["noise", "conformity", "--case", "TC08", "--case", "TC16", "--json", str(out)]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[1].split()[:2] == ["TC08", "direct"] and text[1].endswith("pass")
    assert text[-2] == "2 of 2 cases pass"
    got = json.loads(out.read_text())
    assert [c["case"] for c in got["cases"]] == ["TC08", "TC16"]
    assert got["cases"][0]["pass"] is True and set(got["cases"][0]["paths"]) == {"direct", "lateral_left", "lateral_right"}
    assert got["cases"][1]["paths"]["reflection"]["max_deviation_db"]["L_F"] <= 0.02
    assert main(["noise", "conformity", "--cases", str(tmp_path / "missing.json")]) == 1
    assert "missing.json: cases file not found" in capsys.readouterr().err


def test_docs_page_is_the_generated_one(tmp_path):
    from pathlib import Path

    from ldtkit.cli.noise import markdown_page

    page = Path(__file__).resolve().parents[1] / "docs" / "noise-conformity.md"
    assert page.read_text(encoding="utf-8") == markdown_page(conformity.run_conformity())
