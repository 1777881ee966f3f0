"""External zones: gateways where major roads cross the study-area boundary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ldtkit.errors import InvalidValueError
from ldtkit.model.road_network import RoadNetwork
from ldtkit.model.zones.cells import ZONE_COLUMNS, area_polygon, network_area


def external_zones(
    network: RoadNetwork,
    area: Any = None,
    *,
    road_classes: Sequence[str],
    boundary_buffer_m: float | Mapping[str, float] = 300.0,
    cluster_m: float = 150.0,
    include_nodes: Sequence[int] = (),
    exclude_nodes: Sequence[int] = (),
) -> gpd.GeoDataFrame:
    """External zones where major roads leave the study area.

    A major road (one of ``road_classes``) leaves the study area at one of its *ends*: a node
    with a single neighbouring node on the sub-network of those classes, lying within
    ``boundary_buffer_m`` (one value, or one per road class: a cleaned network may have lost
    the last few hundred metres of a dual carriageway) of the study-area boundary (``area``,
    default the network's convex hull), and closer to the boundary than its neighbour (the road
    heads out) — or within 50 m of it. Ends closer than ``cluster_m`` (the two carriageways of a
    dual road) form one external zone. ``include_nodes`` / ``exclude_nodes`` add or remove
    gateway nodes by hand.

    Returns
    -------
    GeoDataFrame with the zone columns plus ``nodes_out`` (gateway nodes with car links into
    the network: trips enter there), ``nodes_in`` (gateway nodes with car links arriving) and
    ``weight`` (mean capacity of the major links at the gateway, PCU/h), ordered clockwise from north.

    Examples
    --------
    >>> ext = external_zones(net, "data/ghent/gent.geojson", road_classes=["0", "1", "2"])  # doctest: +SKIP
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    crs = str(network.crs)
    poly = network_area(network) if area is None else area_polygon(area, crs)
    links = network.links
    zone_nodes = set(network.zone_ids.tolist())
    car = links[
        links["car_allowed"] & (links["capacity_vph"] > 0) & ~links["from_node"].isin(zone_nodes) & ~links["to_node"].isin(zone_nodes)
    ]
    classes = [str(c) for c in road_classes]
    major = car[car["road_class"].astype(str).isin(classes)]
    pairs = pd.DataFrame(
        {"a": np.concatenate([major["from_node"], major["to_node"]]), "b": np.concatenate([major["to_node"], major["from_node"]])}
    ).drop_duplicates()
    degree = pairs.groupby("a").size()
    ends = np.asarray(degree.index[degree.to_numpy() == 1], dtype=np.int64)
    nodes = network.nodes.set_index("node_id")
    boundary = poly.boundary

    def dist(ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        return shapely.distance(boundary, nodes.loc[ids].geometry.values) if len(ids) else np.zeros(0)

    d_end = dist(ends)
    nb = pairs[pairs["a"].isin(ends)].drop_duplicates("a").set_index("a")["b"].reindex(ends).to_numpy()
    d_nb = dist(nb)
    # road class at each end (the major link touching it)
    cls_at = pd.concat(
        [major[["from_node", "road_class"]].set_axis(["n", "c"], axis=1), major[["to_node", "road_class"]].set_axis(["n", "c"], axis=1)]
    )
    cls_at = cls_at.drop_duplicates("n").set_index("n")["c"].astype(str).reindex(ends).to_numpy()
    if isinstance(boundary_buffer_m, Mapping):
        buf = np.array([float(boundary_buffer_m.get(c, 0.0)) for c in cls_at])
    else:
        buf = np.full(len(ends), float(boundary_buffer_m))
    keep = (d_end <= np.minimum(buf, 50.0)) | ((d_end <= buf) & (d_end < d_nb))
    keep &= ~np.isin(ends, np.asarray(exclude_nodes, dtype=np.int64))
    cand_ids = np.union1d(ends[keep], np.asarray(include_nodes, dtype=np.int64))
    missing = sorted({int(i) for i in cand_ids} - set(nodes.index.tolist()))
    if missing:
        raise InvalidValueError(f"external zones: include_nodes {missing} are not nodes of network {network.name!r}")
    cols = ZONE_COLUMNS + ["nodes_out", "nodes_in", "weight", "geometry"]
    if len(cand_ids) == 0:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry="geometry", crs=crs)
    xy = np.column_stack([nodes.loc[cand_ids].geometry.x.to_numpy(), nodes.loc[cand_ids].geometry.y.to_numpy()])
    pairs_c = cKDTree(xy).query_pairs(cluster_m, output_type="ndarray")
    g = coo_matrix((np.ones(len(pairs_c)), (pairs_c[:, 0], pairs_c[:, 1])), shape=(len(xy), len(xy)))
    _, lab = connected_components(g, directed=False)
    out_cap = car.groupby("from_node")["capacity_vph"].sum()
    in_cap = car.groupby("to_node")["capacity_vph"].sum()
    cx, cy = poly.centroid.x, poly.centroid.y
    rows = []
    for k in np.unique(lab):
        ids = cand_ids[lab == k]
        p = xy[lab == k].mean(axis=0)
        n_out = [int(i) for i in ids if i in out_cap.index]
        n_in = [int(i) for i in ids if i in in_cap.index]
        w = float(out_cap.reindex(n_out).fillna(0).sum() + in_cap.reindex(n_in).fillna(0).sum()) / 2.0
        bearing = float(np.degrees(np.arctan2(p[0] - cx, p[1] - cy)) % 360.0)
        rows.append({"bearing": bearing, "x": p[0], "y": p[1], "nodes_out": n_out, "nodes_in": n_in, "weight": w})
    df = pd.DataFrame(rows).sort_values(["bearing", "x", "y"]).reset_index(drop=True)
    df["zone"] = [f"ext{i + 1}" for i in range(len(df))]
    df["kind"] = "external"
    df["population"] = 0.0
    df["jobs"] = 0.0
    return gpd.GeoDataFrame(df[cols[:-1]], geometry=shapely.points(df[["x", "y"]].to_numpy()), crs=crs)


def network_external_zones(network: RoadNetwork) -> gpd.GeoDataFrame:
    """The network's own zone nodes (e.g. Athens' 9 boundary zones) as external zones.

    Their weight is the capacity of the links leaving and entering them.
    """
    zids = network.zone_ids
    links = network.links[network.links["car_allowed"]]
    out_cap = links.groupby("from_node")["capacity_vph"].sum().reindex(zids).fillna(0.0)
    in_cap = links.groupby("to_node")["capacity_vph"].sum().reindex(zids).fillna(0.0)
    nodes = network.nodes.set_index("node_id").loc[zids]
    return gpd.GeoDataFrame(
        {
            "zone": [f"node{z}" for z in zids],
            "kind": "external",
            "population": 0.0,
            "jobs": 0.0,
            "x": nodes.geometry.x.to_numpy(),
            "y": nodes.geometry.y.to_numpy(),
            "nodes_out": [[] for _ in zids],
            "nodes_in": [[] for _ in zids],
            "weight": ((out_cap + in_cap) / 2.0).to_numpy(),
            "node_id": zids,
        },
        geometry=list(nodes.geometry.values),
        crs=network.crs,
    )
