"""A DCAT-AP catalogue of a city's study: input datasets, the model, and each scenario run.

:func:`catalogue` builds an rdflib graph with

- one ``dcat:Catalog`` (title, description, publisher, ``dcat:dataset`` of everything below);
- one ``dcat:Dataset`` per input file of the city listed in the data README's table (title,
  description, source as ``dct:source``, licence and attribution as ``dct:license`` and
  ``dct:rights``) with a ``dcat:Distribution`` (``dcat:accessURL``, ``dct:license``, ``dct:format``);
- the model as a ``prov:SoftwareAgent`` (``foaf:name`` ``ldtkit``, ``owl:versionInfo``);
- one ``dcat:Dataset`` per scenario run, ``prov:wasGeneratedBy`` a ``prov:Activity`` that
  ``prov:used`` the input datasets and was ``prov:wasAssociatedWith`` the model; the run's
  parameters (scenario measures and model options) as ``prov:Entity`` nodes with ``rdfs:label``
  and ``rdf:value``; ``dct:identifier`` the result's cache key (a content hash of city inputs,
  scenario, options and model code), and a distribution whose ``spdx:checksum`` is the SHA-256
  of the result arrays (:func:`result_content_hash`).

Examples
--------
>>> rows = input_datasets("| `ghent/a.csv` | counts | portal | CC BY 4.0; attribute **X** |", city="ghent")
>>> rows[0].file, rows[0].licence
('ghent/a.csv', 'CC BY 4.0; attribute **X**')
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib import namespace as ns

from ldtkit import __version__
from ldtkit.errors import InvalidValueError
from ldtkit.io import write_text_atomic
from ldtkit.model.traffic import PERIODS

if TYPE_CHECKING:  # pragma: no cover
    from ldtkit.study.runner import ScenarioResult

__all__ = ["SPDX", "InputDataset", "catalogue", "input_datasets", "result_content_hash", "write_catalogue"]

SPDX = Namespace("http://spdx.org/rdf/terms#")
_ROW = re.compile(r"^\|\s*`([^`]+)`[^|]*\|([^|]*)\|([^|]*)\|([^|]*)\|\s*$")


@dataclass(frozen=True)
class InputDataset:
    """One input file's row of a data README: file (``city/...``), what it is, source, licence and attribution."""

    file: str
    what: str
    source: str
    licence: str


def input_datasets(readme: str, *, city: str) -> list[InputDataset]:
    """The rows of the data README's file table whose file lies in ``city/``."""
    rows = []
    for line in readme.splitlines():
        m = _ROW.match(line.strip())
        if m and (m.group(1).startswith(f"{city}/")):
            rows.append(InputDataset(*(g.strip() for g in m.groups())))
    return rows


def result_content_hash(result: ScenarioResult) -> str:
    """SHA-256 of the result arrays: flows and speeds per period, noise levels and concentrations when computed.

    The same inputs, scenario and model code give the same hash; a changed flow changes it.
    """
    h = hashlib.sha256()
    arrays: list[Any] = [result.network.links["link_id"].to_numpy(dtype=np.int64)]
    for p in PERIODS:
        t = result.traffic[p]
        arrays += [t.light_vph, t.heavy_vph, t.speed_kmh]
    if result.noise is not None:
        arrays += [result.noise.lden_db, result.noise.lnight_db]
    if result.air is not None:
        arrays += [result.air.no2_ugm3, result.air.pm10_ugm3, result.air.pm25_ugm3]
    for a in arrays:
        h.update(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes())
    return h.hexdigest()


def _agent(g: Graph, node: URIRef, name: str) -> URIRef:
    g.add((node, ns.RDF.type, ns.FOAF.Agent))
    g.add((node, ns.FOAF.name, Literal(name)))
    return node


def _distribution(g: Graph, node: URIRef, *, access: str, title: str, fmt: str, licence: URIRef | None) -> URIRef:
    g.add((node, ns.RDF.type, ns.DCAT.Distribution))
    g.add((node, ns.DCAT.accessURL, URIRef(access)))
    g.add((node, ns.DCTERMS.title, Literal(title)))
    g.add((node, ns.DCTERMS["format"], Literal(fmt)))
    if licence is not None:
        g.add((node, ns.DCTERMS.license, licence))
    return node


def catalogue(
    *,
    city: str,
    results: Mapping[str, ScenarioResult],
    inputs: Sequence[InputDataset],
    parameters: Mapping[str, Any] | None = None,
    data_root: str | Path | None = None,
    distributions: Mapping[str, str] | None = None,
    base_uri: str | None = None,
    publisher: str = "ldtkit",
) -> Graph:
    """The DCAT-AP catalogue of ``city``'s study as an rdflib graph.

    Parameters
    ----------
    city
        The city name (in titles and node IRIs).
    results
        ``{scenario name: ScenarioResult}`` (from :func:`ldtkit.study.runner.run`).
    inputs
        The city's input files (:func:`input_datasets`).
    parameters
        Model options of the runs (e.g. ``{"gap": 1e-4, "models": "traffic,noise,air"}``).
    data_root
        Folder the input files are relative to (their ``dcat:accessURL`` is a ``file:`` URI there).
    distributions
        ``{scenario name: URL or path}`` of exported results (e.g. the NGSI-LD folder).
    base_uri
        Prefix of the catalogue's node IRIs (default ``urn:ldtkit:<city>:``).
    publisher
        The publisher's name.

    Examples
    --------
    >>> g = catalogue(city="demo", results={}, inputs=[InputDataset("demo/a.csv", "counts", "portal", "CC BY 4.0")])
    >>> len(list(g.subjects(ns.RDF.type, ns.DCAT.Dataset)))
    1
    """
    if not city:
        raise InvalidValueError("catalogue: city must be a non-empty name")
    base = Namespace(base_uri or f"urn:ldtkit:{re.sub(r'[^A-Za-z0-9-]+', '-', city).lower()}:")
    g = Graph()
    for prefix, namespace in (
        ("dcat", ns.DCAT),
        ("dct", ns.DCTERMS),
        ("foaf", ns.FOAF),
        ("prov", ns.PROV),
        ("spdx", SPDX),
        ("owl", ns.OWL),
    ):
        g.bind(prefix, namespace)
    cat = base["catalogue"]
    g.add((cat, ns.RDF.type, ns.DCAT.Catalog))
    g.add((cat, ns.DCTERMS.title, Literal(f"{city}: Local Digital Twin study (ldtkit)")))
    g.add(
        (
            cat,
            ns.DCTERMS.description,
            Literal(
                f"Input datasets of {city}'s study and the modelled traffic, noise and air quality of each scenario run by ldtkit {__version__}."
            ),
        )
    )
    g.add((cat, ns.DCTERMS.publisher, _agent(g, base["publisher"], publisher)))
    g.add((cat, ns.DCTERMS.modified, Literal(_today(), datatype=ns.XSD.date)))

    model = base["model"]
    g.add((model, ns.RDF.type, ns.PROV.SoftwareAgent))
    g.add((model, ns.FOAF.name, Literal("ldtkit")))
    g.add((model, ns.OWL.versionInfo, Literal(__version__)))
    g.add((model, ns.RDFS.comment, Literal("Traffic assignment, CNOSSOS-EU road noise and traffic air quality for a Local Digital Twin")))

    root = Path(data_root) if data_root is not None else None
    input_nodes = []
    for i, row in enumerate(inputs):
        ds = base[f"input/{i}"]
        input_nodes.append(ds)
        g.add((cat, ns.DCAT.dataset, ds))
        g.add((ds, ns.RDF.type, ns.DCAT.Dataset))
        g.add((ds, ns.DCTERMS.title, Literal(row.file)))
        g.add((ds, ns.DCTERMS.description, Literal(row.what)))
        g.add((ds, ns.DCTERMS.source, Literal(row.source)))
        g.add((ds, ns.DCTERMS.rights, Literal(row.licence)))
        lic = base[f"licence/{i}"]
        g.add((lic, ns.RDF.type, ns.DCTERMS.LicenseDocument))
        g.add((lic, ns.RDFS.label, Literal(row.licence)))
        g.add((ds, ns.DCTERMS.license, lic))
        access = (root / row.file).resolve().as_uri() if root is not None else f"{base}file/{row.file}"
        g.add(
            (
                ds,
                ns.DCAT.distribution,
                _distribution(
                    g,
                    base[f"input/{i}/distribution"],
                    access=access,
                    title=row.file,
                    fmt=Path(row.file).suffix.lstrip(".") or "file",
                    licence=lic,
                ),
            )
        )

    params = dict(parameters or {})
    for name, res in results.items():
        slug = re.sub(r"[^A-Za-z0-9-]+", "-", name)
        ds, run = base[f"run/{slug}"], base[f"run/{slug}/activity"]
        g.add((cat, ns.DCAT.dataset, ds))
        g.add((ds, ns.RDF.type, ns.DCAT.Dataset))
        g.add((ds, ns.DCTERMS.title, Literal(f"{city}, scenario {name}: modelled traffic, noise and air quality")))
        g.add((ds, ns.DCTERMS.description, Literal(res.scenario.description or f"scenario {name} ({len(res.scenario.measures)} measures)")))
        g.add((ds, ns.DCTERMS.identifier, Literal(res.key or result_content_hash(res))))
        g.add((ds, ns.PROV.wasGeneratedBy, run))
        g.add((run, ns.RDF.type, ns.PROV.Activity))
        g.add((run, ns.PROV.wasAssociatedWith, model))
        for node in input_nodes:
            g.add((run, ns.PROV.used, node))
        run_params = {
            **params,
            "scenario": name,
            "measures": json.dumps([asdict(m) for m in res.scenario.measures], sort_keys=True, default=str),
        }
        for key, value in sorted(run_params.items()):
            p = BNode()
            g.add((p, ns.RDF.type, ns.PROV.Entity))
            g.add((p, ns.RDFS.label, Literal(key)))
            g.add((p, ns.RDF.value, Literal(value if isinstance(value, bool | int | float) else str(value))))
            g.add((run, ns.PROV.used, p))
        access = (distributions or {}).get(name, f"{base}run/{slug}/results")
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", access):
            access = Path(access).resolve().as_uri()
        dist = _distribution(
            g, base[f"run/{slug}/distribution"], access=access, title=f"{name} results", fmt="application/ld+json", licence=None
        )
        checksum = BNode()
        g.add((checksum, ns.RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((checksum, SPDX.checksumValue, Literal(result_content_hash(res), datatype=ns.XSD.hexBinary)))
        g.add((dist, SPDX.checksum, checksum))
        g.add((ds, ns.DCAT.distribution, dist))
    return g


def _today() -> str:
    import datetime

    return datetime.datetime.now(datetime.UTC).date().isoformat()


def write_catalogue(graph: Graph, path: str | Path) -> Path:
    """Write ``graph`` as Turtle to ``path``, atomically."""
    text = graph.serialize(format="turtle")
    return write_text_atomic(path, text)
