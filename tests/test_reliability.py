"""Every bad input gets a clear answer: a non-zero exit, no traceback, a message naming the culprit.

Each test feeds one kind of bad input to the ``ldtkit`` command (in-process) or to the function
behind it, and checks the exit code, that stderr holds no traceback, and that the message names
the parameter, key or file. ``docs/reliability.md`` lists these cases with their tests.
"""

from __future__ import annotations

import math
import os
import textwrap
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import SHARED
from shapely.geometry import LineString, Point

from ldtkit.cli import main
from ldtkit.errors import DisconnectedDemandError, InvalidValueError, SelectorError
from ldtkit.model.network import RoadNetwork, conform_links, conform_nodes
from ldtkit.study.config import parse_city_config
from ldtkit.study.config.params import check_demand_scale, check_models
from ldtkit.study.convergence import unconverged, unconverged_all, with_convergence_notes
from ldtkit.study.scenario import Scenario, compass_word, link_bearings_deg, select_links, swapped_inside, swapped_mask

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "bridge_closure.ipynb"
CRS = "EPSG:31370"
#: Lambert 72 coordinates (m) in the middle of Ghent: the toy network sits there.
X0, Y0 = 104_500.0, 194_000.0


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run ``ldtkit argv``; the exit code and stderr (argparse's own exits included)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    return code, err


def assert_clear_failure(code: int, err: str, *culprits: str, exit_code: int = 1) -> None:
    assert code == exit_code, err
    assert "Traceback" not in err
    assert err.strip().startswith("ldtkit: error:") or err.strip().startswith("usage:"), err
    for c in culprits:
        assert c in err, f"{c!r} not named in: {err}"


@pytest.fixture(scope="module")
def ghent_network() -> RoadNetwork:
    from ldtkit.study.city import load_city

    return load_city("ghent").load_network()


@pytest.fixture
def no_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any model runs: the checks must come first."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model ran before the inputs were checked")

    monkeypatch.setattr("ldtkit.study.runner.run", refuse)
    monkeypatch.setattr("ldtkit.viz.report.run_report", refuse)
    monkeypatch.setattr("ldtkit.model.assignment.solve", refuse)


def _city(folder: Path, extra: str = "", *, crs: str = CRS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "city.toml").write_text(f'name = "x"\ncrs = "{crs}"\n' + textwrap.dedent(extra), encoding="utf-8")
    return folder


def _toy(*, north_south_bridge: bool = True) -> RoadNetwork:
    """A two-way north-south bridge (Bridge St) and a two-way east-west street (Main St), in Ghent."""
    pts = {1: (X0, Y0), 2: (X0, Y0 + 200), 3: (X0 + 200, Y0)}
    rows = []
    lid = 1
    for a, b, name, bridge in [(1, 2, "Bridge St", True), (1, 3, "Main St", False)]:
        for frm, to, rev in [(a, b, False), (b, a, True)]:
            rows.append(
                dict(
                    link_id=lid, from_node=frm, to_node=to, length_m=200.0, capacity_vph=1000.0, free_speed_kmh=50.0,
                    name=name, bridge=bridge, reversed=rev, geometry=LineString([pts[frm], pts[to]]),
                )
            )  # fmt: skip
            lid += 1
    links = conform_links(gpd.GeoDataFrame(rows, crs=CRS), source="toy")
    nodes = conform_nodes(gpd.GeoDataFrame({"node_id": list(pts)}, geometry=[Point(p) for p in pts.values()], crs=CRS), source="toy")
    return RoadNetwork(links, nodes, name="toy")


# ---------------------------------------------------------------- the top-level handler
def test_unexpected_exception_is_one_line_with_a_pointer_to_verbose(capsys, monkeypatch):
    def broken(args: object) -> int:
        raise RuntimeError("disk\nexploded")

    monkeypatch.setattr("ldtkit.cli.network.summary", broken)
    code, err = cli(capsys, "network", "summary", "ghent")
    assert code == 1
    assert "Traceback" not in err
    assert err.strip().splitlines() == [
        "ldtkit: unexpected error: RuntimeError: disk exploded (run again with --verbose for the traceback)"
    ]
    code, err = cli(capsys, "network", "summary", "ghent", "--verbose")  # after the sub-command
    assert code == 1 and "Traceback" in err and "RuntimeError: disk" in err
    code, err = cli(capsys, "--verbose", "network", "summary", "ghent")  # before it
    assert code == 1 and "Traceback" in err


def test_the_installed_command_prints_no_traceback(tmp_path):
    """The console script itself, in its own process: exit code and stderr as a shell sees them."""
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("ldtkit")
    argv = [str(exe), "run", "ghent", "--demand-scale", "0", "--out", str(tmp_path)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("ldtkit: error: ldtkit run: --demand-scale must be a finite number > 0")


def test_ctrl_c_is_one_line_and_exit_130(capsys, monkeypatch):
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("ldtkit.cli.network.summary", interrupted)
    code, err = cli(capsys, "network", "summary", "ghent")
    assert code == 130 and err.strip() == "ldtkit: interrupted"


def test_usage_errors_exit_2_and_name_the_option(capsys):
    code, err = cli(capsys, "run", "ghent", "--bogus")
    assert code == 2 and "Traceback" not in err and "--bogus" in err
    code, err = cli(capsys, "assign", "--tntp", "x", "--out", "y", "--gap", "-1")
    assert code == 2 and "--gap" in err and "expected a number > 0" in err


# ---------------------------------------------------------------- city.toml
def test_bad_crs_names_file_and_key(tmp_path, capsys):
    city = _city(tmp_path / "c", crs="EPSG:99999")
    code, err = cli(capsys, "network", "summary", str(city))
    assert_clear_failure(code, err, "city.toml", "crs = 'EPSG:99999'", "unknown EPSG code", "(line 2)")
    assert len(err.strip().splitlines()) == 1
    city = _city(tmp_path / "d", crs="EPSG:4326")
    code, err = cli(capsys, "network", "summary", str(city))
    assert_clear_failure(code, err, "city.toml", "crs = 'EPSG:4326'", "projected CRS in metres")
    code = main(["city", "check", str(_city(tmp_path / "e", crs="not a crs"))])
    both = "".join(capsys.readouterr())
    assert code == 1 and "Traceback" not in both and "crs = 'not a crs'" in both


def test_road_class_defaults_are_checked_key_by_key(tmp_path, capsys):
    extra = """
        [network]
        source = "osm"
        path = "x.osm.pbf"
        [network.road_class_defaults]
        primary = { lanes = "one", speed_kmh = 50, capacity_per_lane_vph = 900 }
        footway = { lanes = 1, speed_kmh = 5, capacity_per_lane_vph = 0, car = "no", speeed_kmh = 4 }
        """
    code, err = cli(capsys, "network", "summary", str(_city(tmp_path / "c", extra)))
    assert_clear_failure(code, err, "city.toml")
    assert "[network.road_class_defaults.primary] lanes = 'one'; expected a number > 0 (lanes per direction) (line 8)" in err
    assert "[network.road_class_defaults.footway] car = 'no'; expected true or false" in err
    assert "unknown key 'speeed_kmh'; did you mean 'speed_kmh'? (line 9)" in err
    assert "capacity_per_lane_vph" not in err  # 0 is a valid capacity for classes without cars


def test_watch_direction_typo_is_a_config_problem(tmp_path, capsys):
    extra = """
        [compare.watch]
        bridge = { street = "Rooigemlaan", direction = "nortbound" }
        """
    code, err = cli(capsys, "network", "summary", str(_city(tmp_path / "c", extra)))
    assert_clear_failure(code, err, "city.toml", "[compare.watch.'bridge']", "did you mean 'northbound'?")


def test_shipped_cities_pass_the_new_checks():
    for name in ("ghent", "athens", "porto"):
        import tomllib

        raw = tomllib.loads((ROOT / "data" / name / "city.toml").read_text(encoding="utf-8"))
        _, problems = parse_city_config(raw, source=name)
        assert problems == [], name


# ---------------------------------------------------------------- run options
@pytest.mark.parametrize("value", ["-1", "nan", "abc", "0", "inf"])
def test_demand_scale_is_named_and_zero_refused(value, capsys, no_models, tmp_path):
    code, err = cli(capsys, "run", "ghent", "--out", str(tmp_path), "--demand-scale", value)
    assert_clear_failure(code, err, "--demand-scale", "finite number > 0", repr(value))


@pytest.mark.parametrize("value", ["-1", "NaN", "abc", "0"])
def test_report_demand_scale_parameter_is_checked_before_the_kernel_starts(value, capsys, no_models, tmp_path):
    code, err = cli(capsys, "report", str(NOTEBOOK), "-p", "demand_scale", value, "--out", str(tmp_path))
    assert_clear_failure(code, err, "bridge_closure.ipynb", "demand_scale", "finite number > 0")


def test_demand_scale_check_as_a_function():
    assert check_demand_scale("1.25", where="x") == 1.25
    for bad in (True, None, [1.0], float("nan"), -0.5, 0.0):
        with pytest.raises(InvalidValueError, match="demand_scale must be a finite number > 0"):
            check_demand_scale(bad, where="x")


def test_models_typo_gets_did_you_mean(capsys, no_models, tmp_path):
    code, err = cli(capsys, "run", "ghent", "--out", str(tmp_path), "--models", "traffic,noize")
    assert_clear_failure(code, err, "--models", "'noize'", "did you mean 'noise'?")
    code, err = cli(capsys, "report", str(NOTEBOOK), "-p", "models", '["traffic", "ari"]', "--out", str(tmp_path))
    assert_clear_failure(code, err, "-p models", "'ari'", "did you mean 'air'?")
    assert check_models("air, traffic", where="x") == ("air", "traffic")


def test_report_unknown_parameter_and_bad_choice(capsys, no_models, tmp_path):
    code, err = cli(capsys, "report", str(NOTEBOOK), "-p", "demand_scal", "1.1", "--out", str(tmp_path))
    assert_clear_failure(code, err, "bridge_closure.ipynb", "'demand_scal'", "did you mean 'demand_scale'?")
    code, err = cli(capsys, "report", str(NOTEBOOK), "-p", "on_disconnected", "dropp", "--out", str(tmp_path))
    assert_clear_failure(code, err, "on_disconnected = 'dropp'", "did you mean 'drop'?")


# ---------------------------------------------------------------- outputs checked before computing
def test_out_under_a_file_is_refused_before_any_model_runs(tmp_path, capsys, no_models):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    points = tmp_path / "points.csv"
    points.write_text("lon,lat\n3.72,51.05\n")
    tntp = str(SHARED / "data" / "tntp" / "SiouxFalls")
    cases = [
        ("run", "ghent", "--out", str(blocker / "out")),
        ("sample", "ghent", "--points", str(points), "--out", str(blocker / "s.csv")),
        ("assign", "--tntp", tntp, "--out", str(blocker / "flows.csv")),
        ("report", str(NOTEBOOK), "--out", str(blocker / "reports")),
    ]
    for argv in cases:
        code, err = cli(capsys, *argv)
        assert_clear_failure(code, err, "--out", str(blocker), "is a file, not a folder")
    code, err = cli(capsys, "sample", "ghent", "--points", str(points), "--out", str(tmp_path))
    assert_clear_failure(code, err, "--out", "is a folder; expected a file name")


def test_out_in_a_read_only_folder_is_refused_before_any_model_runs(tmp_path, capsys, no_models, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: simulate the refusal the OS gives a user

        def denied(*args: object, **kwargs: object) -> tuple[int, str]:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr("ldtkit.cli.args.tempfile.mkstemp", denied)
    else:
        folder.chmod(0o555)
    try:
        code, err = cli(capsys, "run", "ghent", "--out", str(folder))
        assert_clear_failure(code, err, "--out", str(folder), "Permission denied")
        code, err = cli(capsys, "report", str(NOTEBOOK), "--out", str(folder))
        assert_clear_failure(code, err, "--out", "Permission denied")
    finally:
        folder.chmod(0o755)


# ---------------------------------------------------------------- points CSV
def test_header_only_points_csv_says_no_points(tmp_path, capsys, no_models):
    points = tmp_path / "points.csv"
    points.write_text("id,lon,lat\n")
    code, err = cli(capsys, "sample", "ghent", "--points", str(points), "--out", str(tmp_path / "s.csv"))
    assert_clear_failure(code, err, f"no points in {points}")
    assert "extent" not in err
    points.write_text("")
    code, err = cli(capsys, "sample", "ghent", "--points", str(points), "--out", str(tmp_path / "s.csv"))
    assert_clear_failure(code, err, f"no points in {points}", "empty")


def test_swapped_points_are_recognised():
    bounds = (X0 - 5000, Y0 - 5000, X0 + 5000, Y0 + 5000)
    lon, lat = np.array([3.71, 3.73, 3.72]), np.array([51.04, 51.06, 51.05])
    assert not swapped_inside(lon, lat, crs=CRS, bounds=bounds)  # given right: nothing to say
    assert swapped_inside(lat, lon, crs=CRS, bounds=bounds)  # given as lat, lon
    assert not swapped_inside(lon + 10, lat, crs=CRS, bounds=bounds)  # just elsewhere
    mixed = swapped_mask(np.array([3.72, 51.05, np.nan, 4.4]), np.array([51.05, 3.72, 3.72, 50.85]), crs=CRS, bounds=bounds)
    assert mixed.tolist() == [False, True, False, False]


def test_sample_says_did_you_swap(tmp_path, capsys, monkeypatch, ghent_network):
    """The traffic run is replaced by the Ghent network alone: the check is on the points."""
    net = ghent_network
    monkeypatch.setattr("ldtkit.study.runner.run", lambda *a, **k: {"baseline": SimpleNamespace(network=net)})
    points = tmp_path / "points.csv"
    points.write_text("lon,lat\n51.05,3.72\n51.06,3.73\n")
    code, err = cli(capsys, "sample", "ghent", "--points", str(points), "--out", str(tmp_path / "s.csv"))
    assert_clear_failure(code, err, str(points), "lines [2, 3]", "did you swap lat and lon?")
    points.write_text("lon,lat\n3.72,51.05\n51.06,3.73\n")  # one point right, one swapped
    code, err = cli(capsys, "sample", "ghent", "--points", str(points), "--out", str(tmp_path / "s.csv"))
    assert_clear_failure(code, err, str(points), "lines [3]", "did you swap lat and lon?")


# ---------------------------------------------------------------- scenario selectors
def test_compass_word_must_match_the_bearing():
    net = _toy()
    bearings = link_bearings_deg(net)
    assert np.allclose(bearings, [0.0, 180.0, 90.0, 270.0])
    assert compass_word(bearings).tolist() == ["northbound", "southbound", "eastbound", "westbound"]
    south = select_links(net, {"street": "Bridge St"}, direction="southbound")
    assert net.links.loc[south, "link_id"].tolist() == [2]
    with pytest.raises(SelectorError) as info:
        Scenario.from_dict({"name": "w", "measures": [{"action": "close", "street": "Bridge St", "direction": "westbound"}]}).apply(net)
    msg = str(info.value)
    assert "direction 'westbound'" in msg and "scenario 'w', measure 1" in msg
    assert "northbound (1 link, bearing 0 deg)" in msg and "southbound (1 link, bearing 180 deg)" in msg


def test_compass_tolerance_is_60_degrees():
    """A link 55 degrees off north is kept by "northbound" (with another that is due north), one 65 off is not."""
    net = _toy()
    links = net.links.copy()
    for lid, deg in [(1, 55.0), (3, 65.0)]:
        a = math.radians(deg)
        row = links.index[links["link_id"] == lid][0]
        links.loc[row, "geometry"] = LineString([(X0, Y0), (X0 + 200 * math.sin(a), Y0 + 200 * math.cos(a))])
    links.loc[links["link_id"] == 4, "geometry"] = LineString([(X0 + 200, Y0), (X0 + 200, Y0 + 200)])  # due north
    bent = net.with_links(links)
    rows = select_links(bent, {"ids": [1, 3, 4]}, direction="northbound")
    assert sorted(bent.links.loc[rows, "link_id"]) == [1, 4]


def test_westbound_on_the_ghent_bridge_is_an_error(ghent_network):
    """The Rooigemlaan bridge runs 40 / 220 degrees: south- and northbound select one side each."""
    net = ghent_network
    sel = {"street": "Rooigemlaan", "bridge": True}
    assert len(select_links(net, sel, direction="southbound")) == 1
    assert len(select_links(net, sel, direction="northbound")) == 1
    with pytest.raises(SelectorError, match=r"direction 'westbound'.*they run northbound \(1 link.*southbound \(1 link"):
        select_links(net, sel, direction="westbound")


def test_within_with_swapped_coordinates_says_so():
    net = _toy()
    lon, lat = 3.7199, 51.0550  # a point on the toy's bridge in Ghent, given the wrong way round below
    with pytest.raises(SelectorError, match="did you swap lat and lon"):
        select_links(net, {"within": f"POINT ({lat} {lon})", "buffer_m": 100.0})
    with pytest.raises(SelectorError, match="did you swap lat and lon"):
        Scenario.from_dict({"name": "s", "measures": [{"action": "close", "within": {"type": "Point", "coordinates": [lat, lon]}}]}).apply(
            net
        )


def test_within_far_away_says_how_far_and_never_claims_each_criterion_matched():
    net = _toy()
    with pytest.raises(SelectorError) as info:
        select_links(net, {"street": "Main St", "within": "POINT (4.40 50.85)"}, context="measure 1")
    msg = str(info.value)
    assert "'within'" in msg and "km from the network" in msg
    assert "each criterion matched" not in msg
    with pytest.raises(Exception, match="buffer_m = -5"):
        select_links(net, {"within": "POINT (3.72 51.05)", "buffer_m": -5.0})


# ---------------------------------------------------------------- convergence honesty
def test_assign_says_target_not_reached_and_exits_3(tmp_path, capsys):
    tntp = str(SHARED / "data" / "tntp" / "SiouxFalls")
    out = tmp_path / "flows.csv"
    code = main(["assign", "--tntp", tntp, "--gap", "1e-30", "--max-iter", "5", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 3
    assert "target not reached" in captured.out and "target not reached" in captured.err
    assert "--allow-unconverged" in captured.err and "Traceback" not in captured.err
    assert out.exists()  # the flows are written: they are the best the cap allowed
    code = main(["assign", "--tntp", tntp, "--gap", "1e-30", "--max-iter", "5", "--out", str(out), "--allow-unconverged"])
    assert code == 0 and "target not reached" in capsys.readouterr().out
    code = main(["assign", "--tntp", tntp, "--gap", "1e-4", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0 and "not reached" not in captured.out + captured.err


def _assignment(max_iter: int, gap: float) -> object:
    from ldtkit.model.assignment import SolverOptions, build_problem, solve

    pb = build_problem(
        node_ids=np.array([1, 2, 3]), from_node=np.array([1, 1, 2]), to_node=np.array([2, 3, 3]),
        free_flow_time_min=np.array([1.0, 3.0, 1.0]), capacity_vph=np.full(3, 1000.0), b=np.full(3, 0.15),
        power=np.full(3, 4.0), fixed_cost_min=np.zeros(3), allowed=np.ones((1, 3), bool),
        no_through_nodes=[], zone_ids=np.array([1, 3]), trips={"light": np.array([[0.0, 3000.0], [0.0, 0.0]])},
        pcu={"light": 1.0},
    )  # fmt: skip
    # one re-equilibration pass per iteration: a few iterations stop short of a 1e-12 gap
    sol = solve(pb, SolverOptions(gap=gap, max_iter=max_iter, inner=1))
    return SimpleNamespace(meta={"converged": sol.converged, "target_gap": gap}, gap_history=sol.gap_history, iterations=sol.iterations)


def test_unconverged_periods_are_named_with_the_gap_reached():
    stopped, done = _assignment(3, 1e-12), _assignment(500, 1e-3)
    res = {"baseline": SimpleNamespace(period_assignments={"day": done, "evening": stopped})}
    warnings = unconverged_all(res)
    assert len(warnings) == 1
    w = warnings[0]
    assert (w.scenario, w.period, w.iterations, w.target_gap) == ("baseline", "evening", 3, 1e-12)
    assert w.gap == pytest.approx(float(stopped.gap_history[-1])) and w.gap > 1e-12
    assert str(w).startswith("baseline, evening: assignment stopped after 3 iterations at gap ")
    assert unconverged(res["baseline"], scenario="x")[0].scenario == "x"


@pytest.mark.filterwarnings("ignore:.*have no path:UserWarning")
def test_run_warns_about_unconverged_periods(tmp_path, capsys, monkeypatch):
    """Athens, traffic only, with a gap target two iterations cannot reach."""
    monkeypatch.chdir(tmp_path)
    scenario = str(ROOT / "data" / "athens" / "scenarios" / "01_great_walk.toml")
    argv = ["run", "athens", "--models", "traffic", "--gap", "1e-12", "--max-iter", "2", "--no-cache", "--scenario", scenario]
    assert main([*argv, "--out", "out"]) == 0  # not an error: said, and the results are written
    captured = capsys.readouterr()
    assert "ldtkit: warning: baseline, day: assignment stopped after 2 iterations at gap " in captured.err
    assert "target 1e-12 not reached" in captured.err and "Traceback" not in captured.err
    notes = captured.out.split("notes:\n", 1)[1]
    assert "baseline, day: assignment stopped after 2 iterations" in notes
    assert (tmp_path / "out" / "athens" / "indicators.csv").exists()


@pytest.mark.filterwarnings("ignore:.*have no path:UserWarning")
def test_a_result_read_from_the_cache_still_says_it_did_not_converge(tmp_path):
    """The warning lives in the result itself: computed, then served from the cache, the same
    periods are named, and the indicator table of the cached results carries them as notes."""
    from ldtkit.study.compare import indicators_table
    from ldtkit.study.runner import run

    opts = dict(models=("traffic",), gap=1e-12, max_iter=2, cache_dir=tmp_path, progress=False)
    fresh = run("athens", [], **opts)
    cached = run("athens", [], **opts)
    assert [str(w) for w in cached["baseline"].convergence_warnings] == [str(w) for w in fresh["baseline"].convergence_warnings]
    assert "day" in [w.period for w in cached["baseline"].convergence_warnings]  # the congested period
    assert all(w.iterations == 2 and w.gap > 1e-12 for w in cached["baseline"].convergence_warnings)
    notes = with_convergence_notes(indicators_table(cached), cached).attrs["notes"]
    assert notes == [str(w) for w in cached["baseline"].convergence_warnings]


def test_indicator_table_shows_the_notes():
    from ldtkit.viz.dashboard.indicator_table import indicator_table_html

    res = {"closed": SimpleNamespace(period_assignments={"night": _assignment(2, 1e-12)})}
    table = with_convergence_notes(pd.DataFrame({"baseline": [100.0], "closed": [90.0]}, index=["vehicle_hours"]), res)
    html = indicator_table_html(table, baseline="baseline")
    assert "ldtkit-indicator-notes" in html and "closed, night: assignment stopped after 2 iterations" in html
    assert "ldtkit-indicator-notes" not in indicator_table_html(table, baseline="baseline", notes=[])


# ---------------------------------------------------------------- disconnected demand
def test_strict_disconnection_lists_the_largest_pairs_and_names_the_cli_option(tmp_path, capsys):
    folder = tmp_path / "Tiny"
    folder.mkdir()
    (folder / "Tiny_net.tntp").write_text(
        "<NUMBER OF ZONES> 3\n<NUMBER OF NODES> 3\n<FIRST THRU NODE> 1\n<NUMBER OF LINKS> 3\n<END OF METADATA>\n\n"
        "~\tinit_node\tterm_node\tcapacity\tlength\tfree_flow_time\tb\tpower\tspeed\ttoll\tlink_type\t;\n"
        "\t1\t2\t1000\t1\t1\t0.15\t4\t0\t0\t1\t;\n\t2\t1\t1000\t1\t1\t0.15\t4\t0\t0\t1\t;\n\t1\t3\t1000\t1\t1\t0.15\t4\t0\t0\t1\t;\n"
    )
    (folder / "Tiny_trips.tntp").write_text(
        "<NUMBER OF ZONES> 3\n<TOTAL OD FLOW> 65.01\n<END OF METADATA>\n\n\n"
        "Origin 1\n    2 : 10.0;    3 : 0.01;\n\nOrigin 3\n    1 : 0.02;    2 : 5.0;\n"
    )
    code, err = cli(capsys, "assign", "--tntp", str(folder), "--out", str(tmp_path / "f.csv"), "--strict")
    assert_clear_failure(code, err, "Tiny_net.tntp", "--strict", "have no path")
    assert "the largest: 3->2 (light, 5 trips), 3->1 (light, 0.02 trips)" in err  # largest first, never 0.0
    assert "on_disconnected" not in err  # the Python option is not what a CLI user can pass
    # the default: the rest is assigned, the dropped pairs are reported on stderr (one line) and stdout
    assert main(["assign", "--tntp", str(folder), "--out", str(tmp_path / "f.csv")]) == 0
    out, err = capsys.readouterr()
    assert "unassigned  2 OD pairs" in out
    warned = [line for line in err.splitlines() if line.startswith("ldtkit: warning:")]
    assert len(warned) == 1 and "Tiny_net.tntp" in warned[0] and "3->2 (light, 5 trips)" in warned[0] and "--strict" in warned[0]


# ---------------------------------------------------------------- more inputs at the edges, one line each
def _scenario(tmp_path: Path, body: str) -> str:
    path = tmp_path / "s.toml"
    path.write_text('name = "s"\n' + textwrap.dedent(body), encoding="utf-8")
    return str(path)


EDGE_CASES = {
    # label: (argv builder, what the message must name)
    "unknown city": (lambda t: ["run", "atlantis", "--out", str(t)], ["no city folder 'atlantis'", "shipped: athens, ghent, porto"]),
    "missing scenario file": (
        lambda t: ["run", "ghent", "--out", str(t), "--scenario", str(t / "nope.toml")],
        ["scenario file", "nope.toml"],
    ),
    "scenario not TOML": (lambda t: ["run", "ghent", "--out", str(t), "--scenario", _scenario(t, "[[measures]\n")], ["s.toml", "TOML"]),
    "scenario without name": (
        lambda t: ["run", "ghent", "--out", str(t), "--scenario", str((t / "n.toml", (t / "n.toml").write_text("x = 1\n"))[0])],
        ["n.toml", "'name'"],
    ),
    "unknown measure action": (
        lambda t: ["run", "ghent", "--out", str(t), "--scenario", _scenario(t, '[[measures]]\naction = "shut"\nstreet = "X"\n')],
        ["s.toml", "action 'shut'", "close"],
    ),
    "unknown selector key": (
        lambda t: ["run", "ghent", "--out", str(t), "--scenario", _scenario(t, '[[measures]]\naction = "close"\nstret = "X"\n')],
        ["s.toml", "'stret'", "did you mean 'street'"],
    ),
    "direction typo": (
        lambda t: [
            "run",
            "ghent",
            "--out",
            str(t),
            "--scenario",
            _scenario(t, '[[measures]]\naction = "close"\nstreet = "Rooigemlaan"\ndirection = "nortbound"\n'),
        ],  # fmt: skip
        ["s.toml", "direction 'nortbound'", "did you mean 'northbound'"],
    ),
    "direction places out of range": (
        lambda t: [
            "run",
            "ghent",
            "--out",
            str(t),
            "--scenario",
            _scenario(t, '[[measures]]\naction = "close"\nstreet = "X"\ndirection = { from = [51.05, 3.72], to = [200.0, 3.8] }\n'),
        ],  # fmt: skip
        ["s.toml", "direction", "lon within +-180"],
    ),
    "set value not a number": (
        lambda t: [
            "run",
            "ghent",
            "--out",
            str(t),
            "--scenario",
            _scenario(t, '[[measures]]\naction = "set"\nstreet = "X"\nlanes = "two"\n'),
        ],
        ["s.toml", "lanes = 'two'", "finite number"],
    ),
    "within not a geometry": (
        lambda t: [
            "run",
            "ghent",
            "--out",
            str(t),
            "--scenario",
            _scenario(t, '[[measures]]\naction = "close"\nwithin = "POLYGON (1 2"\n'),
        ],
        ["s.toml", "'within' is neither WKT nor a GeoJSON geometry"],
    ),
    "negative buffer": (
        lambda t: [
            "run",
            "ghent",
            "--out",
            str(t),
            "--scenario",
            _scenario(t, '[[measures]]\naction = "close"\nwithin = "POINT (3.72 51.05)"\nbuffer_m = -10\n'),
        ],  # fmt: skip
        ["s.toml", "buffer_m = -10"],
    ),
    "duplicate scenario names": (
        lambda t: ["run", "ghent", "--out", str(t), "--scenario", _scenario(t, ""), "--scenario", _scenario(t, "")],
        ["duplicate scenario names ['s']", "s.toml"],
    ),
    "missing points file": (
        lambda t: ["sample", "ghent", "--points", str(t / "p.csv"), "--out", str(t / "o.csv")],
        ["points CSV", "p.csv"],
    ),
    "points without lat column": (
        lambda t: [
            "sample",
            "ghent",
            "--points",
            str((t / "p.csv", (t / "p.csv").write_text("lon,y\n3.7,51\n"))[0]),
            "--out",
            str(t / "o.csv"),
        ],
        ["p.csv", "'lat'"],
    ),
    "points out of range": (
        lambda t: [
            "sample",
            "ghent",
            "--points",
            str((t / "p.csv", (t / "p.csv").write_text("lon,lat\n3.7,51\n3.7,151\nx,51\n"))[0]),
            "--out",
            str(t / "o.csv"),
        ],  # fmt: skip
        ["p.csv", "lines [3, 4]"],
    ),
    "missing notebook": (lambda t: ["report", str(t / "nb.ipynb"), "--out", str(t)], ["report notebook", "nb.ipynb"]),
    "missing TNTP folder": (lambda t: ["assign", "--tntp", str(t / "tntp"), "--out", str(t / "f.csv")], ["TNTP", "tntp"]),
    "cache limit not finite": (lambda t: ["run", "ghent", "--out", str(t), "--cache-max-mb", "inf"], ["--cache-max-mb = inf", "megabytes"]),
}


@pytest.mark.parametrize("label", sorted(EDGE_CASES))
def test_bad_input_at_the_edges_gets_one_clear_line(label, tmp_path, capsys, no_models):
    build, culprits = EDGE_CASES[label]
    code, err = cli(capsys, *build(tmp_path))
    assert_clear_failure(code, err, *culprits)
    assert len(err.strip().splitlines()) == 1, err


def test_the_reliability_table_names_tests_that_exist():
    """docs/reliability.md: at least 40 input classes, each pointing to a test that exists."""
    import re

    doc = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if re.match(r"^\| \d+ \|", line)]
    assert len(rows) >= 40
    for row in rows:
        refs = re.findall(r"`((?:R|tests/[\w/]+\.py))::(\w+)(?:\[([^\]]+)\])?`", row)
        assert refs, row
        for file, name, case in refs:
            path = Path(__file__) if file == "R" else ROOT / file
            if name == "edges":
                assert case in EDGE_CASES, row
            else:
                assert re.search(rf"^def {name}\(", path.read_text(encoding="utf-8"), flags=re.M), f"{file}::{name}"


def test_cache_limit_option_is_checked_and_passed_to_the_run(tmp_path, capsys, monkeypatch):
    code, err = cli(capsys, "run", "ghent", "--out", str(tmp_path), "--cache-max-mb", "0")
    assert_clear_failure(code, err, "--cache-max-mb", "expected a number > 0, got '0'", exit_code=2)
    monkeypatch.setenv("LDTKIT_CACHE_MAX_MB", "lots")
    code, err = cli(capsys, "run", "ghent", "--out", str(tmp_path))
    assert_clear_failure(code, err, "LDTKIT_CACHE_MAX_MB = 'lots'")
    monkeypatch.delenv("LDTKIT_CACHE_MAX_MB")
    seen = {}

    def fake_run(city, scenarios, **kwargs):
        seen.update(kwargs)
        raise KeyboardInterrupt  # stop here: only the options matter

    monkeypatch.setattr("ldtkit.study.runner.run", fake_run)
    assert main(["run", "ghent", "--out", str(tmp_path), "--cache-max-mb", "300"]) == 130
    assert seen["cache_max_mb"] == 300.0


@pytest.mark.filterwarnings("error:.*have no path:UserWarning")  # the CLI words it: no raw Python warning
def test_run_drop_mode_lists_the_largest_dropped_pairs_and_names_strict(tmp_path, capsys, monkeypatch):
    """Athens with a street closed in a scenario whose demand zone it cuts off: by default the rest
    is assigned and a warning lists the largest dropped pairs (never zero trips) and ``--strict``."""
    from dataclasses import replace

    import ldtkit.study.runner as runner

    pairs = pd.DataFrame({"origin": [1, 2, 3], "destination": [9, 9, 8], "class": ["light"] * 3, "trips": [0.01, 12.5, 3.0]})
    real = runner.run

    def run_with_drops(*args, **kwargs):
        results = real(*args, **kwargs)
        a = results["baseline"].period_assignments["day"]
        results["baseline"].period_assignments["day"] = replace(a, unassigned=pairs)
        return results

    monkeypatch.setattr("ldtkit.study.runner.run", run_with_drops)
    monkeypatch.chdir(tmp_path)
    scenario = str(ROOT / "data" / "athens" / "scenarios" / "01_great_walk.toml")
    assert main(["run", "athens", "--models", "traffic", "--no-cache", "--scenario", scenario, "--out", "out"]) == 0
    out, err = capsys.readouterr()
    assert "baseline, day: 3 OD pairs without a path, 15.5 trips/h dropped" in out
    warned = [line for line in err.splitlines() if line.startswith("ldtkit: warning: baseline, day:")]
    assert len(warned) == 1 and "Traceback" not in err
    assert "the largest: 2->9 (light, 12.5 trips), 3->8 (light, 3 trips), 1->9 (light, 0.01 trips)" in warned[0]
    assert "0.0 trips" not in err and "--strict" in warned[0]


def test_the_model_warning_lists_the_largest_pairs_first():
    """The Python warning of a dropped pair (no CLI): largest first, three significant digits."""
    from ldtkit.model.assignment import SolverOptions, build_problem, solve

    pb = build_problem(
        node_ids=np.array([1, 2, 3]), from_node=np.array([1, 2, 1]), to_node=np.array([2, 1, 3]),
        free_flow_time_min=np.ones(3), capacity_vph=np.full(3, 1000.0), b=np.full(3, 0.15), power=np.full(3, 4.0),
        fixed_cost_min=np.zeros(3), allowed=np.ones((1, 3), bool), no_through_nodes=[], zone_ids=np.array([1, 2, 3]),
        trips={"light": np.array([[0.0, 10.0, 0.01], [0.0, 0.0, 0.0], [0.02, 5.0, 0.0]])}, pcu={"light": 1.0},
    )  # fmt: skip
    largest = r"2 OD pairs with demand \(5.02 trips\) have no path; the largest: 3->2 \(light, 5 trips\), 3->1 \(light, 0.02 trips\);"
    with pytest.raises(DisconnectedDemandError, match=largest):
        solve(pb, SolverOptions(gap=1e-6))
    with pytest.warns(UserWarning, match=largest):
        solve(pb, SolverOptions(gap=1e-6, on_disconnected="drop"))


def test_disk_full_while_writing_an_output_names_it_and_leaves_the_old_file(tmp_path, capsys, monkeypatch):
    """A GeoPackage writer that fills the disk half-way: exit 1, one line naming the file, the
    previous output untouched and no temporary file left beside it."""
    import errno

    import ldtkit.io

    def disk_full(gdf, path, layer):
        Path(path).write_bytes(b"GPKG half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ldtkit.io, "_to_gpkg", disk_full)
    folder = tmp_path / "out" / "athens"
    folder.mkdir(parents=True)
    (folder / "links.gpkg").write_bytes(b"previous run")
    scenario = str(ROOT / "data" / "athens" / "scenarios" / "01_great_walk.toml")
    argv = ["run", "athens", "--models", "traffic", "--no-cache", "--scenario", scenario, "--out", str(tmp_path / "out")]
    code, err = cli(capsys, *argv)
    assert code == 1 and "Traceback" not in err  # above it: the progress bars of the run
    last = err.strip().splitlines()[-1]
    assert last == f"ldtkit: error: cannot write {folder / 'links.gpkg'}: No space left on device; nothing was written there"
    assert (folder / "links.gpkg").read_bytes() == b"previous run"
    assert sorted(p.name for p in folder.iterdir()) == ["links.gpkg"], "no partial or temporary file"
