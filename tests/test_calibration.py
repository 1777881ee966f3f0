"""OD matrix estimation to counts: a known truth recovered on TNTP networks, the CLI, bad counts.

Setup of the recovery tests (the same as benchmarks/calibration.py): counts are the best-known
flows on a seeded random 20 % of the links; the prior is the true matrix with every cell
multiplied by a seeded lognormal factor (sigma 0.3).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from ldtkit.cli import main
from ldtkit.errors import InvalidValueError
from ldtkit.model.calibration import calibrate_demand, geh, known_truth, link_od_flows
from ldtkit.model.demand import Demand, read_omx
from ldtkit.model.loaders.tntp import demand_from_tntp, flows_from_tntp, read_trips_file
from ldtkit.model.network import network_from_tntp
from ldtkit.study.observations import calibrate_tntp, read_counts_csv

SEED = 17


def recovery_figures(folder: Path):
    kt = known_truth(folder, seed=SEED)
    res = calibrate_demand(kt.network, kt.prior, counted_rows=kt.counted_rows, count_vph=kt.count_vph)
    return res, kt.figures(res)


@pytest.mark.parametrize("name", ["SiouxFalls", "Anaheim"])
def test_known_truth_is_recovered(shared, name):
    res, fig = recovery_figures(shared / "data" / "tntp" / name)
    assert fig["geh_share_counted"] >= 0.95, fig
    assert fig["within_50pct"] >= 0.95, fig
    assert res.converged
    # the fit on the counted links improves from the prior to the calibrated matrix
    assert res.steps[-1].rmse_counted_vph < 0.2 * res.steps[0].rmse_counted_vph
    if name == "Anaheim":
        assert fig["uncounted_rmse_reduction"] >= 0.30, fig
    else:  # 15 counted links of 76: one draw of counts and noise says little (over 300 draws the
        # reduction ranges from -11 % to 64 %), the next tests measure the average over 100 draws
        assert fig["uncounted_rmse_reduction"] > 0.0, fig


def reductions(folder: Path, seeds: range, **options: bool) -> np.ndarray:
    out = []
    for seed in seeds:
        kt = known_truth(folder, seed=seed)
        res = calibrate_demand(kt.network, kt.prior, counted_rows=kt.counted_rows, count_vph=kt.count_vph, **options)
        out.append(kt.figures(res)["uncounted_rmse_reduction"])
    return np.array(out)


def test_fitting_the_prior_s_scale_lowers_the_error_on_uncounted_links(shared):
    # the lognormal prior is too high by exp(sigma^2 / 2) on average: every count measures that
    # level, each cell factor is seen by a few counts only
    folder = shared / "data" / "tntp" / "SiouxFalls"
    with_scale = reductions(folder, range(100))
    cells_only = reductions(folder, range(100), fit_scale=False)
    # measured: 32.6 % against 26.3 % on average (64 and 38 of the 100 draws reach 30 %)
    assert with_scale.mean() >= 0.28
    assert with_scale.mean() - cells_only.mean() >= 0.04


@pytest.mark.xfail(
    strict=True,
    reason="15 counted links of 76 carry only part of the prior's error on the other 61: seed 17 reaches 5.6 %; over "
    "300 draws the reduction averages 31.8 % (from -11 % to 64 %) and 58 % of the draws reach 30 %; a linear estimate "
    "that knows the true routes reaches 6.7 % at seed 17 and 30 % on 54 % of the draws",
)
def test_siouxfalls_uncounted_error_falls_by_30_percent(shared):
    _, fig = recovery_figures(shared / "data" / "tntp" / "SiouxFalls")
    assert fig["uncounted_rmse_reduction"] >= 0.30, fig


@pytest.mark.slow
def test_known_truth_is_recovered_chicago_sketch(shared):
    res, fig = recovery_figures(shared / "data" / "tntp" / "Chicago-Sketch")
    assert fig["geh_share_counted"] >= 0.95, fig
    assert fig["uncounted_rmse_reduction"] >= 0.30, fig
    assert fig["within_50pct"] >= 0.95, fig


def test_calibration_is_deterministic_and_keeps_empty_cells(shared):
    folder = shared / "data" / "tntp" / "SiouxFalls"
    kt = known_truth(folder)
    net, prior, rows, counts = kt.network, kt.prior, kt.counted_rows, kt.count_vph
    a = calibrate_demand(net, prior, counted_rows=rows, count_vph=counts, max_iter=2)
    b = calibrate_demand(net, prior, counted_rows=rows, count_vph=counts, max_iter=2)
    np.testing.assert_array_equal(a.demand.trips["light"], b.demand.trips["light"])
    empty = prior.trips["light"] == 0
    assert (a.demand.trips["light"][empty] == 0).all()
    assert (a.factor[~empty] >= 0.05).all()
    assert "GEH<5 share" in a.report()


def test_counts_equal_to_the_prior_equilibrium_leave_the_matrix_alone(shared):
    folder = shared / "data" / "tntp" / "SiouxFalls"
    kt = known_truth(folder)
    net, true, rows = kt.network, kt.truth, kt.counted_rows
    res0 = calibrate_demand(net, true, counted_rows=rows, count_vph=np.ones(len(rows)), max_iter=1)
    flows = res0.prior_assignment.flow_pcu
    res = calibrate_demand(net, true, counted_rows=rows, count_vph=flows[rows])
    assert res.converged and len(res.steps) == 2
    np.testing.assert_allclose(res.factor, 1.0, atol=0.01)


def test_link_od_flows_add_up_to_the_link_flows(shared):
    folder = shared / "data" / "tntp" / "SiouxFalls"
    kt = known_truth(folder)
    net, true = kt.network, kt.truth
    res = calibrate_demand(net, true, counted_rows=[0], count_vph=[1.0], max_iter=1).prior_assignment
    rows = np.arange(len(res.flow_pcu))
    f, r, _ = link_od_flows(res.path_state, true.zone_ids, rows)
    np.testing.assert_allclose(np.bincount(r, weights=f, minlength=len(rows)), res.flow_pcu, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize(
    ("rows", "counts", "message"),
    [
        ([0, 1], [100.0, -5.0], "count must be finite and >= 0"),
        ([0, 0], [100.0, 200.0], "counted more than once"),
        ([0, 9999], [100.0, 200.0], "are not links of the network"),
    ],
)
def test_bad_counts_are_refused_with_the_link(shared, rows, counts, message):
    folder = shared / "data" / "tntp" / "SiouxFalls"
    net = network_from_tntp(folder)
    with pytest.raises(InvalidValueError, match=message):
        calibrate_demand(net, demand_from_tntp(folder), counted_rows=rows, count_vph=counts, source="counts.csv")


def test_counts_with_a_prior_without_trips_name_the_links(shared):
    folder = shared / "data" / "tntp" / "SiouxFalls"
    net = network_from_tntp(folder)
    true = demand_from_tntp(folder)
    empty = Demand(true.zone_ids, {"light": np.zeros_like(true.trips["light"])}, pcu={"light": 1.0})
    with pytest.raises(InvalidValueError, match=r"counts.csv: the prior has no trips.*counted links \[76\]"):
        calibrate_demand(net, empty, counted_rows=[75], count_vph=[500.0], source="counts.csv")


def test_a_counted_link_no_route_uses_is_reported(shared):
    folder = shared / "data" / "tntp" / "SiouxFalls"
    net = network_from_tntp(folder)
    true = demand_from_tntp(folder)
    # only trips from zone 1 to zone 2: link 76 (24 -> 23) is on no route of theirs
    only = np.zeros_like(true.trips["light"])
    only[0, 1] = 100.0
    prior = Demand(true.zone_ids, {"light": only}, pcu={"light": 1.0})
    res = calibrate_demand(net, prior, counted_rows=[0, 75], count_vph=[150.0, 500.0])
    assert res.unreached_link_ids.tolist() == [76]
    assert "1 counted links carry no modelled traffic" in res.report()
    assert res.assignment.flow_pcu[0] == pytest.approx(150.0, rel=0.02)


def _counts_file(folder: Path, path: Path, rows: np.ndarray) -> Path:
    fl = flows_from_tntp(folder)
    df = fl.iloc[rows][["init_node", "term_node"]].assign(count=fl["flow"].iloc[rows].round(2))
    df.to_csv(path, index=False)
    return path


def test_cli_writes_trips_and_flows_like_assign(shared, tmp_path, capsys):
    folder = shared / "data" / "tntp" / "SiouxFalls"
    rows = known_truth(folder).counted_rows
    counts = _counts_file(folder, tmp_path / "counts.csv", rows)
    out = tmp_path / "out"
    assert main(["calibrate", "--tntp", str(folder), "--counts", str(counts), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "15 matched, 0 ambiguous, 0 unmatched" in text
    flows = pd.read_csv(out / "flows.csv")
    assert flows.columns.tolist() == ["init_node", "term_node", "flow", "cost"]
    assert len(flows) == 76
    c = pd.read_csv(counts)
    got = flows.set_index(["init_node", "term_node"]).loc[list(zip(c["init_node"], c["term_node"], strict=True)), "flow"].to_numpy()
    assert (geh(got, c["count"].to_numpy()) < 5).all()
    tntp = read_trips_file(out / "trips.tntp")
    assert tntp.zone_ids.tolist() == list(range(1, 25))
    np.testing.assert_allclose(tntp.matrix, read_omx(out / "trips.omx").trips["light"], rtol=1e-6)
    assert pd.read_csv(out / "validation.csv")["geh_below_5"].all()


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("init_node,term_node,count\n1,2,100\n2,1,-3\n", "site 2-1: count must be finite and >= 0"),
        ("init_node,term_node,count\n1,2,100\n1,2,120\n", "duplicate counts for site 1-2"),
        ("init_node,term_node,count\n1,2,100\n1,24,120\n", "site 1-24: no link from node 1 to node 24"),
        ("site_id,link_id,count\nA,1,100\nB,7777,120\n", "site B: link_id 7777 is not a link of the network"),
    ],
)
def test_cli_bad_counts_name_the_site_and_write_nothing(shared, tmp_path, capsys, csv, message):
    folder = shared / "data" / "tntp" / "SiouxFalls"
    counts = tmp_path / "counts.csv"
    counts.write_text(csv)
    out = tmp_path / "out"
    assert main(["calibrate", "--tntp", str(folder), "--counts", str(counts), "--out", str(out)]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_counts_of_one_class_are_refused_for_calibration(shared):
    folder = shared / "data" / "tntp" / "SiouxFalls"
    counts = read_counts_csv(io.StringIO("init_node,term_node,vehicle_class,count\n1,2,heavy,100\n"), source="c.csv")
    with pytest.raises(InvalidValueError, match="c.csv: calibration takes counts of every vehicle"):
        calibrate_tntp(folder, counts)


# ------------------------------------------------------------------ a city's calibrated matrix
@pytest.fixture(scope="module")
def porto_calibrated(tmp_path_factory):
    """A copy of the shipped Porto city calibrated to synthetic counts: its 20 busiest links
    counted at 1.3 times the flow of its synthesised demand."""
    import shutil
    import warnings

    from ldtkit.model.assignment import assign
    from ldtkit.resources import shipped_cities_dir
    from ldtkit.study.inputs import demand_for_city

    root = tmp_path_factory.mktemp("city") / "porto"
    shutil.copytree(shipped_cities_dir() / "porto", root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the extract's cleanup share, reported by the city tests
        net, demand = demand_for_city(root, progress=False)
    flow = np.asarray(sum(assign(net, demand, gap=1e-4, progress=False).flow_vph.values()))
    rows = np.argsort(-flow)[:20]
    counts = pd.DataFrame(
        {"site_id": [f"S{i}" for i in range(20)], "link_id": net.links["link_id"].to_numpy()[rows], "count": (1.3 * flow[rows]).round(1)}
    )
    counts.to_csv(root.parent / "counts.csv", index=False)
    return root, demand, counts, net, flow


def test_city_calibration_is_saved_in_the_city_folder_and_used_by_every_run(porto_calibrated, capsys):
    from ldtkit.study.inputs import demand_for_city
    from ldtkit.study.runner import ModelOptions, prepare_city

    root, synthesised, counts, _, _ = porto_calibrated
    fingerprint = load_city_fingerprint(root)
    assert main(["calibrate", str(root), "--counts", str(root.parent / "counts.csv")]) == 0
    out = capsys.readouterr().out
    assert 'od_matrix = "calibrated/trips.omx"' in out
    assert {p.name for p in (root / "calibrated").iterdir()} == {
        "trips.omx",
        "trips.tntp",
        "flows.csv",
        "validation.csv",
        "convergence.txt",
    }
    val = pd.read_csv(root / "calibrated" / "validation.csv")
    assert len(val) == 20 and val["geh_below_5"].mean() >= 0.95 and (val["prior_geh"] >= 5).mean() > 0.5
    saved = read_omx(root / "calibrated" / "trips.omx")
    assert saved.period_factors == synthesised.period_factors  # a mean day hour, as the city's demand
    assert saved.total() > 1.05 * synthesised.total()  # the counts ask for 30 % more on the busiest links
    # not used until city.toml says so; then by every run (the inputs every scenario starts from)
    cfg = root / "city.toml"
    cfg.write_text(cfg.read_text().replace("[demand]\n", '[demand]\nod_matrix = "calibrated/trips.omx"\n', 1))
    assert load_city_fingerprint(root) != fingerprint  # cached results of the synthesised demand are not reused
    _, used = demand_for_city(root, progress=False)
    for c in synthesised.trips:
        np.testing.assert_allclose(used.trips[c], saved.trips[c])
    inputs = prepare_city(root, options=ModelOptions(models=("traffic",)), progress=False)
    assert inputs.demand.total() == pytest.approx(saved.total())
    assert inputs.demand.meta["od_matrix"].endswith("trips.omx")
    # calibrating again starts from the synthesised demand, not from the last calibration
    _, prior = demand_for_city(root, progress=False, od_matrix=False)
    assert prior.total() == pytest.approx(synthesised.total())


def test_a_city_matrix_of_other_zones_is_refused_naming_the_key(porto_calibrated, tmp_path):
    from ldtkit.errors import ConfigError
    from ldtkit.model.demand import write_omx
    from ldtkit.study.inputs import demand_from_od_matrix

    _, synthesised, _, _, _ = porto_calibrated
    z = np.asarray(synthesised.zone_ids)[:-1]
    other = Demand(z, {c: m[:-1, :-1] for c, m in synthesised.trips.items()}, pcu=dict(synthesised.pcu))
    f = write_omx(other, tmp_path / "old.omx")
    with pytest.raises(
        ConfigError,
        match=rf"city.toml: \[demand\] od_matrix .*old.omx does not fit.*city zones missing \[{int(synthesised.zone_ids[-1])}\]",
    ):
        demand_from_od_matrix(synthesised, f, source="city.toml")


def load_city_fingerprint(root: Path) -> str:
    from ldtkit.study.city import load_city

    return load_city(root).fingerprint()


def test_omx_keeps_zone_ids_beyond_32_bits(tmp_path):
    from ldtkit.model.demand import write_omx

    ids = np.array([7623483446, 7623483447, 12], dtype=np.int64)  # zone nodes numbered after OSM node ids
    d = Demand(ids, {"light": np.arange(9.0).reshape(3, 3)}, pcu={"light": 1.0})
    back = read_omx(write_omx(d, tmp_path / "t.omx"))
    assert back.zone_ids.tolist() == ids.tolist()
    np.testing.assert_array_equal(back.trips["light"], d.trips["light"])


def test_the_report_shows_the_count_validation_when_the_city_has_counts(porto_calibrated, tmp_path):
    from types import SimpleNamespace

    import matplotlib

    matplotlib.use("Agg")
    from ldtkit.study.city import load_city
    from ldtkit.viz.observations import count_sites_table, count_validation, count_validation_table, show_count_validation

    root, _, counts, net, flow = porto_calibrated
    result = SimpleNamespace(network=net, traffic={"day": SimpleNamespace(total_vph=flow)})
    city = load_city(root)
    assert city.config.demand.counts is None  # not configured: nothing shown
    assert count_validation(city, result) is None and show_count_validation(city, result) is False
    cfg = root / "city.toml"
    cfg.write_text(cfg.read_text().replace("[demand]\n", '[demand]\ncounts = "../counts.csv"\n', 1))
    stats = count_validation(load_city(root), result)
    assert len(stats.sites) == len(counts)
    # every count is 1.3 times the modelled flow: slope 1 / 1.3, a perfect correlation
    assert stats.slope == pytest.approx(1 / 1.3, rel=1e-3) and stats.r2 == pytest.approx(1.0, abs=1e-3)
    table = count_validation_table(stats)
    assert table.set_index("statistic").loc["sites", "value"] == "20"
    sites = count_sites_table(stats)
    assert len(sites) == 20 and sites["GEH"].is_monotonic_decreasing
    assert sorted(sites["site"]) == sorted(counts["site_id"])
    np.testing.assert_allclose(sorted(sites["counted (veh/h)"]), sorted(counts["count"].round()))
    assert show_count_validation(load_city(root), result) is True


def test_counts_of_a_period_without_demand_name_the_sites_and_write_nothing(tmp_path, capsys):
    import shutil

    from ldtkit.resources import shipped_cities_dir

    root = tmp_path / "porto"
    shutil.copytree(shipped_cities_dir() / "porto", root)
    cfg = root / "city.toml"
    text = cfg.read_text()
    start = text.index("hourly_profile = [")
    end = text.index("]", start) + 1
    night_free = [0.0] * 7 + [0.07] * 12 + [0.04] * 4 + [0.0]  # no trips 23-07
    cfg.write_text(text[:start] + f"hourly_profile = {night_free}" + text[end:])
    net = load_city_network(root)
    ids = net.links["link_id"].to_numpy()[:2]
    (tmp_path / "counts.csv").write_text(f"site_id,link_id,hour,count\nN1,{ids[0]},2,40\nN2,{ids[1]},3,25\n")
    out = tmp_path / "out"
    code = main(["calibrate", str(root), "--counts", str(tmp_path / "counts.csv"), "--period", "night", "--out", str(out)])
    assert code == 1
    assert "sites ['N1', 'N2'] count period 'night', in which porto has no traffic demand" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def load_city_network(root: Path):
    import warnings

    from ldtkit.study.city import load_city

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_city(root).load_network()


def test_cli_malformed_ngsi_ld_counts_name_the_entity_and_write_nothing(shared, tmp_path, capsys):
    import json

    folder = shared / "data" / "tntp" / "SiouxFalls"
    good = {"id": "urn:ngsi-ld:TrafficFlowObserved:a", "type": "TrafficFlowObserved", "intensity": {"type": "Property", "value": 10}}
    bad = {"id": "urn:ngsi-ld:TrafficFlowObserved:b", "type": "TrafficFlowObserved"}
    counts = tmp_path / "counts.json"
    counts.write_text(json.dumps([good, bad]))
    out = tmp_path / "out"
    assert main(["calibrate", "--tntp", str(folder), "--counts", str(counts), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "counts.json" in err and "urn:ngsi-ld:TrafficFlowObserved:b" in err and "urn:ngsi-ld:TrafficFlowObserved:a" not in err
    assert not out.exists() or not any(out.iterdir())


def test_calibration_notebook_fits_the_counts_and_writes_the_matrix(shared, tmp_path):
    """The calibration notebook, run headless on SiouxFalls: the counts are met and the matrix is written."""
    from ldtkit.viz.report import run_report

    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "calibration.ipynb"
    params = {"tntp": str(shared / "data" / "tntp" / "SiouxFalls"), "out_dir": str(tmp_path / "out")}
    executed, _ = run_report(notebook, params, out_dir=tmp_path)
    text = "".join(o.get("text", "") for c in nbformat.read(executed, as_version=4).cells for o in c.get("outputs", []))
    assert "15 counted links of 76" in text and "converged: True" in text
    reduction = float(re.search(r"reduction (-?[\d.]+)%", text).group(1))
    assert reduction > 0.0  # the uncounted links come closer to the best-known flows (5.6 % at seed 17: one draw says little)
    assert read_trips_file(tmp_path / "out" / "trips.tntp").zone_ids.tolist() == list(range(1, 25))
    calibrated = pd.read_csv(tmp_path / "out" / "validation.csv")
    assert len(calibrated) == 15 and calibrated["geh_below_5"].all()


def test_the_prior_s_level_follows_the_counts_in_total(shared):
    folder = shared / "data" / "tntp" / "SiouxFalls"
    kt = known_truth(folder)
    net, prior, rows = kt.network, kt.prior, kt.counted_rows
    flows = calibrate_demand(net, prior, counted_rows=rows, count_vph=np.ones(len(rows)), max_iter=1).prior_assignment.flow_pcu[rows]
    cells = np.asarray(sum(prior.trips.values())) > 0
    # counts 20 % above the model on every counted link: the whole matrix, seen or not, goes up 20 %
    up = calibrate_demand(net, prior, counted_rows=rows, count_vph=1.2 * flows)
    assert up.scale == pytest.approx(1.2, rel=1e-9)
    assert np.median(up.factor[cells]) == pytest.approx(1.2, abs=0.01)
    # counts off link by link but equal to the model in total: the level stays, the cells the
    # counts never see keep the prior's trips
    noise = np.exp(np.random.default_rng(3).normal(0.0, 0.3, len(rows)))
    level = calibrate_demand(net, prior, counted_rows=rows, count_vph=flows * noise * flows.sum() / (flows * noise).sum())
    assert level.scale == 1.0
    assert np.median(level.factor[cells]) == pytest.approx(1.0, abs=0.01)
    assert level.steps[-1].rmse_counted_vph < level.steps[0].rmse_counted_vph
