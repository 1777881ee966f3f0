"""Select-link analysis on the Ghent baseline: where the Rooigemlaan bridge's traffic comes from and goes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from conftest import ROOT

import ldtkit
from ldtkit.errors import LdtkitError, SelectorError
from ldtkit.study.runner import run
from ldtkit.study.select_link import parse_selection, select_link

BRIDGE = {"street": "Rooigemlaan", "bridge": True}


@pytest.fixture(scope="module")
def baseline():
    return run("ghent", [], models=("traffic",), progress=False)["baseline"]


@pytest.fixture(scope="module")
def bridge(baseline):
    return select_link(baseline, BRIDGE)


def test_the_bridge_carries_its_whole_flow_as_select_link_flow(bridge):
    on = np.isin(bridge.link_ids, bridge.link_id)
    assert on.sum() == 2  # both directions
    np.testing.assert_allclose(bridge.flow_vph[on], bridge.total_flow_vph[on], rtol=1e-6)
    assert bridge.total_flow_vph[on].min() > 500  # a real R40 bridge, not an empty link


def test_no_link_carries_more_select_link_flow_than_its_total_flow(bridge):
    assert (bridge.flow_vph >= 0).all()
    assert (bridge.flow_vph <= bridge.total_flow_vph * (1 + 1e-9) + 1e-9).all()
    # the routes reach beyond the bridge, and not everywhere
    assert 10 < np.count_nonzero(bridge.flow_vph > 1e-6) < len(bridge.flow_vph) / 2


def test_origins_and_destinations_sum_to_the_bridge_flow(bridge):
    on = np.isin(bridge.link_ids, bridge.link_id)
    bridge_flow = bridge.total_flow_vph[on].sum()
    np.testing.assert_allclose(bridge.origins_vph.sum(), bridge_flow, rtol=1e-6)
    np.testing.assert_allclose(bridge.destinations_vph.sum(), bridge_flow, rtol=1e-6)
    np.testing.assert_allclose(bridge.trips_vph, bridge_flow, rtol=1e-6)
    assert (bridge.od["trips_vph"] > 0).all()
    assert set(bridge.od["class"]) <= {"light", "heavy"}


def test_the_by_class_flows_add_up_to_the_class_flows_on_the_bridge(baseline, bridge):
    on = np.isin(bridge.link_ids, bridge.link_id)
    for cls, flow in bridge.flow_vph_by_class.items():
        np.testing.assert_allclose(flow[on], baseline.assignment.flow_vph[cls][on], rtol=1e-6)


def test_several_links_mean_traffic_using_any_of_them(baseline, bridge):
    north = select_link(baseline, {**BRIDGE, "direction": "northbound"})
    south = select_link(baseline, {**BRIDGE, "direction": "southbound"})
    # a trip does not cross the same bridge both ways: the union is the sum
    np.testing.assert_allclose(north.trips_vph + south.trips_vph, bridge.trips_vph, rtol=1e-9)
    np.testing.assert_allclose(north.flow_vph + south.flow_vph, bridge.flow_vph, rtol=1e-9, atol=1e-9)
    ids = select_link(baseline, [int(i) for i in bridge.link_id])
    np.testing.assert_allclose(ids.flow_vph, bridge.flow_vph, rtol=1e-12, atol=1e-12)


def test_the_lazy_api_exposes_select_link():
    assert ldtkit.select_link is select_link


def test_an_empty_or_unknown_selection_is_a_clear_error(baseline):
    with pytest.raises(SelectorError, match="empty selection"):
        select_link(baseline, [])
    with pytest.raises(SelectorError, match="empty selection"):
        select_link(baseline, "  ")
    with pytest.raises(SelectorError, match="no street named.*Rooigemlan"):
        select_link(baseline, "Rooigemlan")
    with pytest.raises(SelectorError, match="unknown link ids"):
        select_link(baseline, [10**12])


def test_without_kept_paths_or_a_cache_the_error_says_what_to_do(baseline, tmp_path):
    import dataclasses

    unkeyed = dataclasses.replace(baseline, key="")
    with pytest.raises(LdtkitError, match="path sets of 'baseline' are not available"):
        select_link(unkeyed, BRIDGE, cache_dir=tmp_path)


def test_parse_selection_reads_ids_or_a_street():
    assert parse_selection("18537,18538") == [18537, 18538]
    assert parse_selection(" Rooigemlaan ") == "Rooigemlaan"


def test_the_cli_adds_a_select_link_column(baseline, bridge, tmp_path, monkeypatch, capsys):
    from ldtkit.cli import main

    monkeypatch.chdir(ROOT)
    code = main(
        [
            "run",
            "ghent",
            "--scenario",
            "data/ghent/scenarios/01_bridge_closed_both.toml",
            "--models",
            "traffic",
            "--out",
            str(tmp_path),
            "--select-link",
            "Rooigemlaan",
        ]
    )
    assert code == 0
    links = gpd.read_parquet(tmp_path / "ghent" / "links.parquet")
    assert "select_link_vph" in links
    street = select_link(baseline, "Rooigemlaan")
    want = dict(zip(street.link_ids, street.flow_vph))
    got = links.set_index("link_id")["select_link_vph"]
    np.testing.assert_allclose(got.to_numpy(), [want[i] for i in got.index], rtol=1e-12)
    on = links["name"].eq("Rooigemlaan").to_numpy()
    np.testing.assert_allclose(links.loc[on, "select_link_vph"], links.loc[on, "flow_vph_baseline"], rtol=1e-6)
    assert (links["select_link_vph"] <= links["flow_vph_baseline"] * (1 + 1e-9) + 1e-9).all()
