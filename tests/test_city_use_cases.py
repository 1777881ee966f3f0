"""The use-case notebooks' scenarios for any city: a bridge by its name, streets or an area pedestrianised."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import ROOT

from ldtkit.errors import ConfigError, SelectorError
from ldtkit.study.city import load_city
from ldtkit.study.scenario import load_scenarios, select_links
from ldtkit.study.use_cases import (
    bridge_closure_scenarios,
    city_bridges,
    find_bridge,
    models_note,
    pedestrianisation_scenarios,
)


@pytest.fixture(scope="module")
def porto():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the cleanup share of a cut extract
        city = load_city("porto")
        return city, city.load_network()


def _links(network, scenario):
    return {
        int(i)
        for m in scenario.measures
        for i in network.links["link_id"].to_numpy()[select_links(network, m.select, direction=m.direction)]
    }


def test_ghent_bridge_by_name_gives_the_shipped_scenarios():
    """The Ghent default of the notebook closes exactly the links of the three shipped scenario files."""
    city = load_city("ghent")
    net = city.load_network()
    setup = bridge_closure_scenarios(city, "rooigemlaan")
    shipped = load_scenarios(ROOT / "data" / "ghent" / "scenarios")
    assert [s.name for s in setup.scenarios] == [s.name for s in shipped]
    for mine, theirs in zip(setup.scenarios, shipped):
        assert _links(net, mine) == _links(net, theirs) and len(_links(net, mine)) > 0
    assert setup.labels["bridge-closed-both"] == "Rooigemlaan closed both ways"
    assert setup.title == "Rooigemlaan bridge closure" and setup.heading.startswith("# Ghent: closing the Rooigemlaan bridge")


def test_an_unknown_bridge_lists_the_city_bridges(porto):
    city, net = porto
    with pytest.raises(SelectorError) as err:
        find_bridge(net, "Ponte da Arrábida", where="porto: bridge")
    msg = str(err.value)
    assert "\n" not in msg and "no bridge named 'Ponte da Arrábida'" in msg
    # every bridge of the city that carries cars is named, the closest first
    assert all(repr(b) in msg for b in city_bridges(net)) and len(city_bridges(net)) >= 5
    with pytest.raises(SelectorError, match="did you mean 'Ponte Infante Dom Henrique'"):
        find_bridge(net, "Ponte Infante D. Henrique")  # a misspelt name: the closest is suggested
    # a unique part of the name is enough, any case
    assert find_bridge(net, "infante dom henrique") == "Ponte Infante Dom Henrique"
    with pytest.raises(SelectorError, match="did you mean 'Ponte Dom Luís I .*', 'Ponte Infante Dom Henrique'"):
        find_bridge(net, "ponte")  # two bridges hold it


def test_bridge_variants_follow_the_bridge_axis(porto):
    """An east-west bridge gets westbound/eastbound variants, a north-south one southbound/northbound."""
    city, net = porto
    bearing = {}
    for name in ("Alameda do Conde de Samodães", "Ponte Infante Dom Henrique"):
        setup = bridge_closure_scenarios(city, name)
        rows = select_links(net, {"street": name, "bridge": True})
        dx = np.array([g.coords[-1][0] - g.coords[0][0] for g in net.links.geometry.iloc[rows]])
        dy = np.array([g.coords[-1][1] - g.coords[0][1] for g in net.links.geometry.iloc[rows]])
        bearing[name] = [s.measures[0].direction for s in setup.scenarios]
        east_west = np.abs(dx).sum() > np.abs(dy).sum()
        assert bearing[name] == (["both", "westbound", "eastbound"] if east_west else ["both", "southbound", "northbound"])
        # each one-way variant closes part of the bridge, "both" all of it
        both, *one_way = (_links(net, s) for s in setup.scenarios)
        assert all(0 < len(o) < len(both) for o in one_way) and set().union(*one_way) == both
    assert bearing["Alameda do Conde de Samodães"] != bearing["Ponte Infante Dom Henrique"]


def test_pedestrianisation_of_streets_or_an_area(porto):
    city, net = porto
    setup = pedestrianisation_scenarios(city, streets=["rua de santa catarina"])
    (scen,) = setup.scenarios
    ids = _links(net, scen)
    names = set(net.links.loc[net.links["link_id"].isin(ids), "name"])
    assert names == {"Rua de Santa Catarina"} and len(ids) == 22
    assert setup.heading.startswith("# Porto: pedestrianising rua de santa catarina")
    # an area: the streets inside a 200 m box around the Aliados
    box = "POLYGON ((-8.6125 41.1465, -8.6100 41.1465, -8.6100 41.1485, -8.6125 41.1485, -8.6125 41.1465))"
    area = _links(net, pedestrianisation_scenarios(city, polygon=box).scenarios[0])
    assert 5 <= len(area) < 200
    with pytest.raises(
        SelectorError, match=r"porto: streets: no street named \['Rua de Santa Catarin'\]; did you mean .*'Rua de Santa Catarina'"
    ):
        pedestrianisation_scenarios(city, streets=["Rua de Santa Catarin"])
    with pytest.raises(ConfigError, match="polygon: 'within' is neither WKT nor a GeoJSON geometry"):
        pedestrianisation_scenarios(city, polygon="POLYGON ((-8.6 41.1")
    with pytest.raises(ConfigError, match="not both"):
        pedestrianisation_scenarios(city, streets=["Rua de Santa Catarina"], scenario_files=["x.toml"])


def test_athens_pedestrianisation_defaults_are_the_shipped_scenarios():
    setup = pedestrianisation_scenarios("athens")
    assert [s.name for s in setup.scenarios] == ["great-walk", "great-walk-wider"]
    assert setup.title == "Great Walk pedestrianisation" and setup.heading.startswith("# Athens: the Great Walk pedestrianisation")
    assert "OpenStreetMap" in models_note("porto") and "ODbL" in models_note("porto")


def test_report_with_an_unknown_bridge_is_one_line_listing_the_bridges(tmp_path, capsys):
    """``ldtkit report notebooks/bridge_closure.ipynb -p city porto -p bridge NAME`` with a name the city lacks."""
    from ldtkit.cli import main

    notebook = ROOT / "notebooks" / "bridge_closure.ipynb"
    assert main(["report", str(notebook), "-p", "city", "porto", "-p", "bridge", "Ponte da Arrábida", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ldtkit: error: bridge_closure.ipynb: "), err
    assert "no bridge named 'Ponte da Arrábida'" in err[0] and "'Ponte Infante Dom Henrique'" in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "bridge_closure.html").exists()
