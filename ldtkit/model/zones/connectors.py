"""Zone connectors: a centroid node per zone, joined to the main car network by connector links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ldtkit.errors import EmptyStudyAreaError, InvalidValueError, MissingFieldError
from ldtkit.model.road_network import CONNECTOR_CLASS, RoadNetwork, conform_links, conform_nodes


class MainComponent(NamedTuple):
    """The main strongly connected component of a car graph, over its sorted node ids."""

    node_ids: npt.NDArray[np.int64]  # sorted
    in_main: npt.NDArray[np.bool_]  # node lies in the largest strongly connected component
    reaches_main: npt.NDArray[np.bool_]  # a car path leads from the node into that component
    reached_from_main: npt.NDArray[np.bool_]  # a car path leads from that component to the node


def main_car_component(network: RoadNetwork) -> MainComponent:
    """The largest strongly connected component of the car links (zone nodes and their links left out).

    Raises :class:`~ldtkit.errors.EmptyStudyAreaError` when the network has no car link.
    """
    from scipy.sparse import coo_matrix, csr_matrix, hstack, vstack
    from scipy.sparse.csgraph import breadth_first_order, connected_components

    links = network.links
    ok = links["car_allowed"].to_numpy(bool) & (links["capacity_vph"].to_numpy(np.float64) > 0)
    node_ids = np.sort(network.nodes["node_id"].to_numpy(np.int64))
    f = np.searchsorted(node_ids, links["from_node"].to_numpy(np.int64))
    t = np.searchsorted(node_ids, links["to_node"].to_numpy(np.int64))
    zone = np.isin(node_ids, network.zone_ids)
    ok &= ~zone[f] & ~zone[t]
    n = len(node_ids)
    g = coo_matrix((np.ones(int(ok.sum())), (f[ok], t[ok])), shape=(n, n)).tocsr()
    _, lab = connected_components(g, directed=True, connection="strong")
    used = np.unique(np.concatenate([f[ok], t[ok]]))
    if len(used) == 0:
        raise EmptyStudyAreaError(f"network {network.name!r}: no car links")
    main_label = np.bincount(lab[used]).argmax()
    in_main = lab == main_label

    def reach(graph: csr_matrix) -> npt.NDArray[np.bool_]:
        # BFS from a virtual node joined to every main-component node
        col = np.flatnonzero(in_main)
        row_v = csr_matrix((np.ones(len(col)), (np.zeros(len(col), int), col)), shape=(1, n + 1))
        big = vstack([hstack([graph, csr_matrix((n, 1))]), row_v]).tocsr()
        order = breadth_first_order(big, n, directed=True, return_predecessors=False)
        r = np.zeros(n + 1, bool)
        r[order] = True
        return r[:n]

    return MainComponent(node_ids, in_main, reaches_main=reach(g.T.tocsr()), reached_from_main=reach(g))


def connect_zones(
    network: RoadNetwork,
    zones: gpd.GeoDataFrame,
    *,
    n_connectors: int = 2,
    speed_kmh: float = 30.0,
    capacity_vph: float = 100_000.0,
    exclude_road_classes: Sequence[str] = (),
    max_distance_m: float | None = 2000.0,
    on_unconnected: str = "error",
) -> RoadNetwork:
    """A new network with a centroid node per zone and connector links (both directions).

    Internal zones are joined to their ``n_connectors`` nearest nodes of the main strongly
    connected car component that touch a car link of a class not in
    ``exclude_road_classes`` (e.g. motorways); external zones (rows with ``nodes_out`` /
    ``nodes_in``) to their boundary nodes. Rows that already carry a ``node_id`` (zone nodes of
    the network) are kept as they are.

    New zone node ids follow the largest existing node id, new link ids the largest existing
    link id, in the order of ``zones`` (so the result is deterministic). Connectors have
    ``road_class = "connector"``, length = straight-line distance (at least 10 m), the given
    speed and capacity, and are closed to walking.

    Parameters
    ----------
    on_unconnected
        ``"error"`` (default): raise naming the zones that have no network access (no
        candidate node within ``max_distance_m``, or an external zone whose boundary nodes do
        not reach the main component); ``"drop"``: leave them out and list them in
        ``network.meta["zones_dropped"]``.

    Returns
    -------
    RoadNetwork
        With ``meta["zones"]``: the zones table (without geometry) plus the ``node_id`` of each zone.

    Examples
    --------
    >>> net2 = connect_zones(net, zones, n_connectors=2, exclude_road_classes=["0"])  # doctest: +SKIP
    >>> net2.zone_ids[:3]  # doctest: +SKIP
    """
    from scipy.spatial import cKDTree

    if on_unconnected not in ("error", "drop"):
        raise InvalidValueError(f"connect_zones: on_unconnected must be 'error' or 'drop', got {on_unconnected!r}")
    for col in ("zone", "x", "y"):
        if col not in zones.columns:
            raise MissingFieldError("zones table", col, expected="a zones column (see ldtkit.model.zones)")
    crs = network.crs
    node_ids, in_main, reaches_main, reached_from_main = main_car_component(network)
    links = network.links
    car = links[links["car_allowed"] & (links["capacity_vph"] > 0)]
    okc = car[~car["road_class"].astype(str).isin([str(c) for c in exclude_road_classes]) & (car["road_class"] != CONNECTOR_CLASS)]
    touch = np.unique(np.concatenate([okc["from_node"].to_numpy(np.int64), okc["to_node"].to_numpy(np.int64)]))
    touch = touch[in_main[np.searchsorted(node_ids, touch)]]
    touch = touch[~np.isin(touch, network.zone_ids)]
    if len(touch) == 0:
        raise EmptyStudyAreaError(f"network {network.name!r}: no car node to connect zones to")
    nodes_idx = network.nodes.set_index("node_id")
    cxy = np.column_stack([nodes_idx.loc[touch].geometry.x.to_numpy(), nodes_idx.loc[touch].geometry.y.to_numpy()])
    tree = cKDTree(cxy)

    def pos(ids: Sequence[int]) -> npt.NDArray[np.intp]:
        return np.searchsorted(node_ids, np.asarray(ids, dtype=np.int64))

    next_node = int(network.nodes["node_id"].max()) + 1
    rows_links: list[dict[str, Any]] = []
    new_nodes: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    dropped: list[str] = []
    problems: list[str] = []
    zxy = zones[["x", "y"]].to_numpy(np.float64)
    k = max(1, min(int(n_connectors), len(touch)))
    dist_all, idx_all = tree.query(zxy, k=k)
    dist_all = np.asarray(dist_all).reshape(len(zones), k)
    idx_all = np.asarray(idx_all).reshape(len(zones), k)
    for r, z in enumerate(zones.itertuples(index=False)):
        zd = z._asdict()
        if "node_id" in zd and pd.notna(zd.get("node_id")):
            kept.append({**zd, "node_id": int(zd["node_id"])})
            continue
        ext_out = list(zd.get("nodes_out") or []) if isinstance(zd.get("nodes_out"), (list, tuple, np.ndarray)) else []
        ext_in = list(zd.get("nodes_in") or []) if isinstance(zd.get("nodes_in"), (list, tuple, np.ndarray)) else []
        if ext_out or ext_in:
            outs = [n for n in ext_out if reaches_main[pos([n])[0]]]
            ins = [n for n in ext_in if reached_from_main[pos([n])[0]]]
            if not outs and not ins:
                problems.append(
                    f"external zone {zd['zone']!r} at ({zd['x']:.0f}, {zd['y']:.0f}): its boundary nodes {ext_out + ext_in} do not reach the main network"
                )
                dropped.append(str(zd["zone"]))
                continue
        else:
            sel = np.isfinite(dist_all[r]) & ((dist_all[r] <= max_distance_m) if max_distance_m is not None else True)
            if not sel.any():
                problems.append(
                    f"zone {zd['zone']!r} at ({zd['x']:.0f}, {zd['y']:.0f}): no car node within {max_distance_m:g} m "
                    f"(nearest {float(dist_all[r][0]):.0f} m)"
                )
                dropped.append(str(zd["zone"]))
                continue
            outs = ins = [int(touch[i]) for i in idx_all[r][sel]]
        zid = next_node
        next_node += 1
        new_nodes.append({"node_id": zid, "is_zone": True, "geometry": shapely.Point(zd["x"], zd["y"])})
        kept.append({**zd, "node_id": zid})
        for n in outs:
            rows_links.append({"from_node": zid, "to_node": int(n), "ax": zd["x"], "ay": zd["y"], "node": int(n), "out": True})
        for n in ins:
            rows_links.append({"from_node": int(n), "to_node": zid, "ax": zd["x"], "ay": zd["y"], "node": int(n), "out": False})
    if problems and on_unconnected == "error":
        raise EmptyStudyAreaError(
            f"connect_zones: {len(problems)} zones have no network access: "
            + "; ".join(problems[:5])
            + (" ..." if len(problems) > 5 else "")
            + " (set on_unconnected='drop' to leave them out)"
        )
    if not rows_links:
        raise EmptyStudyAreaError("connect_zones: no zone could be connected")
    cl = pd.DataFrame(rows_links)
    nx = nodes_idx.loc[cl["node"].to_numpy()].geometry.x.to_numpy()
    ny = nodes_idx.loc[cl["node"].to_numpy()].geometry.y.to_numpy()
    L = np.maximum(np.hypot(nx - cl["ax"].to_numpy(), ny - cl["ay"].to_numpy()), 10.0)
    out = cl["out"].to_numpy()
    geom = shapely.linestrings(
        np.stack(
            [
                np.column_stack([np.where(out, cl["ax"], nx), np.where(out, cl["ay"], ny)]),
                np.column_stack([np.where(out, nx, cl["ax"]), np.where(out, ny, cl["ay"])]),
            ],
            axis=1,
        )
    )
    first_link = int(links["link_id"].max()) + 1 if len(links) else 1
    new_links = pd.DataFrame(
        {
            "link_id": np.arange(first_link, first_link + len(cl), dtype=np.int64),
            "from_node": cl["from_node"].to_numpy(np.int64),
            "to_node": cl["to_node"].to_numpy(np.int64),
            "length_m": L,
            "lanes": 1.0,
            "capacity_vph": float(capacity_vph),
            "free_speed_kmh": float(speed_kmh),
            "free_flow_time_min": L / 1000.0 / float(speed_kmh) * 60.0,
            "b": 0.15,
            "power": 4.0,
            "road_class": CONNECTOR_CLASS,
            "name": "",
            "bridge": False,
            "tunnel": False,
            "car_allowed": True,
            "hgv_allowed": True,
            "walk_allowed": False,
            "source_id": None,
            "reversed": False,
        }
    )
    new_links = gpd.GeoDataFrame(new_links, geometry=geom, crs=crs)
    all_links = pd.concat([links, new_links], ignore_index=True)
    all_links = conform_links(
        gpd.GeoDataFrame(all_links, geometry="geometry", crs=crs), source=f"{network.name} + zone connectors", crs=crs
    )
    nn = gpd.GeoDataFrame(new_nodes, geometry="geometry", crs=crs)
    all_nodes = conform_nodes(
        gpd.GeoDataFrame(pd.concat([network.nodes, nn], ignore_index=True), geometry="geometry", crs=crs), source=network.name, crs=crs
    )
    table = pd.DataFrame(kept).drop(columns=["geometry"], errors="ignore")
    meta = {**network.meta, "zones": table, "zones_dropped": dropped, "zone_connectors": int(len(new_links))}
    return replace(network, links=all_links, nodes=all_nodes, meta=meta)
