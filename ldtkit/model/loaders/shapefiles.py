"""Road networks from a links file and a nodes file with attributes given (e.g. Athens).

The links carry capacity, free speed, lanes, a one-way flag and allowed modes (MATSim
style); the nodes carry ids, some of which are zone centroids. Link end nodes come from
``from_node``/``to_node`` columns when the file has them, otherwise from the link
geometry's end points matched to the nearest node (within ``snap_tolerance_m``).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ldtkit.errors import ConfigError, EmptyStudyAreaError, InvalidValueError, MissingFieldError, UnreadableFormatError, require_file
from ldtkit.model.loaders.common import BACKWARD, BOTH, FORWARD, build_network, expand_directions, single_linestrings, snap_points
from ldtkit.model.road_network import CrsLike, RoadNetwork

#: Default column names (the Athens "Scenario Athens" / MATSim-like layout).
DEFAULT_COLUMNS: dict[str, str | None] = {
    "id": "id",
    "length_m": "length",
    "capacity_vph": "capacity",
    "free_speed_kmh": "freespeed",
    "lanes": "permlanes",
    "oneway": "oneway",
    "modes": "modes",
    "name": None,
    "road_class": None,
    "from_node": None,
    "to_node": None,
    "node_id": "id",
}


def _read(path: Path, what: str) -> gpd.GeoDataFrame:
    try:
        return gpd.read_file(path)
    except Exception as exc:  # pyogrio errors
        raise UnreadableFormatError(path, expected=f"a vector file of {what}", detail=str(exc)) from exc


def network_from_shapefiles(
    links_path: str | Path,
    nodes_path: str | Path,
    *,
    crs: CrsLike = None,
    name: str = "network",
    columns: dict[str, str | None] | None = None,
    zone_ids: list[int] | None = None,
    capacity_is_per_lane: bool = False,
    snap_tolerance_m: float = 1.0,
    keep_non_car: bool = True,
    cleanup: bool = True,
) -> RoadNetwork:
    """Road network from a links file and a nodes file (shapefile, GeoPackage, GeoJSON).

    Parameters
    ----------
    links_path, nodes_path
        Vector files of LineString links and Point nodes.
    crs
        Metric CRS of the result (default: the links file's CRS).
    name
        Network name.
    columns
        Column names by field, overriding :data:`DEFAULT_COLUMNS`: ``id``, ``length_m``,
        ``capacity_vph``, ``free_speed_kmh``, ``lanes``, ``oneway`` (1 = one-way along
        the geometry, 0 = both ways, -1 = against it), ``modes`` (comma-separated, e.g.
        ``"car,walk"``), ``name``, ``road_class``, ``from_node``, ``to_node``,
        ``node_id``. ``None`` means the file has no such column.
    zone_ids
        Node ids of zone centroids (``is_zone = True``).
    capacity_is_per_lane
        Multiply the capacity column by the lanes.
    snap_tolerance_m
        Nodes closer than this are one node (the smallest id is kept), and link ends must
        lie within it of a node.
    keep_non_car, cleanup
        See :func:`ldtkit.model.network.network_from_segments`.

    Returns
    -------
    RoadNetwork
        ``meta["skipped_links"]`` lists source links without geometry, ``meta["merged_nodes"]``
        coincident node ids.

    Examples
    --------
    >>> from ldtkit.study.city import load_city
    >>> net = load_city("athens").load_network()  # doctest: +SKIP
    >>> int(net.nodes["is_zone"].sum())  # doctest: +SKIP
    9
    """
    links_path = require_file(links_path, what="links file")
    nodes_path = require_file(nodes_path, what="nodes file")
    cols = {**DEFAULT_COLUMNS, **(columns or {})}
    unknown = sorted(set(columns or {}) - set(DEFAULT_COLUMNS))
    if unknown:
        raise ConfigError(f"{links_path}: unknown column keys {unknown}; expected some of {sorted(DEFAULT_COLUMNS)}")
    raw = _read(links_path, "network links")
    nodes_raw = _read(nodes_path, "network nodes")
    if len(raw) == 0:
        raise EmptyStudyAreaError(f"{links_path}: the links file holds no features")
    for key in ("id", "length_m", "capacity_vph", "free_speed_kmh"):
        col = cols[key]
        if col is None or col not in raw.columns:
            raise MissingFieldError(links_path, str(col or key), expected=f"the column for {key!r}")
    for key in ("lanes", "oneway", "modes", "name", "road_class", "from_node", "to_node"):
        col = cols[key]
        if col is not None and col not in raw.columns:
            raise MissingFieldError(links_path, col, expected=f"the column for {key!r} (set it to None if the file has none)")
    if cols["node_id"] is None or cols["node_id"] not in nodes_raw.columns:
        raise MissingFieldError(nodes_path, str(cols["node_id"]), expected="the node id column")
    crs = crs or raw.crs
    if raw.crs is None or nodes_raw.crs is None:
        raise UnreadableFormatError(
            links_path if raw.crs is None else nodes_path,
            expected="a file with a coordinate reference system",
            detail="no CRS (.prj) found",
        )
    raw = raw.to_crs(crs)
    nodes_raw = nodes_raw.to_crs(crs)

    bad_geom = raw.geometry.isna() | raw.geometry.is_empty
    skipped = raw.loc[bad_geom, cols["id"]].tolist()
    raw = raw[~bad_geom].reset_index(drop=True)
    geoms = single_linestrings(raw.geometry.to_numpy())

    # ---- nodes: merge coincident ones (smallest id wins)
    nodes_raw = nodes_raw.sort_values(cols["node_id"]).reset_index(drop=True)
    nid = pd.to_numeric(nodes_raw[cols["node_id"]], errors="coerce")
    if nid.isna().any():
        raise InvalidValueError(f"{nodes_path}: field {cols['node_id']!r} must hold integer node ids")
    nid = nid.to_numpy(np.int64)
    nxy = shapely.get_coordinates(nodes_raw.geometry.to_numpy())
    lab = snap_points(nxy, snap_tolerance_m)
    rep = np.full(lab.max() + 1, -1, dtype=np.int64)
    for_each = np.argsort(lab, kind="stable")  # ids are sorted, so the first per label is the smallest
    first = for_each[np.concatenate([[True], np.diff(lab[for_each]) > 0])]
    rep[lab[first]] = first
    merged = {int(nid[k]): int(nid[rep[lab[k]]]) for k in np.flatnonzero(rep[lab] != np.arange(len(nid)))}

    # ---- link ends
    if cols["from_node"] and cols["to_node"]:
        fn = pd.to_numeric(raw[cols["from_node"]], errors="coerce").to_numpy(np.int64)
        tn = pd.to_numeric(raw[cols["to_node"]], errors="coerce").to_numpy(np.int64)
        fn = np.array([merged.get(int(v), int(v)) for v in fn], dtype=np.int64) if merged else fn
        tn = np.array([merged.get(int(v), int(v)) for v in tn], dtype=np.int64) if merged else tn
    else:
        from scipy.spatial import cKDTree

        keep_nodes = rep[lab] == np.arange(len(nid))
        tree = cKDTree(nxy[keep_nodes])
        kid = nid[keep_nodes]
        s = shapely.get_coordinates(shapely.get_point(geoms, 0))
        e = shapely.get_coordinates(shapely.get_point(geoms, -1))
        ds, i_s = tree.query(s)
        de, i_e = tree.query(e)
        far = (ds > snap_tolerance_m) | (de > snap_tolerance_m)
        if far.any():
            ids = raw.loc[far, cols["id"]].head(10).tolist()
            raise InvalidValueError(
                f"{links_path}: {int(far.sum())} links end farther than {snap_tolerance_m} m from any node of {nodes_path}, e.g. ids {ids}"
            )
        fn, tn = kid[i_s], kid[i_e]

    def num(key: str, default: float) -> np.ndarray:
        col = cols[key]
        if col is None:
            return np.full(len(raw), default, dtype=np.float64)
        v = pd.to_numeric(raw[col], errors="coerce").to_numpy(np.float64)
        return np.where(np.isfinite(v), v, default)

    lanes = num("lanes", 1.0)
    lanes = np.where(lanes > 0, lanes, 1.0)
    capacity = num("capacity_vph", np.nan) * (lanes if capacity_is_per_lane else 1.0)
    speed = num("free_speed_kmh", np.nan)
    oneway = num("oneway", 0.0).astype(np.int64)
    bad_ow = ~np.isin(oneway, [-1, 0, 1])
    if bad_ow.any():
        raise InvalidValueError(f"{links_path}: field {cols['oneway']!r} must be -1, 0 or 1; got {sorted(set(oneway[bad_ow]))}")
    direction = np.where(oneway == 1, FORWARD, np.where(oneway == -1, BACKWARD, BOTH)).astype(object)
    if cols["modes"]:
        modes = raw[cols["modes"]].fillna("").astype(str).str.lower().str.replace(" ", "").str.split(",")
        car = modes.map(lambda m: "car" in m).to_numpy(bool)
        walk = modes.map(lambda m: "walk" in m).to_numpy(bool)
    else:
        car = np.ones(len(raw), dtype=bool)
        walk = np.ones(len(raw), dtype=bool)
    if cols["road_class"]:
        road_class = raw[cols["road_class"]].astype(str).to_numpy(object)
    else:
        road_class = np.array([f"{int(v)}kmh" if np.isfinite(v) else "unknown" for v in speed], dtype=object)
    used_cols = {c for c in cols.values() if c}
    extra = [c for c in raw.columns if c not in used_cols and c != "geometry" and c not in ("x_start", "y_start", "x_end", "y_end")]
    seg = gpd.GeoDataFrame(
        {
            "from_node": fn,
            "to_node": tn,
            "length_m": num("length_m", np.nan),
            "lanes": lanes,
            "capacity_vph": capacity,
            "free_speed_kmh": speed,
            "road_class": road_class,
            "name": raw[cols["name"]].astype(object).to_numpy(object) if cols["name"] else None,
            "car_allowed": car,
            "hgv_allowed": car,
            "walk_allowed": walk,
            "source_id": raw[cols["id"]].astype(str).to_numpy(object),
            "oneway_source": oneway,
            **{c: raw[c].to_numpy() for c in extra},
        },
        geometry=geoms,
        crs=crs,
    )
    links = expand_directions(seg, direction)
    if not keep_non_car:
        links = links[links["car_allowed"]]
    keep_nodes = rep[lab] == np.arange(len(nid))
    zones = np.isin(nid[keep_nodes], np.asarray(zone_ids or [], dtype=np.int64))
    missing_zones = sorted(set(zone_ids or []) - set(nid.tolist()))
    if missing_zones:
        raise InvalidValueError(f"{nodes_path}: zone ids {missing_zones} are not node ids")
    return build_network(
        links,
        nxy[keep_nodes],
        node_ids=nid[keep_nodes],
        is_zone=zones,
        crs=crs,
        name=name,
        source=links_path,
        cleanup=cleanup,
        keep_non_car=keep_non_car,
        meta={
            "nodes_source": str(nodes_path),
            "source_links": int(len(raw) + len(skipped)),
            "source_nodes": int(len(nid)),
            "skipped_links": {"reason": "no geometry", "ids": [str(s) for s in skipped]},
            "merged_nodes": merged,
        },
    )
