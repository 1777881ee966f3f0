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
    on_unconnected: str = "extend",
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
        ``"extend"`` (default): join an internal zone with no node within ``max_distance_m``
        to its nearest car nodes however far (listed in ``network.meta["zones_extended"]``),
        leave out the external zones whose boundary nodes do not reach the main component
        (``network.meta["zones_dropped"]``); ``"drop"``: leave out every zone without network
        access; ``"error"``: raise naming them.

    Returns
    -------
    RoadNetwork
        With ``meta["zones"]``: the zones table (without geometry) plus the ``node_id`` of each
        zone, and ``meta["zones_access"]``: how many zones were extended or dropped and their
        share of the population.

    Examples
    --------
    >>> net2 = connect_zones(net, zones, n_connectors=2, exclude_road_classes=["0"])  # doctest: +SKIP
    >>> net2.zone_ids[:3]  # doctest: +SKIP
    """
    from scipy.spatial import cKDTree

    if on_unconnected not in ("error", "drop", "extend"):
        raise InvalidValueError(f"connect_zones: on_unconnected must be 'error', 'drop' or 'extend', got {on_unconnected!r}")
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
    extended: list[dict[str, Any]] = []
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
            if not sel.any() and on_unconnected == "extend":
                sel = np.isfinite(dist_all[r])
                sel[1:] &= dist_all[r][1:] <= 2.0 * dist_all[r][0]  # the nearest node, and others about as near
                extended.append({"zone": str(zd["zone"]), "distance_m": round(float(dist_all[r][0]), 1)})
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
            + " (set [demand.connectors] on_unconnected = 'extend' to join them to the nearest car node, or 'drop' to leave them out)"
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
    access = zones_access_report(zones, dropped=dropped, extended=[e["zone"] for e in extended])
    meta = {
        **network.meta, "zones": table, "zones_dropped": dropped, "zones_extended": extended, "zones_access": access,
        "zone_connectors": int(len(new_links)),
    }  # fmt: skip
    return replace(network, links=all_links, nodes=all_nodes, meta=meta)


def zones_access_report(zones: pd.DataFrame, *, dropped: Sequence[str], extended: Sequence[str]) -> dict[str, float | int]:
    """How many zones were left out or given a long connector, and their share of the population.

    Examples
    --------
    >>> z = pd.DataFrame({"zone": ["a", "b", "c"], "population": [10.0, 30.0, 60.0]})
    >>> zones_access_report(z, dropped=["a"], extended=["b"])
    {'zones': 3, 'zones_dropped': 1, 'population_share_dropped': 0.1, 'zones_extended': 1, 'population_share_extended': 0.3}
    """
    pop = pd.Series(zones["population"].to_numpy(np.float64) if "population" in zones.columns else np.zeros(len(zones)))
    pop.index = zones["zone"].astype(str).to_numpy()
    total = float(pop.sum())

    def share(ids: Sequence[str]) -> float:
        return round(float(pop[pop.index.isin([str(i) for i in ids])].sum()) / total, 6) if total > 0 else 0.0

    return {
        "zones": int(len(zones)),
        "zones_dropped": len(dropped),
        "population_share_dropped": share(dropped),
        "zones_extended": len(extended),
        "population_share_extended": share(extended),
    }


def reattach_connectors(network: RoadNetwork, *, max_walk_m: float = 500.0) -> RoadNetwork:
    """Move zone connectors whose road node a measure cut off to the nearest open road node.

    After a closure or pedestrianisation, a connector may end at a node cut off from the main
    strongly connected car component: its street is closed, or left in a pocket that traffic
    can enter but not leave (for a connector out of the zone) or leave but not enter (into it). Such connectors are moved to the nearest open road
    of that component, joined at its end nearer the zone, when that road lies within
    ``max_walk_m`` of the zone centroid (the walk distance is reported); connectors with no
    open road in reach are closed to traffic, so only the trips of zones left without any
    open road go unassigned. Pure: returns a new network.

    A network's own zone links (e.g. the roads of external zone nodes) are treated the same
    way, the distance measured from where they met the network, their length extended by it.

    Returns
    -------
    RoadNetwork
        With ``meta["connectors_reattached"]``: one row per moved or closed connector
        (``link_id``, ``zone_node``, ``old_node``, ``new_node`` (-1 when closed), ``walk_m``).

    Examples
    --------
    >>> net2 = reattach_connectors(scenario.apply(net), max_walk_m=500.0)  # doctest: +SKIP
    >>> net2.meta["connectors_reattached"]  # doctest: +SKIP
    """
    if not max_walk_m >= 0:
        raise InvalidValueError(f"reattach_connectors: max_walk_m must be >= 0, got {max_walk_m!r}")
    links = network.links
    zone = np.isin(links["from_node"].to_numpy(np.int64), network.zone_ids)
    # connectors, and the links by which a network's own zones (e.g. gateways) join it
    con = links["car_allowed"].to_numpy(bool) & (zone | np.isin(links["to_node"].to_numpy(np.int64), network.zone_ids))
    if not con.any():
        return network
    node_ids, in_main, reaches_main, reached_from_main = main_car_component(network)
    road_node = np.where(zone, links["to_node"].to_numpy(np.int64), links["from_node"].to_numpy(np.int64))
    at = np.searchsorted(node_ids, road_node)
    # a connector out of a zone needs a way on into the main component; one into a zone, a way from it
    cut = con & np.where(zone, ~reaches_main[at], ~reached_from_main[at])
    if not cut.any():
        return network
    car = links[links["car_allowed"].to_numpy(bool) & (links["capacity_vph"].to_numpy(np.float64) > 0) & ~con]
    f_main = in_main[np.searchsorted(node_ids, car["from_node"].to_numpy(np.int64))]
    t_main = in_main[np.searchsorted(node_ids, car["to_node"].to_numpy(np.int64))]
    car = car[f_main & t_main]
    if car.empty:
        raise EmptyStudyAreaError(f"network {network.name!r}: no open car road left to re-attach zone connectors to")
    xy = network.nodes.set_index("node_id").geometry
    old = road_node[cut]
    zone_node_all = np.where(zone, links["from_node"].to_numpy(np.int64), links["to_node"].to_numpy(np.int64))
    is_conn = (links["road_class"] == CONNECTOR_CLASS).to_numpy()[cut]
    # the walk: from the zone's centroid (from where a zone's own road met the network) to the
    # nearest open road, joined at that road's nearer end
    zpts = np.where(is_conn, xy.loc[zone_node_all[cut]].to_numpy(), xy.loc[old].to_numpy())
    tree = shapely.STRtree(car.geometry.to_numpy())
    (qi, li), dist_q = tree.query_nearest(zpts, return_distance=True, all_matches=False)
    dist = np.full(len(zpts), np.inf)
    dist[qi] = dist_q
    road = np.zeros(len(zpts), np.intp)
    road[qi] = li
    ends = np.column_stack([car["from_node"].to_numpy(np.int64)[road], car["to_node"].to_numpy(np.int64)[road]])
    d_ends = np.column_stack([shapely.distance(zpts, xy.loc[ends[:, 0]].to_numpy()), shapely.distance(zpts, xy.loc[ends[:, 1]].to_numpy())])
    ok = np.isfinite(dist) & (dist <= max_walk_m)
    new = np.where(ok, ends[np.arange(len(ends)), np.argmin(d_ends, axis=1)], -1)
    rows = np.flatnonzero(cut)
    out = links.copy()
    zone_node = zone_node_all[cut]
    fcol = np.where(zone[cut], zone_node, new)
    tcol = np.where(zone[cut], new, zone_node)
    # a moved connector that duplicates one the zone has already is closed rather than doubled
    kept_key = links.loc[con & ~cut, "from_node"].to_numpy(np.int64) * (1 << 32) + links.loc[con & ~cut, "to_node"].to_numpy(np.int64)
    dup = np.isin(fcol * (1 << 32) + tcol, kept_key) & ok
    _, first = np.unique(np.column_stack([fcol, tcol]), axis=0, return_index=True)
    repeat = np.ones(len(fcol), bool)
    repeat[first] = False
    move = ok & ~dup & ~repeat
    mv = rows[move]
    zxy = np.column_stack([xy.loc[zone_node[move]].x.to_numpy(), xy.loc[zone_node[move]].y.to_numpy()])
    nxy = np.column_stack([xy.loc[new[move]].x.to_numpy(), xy.loc[new[move]].y.to_numpy()])
    oxy = np.column_stack([xy.loc[old[move]].x.to_numpy(), xy.loc[old[move]].y.to_numpy()])
    old_len = out["length_m"].to_numpy(np.float64)[mv]
    length = np.where(is_conn[move], np.maximum(np.hypot(*(zxy - nxy).T), 10.0), old_len + np.hypot(*(oxy - nxy).T))
    speed = out["free_speed_kmh"].to_numpy(np.float64)[mv]
    fz = zone[mv]
    out.loc[out.index[mv], "from_node"] = fcol[move]
    out.loc[out.index[mv], "to_node"] = tcol[move]
    out.loc[out.index[mv], "length_m"] = length
    out.loc[out.index[mv], "free_flow_time_min"] = length / 1000.0 / speed * 60.0
    a = np.where(fz[:, None], zxy, nxy)
    b = np.where(fz[:, None], nxy, zxy)
    out.loc[out.index[mv], "geometry"] = shapely.linestrings(np.stack([a, b], axis=1))
    out.loc[out.index[rows[~move]], "car_allowed"] = False
    out.loc[out.index[rows[~move]], "hgv_allowed"] = False
    report = pd.DataFrame(
        {
            "link_id": links["link_id"].to_numpy(np.int64)[rows],
            "zone_node": zone_node,
            "old_node": old,
            "new_node": np.where(move, new, -1),
            "walk_m": np.where(ok, np.round(dist, 1), np.nan),
        }
    )
    return replace(network, links=out, meta={**network.meta, "connectors_reattached": report})
