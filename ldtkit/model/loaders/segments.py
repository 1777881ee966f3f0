"""Road networks from road-segment files (e.g. Ghent's ``wegsegmenten``) with a column mapping.

A segment file has one (undirected) LineString per road segment between junctions, with
attributes such as street name, a road class and a driving-direction code, but usually
no lanes or speeds. The *mapping* (kept as data in ``city.toml``) says which column holds
what, and a per-road-class defaults table supplies speeds, lanes and capacities; so
another city's segment file loads the same way with its own mapping.

Mapping keys (all values are column names unless noted)
--------------------------------------------------------
``id``
    Segment id (kept as ``source_id``).
``name``
    Street name.
``road_class``
    Road class; its values key ``road_class_defaults``.
``direction``
    Driving-direction code; ``direction_codes`` (a table) maps ``both``, ``forward``
    (along the digitisation), ``backward`` (against it) and ``none`` (no motor traffic)
    to the file's codes (a string or a list of strings).
``bridge`` / ``tunnel``
    ``{column = "...", value = "..."}`` (flag where the column equals the value, or is in
    a list of values) or a column name holding booleans / 0-1.
``lanes``, ``speed_kmh``, ``capacity_vph``, ``route``
    Optional columns overriding the class defaults where not empty.

Per-segment attributes from a second file
-----------------------------------------
:class:`SegmentAttributes` names a CSV table keyed by segment id (e.g. speed limits matched
from OpenStreetMap by :mod:`ldtkit.model.loaders.conflate`) whose values override the class
defaults of the segments it lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ldtkit._validate import closest
from ldtkit.errors import ConfigError, EmptyStudyAreaError, InvalidValueError, MissingFieldError, UnreadableFormatError, require_file
from ldtkit.model.loaders.common import (
    BACKWARD,
    BOTH,
    FORWARD,
    NONE,
    build_network,
    expand_directions,
    single_linestrings,
    snap_points,
    split_at_touching_ends,
)
from ldtkit.model.road_network import CrsLike, RoadNetwork, utm_crs_for

#: The keys every road class of ``road_class_defaults`` must give (the others are optional).
REQUIRED_CLASS_KEYS = ("speed_kmh", "lanes", "capacity_per_lane_vph")

#: Defaults by functional road class (FRC 0-10, as in the Flemish Wegenregister / TomTom FRC)
#: used when no ``road_class_defaults`` are given. Speeds follow Flemish urban limits, lanes are
#: per direction, capacities are planning values per lane (PCU/h); see ``data/ghent/city.toml``.
FRC_DEFAULTS: dict[str, dict[str, Any]] = {
    "0": {"label": "motorway", "speed_kmh": 120, "lanes": 2, "capacity_per_lane_vph": 2000, "car": True, "walk": False},
    "1": {"label": "major road", "speed_kmh": 70, "lanes": 2, "capacity_per_lane_vph": 1600, "car": True, "walk": False},
    "2": {"label": "other major road", "speed_kmh": 50, "lanes": 2, "capacity_per_lane_vph": 1200, "car": True},
    "3": {"label": "secondary road", "speed_kmh": 50, "lanes": 1, "capacity_per_lane_vph": 1000, "car": True},
    "4": {"label": "local connecting road", "speed_kmh": 50, "lanes": 1, "capacity_per_lane_vph": 900, "car": True},
    "5": {"label": "local road of high importance", "speed_kmh": 50, "lanes": 1, "capacity_per_lane_vph": 800, "car": True},
    "6": {"label": "local road", "speed_kmh": 30, "lanes": 1, "capacity_per_lane_vph": 600, "car": True},
    "7": {"label": "local road of minor importance", "speed_kmh": 30, "lanes": 1, "capacity_per_lane_vph": 500, "car": True},
    "8": {"label": "other road", "speed_kmh": 30, "lanes": 1, "capacity_per_lane_vph": 400, "car": True},
    "9": {"label": "private road", "speed_kmh": 20, "lanes": 1, "capacity_per_lane_vph": 300, "car": False},
    "10": {"label": "path", "speed_kmh": 15, "lanes": 1, "capacity_per_lane_vph": 0, "car": False, "hgv": False},
    "": {"label": "unknown", "speed_kmh": 30, "lanes": 1, "capacity_per_lane_vph": 500, "car": True},
}

_DEFAULT_CODES = {
    BOTH: ["D", "B", "both", "0"],
    FORWARD: ["FT", "F", "forward", "1"],
    BACKWARD: ["TF", "T", "backward", "-1"],
    NONE: ["N", "none"],
}


@dataclass(frozen=True)
class SegmentAttributes:
    """A CSV table of per-segment values that override the road-class defaults.

    Attributes
    ----------
    path
        The CSV file.
    id
        Its column of segment ids (values of the segment file's ``id`` column).
    speed_kmh
        Its column of free speeds (km/h, > 0).

    Examples
    --------
    >>> SegmentAttributes(Path("osm-speeds-ghent.csv"), id="wegsegid", speed_kmh="speed_kmh").id
    'wegsegid'
    """

    path: Path
    id: str
    speed_kmh: str


def read_segment_attributes(attributes: SegmentAttributes, segment_ids: pd.Series) -> pd.Series:
    """Speeds (km/h) of ``attributes`` indexed by segment id, checked against ``segment_ids``.

    Parameters
    ----------
    attributes
        The file and its columns.
    segment_ids
        Every id of the segment file (as strings).

    Returns
    -------
    pandas.Series
        ``speed_kmh`` by segment id.

    Raises
    ------
    InputFileNotFoundError
        The file does not exist.
    MissingFieldError
        A named column is missing (the message lists the file's columns, closest first).
    InvalidValueError
        Duplicate ids, ids not in the segment file (counted, with examples), or speeds that
        are not numbers > 0.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "s.csv")
    >>> _ = open(f, "w").write("sid,speed_kmh\\nA,30\\nZ,50\\n")
    >>> read_segment_attributes(SegmentAttributes(Path(f), id="sid", speed_kmh="speed_kmh"), pd.Series(["A", "B"]))
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: ...s.csv: 1 of 2 ids in column 'sid' are not segments of the network (e.g. ['Z'])
    """
    path = require_file(attributes.path, what="segment attributes file ([network] attributes)")
    try:
        table = pd.read_csv(path, dtype={attributes.id: str})
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise UnreadableFormatError(path, expected="a CSV table", detail=str(exc)) from exc
    for col in (attributes.id, attributes.speed_kmh):
        if col not in table.columns:
            near = closest([col], [str(c) for c in table.columns])
            raise MissingFieldError(
                path, col, expected=f"a column of the file; it has {near + [c for c in table.columns if c not in near]}"
            )
    ids = table[attributes.id].astype(str).str.strip()
    dup = ids[ids.duplicated()]
    if len(dup):
        raise InvalidValueError(
            f"{path}: {len(dup)} ids in column {attributes.id!r} appear more than once (e.g. {dup.unique()[:5].tolist()})"
        )
    unknown = ids[~ids.isin(set(segment_ids.astype(str)))]
    if len(unknown):
        raise InvalidValueError(
            f"{path}: {len(unknown)} of {len(ids)} ids in column {attributes.id!r} are not segments of the network "
            f"(e.g. {unknown[:5].tolist()})"
        )
    speed = pd.to_numeric(table[attributes.speed_kmh], errors="coerce")
    bad = ~(speed > 0)
    if bad.any():
        raise InvalidValueError(
            f"{path}: column {attributes.speed_kmh!r} holds {int(bad.sum())} values that are not speeds > 0 km/h "
            f"(e.g. ids {ids[bad][:5].tolist()})"
        )
    return pd.Series(speed.to_numpy(np.float64), index=ids.to_numpy(), name="speed_kmh")


def _target(path: Path) -> str:
    target = str(path)
    if path.suffix.lower() == ".zip" and not target.startswith(("zip://", "/vsizip/")):
        target = "zip://" + target
    return target


def _read(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    try:
        return gpd.read_file(_target(path), layer=layer) if layer else gpd.read_file(_target(path))
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise UnreadableFormatError(
            path, expected="a vector file of road segments (GeoJSON, GeoPackage, shapefile, zipped)", detail=str(exc)
        ) from exc


def _column(gdf: pd.DataFrame | list[str], path: Path, key: str, spec: Any) -> str:
    col = spec["column"] if isinstance(spec, dict) else spec
    if not isinstance(col, str):
        raise ConfigError(f"{path}: mapping key {key!r} must name a column, got {spec!r}")
    columns = list(gdf) if isinstance(gdf, list) else list(gdf.columns)
    if col not in columns:
        raise MissingFieldError(
            path,
            col,
            expected=f"the column named by mapping key {key!r}; the file has {sorted(c for c in columns if c != 'geometry')}",
        )
    return col


def _flag(gdf: pd.DataFrame, path: Path, key: str, spec: Any) -> np.ndarray:
    if spec is None:
        return np.zeros(len(gdf), dtype=bool)
    col = _column(gdf, path, key, spec)
    s = gdf[col]
    if isinstance(spec, dict) and "value" in spec:
        vals = spec["value"] if isinstance(spec["value"], list) else [spec["value"]]
        return s.astype(object).isin(vals).to_numpy()
    if s.dtype == bool:
        return s.to_numpy()
    return s.astype(str).str.lower().isin(["1", "true", "yes", "y", "t"]).to_numpy()


def _class_key(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def network_from_segments(
    path: str | Path,
    mapping: dict[str, Any],
    *,
    crs: CrsLike = None,
    name: str = "network",
    road_class_defaults: dict[str, dict[str, Any]] | None = None,
    snap_tolerance_m: float = 0.5,
    default_direction: str = BOTH,
    keep_non_car: bool = True,
    cleanup: bool = True,
    split_at_junctions: bool = True,
    layer: str | None = None,
    attributes: SegmentAttributes | None = None,
) -> RoadNetwork:
    """Road network from a road-segment file and a column mapping.

    Parameters
    ----------
    path
        Segment file (GeoJSON, GeoPackage, shapefile; ``.zip`` archives are read directly).
    mapping
        Which column holds what (see the module docstring); e.g. ``{"name": "straatnaam",
        "road_class": "functional_roadclass", "direction": "rijrichting", "bridge":
        {"column": "kenmerk", "value": "Brug"}}``.
    crs
        Metric CRS of the result (default: the UTM zone of the file's centre).
    name
        Network name.
    road_class_defaults
        Per road-class value (as a string, ``""`` for empty): ``speed_kmh``, ``lanes``
        (per direction), ``capacity_per_lane_vph``, ``car`` (bool), optional ``hgv``,
        ``walk`` and ``label``. Default :data:`FRC_DEFAULTS`.
    snap_tolerance_m
        Segment end points closer than this become one node.
    default_direction
        Direction of segments with an empty direction code (``"both"``, ``"forward"``,
        ``"backward"`` or ``"none"``).
    keep_non_car
        Keep segments without car access (paths, ``none`` direction) as walk links.
    cleanup
        Keep only the largest strongly connected car component (reported in
        ``network.meta["cleanup"]``).
    split_at_junctions
        Split segments where another segment's end point touches their interior (a
        junction the file did not split at); the pieces keep the segment's attributes.
    layer
        Layer to read from multi-layer files.
    attributes
        Per-segment speeds overriding the class defaults and the ``speed_kmh`` column
        (requires the ``id`` mapping; see :func:`read_segment_attributes`).

    Returns
    -------
    RoadNetwork
        Links with ``reversed = True`` where they run against the digitisation.

    Raises
    ------
    InputFileNotFoundError, UnreadableFormatError
        Missing or unreadable file.
    MissingFieldError
        The mapping names a column the file lacks (the message names file and column).
    InvalidValueError
        A road-class or direction value is not covered by the defaults / codes.
    EmptyStudyAreaError
        No drivable segment.

    Examples
    --------
    >>> from ldtkit.study.city import load_city
    >>> net = load_city("ghent").load_network()  # doctest: +SKIP
    >>> net.links.loc[net.links["bridge"] & net.links["car_allowed"], "name"].unique()  # doctest: +SKIP
    array(['Palinghuizen', 'Rooigemlaan', ...], dtype=object)
    """
    path = require_file(path, what="road-segment file")
    if not isinstance(mapping, dict):
        raise ConfigError(f"{path}: the segment mapping must be a table of column names, got {type(mapping).__name__}")
    known = {"id", "name", "road_class", "direction", "direction_codes", "bridge", "tunnel", "lanes", "speed_kmh", "capacity_vph", "route"}
    unknown = sorted(set(mapping) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown mapping keys {unknown}; expected some of {sorted(known)}")
    gdf = _read(path, layer)
    for key, spec in mapping.items():
        if key != "direction_codes":
            _column(gdf, path, key, spec)
    if len(gdf) == 0:
        raise EmptyStudyAreaError(f"{path}: the segment file holds no features")
    gdf = gdf[~gdf.geometry.isna() & ~gdf.geometry.is_empty].reset_index(drop=True)
    if crs is None:
        c = gdf.to_crs(4326).union_all().centroid if gdf.crs is not None else None
        crs = utm_crs_for(c.x, c.y) if c is not None else None
    if gdf.crs is None:
        raise UnreadableFormatError(path, expected="a file with a coordinate reference system", detail="no CRS found")
    gdf = gdf.to_crs(crs)
    geoms = single_linestrings(gdf.geometry.to_numpy())
    if not np.all(shapely.get_type_id(geoms) == 1):
        bad = gdf.geometry.geom_type[shapely.get_type_id(geoms) != 1].unique().tolist()
        raise UnreadableFormatError(path, expected="LineString road segments", detail=f"found geometry types {bad}")
    n_split = 0
    if split_at_junctions:
        geoms, parent, n_split = split_at_touching_ends(geoms, snap_tolerance_m)
        gdf = gdf.iloc[parent].reset_index(drop=True)

    # ---- attributes
    n = len(gdf)
    cols: dict[str, Any] = {}
    for key in ("id", "name", "road_class", "direction", "lanes", "speed_kmh", "capacity_vph", "route"):
        if key in mapping:
            cols[key] = _column(gdf, path, key, mapping[key])
    defaults = {str(k): v for k, v in (road_class_defaults or FRC_DEFAULTS).items()}
    cls = gdf[cols["road_class"]].map(_class_key) if "road_class" in cols else pd.Series([""] * n)
    missing = sorted(set(cls) - set(defaults))
    if missing:
        raise InvalidValueError(
            f"{path}: field {cols.get('road_class', 'road_class')!r} has values {missing} without road_class_defaults "
            f"(defined for {sorted(defaults)})"
        )
    table = pd.DataFrame.from_dict(defaults, orient="index")
    for req in REQUIRED_CLASS_KEYS:
        lacking = list(table.index) if req not in table.columns else list(table.index[table[req].isna()])
        if lacking:
            classes = f"road class{'es' if len(lacking) > 1 else ''} {', '.join(map(repr, sorted(lacking)))}"
            raise MissingFieldError(
                f"{path}: road_class_defaults of {classes}",
                req,
                expected=f"a value for every road class of field {cols.get('road_class', 'road_class')!r}",
            )
    if "car" not in table.columns:
        table["car"] = True
    table["car"] = table["car"].fillna(True).astype(bool)
    table["hgv"] = table["hgv"].fillna(table["car"]).astype(bool) if "hgv" in table.columns else table["car"]
    table["walk"] = table["walk"].fillna(True).astype(bool) if "walk" in table.columns else True
    if "label" not in table.columns:
        table["label"] = table.index
    d = table.loc[cls.tolist()]
    speed = d["speed_kmh"].to_numpy(np.float64)
    lanes = d["lanes"].to_numpy(np.float64)
    if "speed_kmh" in cols:
        v = pd.to_numeric(gdf[cols["speed_kmh"]], errors="coerce").to_numpy(np.float64)
        speed = np.where(np.isfinite(v) & (v > 0), v, speed)
    n_attributes = 0
    if attributes is not None:
        if "id" not in cols:
            raise ConfigError(f"{attributes.path}: per-segment attributes need the segment id; add `id` to [network.mapping]")
        given = read_segment_attributes(attributes, gdf[cols["id"]].astype(str).str.strip())
        v = gdf[cols["id"]].astype(str).str.strip().map(given).to_numpy(np.float64)
        speed = np.where(np.isfinite(v), v, speed)
        n_attributes = int(np.isfinite(v).sum())
    if "lanes" in cols:
        v = pd.to_numeric(gdf[cols["lanes"]], errors="coerce").to_numpy(np.float64)
        lanes = np.where(np.isfinite(v) & (v > 0), v, lanes)
    capacity = lanes * d["capacity_per_lane_vph"].to_numpy(np.float64)
    if "capacity_vph" in cols:
        v = pd.to_numeric(gdf[cols["capacity_vph"]], errors="coerce").to_numpy(np.float64)
        capacity = np.where(np.isfinite(v) & (v > 0), v, capacity)

    # ---- direction
    if default_direction not in (BOTH, FORWARD, BACKWARD, NONE):
        raise ConfigError(f"{path}: default_direction = {default_direction!r}; expected 'both', 'forward', 'backward' or 'none'")
    direction = np.full(n, default_direction, dtype=object)
    if "direction" in cols:
        codes = mapping.get("direction_codes") or _DEFAULT_CODES
        lookup: dict[str, str] = {}
        for meaning, vals in codes.items():
            if meaning not in (BOTH, FORWARD, BACKWARD, NONE):
                raise ConfigError(f"{path}: direction_codes key {meaning!r}; expected 'both', 'forward', 'backward' or 'none'")
            for v in vals if isinstance(vals, list) else [vals]:
                lookup[str(v)] = meaning
        raw = gdf[cols["direction"]]
        present = raw.notna() & (raw.astype(str).str.strip() != "")
        mapped = raw[present].astype(str).str.strip().map(lookup)
        if mapped.isna().any():
            bad = sorted(raw[present][mapped.isna()].astype(str).unique().tolist())
            raise InvalidValueError(f"{path}: field {cols['direction']!r} has codes {bad} not in direction_codes {codes}")
        direction[present.to_numpy()] = mapped.to_numpy()

    # ---- nodes by snapping end points
    start = shapely.get_coordinates(shapely.get_point(geoms, 0))
    end = shapely.get_coordinates(shapely.get_point(geoms, -1))
    lab = snap_points(np.vstack([start, end]), snap_tolerance_m)
    n_nodes = int(lab.max()) + 1
    node_xy = np.zeros((n_nodes, 2))
    np.add.at(node_xy, lab, np.vstack([start, end]))
    node_xy /= np.bincount(lab, minlength=n_nodes)[:, None]
    from_node, to_node = lab[:n] + 1, lab[n:] + 1

    car = d["car"].to_numpy(bool)
    names = gdf[cols["name"]].astype(object).where(gdf[cols["name"]].notna(), None) if "name" in cols else pd.Series([None] * n)
    seg = gpd.GeoDataFrame(
        {
            "from_node": from_node,
            "to_node": to_node,
            "length_m": shapely.length(geoms),
            "lanes": lanes,
            "capacity_vph": capacity,
            "free_speed_kmh": speed,
            "road_class": np.where(cls.to_numpy() == "", "unknown", cls.to_numpy()).astype(object) if "road_class" in cols else "unknown",
            "road_class_label": d["label"].to_numpy(object),
            "name": names.to_numpy(object),
            "bridge": _flag(gdf, path, "bridge", mapping.get("bridge")),
            "tunnel": _flag(gdf, path, "tunnel", mapping.get("tunnel")),
            "car_allowed": car,
            "hgv_allowed": d["hgv"].to_numpy(bool) & car,
            "walk_allowed": d["walk"].to_numpy(bool),
            "source_id": gdf[cols["id"]].astype(str).to_numpy(object) if "id" in cols else np.arange(n).astype(str).astype(object),
            "source_direction": direction,
        },
        geometry=geoms,
        crs=crs,
    )
    if "route" in cols:
        seg["route"] = gdf[cols["route"]].astype(object).where(gdf[cols["route"]].notna(), None).to_numpy(object)
    # zero-length loops (both ends snapped together) cannot carry traffic
    loops = seg["from_node"].to_numpy() == seg["to_node"].to_numpy()
    seg.loc[loops, ["car_allowed", "hgv_allowed"]] = False
    # links without car access are walkable both ways whatever the driving direction
    links = expand_directions(seg, np.where(seg["car_allowed"].to_numpy(), direction, NONE))
    links.loc[links["length_m"] <= 0, "length_m"] = 0.1
    if not keep_non_car:
        links = links[links["car_allowed"]]
    return build_network(
        links,
        node_xy,
        crs=crs,
        name=name,
        source=path,
        cleanup=cleanup,
        keep_non_car=keep_non_car,
        meta={
            "segments": int(len(parent)) if split_at_junctions else n,
            "segments_split_at_junctions": n_split,
            "self_loops_barred": int(loops.sum()),
            "snap_tolerance_m": snap_tolerance_m,
            **({"attributes": {"file": attributes.path.name, "segments": n_attributes}} if attributes is not None else {}),
        },
    )
