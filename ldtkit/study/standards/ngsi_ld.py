"""A scenario's results as NGSI-LD entities (normalized form, Smart Data Models), and their export.

- every road link (connectors excepted) -> ``RoadSegment`` ``urn:ngsi-ld:RoadSegment:<city>:<link_id>``,
  with the modelled traffic as the Smart Data Models traffic-flow properties: ``intensity``
  (vehicles per day; one instance per period of the day with ``datasetId``
  ``urn:ngsi-ld:Dataset:ldtkit:<period>``, vehicles in that period), ``averageVehicleSpeed`` (km/h,
  day period) and ``congested`` (day volume/capacity >= 1);
- noise receptors -> ``NoiseLevelObserved`` ``urn:ngsi-ld:NoiseLevelObserved:<city>:<x>_<y>`` with
  ``LAeq_d`` (Lday) and ``Lden``, ``Levening``, ``Lnight``; a grid is thinned to ``noise_spacing_m``
  (default 50 m, the air grid's spacing), façade or point receptors are all exported;
- air receptors -> ``AirQualityObserved`` ``urn:ngsi-ld:AirQualityObserved:<city>:<x>_<y>`` with
  ``no2``, ``nox``, ``pm10``, ``pm25`` (µg/m³, annual means);

every entity is marked ``modelled`` (true) and carries ``modelProvenance`` (model, version,
scenario, result key) and ``dataProvider`` ``ldtkit``. Ids do not depend on the scenario: post
each scenario to its own broker tenant. :func:`write_entities` checks every entity, then
writes one file per entity into a temporary folder renamed into place.

Examples
--------
>>> road_segment_id("ghent", 1204)
'urn:ngsi-ld:RoadSegment:ghent:1204'
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ldtkit import __version__
from ldtkit.errors import InvalidValueError
from ldtkit.model.traffic import PERIODS
from ldtkit.study.standards.smart_data_models import check_entity, context_for

if TYPE_CHECKING:  # pragma: no cover
    from ldtkit.model.receptors import Receptors
    from ldtkit.study.runner import ScenarioResult

__all__ = [
    "ExportSummary",
    "air_entities",
    "entity_filename",
    "noise_entities",
    "receptor_subset",
    "road_segment_entities",
    "road_segment_id",
    "scenario_entities",
    "write_entities",
]

_SLUG = re.compile(r"[^A-Za-z0-9]+")


def road_segment_id(city: str, link_id: Any) -> str:
    """The stable URN of a link's ``RoadSegment``."""
    return f"urn:ngsi-ld:RoadSegment:{_slug(city)}:{link_id}"


def _slug(text: str) -> str:
    return _SLUG.sub("-", str(text)).strip("-").lower() or "unnamed"


def _prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


def _datetime(stamp: str) -> dict[str, Any]:
    return _prop({"@type": "DateTime", "@value": stamp})


def _provenance(result: ScenarioResult, method: str) -> dict[str, Any]:
    return {
        "modelled": _prop(True),
        "modelProvenance": _prop(
            {"model": "ldtkit", "version": __version__, "scenario": result.scenario.name, "resultKey": result.key, "method": method}
        ),
        "dataProvider": _prop("ldtkit"),
    }


def _year_bounds(year: int) -> tuple[str, str]:
    if not 1900 <= int(year) <= 2999:
        raise InvalidValueError(f"year {year}: expected a calendar year (e.g. 2026)")
    return f"{int(year):04d}-01-01T00:00:00Z", f"{int(year) + 1:04d}-01-01T00:00:00Z"


def _lonlat(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], crs: Any) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    return np.round(np.asarray(lon, dtype=float), 7), np.round(np.asarray(lat, dtype=float), 7)


def road_segment_entities(result: ScenarioResult, *, city: str) -> Iterator[dict[str, Any]]:
    """``RoadSegment`` entities of the scenario's links (connectors excepted), with modelled flows.

    Examples
    --------
    >>> from ldtkit import run
    >>> base = run("ghent", [], progress=False)["baseline"]  # doctest: +SKIP
    >>> next(road_segment_entities(base, city="ghent"))["id"]  # doctest: +SKIP
    'urn:ngsi-ld:RoadSegment:ghent:0'
    """
    import shapely

    links = result.network.links
    keep = (links["road_class"] != "connector").to_numpy()
    wgs = links.loc[keep, ["geometry"]].to_crs(4326)
    coords, index = shapely.get_coordinates(wgs.geometry.to_numpy(), return_index=True)
    coords = np.round(coords, 7)
    starts = np.searchsorted(index, np.arange(len(wgs)))
    ends = np.append(starts[1:], len(index))
    rows = np.flatnonzero(keep)
    per_period = {p: result.traffic[p].total_vph[rows] * h for p, h in PERIODS.items()}
    per_day = np.round(sum(per_period.values()), 1)
    speed = np.round(result.traffic["day"].speed_kmh[rows], 1)
    cap = links["capacity_vph"].to_numpy()[rows]
    voc = np.divide(result.assignment.flow_pcu[rows], cap, out=np.zeros(len(rows)), where=cap > 0)
    provenance = _provenance(result, "static user-equilibrium assignment per period of the day")
    context = context_for("RoadSegment")
    cols = {
        c: links[c].to_numpy()[rows]
        for c in ("link_id", "name", "road_class", "length_m", "free_speed_kmh", "lanes", "car_allowed", "hgv_allowed")
    }
    for i in range(len(rows)):
        line = coords[starts[i] : ends[i]].tolist()
        allowed = (["car", "van", "motorcycle"] if cols["car_allowed"][i] else []) + (["lorry"] if cols["hgv_allowed"][i] else [])
        name = str(cols["name"][i]) if cols["name"][i] not in (None, "") and str(cols["name"][i]) != "nan" else str(cols["road_class"][i])
        intensity = [_prop(float(per_day[i]))] + [
            _prop(round(float(per_period[p][i]), 1), datasetId=f"urn:ngsi-ld:Dataset:ldtkit:{p}") for p in PERIODS
        ]
        yield {
            "id": road_segment_id(city, cols["link_id"][i]),
            "type": "RoadSegment",
            "name": _prop(name),
            "refRoad": {"type": "Relationship", "object": f"urn:ngsi-ld:Road:{_slug(city)}:{_slug(name)}"},
            "location": {"type": "GeoProperty", "value": {"type": "LineString", "coordinates": line}},
            "startPoint": _prop({"type": "Point", "coordinates": line[0]}),
            "endPoint": _prop({"type": "Point", "coordinates": line[-1]}),
            "length": _prop(round(float(cols["length_m"][i]) / 1000.0, 4)),
            "maximumAllowedSpeed": _prop(round(float(cols["free_speed_kmh"][i]), 1)),
            "totalLaneNumber": _prop(max(1.0, float(cols["lanes"][i]))),
            "allowedVehicleType": _prop(allowed),
            "status": _prop("open" if allowed else "closed"),
            "intensity": intensity,
            "averageVehicleSpeed": _prop(float(speed[i])),
            "congested": _prop(bool(voc[i] >= 1.0)),
            **provenance,
            "@context": context,
        }


def receptor_subset(receptors: Receptors, *, spacing_m: float) -> npt.NDArray[np.intp]:
    """Indices of the receptors to export: every k-th row and column of a grid so that the spacing
    is about ``spacing_m`` (k = round(spacing_m / cell_m), at least 1); every receptor otherwise.

    Examples
    --------
    >>> from ldtkit.model.receptors import receptors_grid
    >>> r = receptors_grid((0, 0, 40, 40), crs="EPSG:31370", cell_m=10)
    >>> receptor_subset(r, spacing_m=20).tolist()
    [0, 2, 8, 10]
    """
    if not spacing_m > 0:
        raise InvalidValueError(f"receptor spacing_m must be > 0, got {spacing_m}")
    if receptors.kind != "grid" or receptors.grid_shape is None or not receptors.cell_m:
        return np.arange(len(receptors))
    step = max(1, round(spacing_m / receptors.cell_m))
    ny, nx = receptors.grid_shape
    jj, ii = np.meshgrid(np.arange(0, ny, step), np.arange(0, nx, step), indexing="ij")
    return np.asarray((jj * nx + ii).ravel(), dtype=np.intp)


def _point_ids(city: str, kind: str, receptors: Receptors, idx: npt.NDArray[np.intp]) -> list[str]:
    if receptors.ids is not None and receptors.kind != "grid":
        keys = [_slug(str(v)) for v in receptors.ids[idx]]
    else:
        keys = [f"{int(round(x))}_{int(round(y))}" for x, y in zip(receptors.x[idx], receptors.y[idx])]
    return [f"urn:ngsi-ld:{kind}:{_slug(city)}:{k}" for k in keys]


def noise_entities(result: ScenarioResult, *, city: str, year: int, spacing_m: float = 50.0) -> Iterator[dict[str, Any]]:
    """``NoiseLevelObserved`` entities (annual Lden, Lday, Levening, Lnight in dB(A)) at the receptors
    chosen by :func:`receptor_subset`; receptors no source reaches (level ``-inf``) are left out and
    counted by :func:`scenario_entities`."""
    if result.noise is None:
        return
    nm = result.noise
    idx = receptor_subset(nm.receptors, spacing_m=spacing_m)
    idx = idx[np.isfinite(nm.lden_db[idx])]
    lon, lat = _lonlat(nm.receptors.x[idx], nm.receptors.y[idx], nm.receptors.crs)
    start, end = _year_bounds(year)
    provenance = _provenance(result, "CNOSSOS-EU road traffic noise, long-term levels at 4 m")
    context = context_for("NoiseLevelObserved")
    levels = {
        name: np.round(getattr(nm, col)[idx], 1)
        for name, col in (("LAeq_d", "lday_db"), ("Lden", "lden_db"), ("Levening", "levening_db"), ("Lnight", "lnight_db"))
    }
    for k, eid in enumerate(_point_ids(city, "NoiseLevelObserved", nm.receptors, idx)):
        yield {
            "id": eid,
            "type": "NoiseLevelObserved",
            "dateObservedFrom": _datetime(start),
            "dateObservedTo": _datetime(end),
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [float(lon[k]), float(lat[k])]}},
            **{name: _prop(float(v[k]), unitCode="2N") for name, v in levels.items()},
            **provenance,
            "@context": context,
        }


def air_entities(result: ScenarioResult, *, city: str, year: int) -> Iterator[dict[str, Any]]:
    """``AirQualityObserved`` entities (annual mean NO2, NOx, PM10, PM2.5 in µg/m³, background included) at the air receptors."""
    if result.air is None:
        return
    am = result.air
    idx = np.arange(len(am.receptors))
    lon, lat = _lonlat(am.receptors.x, am.receptors.y, am.receptors.crs)
    start, end = _year_bounds(year)
    provenance = _provenance(result, "traffic emissions (COPERT factors), CALINE3 line sources, street canyons, background")
    context = context_for("AirQualityObserved")
    conc = {
        name: np.round(getattr(am, col), 2)
        for name, col in (("no2", "no2_ugm3"), ("nox", "nox_ugm3"), ("pm10", "pm10_ugm3"), ("pm25", "pm25_ugm3"))
    }
    for k, eid in enumerate(_point_ids(city, "AirQualityObserved", am.receptors, idx)):
        yield {
            "id": eid,
            "type": "AirQualityObserved",
            "dateObserved": _datetime(start),
            "dateObservedFrom": _datetime(start),
            "dateObservedTo": _datetime(end),
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [float(lon[k]), float(lat[k])]}},
            "typeofLocation": _prop("outdoor"),
            **{name: _prop(float(v[k]), unitCode="GQ") for name, v in conc.items()},
            **provenance,
            "@context": context,
        }


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`write_entities` wrote: the folder, entities per type, noise receptors left out (no source in reach)."""

    folder: Path
    counts: Mapping[str, int]
    noise_unreached: int = 0

    def __str__(self) -> str:
        parts = ", ".join(f"{n} {t}" for t, n in self.counts.items())
        extra = f"; {self.noise_unreached} noise receptors no source reaches left out" if self.noise_unreached else ""
        return f"{self.folder}: {parts}{extra}"


def scenario_entities(
    result: ScenarioResult, *, city: str, year: int, noise_spacing_m: float = 50.0
) -> tuple[Iterator[dict[str, Any]], int]:
    """Every entity of one scenario (road segments, noise, air), and the number of noise receptors left out."""
    import itertools

    unreached = 0
    if result.noise is not None:
        idx = receptor_subset(result.noise.receptors, spacing_m=noise_spacing_m)
        unreached = int((~np.isfinite(result.noise.lden_db[idx])).sum())
    chain = itertools.chain(
        road_segment_entities(result, city=city),
        noise_entities(result, city=city, year=year, spacing_m=noise_spacing_m),
        air_entities(result, city=city, year=year),
    )
    return chain, unreached


def entity_filename(entity_id: str) -> str:
    """The file name of an entity in an export folder (``:`` -> ``_``).

    Examples
    --------
    >>> entity_filename("urn:ngsi-ld:RoadSegment:ghent:12")
    'urn_ngsi-ld_RoadSegment_ghent_12.jsonld'
    """
    return re.sub(r"[^A-Za-z0-9._-]", "_", entity_id) + ".jsonld"


def write_entities(entities: Iterable[Mapping[str, Any]], folder: str | Path, *, noise_unreached: int = 0) -> ExportSummary:
    """Check every entity and write one ``.jsonld`` file each into ``folder``, atomically.

    The files go to a temporary folder next to ``folder``, renamed onto it once every entity is
    checked and written; a bad entity (its id in the message) or a duplicate id leaves ``folder``
    as it was. An existing ``folder`` is replaced.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> write_entities([{"id": "urn:ngsi-ld:RoadSegment:x:1", "type": "RoadSegment"}], d)
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: NGSI-LD entity 'urn:ngsi-ld:RoadSegment:x:1': no '@context' (expected the NGSI-LD core context and the Smart Data Models context)
    >>> d.exists()
    False
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    counts: dict[str, int] = {}
    seen: set[str] = set()
    try:
        for entity in entities:
            check_entity(entity)
            name = entity_filename(str(entity["id"]))
            if name in seen:
                raise InvalidValueError(f"NGSI-LD entity {entity['id']!r}: duplicate id in the export")
            seen.add(name)
            (tmp / name).write_text(json.dumps(entity, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
            counts[str(entity["type"])] = counts.get(str(entity["type"]), 0) + 1
        old = None
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
            os.replace(folder, old / "x")
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return ExportSummary(folder=folder, counts=counts, noise_unreached=noise_unreached)
