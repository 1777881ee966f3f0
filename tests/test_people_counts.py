"""People per noise band in a study: at their building's most exposed façade when the city has buildings.

A small study area of Athens (its city blocks are the buildings) around Vasilissis Olgas, the avenue the
Great Walk closes to cars: the runner's people per band are checked against the residents placed in the
buildings and against the model's own façade map and exposure computed directly; the same area without
buildings counts at the grid receptors and says so.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import shapely
from conftest import ROOT

from ldtkit.errors import InvalidValueError
from ldtkit.model.limits import LDEN_BANDS_DB, LNIGHT_BANDS_DB
from ldtkit.model.noise import TOLERANCE_DB, building_population, compute_noise, facade_exposure, noise_propagation
from ldtkit.model.noise.propagation import PRUNE_DB
from ldtkit.study.city import load_city
from ldtkit.study.compare import indicators, noise_note, people_counted_at, threshold_indicators
from ldtkit.study.indicators import PEOPLE_LDEN_ABOVE_END, exposure_indicator, people_counted_label
from ldtkit.study.inputs import focus_bounds, noise_buildings, zone_population
from ldtkit.study.runner import ModelOptions, prepare_city, run
from ldtkit.study.scenario import Scenario

#: Around Vasilissis Olgas (WGS84): the avenue, the blocks along it and the Zappeion side.
BBOX = [23.7330, 37.9665, 23.7395, 37.9700]
CLOSE_OLGAS = {
    "name": "olgas-closed",
    "measures": [
        {
            "action": "pedestrianise",
            "within": "LINESTRING (23.73818 37.96903, 23.73694 37.96813, 23.73535 37.96786, 23.73342 37.96729)",
            "buffer_m": 10,
            "road_class": "70kmh",
        }
    ],
}
OPTS = {"models": ("traffic", "noise"), "progress": False}


def _small_athens(tmp: Path, *, buildings: str) -> Path:
    """Athens with its focus area cut to :data:`BBOX` (and ``[noise] buildings`` as given); the network files are linked."""
    src = ROOT / "data" / "athens"
    city = tmp / f"athens-{buildings}"
    city.mkdir()
    (city / "network").symlink_to(src / "network")
    text = (src / "city.toml").read_text()
    text = re.sub(r"(?m)^bbox = \[.*\]$", f"bbox = {BBOX}", text)
    text = re.sub(r'(?m)^buildings = "blocks"$', f'buildings = "{buildings}"', text)
    assert f"bbox = {BBOX}" in text and f'buildings = "{buildings}"' in text
    (city / "city.toml").write_text(text)
    return city


def _run(city: Path, cache_dir: Path | None = None) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # trips the closure leaves without a path are reported, not errors
        return run(load_city(city), [Scenario.from_dict(CLOSE_OLGAS)], cache_dir=cache_dir, **OPTS)


@pytest.fixture(scope="module")
def blocks(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("people")
    city = _small_athens(tmp, buildings="blocks")
    return load_city(city), _run(city, tmp / "cache")


@pytest.fixture(scope="module")
def open_field(tmp_path_factory):
    return _run(_small_athens(tmp_path_factory.mktemp("people"), buildings="none"))


def _bands(exposure: dict[str, float], quantity: str) -> float:
    return sum(v for k, v in exposure.items() if k.startswith(quantity + " "))


def test_every_resident_placed_in_a_building_is_in_a_band_or_below(blocks):
    city, res = blocks
    for name, r in res.items():
        assert people_counted_at(r) == "facade", name
        e = r.facades
        placed = float(e.population.sum())
        assert placed > 1000.0  # the blocks along the avenue are lived in
        lden, lnight = np.asarray(e.lden_db), np.asarray(e.lnight_db)
        lived = e.population > 0
        assert np.isfinite(lden[lived]).all() and np.isfinite(lnight[lived]).all(), "a resident without a façade level"
        # city blocks hold many dwellings: their residents are shared among their façade points
        assert e.shared[lived].all()
        b = e.point_building
        share = np.where(e.shared[b], e.population[b] / e.n_points[b], 0.0)
        ind = indicators(r)
        for quantity, levels, points, lowest in (
            ("Lden", lden, e.point_lden_db, LDEN_BANDS_DB[0]),
            ("Lnight", lnight, e.point_lnight_db, LNIGHT_BANDS_DB[0]),
        ):
            assert np.isfinite(points[share > 0]).all(), "a share of residents without a level"
            in_bands = sum(v for k, v in ind.items() if k.startswith(f"people {quantity} "))
            below = float(e.population[~e.shared & (levels < lowest)].sum() + share[points < lowest].sum())
            assert in_bands + below == pytest.approx(placed, rel=1e-12), (name, quantity)
        assert threshold_indicators(r)[PEOPLE_LDEN_ABOVE_END] == pytest.approx(_bands(e.exposure(), "Lden"))


def test_the_residents_are_the_zones_residents_in_the_focus_buildings(blocks):
    city, res = blocks
    net = res["baseline"].network
    b = noise_buildings(city)
    inputs = prepare_city(city, options=ModelOptions(models=("traffic", "noise")), progress=False)
    placed = building_population(b, zone_population(city, inputs.network, inputs.zones))
    assert placed.unplaced == 0.0
    focus = np.sort(b.index.query(shapely.box(*focus_bounds(city, net)), predicate="intersects"))
    np.testing.assert_allclose(res["baseline"].facades.population, placed.population[focus], rtol=1e-12)
    # the façade points carry those residents too: each building's share, every building at least one point
    pts = res["baseline"].noise_facades.receptors
    per_building = np.bincount(np.asarray(pts.ids, dtype=np.int64), weights=pts.population, minlength=len(focus))
    np.testing.assert_allclose(per_building, placed.population[focus], rtol=1e-9, atol=1e-9)


def test_counts_equal_the_model_facade_exposure_of_a_map_computed_directly(blocks):
    city, res = blocks
    cfg = city.config.noise
    base = res["baseline"]
    rec = base.noise_facades.receptors
    opts = dict(
        cutoff_m=cfg.cutoff_m, ground_g=cfg.ground_g, p_favourable=cfg.p_favourable, temperature_c=cfg.temperature_c,
        humidity_pct=cfg.humidity_pct, method=cfg.method, coefficients=cfg.coefficients, surface=cfg.surface,
        buildings=noise_buildings(city), progress=False,
    )  # fmt: skip
    people = base.facades.population
    for name, r in res.items():
        # the reference: a full map at the same façade points, far-field sources placed by the baseline's traffic
        m = compute_noise(base.network, r.traffic, rec, reference_traffic=base.traffic, **opts)
        reference = facade_exposure(m, people, share_facades=r.facades.shared)
        tol = 1e-6  # every scenario's façade map is a full map, as this one
        np.testing.assert_allclose(r.noise_facades.lden_db, m.lden_db, rtol=0, atol=tol, err_msg=name)
        ind = indicators(r)
        # a building (or a façade point) within rounding of a band edge may sit on either side of it
        edges = np.array([*LDEN_BANDS_DB, *LNIGHT_BANDS_DB], dtype=float)
        near = np.zeros(len(people), dtype=bool)
        for levels in (reference.lden_db, reference.lnight_db):
            near |= (np.abs(np.asarray(levels)[:, None] - edges[None, :]) <= tol).any(axis=1)
        for levels in (m.lden_db, m.lnight_db):
            at_edge = (np.abs(np.asarray(levels)[:, None] - edges[None, :]) <= tol).any(axis=1)
            near[np.asarray(rec.ids, dtype=np.int64)[at_edge]] = True
        slack = float(people[near].sum())
        for band, expected in reference.exposure().items():
            assert abs(ind[exposure_indicator(band).name] - expected) <= slack + 1e-6, (name, band)


def test_the_scenario_grid_map_updated_from_the_baseline_equals_its_full_map(blocks):
    """The runner updates a scenario's grid map from the baseline's for the roads whose power changed.
    The baseline map leaves out negligible screened paths, the change adds all of the changed roads'
    paths: beside the closed avenue (its level falls by 10 dB and more) the update must still give the
    full map's levels, and no level inside the blocks."""
    city, res = blocks
    cfg = city.config.noise
    base, closed = res["baseline"], res["olgas-closed"]
    full = compute_noise(
        base.network, closed.traffic, base.noise.receptors, reference_traffic=base.traffic, cutoff_m=cfg.cutoff_m,
        ground_g=cfg.ground_g, p_favourable=cfg.p_favourable, temperature_c=cfg.temperature_c, humidity_pct=cfg.humidity_pct,
        method=cfg.method, coefficients=cfg.coefficients, surface=cfg.surface, buildings=noise_buildings(city), progress=False,
    )  # fmt: skip
    got, want = closed.noise.lden_db, full.lden_db
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    assert np.nanmin(want - base.noise.lden_db) < -10.0, "the closure makes some receptors much quieter"
    np.testing.assert_allclose(got[ok], want[ok], rtol=0, atol=0.1)
    for period in ("lday_db", "levening_db", "lnight_db"):
        np.testing.assert_allclose(getattr(closed.noise, period)[ok], getattr(full, period)[ok], rtol=0, atol=0.1, err_msg=period)
    # against the map that leaves nothing out: at most prune_db + 2 tolerance_db below, tolerance_db above
    unpruned = noise_propagation(
        base.network, base.noise.receptors, cutoff_m=cfg.cutoff_m, ground_g=cfg.ground_g, p_favourable=cfg.p_favourable,
        temperature_c=cfg.temperature_c, humidity_pct=cfg.humidity_pct, method=cfg.method, buildings=noise_buildings(city),
        prune_db=0.0,
    )  # fmt: skip
    exact = compute_noise(
        base.network, closed.traffic, base.noise.receptors, reference_traffic=base.traffic, coefficients=cfg.coefficients,
        surface=cfg.surface, propagation=unpruned, progress=False,
    )  # fmt: skip
    for period in ("lday_db", "levening_db", "lnight_db"):
        d = getattr(closed.noise, period)[ok] - getattr(exact, period)[ok]
        assert d.min() >= -(PRUNE_DB + 2 * TOLERANCE_DB) and d.max() <= TOLERANCE_DB, (period, d.min(), d.max())


def test_closing_the_avenue_lowers_the_people_in_the_top_band(blocks):
    _, res = blocks
    top = exposure_indicator("Lden >=75").name
    base, closed = indicators(res["baseline"]), indicators(res["olgas-closed"])
    assert base[top] > 0.0 and closed[top] <= base[top]
    # the avenue's own blocks get quieter at their most exposed façade
    b, s = res["baseline"].facades, res["olgas-closed"].facades
    assert np.nanmedian(np.asarray(s.lden_db) - np.asarray(b.lden_db)) <= 0.0


def test_the_report_line_says_where_people_are_counted(blocks, open_field):
    _, res = blocks
    note = noise_note(res["baseline"])
    assert note is not None and note.startswith("Noise: screening by ")
    assert note.endswith(people_counted_label("facade") + ".")
    assert "/" not in note  # the building file by its name only


def test_a_city_without_buildings_counts_on_the_grid_and_says_so(open_field):
    for name, r in open_field.items():
        assert r.facades is None and r.noise_facades is None
        assert people_counted_at(r) == "grid"
        ind = indicators(r)
        for band, people in r.noise.exposure().items():
            assert ind[exposure_indicator(band).name] == people, (name, band)
    assert noise_note(open_field["baseline"]) == "Noise: open-field propagation: no building data; people counted at grid receptors."


def test_a_rerun_from_the_results_cache_counts_the_same_people(blocks):
    city, res = blocks
    again = _run(city.root, city.root.parent / "cache")
    for name, r in res.items():
        assert again[name].key == r.key and again[name].seconds == r.seconds, name  # served, not recomputed
        assert indicators(again[name]) == indicators(r), name
        np.testing.assert_array_equal(again[name].facades.lden_db, r.facades.lden_db)


def test_facade_spacing_must_be_positive():
    with pytest.raises(InvalidValueError, match="facade_spacing_m must be > 0"):
        ModelOptions(facade_spacing_m=0.0)
    assert ModelOptions(facade_spacing_m=10.0).inputs_key() != ModelOptions().inputs_key()
