"""Helpers shared by the network loaders: node snapping, direction expansion and cleanup.

Every loader ends with :func:`build_network`: it keeps the largest strongly connected
component of the car network, optionally keeps the walk-only links that touch it, drops
unused nodes, and records what was dropped in ``network.meta["cleanup"]``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ldtkit.errors import EmptyStudyAreaError
from ldtkit.model.road_network import CrsLike, RoadNetwork, conform_links, conform_nodes

#: Direction codes used inside the loaders.
BOTH, FORWARD, BACKWARD, NONE = "both", "forward", "backward", "none"


def snap_points(xy: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Cluster points closer than ``tolerance_m`` and return a cluster label per point.

    Labels are ``0..k-1`` in order of each cluster's first point, so the result is
    deterministic. Chains of close points merge (single linkage).

    Examples
    --------
    >>> import numpy as np
    >>> snap_points(np.array([[0.0, 0.0], [5.0, 0.0], [0.3, 0.0]]), 0.5).tolist()
    [0, 1, 0]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n = len(xy)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    pairs = cKDTree(xy).query_pairs(r=float(tolerance_m), output_type="ndarray") if tolerance_m > 0 else np.zeros((0, 2), int)
    g = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, lab = connected_components(g, directed=False)
    # relabel by first appearance
    _, first = np.unique(lab, return_index=True)
    order = np.argsort(first)
    remap = np.empty_like(order)
    remap[order] = np.arange(len(order))
    labels: npt.NDArray[np.int64] = remap[lab].astype(np.int64)
    return labels


def expand_directions(seg: gpd.GeoDataFrame, direction: np.ndarray) -> gpd.GeoDataFrame:
    """One directed link per allowed direction of each segment.

    ``seg`` holds one row per undirected segment with ``from_node``/``to_node`` in the
    digitisation order and LineString geometry; ``direction`` holds :data:`BOTH`,
    :data:`FORWARD`, :data:`BACKWARD` or :data:`NONE` per row. ``NONE`` segments (no motor
    traffic) yield two links with ``car_allowed = hgv_allowed = False``. Links against the
    digitisation get swapped nodes, reversed geometry and ``reversed = True``.
    Link ids are ``2*i + 1`` (along) and ``2*i + 2`` (against) for segment row ``i``, so they
    are stable whatever the cleanup later drops.
    """
    direction = np.asarray(direction, dtype=object)
    seg = seg.reset_index(drop=True).copy()
    i = np.arange(len(seg), dtype=np.int64)
    none = direction == NONE
    seg.loc[none, "car_allowed"] = False
    seg.loc[none, "hgv_allowed"] = False
    fwd_mask = np.isin(direction, [BOTH, FORWARD, NONE])
    bwd_mask = np.isin(direction, [BOTH, BACKWARD, NONE])
    fwd = seg[fwd_mask].copy()
    fwd["link_id"] = 2 * i[fwd_mask] + 1
    fwd["reversed"] = False
    bwd = seg[bwd_mask].copy()
    bwd["link_id"] = 2 * i[bwd_mask] + 2
    bwd["reversed"] = True
    bwd[["from_node", "to_node"]] = bwd[["to_node", "from_node"]].to_numpy()
    bwd["geometry"] = shapely.reverse(bwd.geometry.to_numpy())
    out = pd.concat([fwd, bwd], ignore_index=True).sort_values("link_id", kind="stable")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=seg.crs).reset_index(drop=True)


def _components(from_idx: np.ndarray, to_idx: np.ndarray, n: int, *, strong: bool) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix((np.ones(len(from_idx)), (from_idx, to_idx)), shape=(n, n))
    _, lab = connected_components(g, directed=True, connection="strong" if strong else "weak")
    labels: npt.NDArray[np.int64] = lab
    return labels


def cleanup_largest_scc(links: pd.DataFrame, *, keep_non_car: bool = True) -> tuple[np.ndarray, dict[str, Any]]:
    """Mask of links to keep: the largest strongly connected car component (+ walk links).

    Car links (``car_allowed``) are kept when both end nodes lie in the largest strongly
    connected component of the car graph. Links without car access are kept only when
    ``keep_non_car`` and they lie in the same weakly connected component (of all kept
    links) as the car network.

    Returns
    -------
    keep, report
        Boolean mask over ``links`` rows, and a dict with counts and km dropped.
    """
    fn = links["from_node"].to_numpy(np.int64)
    tn = links["to_node"].to_numpy(np.int64)
    car = links["car_allowed"].to_numpy(bool)
    length_km = links["length_m"].to_numpy(np.float64) / 1000.0
    node_ids, inv = np.unique(np.concatenate([fn, tn]), return_inverse=True)
    f, t = inv[: len(fn)], inv[len(fn) :]
    n = len(node_ids)
    keep = np.zeros(len(links), dtype=bool)
    n_comp = 0
    if car.any():
        lab = _components(f[car], t[car], n, strong=True)
        car_nodes = np.zeros(n, dtype=bool)
        car_nodes[f[car]] = True
        car_nodes[t[car]] = True
        sizes = np.bincount(lab[car_nodes], minlength=lab.max() + 1)
        n_comp = int((sizes > 0).sum())
        big = int(np.argmax(sizes))
        in_big = lab == big
        keep = car & in_big[f] & in_big[t]
    if keep_non_car and (~car).any():
        cand = keep | ~car
        wl = _components(f[cand], t[cand], n, strong=False)
        if keep.any():
            main = wl[f[keep][0]]
            keep = keep | (~car & (wl[f] == main) & (wl[t] == main))
    dropped_car = car & ~keep
    dropped_other = ~car & ~keep
    dropped_names: dict[Any, int] = {}
    if "name" in links.columns:
        names = links.loc[dropped_car, "name"].dropna().astype(str)
        dropped_names = names[names != ""].value_counts().head(10).to_dict()
    report = {
        "rule": "largest strongly connected component of the car network"
        + ("; walk-only links kept when weakly connected to it" if keep_non_car else "; walk-only links dropped"),
        "links_in": int(len(links)),
        "links_kept": int(keep.sum()),
        "car_components_before": n_comp,
        "car_links_dropped": int(dropped_car.sum()),
        "car_km_dropped": round(float(length_km[dropped_car].sum()), 3),
        "car_km_kept": round(float(length_km[car & keep].sum()), 3),
        "car_km_share_dropped": round(float(length_km[dropped_car].sum() / max(length_km[car].sum(), 1e-12)), 4),
        "non_car_links_dropped": int(dropped_other.sum()),
        "non_car_km_dropped": round(float(length_km[dropped_other].sum()), 3),
        "dropped_car_streets_top10": {str(k): int(v) for k, v in dropped_names.items()},
    }
    return keep, report


def build_network(
    links: gpd.GeoDataFrame,
    node_xy: np.ndarray,
    *,
    node_ids: np.ndarray | None = None,
    is_zone: np.ndarray | None = None,
    crs: CrsLike,
    name: str,
    source: str | Path,
    cleanup: bool = True,
    keep_non_car: bool = True,
    meta: dict[str, Any] | None = None,
) -> RoadNetwork:
    """Clean up ``links`` (see :func:`cleanup_largest_scc`), drop unused nodes and conform.

    ``node_xy`` holds the coordinates of node ``node_ids[k]`` (default ``k + 1``).
    Raises :class:`~ldtkit.errors.EmptyStudyAreaError` when no car link remains.
    """
    source = str(source)
    if len(links) == 0 or not links["car_allowed"].any():
        raise EmptyStudyAreaError(f"{source}: no drivable road links found (field car_allowed is false everywhere or the file is empty)")
    if cleanup:
        keep, report = cleanup_largest_scc(links, keep_non_car=keep_non_car)
        links = links[keep]
    else:
        report = {"rule": "none (cleanup=False)"}
    if node_ids is None:
        node_ids = np.arange(1, len(node_xy) + 1, dtype=np.int64)
    node_ids = np.asarray(node_ids, dtype=np.int64)
    used = np.isin(node_ids, np.concatenate([links["from_node"].to_numpy(np.int64), links["to_node"].to_numpy(np.int64)]))
    if is_zone is None:
        is_zone = np.zeros(len(node_ids), dtype=bool)
    is_zone = np.asarray(is_zone, dtype=bool)
    report["nodes_dropped"] = int((~used).sum())
    warning = cleanup_warning(report, source=source)
    if warning:
        report["warning"] = warning
        warnings.warn(warning, stacklevel=2)
    nodes = gpd.GeoDataFrame(
        {"node_id": node_ids[used], "is_zone": is_zone[used]},
        geometry=shapely.points(node_xy[used]),
        crs=crs,
    )
    links_c = conform_links(links, source=source, crs=crs)
    nodes_c = conform_nodes(nodes, source=source, crs=crs)
    return RoadNetwork(
        links=links_c,
        nodes=nodes_c,
        name=name,
        meta={"source": source, "cleanup": report, **(meta or {})},
    )


#: Above this share of car kilometres dropped by the cleanup, loading a network warns.
CLEANUP_WARN_SHARE = 0.10


def cleanup_warning(report: dict[str, Any], *, source: str) -> str:
    """The warning for a cleanup that dropped more than :data:`CLEANUP_WARN_SHARE` of the car km, else ``""``.

    Examples
    --------
    >>> cleanup_warning({"car_km_share_dropped": 0.22, "car_km_dropped": 22.0, "car_components_before": 4,
    ...                  "dropped_car_streets_top10": {"N43": 5}}, source="town.osm.pbf")[:90]
    'town.osm.pbf: the network cleanup dropped 22.0 % of the car network (22.0 km in 3 pieces n'
    """
    share = float(report.get("car_km_share_dropped", 0.0))
    if share <= CLEANUP_WARN_SHARE:
        return ""
    streets = list(report.get("dropped_car_streets_top10", {}))[:5]
    return (
        f"{source}: the network cleanup dropped {100 * share:.1f} % of the car network ({report.get('car_km_dropped', 0):.1f} km "
        f"in {max(int(report.get('car_components_before', 1)) - 1, 1)} pieces not strongly connected to the main one"
        + (f", e.g. {', '.join(streets)}" if streets else "")
        + "): an extract cut at its boundary often leaves one-way ends; take a larger extract or check these roads"
    )


def single_linestrings(geoms: np.ndarray) -> np.ndarray:
    """LineStrings from (Multi)LineStrings: merged where possible, else parts joined in order."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    multi = shapely.get_type_id(geoms) == 5
    for k in np.flatnonzero(multi):  # a handful of rows
        merged = shapely.line_merge(geoms[k])
        if merged.geom_type == "LineString":
            out[k] = merged
        else:
            coords = np.concatenate([np.asarray(p.coords) for p in merged.geoms])
            out[k] = shapely.LineString(coords)
    return out


def _cut_line(line: shapely.LineString, dists: np.ndarray) -> list[shapely.LineString]:
    """Cut ``line`` at the given distances along it (sorted, strictly inside)."""
    xy = np.asarray(line.coords)
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    pieces = []
    bounds = np.concatenate([[0.0], dists, [cum[-1]]])
    cut_pts = [shapely.get_coordinates(line.interpolate(d))[0] for d in dists]
    pts = [xy[0]] + cut_pts + [xy[-1]]
    for k in range(len(bounds) - 1):
        a, b = bounds[k], bounds[k + 1]
        inner = xy[(cum > a) & (cum < b)]
        coords = np.vstack([pts[k], inner, pts[k + 1]]) if len(inner) else np.vstack([pts[k], pts[k + 1]])
        pieces.append(shapely.LineString(coords))
    return pieces


def split_at_touching_ends(geoms: np.ndarray, tolerance_m: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Split lines where another line's end point touches their interior (an unsplit junction).

    Segment files are normally split at every junction, but some segments (rings,
    roads with a T-junction added later) carry junctions in their interior; without a split
    the side road would be disconnected.

    Returns
    -------
    geoms, parent, n_split
        The new line array, the index of the source row of each new line, and how many
        source lines were split.
    """
    geoms = np.asarray(geoms, dtype=object)
    ends = np.concatenate([shapely.get_point(geoms, 0), shapely.get_point(geoms, -1)])
    tree = shapely.STRtree(geoms)
    pi, gi = tree.query(ends, predicate="dwithin", distance=tolerance_m)
    s = shapely.get_point(geoms[gi], 0)
    e = shapely.get_point(geoms[gi], -1)
    interior = (shapely.distance(ends[pi], s) > tolerance_m) & (shapely.distance(ends[pi], e) > tolerance_m)
    pi, gi = pi[interior], gi[interior]
    parent = np.arange(len(geoms))
    if len(gi) == 0:
        return geoms, parent, 0
    d = shapely.line_locate_point(geoms[gi], ends[pi])
    lengths = shapely.length(geoms[gi])
    ok = (d > tolerance_m) & (d < lengths - tolerance_m)
    gi, d = gi[ok], d[ok]
    split_rows = np.unique(gi)
    new_geoms: list[shapely.LineString] = []
    new_parent: list[int] = []
    for r in split_rows:  # only the few lines with an interior junction
        dd = np.unique(np.round(d[gi == r], 3))
        if len(dd) > 1:  # merge split points closer than the tolerance
            dd = dd[np.concatenate([[True], np.diff(dd) > tolerance_m])]
        pieces = _cut_line(geoms[r], dd)
        new_geoms.extend(pieces)
        new_parent.extend([int(r)] * len(pieces))
    keep = np.setdiff1d(parent, split_rows)
    pieces_arr = np.empty(len(new_geoms), dtype=object)
    pieces_arr[:] = new_geoms
    all_geoms = np.concatenate([geoms[keep], pieces_arr])
    all_parent = np.concatenate([keep, np.asarray(new_parent, dtype=np.int64)])
    order = np.argsort(all_parent, kind="stable")
    return all_geoms[order], np.asarray(all_parent[order], dtype=np.int64), int(len(split_rows))
