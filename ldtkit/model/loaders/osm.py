"""Drivable road networks from OpenStreetMap extracts (``.osm.pbf``, ``.osm``, ``.osm.gz``).

Reading uses `pyosmium <https://osmcode.org/pyosmium/>`_ (``osmium.FileProcessor`` with node
locations); the ways are then split at intersections (nodes shared by two or more kept ways,
and way ends), expanded to one directed link per allowed direction, projected to a metric
CRS, and cleaned to the largest strongly connected car component.

Tags read: ``highway``, ``name`` (else ``ref``), ``ref``, ``lanes`` / ``lanes:forward`` /
``lanes:backward``, ``maxspeed`` / ``maxspeed:forward`` / ``maxspeed:backward``, ``oneway``,
``junction``, ``bridge``, ``tunnel``, ``access``, ``vehicle``, ``motor_vehicle``,
``motorcar``, ``hgv``, ``maxweight``, ``foot``, ``area``. Missing values come from
:data:`ROAD_CLASS_DEFAULTS`.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, NamedTuple, cast

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ldtkit.errors import EmptyStudyAreaError, UnreadableFormatError, require_file
from ldtkit.model.loaders.common import BACKWARD, BOTH, FORWARD, build_network, expand_directions
from ldtkit.model.road_network import CrsLike, RoadNetwork, utm_crs_for

#: Defaults by OSM ``highway`` class where tags are missing: lanes *per direction*, free speed
#: (km/h) and capacity per lane (PCU/h). Speeds are urban limits in Portugal / Belgium
#: (50 km/h in built-up areas, 30 on residential streets in most city centres, 20 on
#: living streets); lanes and per-lane capacities follow the defaults of MATSim's
#: ``OsmNetworkReader`` (motorway 2 x 2000, trunk/primary 1 x 1500-2000, secondary 1000,
#: tertiary and below 600, living street 300), rounded. These are planning assumptions;
#: calibrate against counts where available. ``car = False`` classes are walk-only.
ROAD_CLASS_DEFAULTS: dict[str, dict[str, Any]] = {
    "motorway": {"lanes": 2, "speed_kmh": 120, "capacity_per_lane_vph": 2000, "car": True, "walk": False},
    "motorway_link": {"lanes": 1, "speed_kmh": 60, "capacity_per_lane_vph": 1500, "car": True, "walk": False},
    "trunk": {"lanes": 2, "speed_kmh": 80, "capacity_per_lane_vph": 1800, "car": True, "walk": False},
    "trunk_link": {"lanes": 1, "speed_kmh": 50, "capacity_per_lane_vph": 1500, "car": True, "walk": False},
    "primary": {"lanes": 1, "speed_kmh": 50, "capacity_per_lane_vph": 1500, "car": True, "walk": True},
    "primary_link": {"lanes": 1, "speed_kmh": 40, "capacity_per_lane_vph": 1500, "car": True, "walk": True},
    "secondary": {"lanes": 1, "speed_kmh": 50, "capacity_per_lane_vph": 1000, "car": True, "walk": True},
    "secondary_link": {"lanes": 1, "speed_kmh": 40, "capacity_per_lane_vph": 1000, "car": True, "walk": True},
    "tertiary": {"lanes": 1, "speed_kmh": 50, "capacity_per_lane_vph": 800, "car": True, "walk": True},
    "tertiary_link": {"lanes": 1, "speed_kmh": 40, "capacity_per_lane_vph": 800, "car": True, "walk": True},
    "unclassified": {"lanes": 1, "speed_kmh": 40, "capacity_per_lane_vph": 600, "car": True, "walk": True},
    "residential": {"lanes": 1, "speed_kmh": 30, "capacity_per_lane_vph": 600, "car": True, "walk": True},
    "living_street": {"lanes": 1, "speed_kmh": 20, "capacity_per_lane_vph": 300, "car": True, "walk": True},
    "service": {"lanes": 1, "speed_kmh": 20, "capacity_per_lane_vph": 300, "car": True, "walk": True},
    "pedestrian": {"lanes": 1, "speed_kmh": 5, "capacity_per_lane_vph": 0, "car": False, "walk": True},
}

#: Classes where ``oneway=yes`` is implied (OSM wiki: motorway, motorway_link).
IMPLIED_ONEWAY = frozenset({"motorway", "motorway_link"})

#: Implicit speed limits (km/h) for ``maxspeed`` values like ``"PT:urban"``, by the part after the colon.
IMPLICIT_SPEEDS: dict[str, float] = {
    "urban": 50.0,
    "rural": 90.0,
    "trunk": 100.0,
    "motorway": 120.0,
    "living_street": 20.0,
    "walk": 7.0,
    "bicycle_road": 30.0,
}
#: ``service=*`` values left out even with ``include_service`` (as in OSMnx's "drive" filter).
EXCLUDED_SERVICE = frozenset({"parking_aisle", "parking", "driveway", "drive-through", "emergency_access", "private"})
_MPH = 1.609344
_KNOT = 1.852
_NUM = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)
_ZONE = re.compile(r"zone:?\s*(\d+)", re.IGNORECASE)
_YES = {"yes", "1", "true"}
_NOT_DRIVABLE_ACCESS = {"no", "private", "agricultural", "forestry", "delivery", "emergency", "psv", "bus"}
_DRIVABLE_ACCESS = {"yes", "designated", "permissive", "destination", "customers"}


def parse_maxspeed(value: str | None) -> float:
    """Speed limit in km/h from an OSM ``maxspeed`` value; NaN when unknown.

    Handles numbers (``"50"``, ``"50 km/h"``), ``"30 mph"``, ``"10 knots"``, implicit
    limits (``"PT:urban"``, ``"BE-VLG:rural"``), zone values (``"zone:30"``,
    ``"DE:zone30"``, ``"BE:zone30"``), ``"walk"`` and lists (``"50;30"``: the first).
    ``"none"``, ``"signals"`` and ``"variable"`` give NaN (the class default applies).

    Examples
    --------
    >>> parse_maxspeed("50 mph")
    80.4672
    >>> parse_maxspeed("DE:zone30"), parse_maxspeed("PT:urban"), parse_maxspeed("zone:20")
    (30.0, 50.0, 20.0)
    """
    if value is None:
        return math.nan
    v = str(value).strip()
    if not v:
        return math.nan
    v = re.split(r"[;|]", v)[0].strip()
    m = _NUM.match(v)
    if m:
        x = float(m.group(1).replace(",", "."))
        unit = (m.group(2) or "").lower()
        if unit == "mph":
            x *= _MPH
        elif unit == "knots":
            x *= _KNOT
        return round(x, 4) if x > 0 else math.nan
    z = _ZONE.search(v)
    if z:
        return float(z.group(1))
    key = v.split(":", 1)[1] if ":" in v else v
    return IMPLICIT_SPEEDS.get(key.strip().lower(), math.nan)


def parse_oneway(tags: dict[str, str], highway: str) -> str:
    """Direction of travel: ``"forward"``, ``"backward"`` or ``"both"``.

    ``oneway=yes/1/true`` → forward, ``-1``/``reverse`` → backward, ``no`` → both;
    without an ``oneway`` tag, roundabouts (``junction=roundabout/circular``) and
    motorways / motorway links are one-way forward.

    Examples
    --------
    >>> parse_oneway({"oneway": "-1"}, "residential"), parse_oneway({}, "motorway")
    ('backward', 'forward')
    """
    ow = tags.get("oneway", "").strip().lower()
    if ow in _YES:
        return FORWARD
    if ow in ("-1", "reverse"):
        return BACKWARD
    if ow in ("no", "0", "false", "reversible", "alternating"):
        return BOTH
    if tags.get("junction", "") in ("roundabout", "circular") or highway in IMPLIED_ONEWAY:
        return FORWARD
    return BOTH


def _num(value: str | None) -> float:
    if value is None:
        return math.nan
    try:
        return float(str(value).split(";")[0].strip().replace(",", "."))
    except ValueError:
        return math.nan


def _car_allowed(tags: dict[str, str], defaults: dict[str, Any]) -> bool:
    car = bool(defaults.get("car", True))
    # the most specific tag present wins: motorcar > motor_vehicle > vehicle > access
    for key in ("motorcar", "motor_vehicle", "vehicle", "access"):
        v = tags.get(key)
        if v is None:
            continue
        v = v.strip().lower()
        if v in _NOT_DRIVABLE_ACCESS:
            return False
        if v in _DRIVABLE_ACCESS:
            return car or key != "access"
        break
    return car


def _hgv_allowed(tags: dict[str, str], car: bool) -> bool:
    """Heavy vehicles: barred by ``hgv=no``, ``goods=no`` or ``maxweight`` under 7.5 t."""
    if not car or tags.get("hgv", "").lower() == "no" or tags.get("goods", "").lower() == "no":
        return False
    w = _num(tags.get("maxweight"))
    return not (np.isfinite(w) and w < 7.5)


class _Ways(NamedTuple):
    """The drivable ways of an OSM file: per way its id, tags and node count; per way node its ref and location."""

    way_ids: list[int]
    tags: list[dict[str, str]]
    node_refs: npt.NDArray[np.int64]
    node_lons: npt.NDArray[np.float64]  # NaN where the file lacks the node's location
    node_lats: npt.NDArray[np.float64]
    lengths: list[int]  # nodes per way


def _read_ways(path: Path, classes: set[str]) -> _Ways:
    import osmium

    wanted = (
        "name",
        "ref",
        "lanes",
        "lanes:forward",
        "lanes:backward",
        "maxspeed",
        "maxspeed:forward",
        "maxspeed:backward",
        "oneway",
        "junction",
        "bridge",
        "tunnel",
        "access",
        "vehicle",
        "motor_vehicle",
        "motorcar",
        "hgv",
        "goods",
        "maxweight",
        "foot",
        "area",
        "highway",
        "service",
    )
    way_ids: list[int] = []
    tags_out: list[dict[str, str]] = []
    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    lengths: list[int] = []
    try:
        fp = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for obj in fp:
            w = cast("osmium.osm.Way", obj)  # the entity filter lets ways through only
            hw = w.tags.get("highway")
            if hw not in classes or w.tags.get("area") == "yes":
                continue
            if hw == "service" and w.tags.get("service") in EXCLUDED_SERVICE:
                continue
            k = 0
            for n in w.nodes:
                loc = n.location
                refs.append(n.ref)
                if loc.valid():
                    lons.append(loc.lon)
                    lats.append(loc.lat)
                else:
                    lons.append(math.nan)
                    lats.append(math.nan)
                k += 1
            way_ids.append(w.id)
            tags_out.append({t: w.tags[t] for t in wanted if t in w.tags})
            lengths.append(k)
    except (RuntimeError, ValueError, OSError) as exc:
        raise UnreadableFormatError(path, expected="an OpenStreetMap file (.osm.pbf, .osm, .osm.gz)", detail=str(exc)) from exc
    return _Ways(way_ids, tags_out, np.asarray(refs, np.int64), np.asarray(lons), np.asarray(lats), lengths)


def network_from_osm(
    path: str | Path,
    *,
    crs: CrsLike = None,
    name: str = "network",
    include_service: bool = True,
    keep_non_car: bool = True,
    road_class_defaults: dict[str, dict[str, Any]] | None = None,
    cleanup: bool = True,
) -> RoadNetwork:
    """Drivable road network from an OpenStreetMap extract.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm`` or ``.osm.gz`` file.
    crs
        Metric CRS of the result (default: the UTM zone of the extract's centre,
        :func:`ldtkit.model.road_network.utm_crs_for`).
    name
        Network name.
    include_service
        Load ``highway=service`` ways except those in :data:`EXCLUDED_SERVICE` (driveways,
        parking aisles); they often carry the only connection of a street to the network.
    keep_non_car
        Keep ``highway=pedestrian`` ways and drivable-class ways closed to cars
        (``access=no``, ``motor_vehicle=no``, ...) as walk links (``car_allowed = False``).
    road_class_defaults
        Overrides of :data:`ROAD_CLASS_DEFAULTS` by ``highway`` value (merged per key).
    cleanup
        Keep only the largest strongly connected car component (reported in
        ``network.meta["cleanup"]``).

    Returns
    -------
    RoadNetwork
        Node ids are OSM node ids; ``source_id`` is the OSM way id; ``road_class`` the
        ``highway`` value; extra columns ``ref``, ``maxspeed_tagged`` (bool) and
        ``lanes_tagged`` (bool).

    Raises
    ------
    InputFileNotFoundError, UnreadableFormatError
        Missing file or not an OSM file.
    EmptyStudyAreaError
        No drivable way in the file.

    Examples
    --------
    >>> from ldtkit.model.network import network_from_osm
    >>> net = network_from_osm("data/porto/porto.osm.pbf", crs="EPSG:32629")  # doctest: +SKIP
    >>> sorted(set(net.links.loc[net.links["bridge"], "name"].dropna()))[:2]  # doctest: +SKIP
    ['Avenida Dom João II', 'Ponte Dom Luís I (tabuleiro inferior)']
    """
    from pyproj import Transformer

    path = require_file(path, what="OSM extract")
    defaults = {k: dict(v) for k, v in ROAD_CLASS_DEFAULTS.items()}
    for k, v in (road_class_defaults or {}).items():
        defaults[k] = {**defaults.get(k, {"lanes": 1, "speed_kmh": 30, "capacity_per_lane_vph": 600, "car": True, "walk": True}), **v}
    classes = {k for k, v in defaults.items() if v.get("car", True) or keep_non_car}
    if not include_service:
        classes.discard("service")
    way_ids, tags, refs, lons, lats, lengths = _read_ways(path, classes)
    if not way_ids:
        raise EmptyStudyAreaError(f"{path}: no drivable ways (field 'highway' in {sorted(classes)}) in the file")

    # ---- per-way attributes (one Python pass over ways, not nodes)
    nw = len(way_ids)
    hw = np.array([t["highway"] for t in tags], dtype=object)
    car = np.zeros(nw, bool)
    hgv = np.zeros(nw, bool)
    walk = np.zeros(nw, bool)
    direction = np.empty(nw, dtype=object)
    lanes_f = np.full(nw, np.nan)
    lanes_b = np.full(nw, np.nan)
    speed_f = np.full(nw, np.nan)
    speed_b = np.full(nw, np.nan)
    speed_tag = np.zeros(nw, bool)
    lanes_tag = np.zeros(nw, bool)
    for i, t in enumerate(tags):
        d = defaults[hw[i]]
        car[i] = _car_allowed(t, d)
        hgv[i] = _hgv_allowed(t, car[i])
        walk[i] = bool(d.get("walk", True)) and t.get("foot", "").lower() != "no"
        direction[i] = parse_oneway(t, hw[i]) if car[i] else BOTH
        ms = parse_maxspeed(t.get("maxspeed"))
        speed_f[i] = parse_maxspeed(t.get("maxspeed:forward")) if "maxspeed:forward" in t else ms
        speed_b[i] = parse_maxspeed(t.get("maxspeed:backward")) if "maxspeed:backward" in t else ms
        speed_tag[i] = np.isfinite(ms) or np.isfinite(speed_f[i])
        total = _num(t.get("lanes"))
        lf, lb = _num(t.get("lanes:forward")), _num(t.get("lanes:backward"))
        if direction[i] == BOTH:
            half = max(1.0, math.floor(total / 2.0)) if np.isfinite(total) else math.nan
            lanes_f[i] = lf if np.isfinite(lf) else half
            lanes_b[i] = lb if np.isfinite(lb) else half
        else:
            lanes_f[i] = lanes_b[i] = total
        lanes_tag[i] = np.isfinite(total) or np.isfinite(lf)
    table = pd.DataFrame.from_dict(defaults, orient="index")
    d_lanes = table.loc[hw, "lanes"].to_numpy(np.float64)
    d_speed = table.loc[hw, "speed_kmh"].to_numpy(np.float64)
    d_cap = table.loc[hw, "capacity_per_lane_vph"].to_numpy(np.float64)
    lanes_f = np.where(np.isfinite(lanes_f) & (lanes_f > 0), lanes_f, d_lanes)
    lanes_b = np.where(np.isfinite(lanes_b) & (lanes_b > 0), lanes_b, d_lanes)
    speed_f = np.where(np.isfinite(speed_f) & (speed_f > 0), speed_f, d_speed)
    speed_b = np.where(np.isfinite(speed_b) & (speed_b > 0), speed_b, d_speed)

    def flag(key: str) -> np.ndarray:
        return np.array([t.get(key, "no").lower() not in ("no", "") for t in tags], bool)

    bridge, tunnel = flag("bridge"), flag("tunnel")
    names = np.array([t.get("name", t.get("ref")) for t in tags], dtype=object)
    ref = np.array([t.get("ref") for t in tags], dtype=object)

    # ---- split ways at intersections and way ends (vectorised over all way nodes)
    lengths_a = np.asarray(lengths, np.int64)
    way_of = np.repeat(np.arange(nw), lengths_a)
    valid = np.isfinite(lons)
    # a run is a maximal stretch of a way with known node locations
    starts = np.zeros(len(refs), bool)
    starts[np.cumsum(lengths_a)[:-1]] = True
    starts[0] = True
    run_start = starts | np.concatenate([[False], ~valid[:-1]])
    run_id = np.cumsum(run_start) - 1
    keep = valid
    refs, lons, lats, way_of, run_id = refs[keep], lons[keep], lats[keep], way_of[keep], run_id[keep]
    if len(refs) == 0:
        raise EmptyStudyAreaError(f"{path}: no drivable way has node locations in the file")
    first = np.concatenate([[True], run_id[1:] != run_id[:-1]])
    last = np.concatenate([run_id[1:] != run_id[:-1], [True]])
    uniq, inv, counts = np.unique(refs, return_inverse=True, return_counts=True)
    boundary = first | last | (counts[inv] >= 2)
    b = np.flatnonzero(boundary)
    same_run = run_id[b[:-1]] == run_id[b[1:]]
    p_start, p_end = b[:-1][same_run], b[1:][same_run]
    n_pieces = len(p_start)
    if n_pieces == 0:
        raise EmptyStudyAreaError(f"{path}: drivable ways have fewer than two located nodes")
    npts = p_end - p_start + 1
    offs = np.repeat(p_start - np.concatenate([[0], np.cumsum(npts)[:-1]]), npts)
    coord_idx = np.arange(npts.sum()) + offs
    if crs is None:
        crs = utm_crs_for(float(np.nanmean([np.nanmin(lons), np.nanmax(lons)])), float(np.nanmean([np.nanmin(lats), np.nanmax(lats)])))
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lons, lats)
    geoms = shapely.linestrings(np.column_stack([x[coord_idx], y[coord_idx]]), indices=np.repeat(np.arange(n_pieces), npts))
    pw = way_of[p_start]

    seg = gpd.GeoDataFrame(
        {
            "from_node": refs[p_start],
            "to_node": refs[p_end],
            "length_m": shapely.length(geoms),
            "lanes": lanes_f[pw],
            "free_speed_kmh": speed_f[pw],
            "road_class": hw[pw],
            "name": names[pw],
            "bridge": bridge[pw],
            "tunnel": tunnel[pw],
            "car_allowed": car[pw],
            "hgv_allowed": hgv[pw],
            "walk_allowed": walk[pw],
            "source_id": np.asarray(way_ids, np.int64)[pw].astype(str).astype(object),
            "ref": ref[pw],
            "maxspeed_tagged": speed_tag[pw],
            "lanes_tagged": lanes_tag[pw],
            "_lanes_b": lanes_b[pw],
            "_speed_b": speed_b[pw],
            "_cap_lane": d_cap[pw],
        },
        geometry=geoms,
        crs=crs,
    )
    loops = seg["from_node"].to_numpy() == seg["to_node"].to_numpy()
    seg.loc[loops, ["car_allowed", "hgv_allowed"]] = False
    links = expand_directions(seg, direction[pw])
    rev = links["reversed"].to_numpy()
    links.loc[rev, "lanes"] = links.loc[rev, "_lanes_b"]
    links.loc[rev, "free_speed_kmh"] = links.loc[rev, "_speed_b"]
    links["capacity_vph"] = links["lanes"] * links["_cap_lane"]
    links = links.drop(columns=["_lanes_b", "_speed_b", "_cap_lane"])
    links.loc[links["length_m"] <= 0, "length_m"] = 0.1
    if not keep_non_car:
        links = links[links["car_allowed"]]
    node_xy = np.full((len(uniq), 2), np.nan)
    node_xy[inv] = np.column_stack([x, y])
    return build_network(
        links,
        node_xy,
        node_ids=uniq,
        crs=crs,
        name=name,
        source=path,
        cleanup=cleanup,
        keep_non_car=keep_non_car,
        meta={
            "ways": nw,
            "ways_by_highway": pd.Series(hw).value_counts().to_dict(),
            "pieces": n_pieces,
            "maxspeed_tagged_share": round(float(speed_tag.mean()), 3),
            "lanes_tagged_share": round(float(lanes_tag.mean()), 3),
        },
    )
