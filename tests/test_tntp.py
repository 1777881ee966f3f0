"""TNTP loader: counts, demand totals, units, first-through-node rule, generalized cost, errors."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import SHARED

TNTP = SHARED / "data" / "tntp"

# counts and totals as stated in each network's README ("Dimensions")
STATED = {
    "SiouxFalls": (24, 76, 24, 360600.0),
    "Anaheim": (416, 914, 38, 104694.40),
    "Chicago-Sketch": (933, 2950, 387, 1260907.44),
    "Berlin-Center": (12981, 28376, 865, 168222.301999998980000),
}


@pytest.fixture(scope="module", autouse=True)
def _need_data():
    if not TNTP.exists():
        pytest.skip(f"{TNTP} not found")


@pytest.mark.timed
@pytest.mark.parametrize("name", list(STATED))
def test_counts_and_demand_match_the_readme(name):
    from ldtkit.model.loaders.tntp import demand_from_tntp, read_trips
    from ldtkit.model.network import network_from_tntp

    n_nodes, n_links, n_zones, trips = STATED[name]
    t = time.perf_counter()
    net = network_from_tntp(TNTP / name)
    dem = demand_from_tntp(TNTP / name)
    elapsed = time.perf_counter() - t
    assert (net.n_nodes, net.n_links, len(net.zone_ids)) == (n_nodes, n_links, n_zones)
    assert net.zone_ids.tolist() == list(range(1, n_zones + 1))
    assert dem.zone_ids.tolist() == list(range(1, n_zones + 1))
    assert dem.total() == pytest.approx(trips, rel=1e-9)
    # and the file's own <TOTAL OD FLOW>
    _, m, meta = read_trips(TNTP / name)
    assert m.sum() == pytest.approx(float(meta["TOTAL OD FLOW"]), rel=1e-9)
    assert dem.classes == ["light"] and dem.pcu == {"light": 1.0}
    if name == "Berlin-Center":
        assert elapsed < 10.0, f"Berlin-Center took {elapsed:.1f} s to load"


def test_first_thru_node_rule():
    from ldtkit.model.network import network_from_tntp

    sioux = network_from_tntp(TNTP / "SiouxFalls")
    assert sioux.meta["first_thru_node"] == 1 and sioux.zone_through is True
    ana = network_from_tntp(TNTP / "Anaheim")
    assert ana.meta["first_thru_node"] == 39 and ana.zone_through is False
    # the zones are exactly the nodes below the first through node
    assert ana.zone_ids.max() == 38


def test_link_attributes_units_and_generalized_cost():
    from ldtkit.model.loaders.tntp import read_flows
    from ldtkit.model.network import network_from_tntp

    ana = network_from_tntp(TNTP / "Anaheim")
    L = ana.links
    assert ana.meta["length_unit"] == "ft"
    np.testing.assert_allclose(L["length_m"], L["length_raw"] * 0.3048)
    first = L.iloc[0]
    assert (first.from_node, first.to_node, first.capacity_vph, first.length_raw) == (1, 117, 9000, 5280)
    assert first.free_flow_time_min == pytest.approx(1.090458488)
    assert (first.b, first.power, first.link_type) == (0.15, 4, 1)
    assert ana.meta["toll_weight_min"] == 0 and L["cost_fixed_min"].eq(0).all()

    chi = network_from_tntp(TNTP / "Chicago-Sketch")
    C = chi.links
    assert chi.meta["length_unit"] == "miles"
    assert (chi.meta["toll_weight_min"], chi.meta["distance_weight_min"]) == (0.02, 0.04)
    np.testing.assert_allclose(C["cost_fixed_min"], 0.02 * C["toll"] + 0.04 * C["length_raw"])
    # on links with zero free-flow time the best-known cost is the fixed term alone
    ref = read_flows(TNTP / "Chicago-Sketch")
    zero = C["free_flow_time_min"].to_numpy() == 0
    assert zero.sum() > 100
    np.testing.assert_allclose(ref["cost"][zero], C["cost_fixed_min"].to_numpy()[zero], rtol=1e-6)
    # node coordinates from the _node file, no CRS
    assert chi.nodes.geometry.notna().all() and chi.links.crs is None
    x0 = chi.nodes.geometry.iloc[0].x
    assert x0 == 690309


def test_flows_from_tntp():
    from ldtkit.model.loaders.tntp import flows_from_tntp

    f = flows_from_tntp(TNTP / "SiouxFalls")
    assert list(f.columns) == ["init_node", "term_node", "flow", "cost"]
    assert len(f) == 76
    assert f.iloc[0].flow == pytest.approx(4494.6576464564205)


def test_errors_name_the_file(tmp_path):
    from ldtkit.errors import InputFileNotFoundError, InvalidValueError, UnreadableFormatError
    from ldtkit.model.loaders.tntp import read_net, read_trips

    with pytest.raises(InputFileNotFoundError, match="nowhere"):
        read_net(tmp_path / "nowhere")
    bad = tmp_path / "X_net.tntp"
    bad.write_text("<NUMBER OF ZONES> 1\n<NUMBER OF NODES> 2\n<NUMBER OF LINKS> 2\n<END OF METADATA>\n1 2 10 1 1 0.15 4 0 0 1 ;\n")
    with pytest.raises(UnreadableFormatError, match="X_net.tntp.*NUMBER OF LINKS"):
        read_net(bad)
    bad.write_text("<NUMBER OF ZONES> 1\n<NUMBER OF NODES> 2\n<NUMBER OF LINKS> 1\n<END OF METADATA>\n1 2 -10 1 1 0.15 4 0 0 1 ;\n")
    with pytest.raises(InvalidValueError, match="capacity.*1->2"):
        read_net(bad)
    trips = tmp_path / "X_trips.tntp"
    trips.write_text("<NUMBER OF ZONES> 2\n<END OF METADATA>\nOrigin 1\n 3 : 5.0;\n")
    with pytest.raises(InvalidValueError, match="1 -> 3"):
        read_trips(trips)


def test_one_trips_parser_behind_both_readers():
    from ldtkit.model.demand import read_tntp_trips
    from ldtkit.model.loaders.tntp import demand_from_tntp, read_trips

    for name in ("SiouxFalls", "Chicago-Sketch"):  # Chicago-Sketch has '~' comment lines
        zones, m, _ = read_trips(TNTP / name)
        file = next((TNTP / name).glob("*_trips.tntp"))
        np.testing.assert_array_equal(read_tntp_trips(file).trips["light"], m)
        np.testing.assert_array_equal(demand_from_tntp(TNTP / name).trips["light"], m)
        assert zones.tolist() == list(range(1, len(zones) + 1))


def test_trips_file_syntax_and_zone_errors(tmp_path):
    from ldtkit.errors import InvalidValueError, UnreadableFormatError
    from ldtkit.model.demand import read_tntp_trips, write_tntp_trips
    from ldtkit.model.demand.matrices import Demand
    from ldtkit.model.loaders.tntp import read_trips_file

    f = tmp_path / "toy_trips.tntp"
    head = "<NUMBER OF ZONES> 2\n<TOTAL OD FLOW> 8.0\n<END OF METADATA>\n"
    f.write_text(head + "Origin 1\n  2 : 5.0; ~ a comment after a cell\nOrigin 2\n  1 : 3.0;\n")
    assert read_trips_file(f).matrix.tolist() == [[0.0, 5.0], [3.0, 0.0]]
    f.write_text(head + "Origin x\n  2 : 5.0;\n")
    with pytest.raises(UnreadableFormatError, match=r"toy_trips.tntp.*bad origin line 'x'"):
        read_trips_file(f)
    f.write_text(head + "Origin 1\n  2 : 5.0; 1 = 3.0;\n")
    with pytest.raises(UnreadableFormatError, match=r"toy_trips.tntp.*origin 1: cannot parse '1 = 3.0;'"):
        read_trips_file(f)
    f.write_text(head + "1 : 2.0;\nOrigin 1\n  2 : 5.0;\n")
    with pytest.raises(UnreadableFormatError, match=r"toy_trips.tntp.*unexpected text before the first 'Origin'"):
        read_trips_file(f)
    f.write_text(head + "Origin 1\n  2 : nan;\n")
    with pytest.raises(
        InvalidValueError, match=r"toy_trips.tntp: trips \(origin -> destination zone\) must be finite and >= 0.*id 1 -> 2 = nan"
    ):
        read_trips_file(f)
    # zones numbered by their node ids round-trip through write_tntp_trips / read_tntp_trips
    d = Demand(np.array([7, 9]), {"light": np.array([[0.0, 5.0], [3.0, 0.0]])})
    p = write_tntp_trips(d, tmp_path / "nodes_trips.tntp")
    assert read_tntp_trips(p, zone_ids=[7, 9]).trips["light"].tolist() == [[0.0, 5.0], [3.0, 0.0]]
    with pytest.raises(InvalidValueError, match=r"nodes_trips.tntp: origin 7 names a zone outside 1..2"):
        read_tntp_trips(p)


@pytest.mark.parametrize(
    "header",
    [
        "~ Tail Head Capacity Length FFT B Power Speed Toll Type ;",
        "~ \tInit node \tTerm node \tCapacity \tLength \tFree Flow Time \tB\tPower\tSpeed limit \tToll \tType\t;",
        "~ a b c d e f g h i j ;",  # ten labels that name nothing: the position still decides
        "",  # no header line at all
    ],
)
def test_net_columns_are_read_by_position(tmp_path, header):
    from ldtkit.model.loaders.tntp import read_net

    src = (TNTP / "SiouxFalls" / "SiouxFalls_net.tntp").read_text()
    lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith("~")]
    at = next(i for i, ln in enumerate(lines) if "<END OF METADATA>" in ln) + 1
    (tmp_path / "Renamed_net.tntp").write_text("\n".join(lines[:at] + [header] + lines[at:]) + "\n")
    ref, got = read_net(TNTP / "SiouxFalls"), read_net(tmp_path / "Renamed_net.tntp")
    assert sorted(got.columns) == sorted(ref.columns)
    for name, values in ref.columns.items():
        np.testing.assert_array_equal(got.columns[name], values, err_msg=name)
    # the first link of SiouxFalls: 1 -> 2, capacity 25900.20064, length 6, free-flow time 6
    assert (got.columns["init_node"][0], got.columns["term_node"][0]) == (1, 2)
    assert got.columns["capacity"][0] == pytest.approx(25900.20064)
    assert got.columns["free_flow_time"][0] == 6.0


def test_net_with_extra_and_too_few_columns(tmp_path):
    from ldtkit.errors import UnreadableFormatError
    from ldtkit.model.loaders.tntp import read_net

    meta = "<NUMBER OF ZONES> 2\n<NUMBER OF NODES> 2\n<NUMBER OF LINKS> 2\n<END OF METADATA>\n"
    hdr = "~ Tail Head Capacity Length FFT B Power Speed Toll Type Lanes ;\n"
    (tmp_path / "extra_net.tntp").write_text(meta + hdr + "1 2 1000 2.5 3 0.15 4 50 0 1 2 ;\n2 1 900 2.5 4 0.15 4 50 0 1 3 ;\n")
    net = read_net(tmp_path / "extra_net.tntp")
    assert net.columns["free_flow_time"].tolist() == [3.0, 4.0]
    assert net.columns["column_11"].tolist() == [2.0, 3.0]  # kept under its position, not dropped
    (tmp_path / "short_net.tntp").write_text(meta + "~ Tail Head Capacity Length ;\n1 2 1000 2.5 ;\n2 1 900 2.5 ;\n")
    with pytest.raises(UnreadableFormatError, match=r"short_net.tntp.*4 values; need at least 5 .*free_flow_time"):
        read_net(tmp_path / "short_net.tntp")
