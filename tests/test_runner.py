"""The scenario runner on Ghent: closure effects, the cache, interruption safety."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from ldtkit.study.compare import compare, indicators_table
from ldtkit.study.runner import ResultCache, run
from ldtkit.study.scenario import Scenario, load_scenarios

ROOT = Path(__file__).resolve().parents[1]
GHENT_SCENARIOS = ROOT / "data" / "ghent" / "scenarios"
TRAFFIC = dict(models=("traffic",), progress=False)


@pytest.fixture(scope="module")
def ghent_run(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    t0 = time.perf_counter()
    results = run("ghent", load_scenarios(GHENT_SCENARIOS), cache_dir=cache, **TRAFFIC)
    return results, cache, time.perf_counter() - t0


def _bridge(results, direction):
    res = results["baseline"]
    links = res.network.links
    mask = (links["name"] == "Rooigemlaan").to_numpy() & links["bridge"].to_numpy()
    if direction != "both":
        from ldtkit.study.scenario import select_links

        rows = select_links(res.network, {"street": "Rooigemlaan", "bridge": True}, direction=direction)
        mask = np.zeros(len(links), bool)
        mask[rows] = True
    return mask


def test_closed_bridge_carries_no_flow_in_the_closed_directions(ghent_run):
    results, _, _ = ghent_run
    base_day = results["baseline"].traffic["day"].total_vph
    for name, closed_dir, open_dir in [
        ("bridge-closed-both", "both", None),
        ("bridge-closed-southbound", "southbound", "northbound"),
        ("bridge-closed-northbound", "northbound", "southbound"),
    ]:
        closed = _bridge(results, closed_dir)
        assert base_day[closed].min() > 50, "the R40 bridge should carry traffic in the baseline"
        for period, t in results[name].traffic.items():
            assert np.all(t.total_vph[closed] == 0.0), f"{name}/{period}: flow on the closed bridge"
        if open_dir:
            still = _bridge(results, open_dir)
            assert results[name].traffic["day"].total_vph[still].min() > 0


def _screenline_crossings(net, half_length_m=2500.0):
    """Links crossing the water the Rooigemlaan bridge spans (other than the bridge itself).

    The file has no waterway layer, so the canal is approximated by the line through the
    bridge's midpoint perpendicular to the bridge, 2.5 km each way: with the OpenStreetMap
    speed limits (the zone-30 streets near the bridge at 30 km/h) the detours use the next
    crossings, 1.5 to 2.5 km away.
    """
    import shapely

    links = net.links
    bridge = links[(links["name"] == "Rooigemlaan") & links["bridge"]].geometry.iloc[0]
    (x0, y0), (x1, y1) = bridge.coords[0], bridge.coords[-1]
    mx, my, dx, dy = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    norm = (dx * dx + dy * dy) ** 0.5
    px, py = -dy / norm * half_length_m, dx / norm * half_length_m
    line = shapely.LineString([(mx - px, my - py), (mx + px, my + py)])
    crossing = links.geometry.intersects(line).to_numpy() & links["car_allowed"].to_numpy()
    crossing &= (links["road_class"] != "connector").to_numpy()
    crossing &= ~((links["name"] == "Rooigemlaan") & links["bridge"]).to_numpy()
    return crossing


def test_closure_shifts_traffic_to_the_alternative_crossings_and_costs_time(ghent_run):
    results, _, _ = ghent_run
    base = results["baseline"]
    alt = _screenline_crossings(base.network)
    assert alt.sum() >= 4, "the screenline should cross several other roads"
    base_alt = base.traffic["day"].total_vph[alt].sum()
    for name in ("bridge-closed-both", "bridge-closed-southbound", "bridge-closed-northbound"):
        res = results[name]
        lost = base.traffic["day"].total_vph[_bridge(results, "both")].sum() - res.traffic["day"].total_vph[_bridge(results, "both")].sum()
        gained = res.traffic["day"].total_vph[alt].sum() - base_alt
        assert lost > 0
        # a good part of the traffic that used the closed carriageway now crosses the water
        # nearby (the rest reroutes further away, beyond the 1.5 km screenline)
        assert gained > 0.25 * lost, f"{name}: alternative crossings gain {gained:.0f} veh/h for {lost:.0f} lost"
        n9 = (res.network.links["name"] == "Brugsesteenweg").to_numpy()  # the N9 crossing at Brugse Poort
        assert res.traffic["day"].total_vph[n9].max() > base.traffic["day"].total_vph[n9].max()
        ind = compare(base, res).indicators
        assert ind.loc["vehicle_hours", "difference"] > 0
        assert ind.loc["vehicle_km", "difference"] > 0
    table = indicators_table(results)
    assert list(table.columns[:2]) == ["baseline", "bridge-closed-both"]


@pytest.mark.timed
def test_cached_rerun_is_fast_and_identical(ghent_run):
    results, cache, first = ghent_run
    t0 = time.perf_counter()
    again = run("ghent", load_scenarios(GHENT_SCENARIOS), cache_dir=cache, **TRAFFIC)
    elapsed = time.perf_counter() - t0
    print(f"first run {first:.1f} s, cached rerun {elapsed:.2f} s")
    assert elapsed <= 2.0
    for name, res in results.items():
        assert np.array_equal(again[name].traffic["day"].total_vph, res.traffic["day"].total_vph)


def test_editing_one_scenario_recomputes_only_that_one(ghent_run, tmp_path):
    _, cache, _ = ghent_run
    local = tmp_path / "cache"
    shutil.copytree(cache, local)
    scen = load_scenarios(GHENT_SCENARIOS)
    before = {p.parent.name for p in local.glob("*/meta.json")}
    edited = [
        s
        if s.name != "bridge-closed-northbound"
        else Scenario.from_dict(
            {
                "name": s.name,
                "measures": [{"action": "set", "street": "Rooigemlaan", "bridge": True, "direction": "northbound", "capacity_factor": 0.5}],
            }
        )
        for s in scen
    ]
    out = run("ghent", edited, cache_dir=local, **TRAFFIC)
    after = {p.parent.name for p in local.glob("*/meta.json")}
    assert len(after - before) == 1, "exactly one new cache entry: the edited scenario"
    assert out["bridge-closed-northbound"].traffic["day"].total_vph[_bridge(out, "northbound")].min() > 0


def test_results_of_other_model_code_are_not_reused(ghent_run, monkeypatch):
    """The cache key includes a hash of ldtkit's sources and tables: after an upgrade or an
    edit of the models, cached results are recomputed, not served."""
    import ldtkit.study.runner as runner

    _, cache, _ = ghent_run

    class Recompute(Exception):
        pass

    def no_compute(*args, **kwargs):
        raise Recompute

    monkeypatch.setattr(runner, "prepare_city", no_compute)
    monkeypatch.setattr(runner, "run_scenario", no_compute)
    assert run("ghent", load_scenarios(GHENT_SCENARIOS), cache_dir=cache, **TRAFFIC)  # served from the cache
    monkeypatch.setattr(runner, "model_fingerprint", lambda: "other model code")
    with pytest.raises(Recompute):
        run("ghent", load_scenarios(GHENT_SCENARIOS), cache_dir=cache, **TRAFFIC)


def test_interrupted_write_leaves_no_cache_entry(tmp_path, monkeypatch):
    import ldtkit.study.result_store as store

    cache = ResultCache(tmp_path)

    def save_then_die(fh, arrays):
        fh.write(b"partial npz")
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "save_arrays", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        cache.put("abc", {"flow_vph": np.ones(3)}, kind="inputs")  # inputs: arrays.npz (results: one .npy each)
    assert [p for p in tmp_path.iterdir() if p.suffix != ".lock"] == [], "no entry and no temporary folder left behind"
    monkeypatch.undo()
    # a corrupt entry (e.g. from a crashed machine) is treated as missing, not returned
    cache.put("abc", {"flow_vph": np.ones(3)})
    (tmp_path / "abc" / "arrays.npz").write_bytes(b"PK\x03\x04corrupt")
    assert cache.get("abc") is None
    assert not (tmp_path / "abc").exists(), "the damaged entry is removed, to be recomputed"


def test_a_closure_that_disconnects_zones_names_the_scenario_and_the_trips(ghent_run, tmp_path):
    from ldtkit.errors import DisconnectedDemandError

    shutil.copytree(ghent_run[1], tmp_path, dirs_exist_ok=True)  # baseline and inputs cached

    # close every car link within 1.5 km of the old town: zones near its centre have no open road
    # within the connectors' re-attachment distance (500 m), so they lose all access
    cut = Scenario.from_dict({"name": "cordon", "measures": [{"action": "close", "within": "POINT (3.7245 51.0543)", "buffer_m": 1500}]})
    with pytest.raises(DisconnectedDemandError, match=r"scenario 'cordon', day period: .*trips"):
        run("ghent", [cut], cache_dir=tmp_path, on_disconnected="raise", **TRAFFIC)
    with pytest.warns(UserWarning, match="have no path"):
        dropped = run("ghent", [cut], cache_dir=tmp_path, on_disconnected="drop", **TRAFFIC)["cordon"]
    un = dropped.assignment.unassigned
    assert len(un) > 0 and un["trips"].sum() > 0


def _same_traffic(a, b, name):
    for period, t in b.traffic.items():
        np.testing.assert_allclose(a.traffic[period].total_vph, t.total_vph, rtol=1e-9, atol=1e-9, err_msg=f"{name}/{period}")


def test_five_scenarios_under_a_300_mb_cache_limit_stay_correct(ghent_run, tmp_path):
    """Five Ghent scenarios with ``cache_max_mb=300`` leave at most 300 MB; a tighter limit then
    evicts least recently used entries, and what is recomputed equals what was cached."""
    from ldtkit.study.cache import ResultCache

    results, cache, _ = ghent_run
    local = tmp_path / "cache"
    shutil.copytree(cache, local)
    extra = [
        Scenario.from_dict(
            {
                "name": f"half-{street.lower()}",
                "measures": [{"action": "set", "street": street, "road_class": ["1", "2"], "capacity_factor": 0.5}],
            }
        )
        for street in ("Palinghuizen", "Kasteellaan")
    ]
    scenarios = [*load_scenarios(GHENT_SCENARIOS), *extra]
    assert len(scenarios) == 5
    first = run("ghent", scenarios, cache_dir=local, cache_max_mb=300, **TRAFFIC)
    size = ResultCache(local).size_bytes()
    assert size <= 300e6
    for name, res in results.items():
        _same_traffic(first[name], res, name)
    limit_mb = 0.6 * size / 1e6
    second = run("ghent", scenarios, cache_dir=local, cache_max_mb=limit_mb, **TRAFFIC)  # part cached, part recomputed
    assert ResultCache(local).size_bytes() <= limit_mb * 1e6
    for name, res in first.items():
        _same_traffic(second[name], res, name)
    print(f"cache {size / 1e6:.0f} MB after five scenarios; limit {limit_mb:.0f} MB then")
