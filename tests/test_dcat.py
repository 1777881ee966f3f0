"""The DCAT-AP catalogue: parses with rdflib, has the classes and properties DCAT-AP requires
(checked structurally, without SHACL), the input licences of data/README.md, the model and each run."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from rdflib import Graph, URIRef
from rdflib import namespace as ns

from ldtkit import __version__
from ldtkit.cli import main
from ldtkit.resources import shipped_cities_dir
from ldtkit.study.runner import run
from ldtkit.study.standards.dcat import SPDX, catalogue, input_datasets, result_content_hash, write_catalogue


@pytest.fixture(scope="module")
def base():
    return run("ghent", [], gap=1e-4, progress=False)["baseline"]


@pytest.fixture(scope="module")
def inputs():
    return input_datasets((shipped_cities_dir() / "README.md").read_text(encoding="utf-8"), city="ghent")


@pytest.fixture(scope="module")
def graph(base, inputs, tmp_path_factory):
    closed = dataclasses.replace(base, scenario=dataclasses.replace(base.scenario, name="closed", description="a test variant"), key="k2")
    g = catalogue(
        city="ghent", results={"baseline": base, "closed": closed}, inputs=inputs, parameters={"gap": 1e-4}, data_root=shipped_cities_dir()
    )
    path = write_catalogue(g, tmp_path_factory.mktemp("dcat") / "catalogue.ttl")
    parsed = Graph()
    parsed.parse(path, format="turtle")
    assert len(parsed) == len(g)
    return parsed


def _one(g: Graph, s, p):
    values = list(g.objects(s, p))
    assert len(values) >= 1, f"{s} has no {p}"
    return values[0]


def test_input_rows_come_from_the_data_readme(inputs):
    files = [r.file for r in inputs]
    model_inputs = [
        "ghent/wegsegmenten-gent.geojson.zip",
        "ghent/gent.geojson",
        "ghent/CLC2018_V2020_20u1_flanders.tif",
        "ghent/curieuzeneuzen_no2_2018_gent_part_a.csv",
        "ghent/osm-speeds-ghent.csv",
    ]
    assert [f for f in files if f in model_inputs] == model_inputs
    assert all(f in model_inputs or f.startswith("ghent/context/") for f in files)
    by_file = {r.file: r for r in inputs}
    assert '"Stad Gent"' in by_file[model_inputs[0]].licence and "Copernicus" in by_file[model_inputs[2]].licence
    assert "ODbL" in by_file[model_inputs[4]].licence and "OpenStreetMap contributors" in by_file[model_inputs[4]].licence
    assert all((shipped_cities_dir() / r.file).exists() for r in inputs)


def test_catalog_has_the_mandatory_properties(graph, inputs):
    (cat,) = graph.subjects(ns.RDF.type, ns.DCAT.Catalog)
    for p in (ns.DCTERMS.title, ns.DCTERMS.description, ns.DCTERMS.publisher, ns.DCAT.dataset):
        _one(graph, cat, p)
    publisher = _one(graph, cat, ns.DCTERMS.publisher)
    assert (publisher, ns.RDF.type, ns.FOAF.Agent) in graph and _one(graph, publisher, ns.FOAF.name)
    datasets = set(graph.objects(cat, ns.DCAT.dataset))
    assert datasets == set(graph.subjects(ns.RDF.type, ns.DCAT.Dataset)) and len(datasets) == len(inputs) + 2


def test_datasets_and_distributions_have_the_mandatory_properties(graph, inputs):
    for ds in graph.subjects(ns.RDF.type, ns.DCAT.Dataset):
        _one(graph, ds, ns.DCTERMS.title)
        _one(graph, ds, ns.DCTERMS.description)
        for dist in graph.objects(ds, ns.DCAT.distribution):
            assert (dist, ns.RDF.type, ns.DCAT.Distribution) in graph
            assert isinstance(_one(graph, dist, ns.DCAT.accessURL), URIRef)
    dists = set(graph.subjects(ns.RDF.type, ns.DCAT.Distribution))
    assert len(dists) == len(inputs) + 2
    assert all(list(graph.objects(d, ns.DCAT.accessURL)) for d in dists)


def test_inputs_carry_their_licence_and_attribution(graph, inputs):
    titles = {str(_one(graph, ds, ns.DCTERMS.title)): ds for ds in graph.subjects(ns.RDF.type, ns.DCAT.Dataset)}
    for row in inputs:
        ds = titles[row.file]
        licence = _one(graph, ds, ns.DCTERMS.license)
        assert (licence, ns.RDF.type, ns.DCTERMS.LicenseDocument) in graph and str(_one(graph, licence, ns.RDFS.label)) == row.licence
        assert str(_one(graph, ds, ns.DCTERMS.rights)) == row.licence
        dist = _one(graph, ds, ns.DCAT.distribution)
        assert _one(graph, dist, ns.DCTERMS.license) == licence
        assert str(_one(graph, dist, ns.DCAT.accessURL)).endswith(row.file)


def test_each_run_was_generated_by_the_model_with_its_parameters_and_hash(graph, base):
    (model,) = graph.subjects(ns.RDF.type, ns.PROV.SoftwareAgent)
    assert str(_one(graph, model, ns.OWL.versionInfo)) == __version__ and str(_one(graph, model, ns.FOAF.name)) == "ldtkit"
    runs = [ds for ds in graph.subjects(ns.RDF.type, ns.DCAT.Dataset) if (ds, ns.PROV.wasGeneratedBy, None) in graph]
    assert len(runs) == 2
    inputs = {ds for ds in graph.subjects(ns.RDF.type, ns.DCAT.Dataset) if ds not in runs}
    for ds in runs:
        activity = _one(graph, ds, ns.PROV.wasGeneratedBy)
        assert (activity, ns.RDF.type, ns.PROV.Activity) in graph and _one(graph, activity, ns.PROV.wasAssociatedWith) == model
        used = set(graph.objects(activity, ns.PROV.used))
        assert inputs <= used
        params = {str(_one(graph, u, ns.RDFS.label)): _one(graph, u, ns.RDF.value).toPython() for u in used - inputs}
        assert params["gap"] == 1e-4 and params["scenario"] in ("baseline", "closed") and params["measures"] == "[]"
        checksum = _one(graph, _one(graph, ds, ns.DCAT.distribution), SPDX.checksum)
        assert _one(graph, checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert str(_one(graph, checksum, SPDX.checksumValue)) == result_content_hash(base)
    ids = {str(_one(graph, ds, ns.DCTERMS.identifier)) for ds in runs}
    assert ids == {base.key, "k2"}


def test_the_content_hash_follows_the_results(base):
    h = result_content_hash(base)
    assert re.fullmatch(r"[0-9a-f]{64}", h) and result_content_hash(base) == h
    day = base.traffic["day"]
    light = day.light_vph.copy()
    light[0] += 1.0
    changed = dataclasses.replace(base, traffic={**base.traffic, "day": dataclasses.replace(day, light_vph=light)})
    assert result_content_hash(changed) != h
    assert np.array_equal(base.traffic["day"].light_vph[1:], light[1:])


def test_cli_writes_the_catalogue_and_refuses_an_unknown_scenario(tmp_path, capsys):
    assert main(["export", "ghent", "--scenario", "bridge-closd", "--dcat", str(tmp_path / "c.ttl")]) == 1
    assert "no scenario named 'bridge-closd'" in capsys.readouterr().err
    assert not (tmp_path / "c.ttl").exists()
    assert main(["export", "ghent"]) == 1
    assert "nothing to do" in capsys.readouterr().err
