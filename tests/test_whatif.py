"""What-if scenarios from a computed baseline: the noise map updated from the sources whose power
changed equals a full recompute; a new Ghent scenario (traffic, noise, air) takes seconds."""

from __future__ import annotations

import time

import numpy as np
import pytest
from test_noise_map import _network, _receptors, _traffic

from ldtkit.errors import InvalidValueError
from ldtkit.model.noise import changed_lines, compute_noise, compute_noise_many, noise_propagation, update_noise
from ldtkit.model.noise.tables import A_WEIGHTING_DB
from ldtkit.model.traffic import LinkTraffic


def _grid_city():
    xs = np.arange(0, 1201, 150.0)
    lines = [[(x, 0.0), (x, 1200.0)] for x in xs] + [[(0.0, y), (1200.0, y)] for y in xs]
    net = _network(lines, both_ways=True)
    gx, gy = np.meshgrid(np.arange(-200, 1401, 80.0), np.arange(-200, 1401, 80.0))
    return net, _receptors(gx.ravel(), gy.ravel())


def _scaled(traffic, factor):
    return {p: LinkTraffic(t.link_id, t.light_vph * factor, t.heavy_vph * factor, t.speed_kmh) for p, t in traffic.items()}


def test_update_equals_full_recompute_and_tolerance_bounds_the_error():
    net, rec = _grid_city()
    prop = noise_propagation(net, rec, cutoff_m=800.0)  # far-field groups in use
    base_traffic = _traffic(net, 400.0, 30.0)
    base = compute_noise(net, base_traffic, rec, propagation=prop, progress=False)
    rng = np.random.default_rng(7)
    n = len(net.links)
    factor = np.where(rng.uniform(size=n) < 0.3, rng.uniform(0.0, 2.0, n), 1.0 + rng.uniform(-0.005, 0.005, n))
    factor[:2] = 0.0  # one road closed both ways
    scen = _scaled(base_traffic, factor)
    full = compute_noise(net, scen, rec, reference_traffic=base_traffic, propagation=prop, progress=False)
    exact = update_noise(net, base, base_traffic, scen, propagation=prop, tolerance_db=0.0)
    np.testing.assert_allclose(exact.lden_db, full.lden_db, atol=1e-9)
    assert exact.meta["changed_lines"] == exact.meta["source_lines"]
    for tol in (0.05, 0.2):
        approx = update_noise(net, base, base_traffic, scen, propagation=prop, tolerance_db=tol)
        assert 0 < approx.meta["changed_lines"] < approx.meta["source_lines"]
        assert approx.meta["pair_evaluations"] < exact.meta["pair_evaluations"]
        for col in ("lday_db", "levening_db", "lnight_db", "lden_db"):
            assert np.abs(getattr(approx, col) - getattr(full, col)).max() <= tol + 1e-9
    # compute_noise_many updates a single state from the baseline's map
    many = compute_noise_many(net, {"s": scen}, rec, reference_traffic=base_traffic, baseline_map=base, propagation=prop)["s"]
    assert many.meta["changed_lines"] < many.meta["source_lines"]
    assert np.abs(many.lden_db - full.lden_db).max() <= 0.05 + 1e-9
    with pytest.raises(InvalidValueError, match="coefficients='2021'.*expected '2015'"):
        compute_noise_many(net, {"s": scen}, rec, reference_traffic=base_traffic, baseline_map=base, propagation=prop, coefficients="2015")
    # nothing changed: the baseline's levels, no evaluation
    same = update_noise(net, base, base_traffic, base_traffic, propagation=prop)
    np.testing.assert_allclose(same.lden_db, base.lden_db, atol=1e-12)
    assert same.meta["pair_evaluations"] == 0


def test_skipping_distant_changes_within_the_budget_saves_evaluations_and_keeps_the_tolerance():
    from ldtkit.model.noise.compute import line_powers
    from ldtkit.model.noise.incremental import energy_change

    # receptors in one corner of a 2.4 km grid of 200 m roads, every road's traffic changed by up to 10 %
    xs = np.arange(0, 2401, 200.0)
    lines = [[(x, y), (x, y + 200.0)] for x in xs for y in xs[:-1]] + [[(x, y), (x + 200.0, y)] for y in xs for x in xs[:-1]]
    net = _network(lines)
    gx, gy = np.meshgrid(np.arange(10, 400, 40.0), np.arange(10, 400, 40.0))
    rec = _receptors(gx.ravel(), gy.ravel())
    prop = noise_propagation(net, rec, cutoff_m=3000.0)
    base_traffic = _traffic(net, 400.0, 30.0)
    base = compute_noise(net, base_traffic, rec, propagation=prop, progress=False)
    scen = _scaled(base_traffic, np.random.default_rng(3).uniform(0.9, 1.1, len(net.links)))
    full = compute_noise(net, scen, rec, reference_traffic=base_traffic, propagation=prop, progress=False)
    w_base, w_new = (line_powers(t, prop, coefficients="2021", surface="DEF") for t in (base_traffic, scen))
    e_base = 10.0 ** (np.stack([base.lday_db, base.levening_db, base.lnight_db], axis=1) / 10.0)
    full_level = np.stack([full.lday_db, full.levening_db, full.lnight_db], axis=1)
    # with a zero tolerance the budgeted kernel sums what the map kernel does
    exact_map, exact_budget = (energy_change(prop, w_base, w_new, tolerance_db=0.0, base_energy=e) for e in (None, e_base))
    scale = np.abs(exact_map.energy).max()
    np.testing.assert_allclose(exact_budget.energy, exact_map.energy, rtol=1e-9, atol=1e-12 * scale)
    assert exact_budget.n_pairs == exact_map.n_pairs
    tol = 0.2
    lines_only = energy_change(prop, w_base, w_new, tolerance_db=tol)
    budgeted = energy_change(prop, w_base, w_new, tolerance_db=tol, base_energy=e_base)
    assert budgeted.n_pairs < 0.8 * lines_only.n_pairs
    for change in (lines_only, budgeted):
        level = 10.0 * np.log10(e_base + np.einsum("rmb,b->rm", change.energy, 10.0 ** (A_WEIGHTING_DB / 10.0)))
        assert 0.0 < np.abs(level - full_level).max() <= tol
    with pytest.raises(InvalidValueError, match="base_energy"):
        energy_change(prop, w_base, w_new, base_energy=e_base[:, :2])


def test_a_receptor_whose_only_road_closes_goes_silent():
    net = _network([[(0.0, 0.0), (200.0, 0.0)], [(0.0, 2000.0), (200.0, 2000.0)]])
    rec = _receptors([100.0, 100.0], [20.0, 1980.0])
    prop = noise_propagation(net, rec, cutoff_m=500.0)
    base_traffic = _traffic(net, 800.0, 50.0)
    base = compute_noise(net, base_traffic, rec, propagation=prop, progress=False)
    closed = update_noise(net, base, base_traffic, _scaled(base_traffic, np.array([0.0, 1.0])), propagation=prop)
    assert np.isneginf(closed.lden_db[0]) and closed.lden_db[1] == pytest.approx(base.lden_db[1], abs=1e-12)


def test_changed_lines_and_errors():
    w = np.ones((3, 5, 8))
    w2 = w.copy()
    w2[2, 4, 7] = 10 ** (0.06 / 10)  # +0.06 dB in one band at night
    w2[0, 1] = 10 ** (-0.04 / 10)  # -0.04 dB
    assert changed_lines(w, w2, tolerance_db=0.05).tolist() == [False, False, False, False, True]
    assert changed_lines(w, w2, tolerance_db=0.0).tolist() == [False, True, False, False, True]
    with pytest.raises(InvalidValueError, match="tolerance_db"):
        changed_lines(w, w2, tolerance_db=-1.0)
    net, rec = _grid_city()
    prop = noise_propagation(net, rec, cutoff_m=800.0)
    t = _traffic(net, 400.0, 30.0)
    base = compute_noise(net, t, rec, propagation=prop, progress=False)
    other = noise_propagation(net, rec, cutoff_m=600.0)
    with pytest.raises(InvalidValueError, match="cutoff_m"):
        update_noise(net, base, t, t, propagation=other)
    with pytest.raises(InvalidValueError, match="different receptors"):
        update_noise(net, base, t, t, propagation=noise_propagation(net, _receptors([0.0], [0.0]), cutoff_m=800.0))


def test_periods_solved_at_once_equal_the_periods_in_turn():
    from conftest import SHARED

    from ldtkit.model.loaders.tntp import demand_from_tntp
    from ldtkit.model.network import network_from_tntp
    from ldtkit.study.periods import assign_periods, kernels_thread_safe

    tntp = SHARED / "data" / "tntp" / "SiouxFalls"
    if not tntp.exists():
        pytest.skip(f"{tntp} not found")
    net, demand = network_from_tntp(tntp), demand_from_tntp(tntp)
    opts = {"gap": 1e-6, "max_iter": 200, "on_disconnected": "raise"}
    base, _ = assign_periods(net, demand, workers=1, **opts)
    closed = net.with_links(net.links.assign(capacity_vph=np.where(net.links["link_id"] == 1, 0.0, net.links["capacity_vph"])))
    if not kernels_thread_safe():
        pytest.skip("numba's threading layer runs no parallel kernels from two threads")
    one, traffic_one = assign_periods(closed, demand, warm_start=base, workers=1, **opts)
    two, traffic_two = assign_periods(closed, demand, warm_start=base, workers=2, **opts)
    for period, res in one.items():
        assert res.gap <= 1e-6 and res.flow_pcu[0] == 0.0  # the closed link: every period rerouted
        np.testing.assert_array_equal(two[period].flow_pcu, res.flow_pcu)
        np.testing.assert_array_equal(traffic_two[period].speed_kmh, traffic_one[period].speed_kmh)
    assert one["night"].flow_pcu.sum() < one["day"].flow_pcu.sum()  # each period its own demand


# ------------------------------------------------------------------ Ghent
@pytest.fixture(scope="module")
def ghent_whatif():
    """Ghent baseline computed in this process, then one new scenario (timed), all three models."""
    from ldtkit.model.air import air_transfer
    from ldtkit.study.runner import ModelOptions, prepare_city, run_scenario
    from ldtkit.study.scenario import baseline, load_scenarios

    opts = ModelOptions(models=("traffic", "noise", "air"))
    inputs = prepare_city("ghent", options=opts, progress=False)
    inputs.air_transfer = air_transfer(inputs.network, inputs.air_receptors, config=inputs.city.config.air)
    base = run_scenario(inputs, baseline(), options=opts)
    scen = load_scenarios(inputs.city.root / "scenarios")[0]
    t0 = time.perf_counter()
    result = run_scenario(inputs, scen, options=opts, warm_start=base)
    return inputs, base, result, time.perf_counter() - t0


@pytest.mark.timed  # with the next test: both share the timed fixture
def test_ghent_scenario_noise_within_0_1_db_of_a_full_recompute(ghent_whatif):
    inputs, base, result, _ = ghent_whatif
    cfg = inputs.city.config.noise
    assert "changed_lines" in result.noise.meta  # updated from the baseline's map
    full = compute_noise(
        inputs.network, result.traffic, inputs.noise_receptors, reference_traffic=base.traffic, cutoff_m=cfg.cutoff_m,
        ground_g=cfg.ground_g, p_favourable=cfg.p_favourable, coefficients=cfg.coefficients, surface=cfg.surface,
        temperature_c=cfg.temperature_c, humidity_pct=cfg.humidity_pct, method=cfg.method, progress=False,
    )  # fmt: skip
    assert np.array_equal(np.isfinite(full.lden_db), np.isfinite(result.noise.lden_db))
    finite = np.isfinite(full.lden_db)
    assert np.abs(result.noise.lden_db[finite] - full.lden_db[finite]).max() <= 0.1
    # the closure changes the map by several dB somewhere: the comparison is not of two baselines
    assert np.abs(full.lden_db[finite] - base.noise.lden_db[finite]).max() > 3.0


@pytest.mark.timed
def test_new_ghent_scenario_takes_at_most_10_s_with_the_baseline_computed(ghent_whatif):
    _, _, result, seconds = ghent_whatif
    assert result.noise is not None and result.air is not None
    assert seconds <= 10.0, f"new scenario took {seconds:.1f} s ({result.seconds})"
