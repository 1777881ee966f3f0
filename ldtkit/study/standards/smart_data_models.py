"""NGSI-LD entities and the FIWARE Smart Data Models, offline: contexts, schemas, checks, expansion.

The Smart Data Models JSON schemas (draft 2020-12) describe an entity's *key-value* form;
:func:`key_values` projects a normalized NGSI-LD entity onto it (each attribute's ``value``,
``object`` or GeoJSON ``value``) and :func:`check_entity` validates that projection after a
structural check of the normalized form (``id`` an absolute URI, ``type`` a name, every
attribute a ``Property``, ``Relationship`` or ``GeoProperty``). The schemas, the common schema,
the Smart Data Models contexts and the NGSI-LD core context ship with the package
(``ldtkit/study/standards/data/``, see its README); :func:`document_loader` serves them to
pyld under their canonical URLs, so nothing is fetched from the network.

Observation readers use :func:`read_entities` (a file or folder of NGSI-LD entities, checked).

Examples
--------
>>> entity = {
...     "id": "urn:ngsi-ld:NoiseLevelObserved:ghent:1",
...     "type": "NoiseLevelObserved",
...     "dateObservedFrom": {"type": "Property", "value": {"@type": "DateTime", "@value": "2026-01-01T00:00:00Z"}},
...     "dateObservedTo": {"type": "Property", "value": {"@type": "DateTime", "@value": "2027-01-01T00:00:00Z"}},
...     "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [3.72, 51.05]}},
...     "LAeq_d": {"type": "Property", "value": 61.2},
...     "@context": [CORE_CONTEXT, ENVIRONMENT_CONTEXT],
... }
>>> key_values(entity)["LAeq_d"], key_values(entity)["dateObservedFrom"]
(61.2, '2026-01-01T00:00:00Z')
>>> check_entity(entity)
>>> check_entity({**entity, "LAeq_d": {"type": "Property", "value": "loud"}})
Traceback (most recent call last):
...
ldtkit.errors.InvalidValueError: NGSI-LD entity 'urn:ngsi-ld:NoiseLevelObserved:ghent:1': does not validate against the Smart Data Models NoiseLevelObserved schema at LAeq_d: 'loud' is not of type 'number'
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ldtkit.errors import InvalidValueError, UnreadableFormatError, require_file

__all__ = [
    "CORE_CONTEXT",
    "DOCUMENTS",
    "ENVIRONMENT_CONTEXT",
    "FLOW_PROPERTIES",
    "LDTKIT_CONTEXT",
    "SCHEMAS",
    "TRANSPORTATION_CONTEXT",
    "check_entity",
    "context_for",
    "document",
    "document_loader",
    "expand",
    "key_values",
    "read_entities",
]

#: The NGSI-LD core context (ETSI GS CIM 009 v1.4).
CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.4.jsonld"
#: The Smart Data Models contexts of the Transportation and Environment domains.
TRANSPORTATION_CONTEXT = "https://raw.githubusercontent.com/smart-data-models/dataModel.Transportation/master/context.jsonld"
ENVIRONMENT_CONTEXT = "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld"

#: Canonical URL -> file in ``ldtkit/study/standards/data/`` (pinned copies, read offline).
DOCUMENTS: dict[str, str] = {
    CORE_CONTEXT: "ngsi-ld-core-context-v1.4.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld": "ngsi-ld-core-context-v1.4.jsonld",
    TRANSPORTATION_CONTEXT: "Transportation-context.jsonld",
    ENVIRONMENT_CONTEXT: "Environment-context.jsonld",
    "https://smart-data-models.github.io/data-models/common-schema.json": "common-schema.json",
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/Environment-schema.json": "Environment-schema.json",
    "https://smart-data-models.github.io/dataModel.Transportation/TrafficFlowObserved/schema.json": "TrafficFlowObserved-schema.json",
    "https://smart-data-models.github.io/dataModel.Transportation/RoadSegment/schema.json": "RoadSegment-schema.json",
    "https://smart-data-models.github.io/dataModel.Environment/AirQualityObserved/schema.json": "AirQualityObserved-schema.json",
    "https://smart-data-models.github.io/dataModel.Environment/NoiseLevelObserved/schema.json": "NoiseLevelObserved-schema.json",
}

#: Entity type -> the URL of its Smart Data Models schema.
SCHEMAS: dict[str, str] = {
    "RoadSegment": "https://smart-data-models.github.io/dataModel.Transportation/RoadSegment/schema.json",
    "TrafficFlowObserved": "https://smart-data-models.github.io/dataModel.Transportation/TrafficFlowObserved/schema.json",
    "AirQualityObserved": "https://smart-data-models.github.io/dataModel.Environment/AirQualityObserved/schema.json",
    "NoiseLevelObserved": "https://smart-data-models.github.io/dataModel.Environment/NoiseLevelObserved/schema.json",
}

_DOMAIN_CONTEXT = {
    "RoadSegment": TRANSPORTATION_CONTEXT,
    "TrafficFlowObserved": TRANSPORTATION_CONTEXT,
    "AirQualityObserved": ENVIRONMENT_CONTEXT,
    "NoiseLevelObserved": ENVIRONMENT_CONTEXT,
}

#: Terms ldtkit adds to the Smart Data Models (inline context, no network needed): the
#: model-provenance attributes and the END noise indicators the NoiseLevelObserved model lacks.
LDTKIT_CONTEXT: dict[str, str] = {
    "ldtkit": "https://ldtkit.readthedocs.io/terms/",
    "modelled": "ldtkit:modelled",
    "modelProvenance": "ldtkit:modelProvenance",
    "Lden": "ldtkit:Lden",
    "Lday": "ldtkit:Lday",
    "Levening": "ldtkit:Levening",
    "Lnight": "ldtkit:Lnight",
}

_ATTRIBUTE_TYPES = ("Property", "Relationship", "GeoProperty", "LanguageProperty")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
_TYPE_NAME = re.compile(r"^[A-Za-z_][\w.\-]*$")
_CORE_KEYS = ("id", "type", "@context", "scope", "createdAt", "modifiedAt")


def document(url: str) -> Any:
    """The JSON document pinned for ``url`` (a context or a schema).

    Examples
    --------
    >>> sorted(document(CORE_CONTEXT))
    ['@context']
    >>> document("https://example.org/x.jsonld")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: no pinned copy of 'https://example.org/x.jsonld' (ldtkit reads contexts and schemas offline); known: ...
    """
    name = DOCUMENTS.get(url)
    if name is None:
        raise InvalidValueError(f"no pinned copy of {url!r} (ldtkit reads contexts and schemas offline); known: {sorted(DOCUMENTS)}")
    return _load(name)


@functools.cache
def _load(name: str) -> Any:
    return json.loads(resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8"))


def document_loader(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A pyld document loader serving the pinned contexts (``jsonld.expand(..., {"documentLoader": document_loader})``).

    Examples
    --------
    >>> document_loader(ENVIRONMENT_CONTEXT)["documentUrl"] == ENVIRONMENT_CONTEXT
    True
    """
    return {"contextUrl": None, "documentUrl": url, "document": document(url)}


@functools.cache
def _registry() -> Registry[Any]:
    resources_ = [
        (url, Resource.from_contents(document(url), default_specification=DRAFT202012)) for url in DOCUMENTS if url.endswith(".json")
    ]
    return Registry().with_resources(resources_)


#: Traffic-flow properties a ``RoadSegment`` may carry, checked against their definitions in the
#: ``TrafficFlowObserved`` schema (the ``RoadSegment`` schema does not define them).
FLOW_PROPERTIES = (
    "intensity",
    "occupancy",
    "averageVehicleSpeed",
    "averageVehicleLength",
    "congested",
    "averageHeadwayTime",
    "averageGapDistance",
)


@functools.cache
def _validator(entity_type: str) -> Draft202012Validator:
    schema = document(SCHEMAS[entity_type])
    if entity_type == "RoadSegment":
        flow = document(SCHEMAS["TrafficFlowObserved"])["allOf"][-1]["properties"]
        schema = {"allOf": [schema, {"properties": {k: flow[k] for k in FLOW_PROPERTIES}}]}
    return Draft202012Validator(schema, registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def context_for(entity_type: str) -> list[Any]:
    """The ``@context`` ldtkit gives an entity of ``entity_type``: NGSI-LD core, its Smart Data Models domain, ldtkit's terms.

    Examples
    --------
    >>> context_for("RoadSegment")[1] == TRANSPORTATION_CONTEXT
    True
    """
    if entity_type not in _DOMAIN_CONTEXT:
        raise InvalidValueError(f"entity type {entity_type!r}: expected one of {sorted(_DOMAIN_CONTEXT)}")
    return [CORE_CONTEXT, _DOMAIN_CONTEXT[entity_type], dict(LDTKIT_CONTEXT)]


def _attribute_value(attr: Mapping[str, Any]) -> Any:
    if attr.get("type") == "Relationship":
        return attr.get("object")
    if attr.get("type") == "LanguageProperty":
        return attr.get("languageMap")
    value = attr.get("value")
    if isinstance(value, Mapping) and "@value" in value:  # {"@type": "DateTime", "@value": "..."}
        return value["@value"]
    return value


def key_values(entity: Mapping[str, Any]) -> dict[str, Any]:
    """The key-value projection of a normalized entity: ``id``, ``type`` and each attribute's value.

    A multi-attribute (a list of instances) projects to its default instance (no ``datasetId``),
    else its first.

    Examples
    --------
    >>> key_values({"id": "urn:a", "type": "T", "refRoad": {"type": "Relationship", "object": "urn:b"}})
    {'id': 'urn:a', 'type': 'T', 'refRoad': 'urn:b'}
    """
    out: dict[str, Any] = {"id": entity.get("id"), "type": entity.get("type")}
    for name, attr in entity.items():
        if name in _CORE_KEYS:
            continue
        if isinstance(attr, list):
            default = [a for a in attr if isinstance(a, Mapping) and "datasetId" not in a]
            attr = (default or attr or [{}])[0]
        if isinstance(attr, Mapping):
            out[name] = _attribute_value(attr)
    return out


def _structure_problems(entity: Mapping[str, Any]) -> list[str]:
    problems = []
    eid, etype = entity.get("id"), entity.get("type")
    if not isinstance(eid, str) or not _URI.match(eid):
        problems.append(f"id {eid!r} is not an absolute URI (expected e.g. 'urn:ngsi-ld:{etype or 'Type'}:...')")
    if etype is None:
        problems.append("missing 'type'")
    elif not isinstance(etype, str) or not _TYPE_NAME.match(etype):
        problems.append(f"type {etype!r} is not an entity type name")
    for name, attr in entity.items():
        if name in _CORE_KEYS:
            continue
        for inst in attr if isinstance(attr, list) else [attr]:
            if not isinstance(inst, Mapping) or inst.get("type") not in _ATTRIBUTE_TYPES:
                problems.append(
                    f"attribute {name!r} is not an NGSI-LD attribute (expected an object with type one of {list(_ATTRIBUTE_TYPES)})"
                )
                break
            key = "object" if inst["type"] == "Relationship" else "languageMap" if inst["type"] == "LanguageProperty" else "value"
            if key not in inst:
                problems.append(f"attribute {name!r} ({inst['type']}) has no {key!r}")
                break
    return problems


def check_entity(entity: Mapping[str, Any], *, source: str | Path | None = None, require_context: bool = True) -> None:
    """Check a normalized NGSI-LD entity; raise :class:`~ldtkit.errors.InvalidValueError` naming its id and what is wrong.

    The structure is checked first (``id``, ``type``, attributes, ``@context`` unless
    ``require_context=False``), then the key-value projection against the type's Smart Data
    Models schema (types without a pinned schema get the structural check only); a
    ``RoadSegment``'s traffic-flow properties (:data:`FLOW_PROPERTIES`) are checked against their
    ``TrafficFlowObserved`` definitions.

    Examples
    --------
    >>> check_entity({"id": "not a uri", "type": "RoadSegment"}, require_context=False)
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: NGSI-LD entity 'not a uri': id 'not a uri' is not an absolute URI (expected e.g. 'urn:ngsi-ld:RoadSegment:...')
    """
    where = f"{source}: " if source else ""
    if not isinstance(entity, Mapping):
        raise InvalidValueError(f"{where}NGSI-LD entity: expected a JSON object, got {type(entity).__name__}")
    label = f"{where}NGSI-LD entity {entity.get('id')!r}"
    problems = _structure_problems(entity)
    if require_context and "@context" not in entity:
        problems.append("no '@context' (expected the NGSI-LD core context and the Smart Data Models context)")
    if problems:
        raise InvalidValueError(f"{label}: " + "; ".join(problems))
    etype = str(entity["type"])
    if etype in SCHEMAS:
        errors = sorted(_validator(etype).iter_errors(key_values(entity)), key=lambda e: list(e.absolute_path))
        if errors:
            detail = "; ".join(f"at {'/'.join(map(str, e.absolute_path)) or '(entity)'}: {e.message}" for e in errors[:5])
            raise InvalidValueError(f"{label}: does not validate against the Smart Data Models {etype} schema {detail}")


def expand(entity: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The JSON-LD expansion of ``entity`` with pyld, contexts served offline by :func:`document_loader`.

    Examples
    --------
    >>> e = {"id": "urn:ngsi-ld:AirQualityObserved:x", "type": "AirQualityObserved", "no2": {"type": "Property", "value": 21.0},
    ...      "@context": [CORE_CONTEXT, ENVIRONMENT_CONTEXT]}
    >>> sorted(expand(e)[0])
    ['@id', '@type', 'https://smartdatamodels.org/dataModel.Environment/no2']
    """
    from pyld import jsonld

    expanded: list[dict[str, Any]] = jsonld.expand(dict(entity), {"documentLoader": document_loader})
    return expanded


def read_entities(path: str | Path, *, types: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Read and check NGSI-LD entities in normalized form: a ``.json``/``.jsonld`` file (one entity or
    a list) or a folder of them; ``types`` keeps only those entity types.

    Examples
    --------
    >>> read_entities("/nonexistent/entities")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InputFileNotFoundError: NGSI-LD entities not found: /nonexistent/entities
    """
    p = require_file(path, what="NGSI-LD entities")
    files = sorted(f for f in p.iterdir() if f.suffix in (".json", ".jsonld")) if p.is_dir() else [p]
    wanted = set(types) if types is not None else None
    out: list[dict[str, Any]] = []
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UnreadableFormatError(f, expected="NGSI-LD JSON-LD", detail=str(exc)) from exc
        for entity in data if isinstance(data, list) else [data]:
            check_entity(entity, source=f)
            if wanted is None or entity["type"] in wanted:
                out.append(entity)
    return out
