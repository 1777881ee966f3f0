"""The :class:`RoadNetwork` type: directed links and nodes in a metric CRS, and its table schema.

This module defines the data type only and reads no file format, so that the loaders
(:mod:`ldtkit.model.loaders`) can build networks without importing each other. Most code
imports the same names from :mod:`ldtkit.model.network`, which adds the ``network_from_*``
constructors.

A :class:`RoadNetwork` is immutable by convention: scenario measures and zone
connectors return a *new* network, so the baseline is never mutated. Link ids are
stable across scenarios (a closed link keeps its id and is barred for cars and
heavy vehicles), so baseline and scenario tables join on ``link_id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from ldtkit._validate import finite_nonnegative
from ldtkit.errors import InvalidValueError, MissingFieldError

if TYPE_CHECKING:  # pragma: no cover
    from pyproj import CRS

#: Anything :meth:`geopandas.GeoDataFrame.to_crs` accepts: ``"EPSG:31370"``, ``4326``, a pyproj CRS.
CrsLike: TypeAlias = "str | int | CRS | None"

#: Columns every links table carries, with their dtype kind, in this order.
LINK_COLUMNS: dict[str, str] = {
    "link_id": "int64",  # stable across scenarios
    "from_node": "int64",
    "to_node": "int64",
    "length_m": "float64",
    "lanes": "float64",
    "capacity_vph": "float64",  # per direction, whole link (all lanes), PCU/h
    "free_speed_kmh": "float64",
    "free_flow_time_min": "float64",  # normally length/speed; TNTP gives it directly
    "b": "float64",  # BPR alpha
    "power": "float64",  # BPR beta
    "road_class": "object",  # e.g. "primary", "residential", "frc3", "connector", "tntp"
    "name": "object",
    "bridge": "bool",
    "tunnel": "bool",
    "car_allowed": "bool",  # light vehicles
    "hgv_allowed": "bool",  # heavy vehicles
    "walk_allowed": "bool",
    "source_id": "object",  # id in the source file (segment id, OSM way id, ...)
    "reversed": "bool",  # True when the link runs against the source geometry's digitisation
}

NODE_COLUMNS: dict[str, str] = {"node_id": "int64", "is_zone": "bool"}

#: Road class used for the links that join zone centroids to the road network.
CONNECTOR_CLASS = "connector"

#: Values of the optional link columns when a source does not give them.
LINK_DEFAULTS: dict[str, Any] = {
    "lanes": 1.0,
    "b": 0.15,
    "power": 4.0,
    "road_class": "unclassified",
    "name": "",
    "bridge": False,
    "tunnel": False,
    "car_allowed": True,
    "hgv_allowed": True,
    "walk_allowed": True,
    "source_id": None,
    "reversed": False,
}


@dataclass(frozen=True)
class CSR:
    """Forward-star adjacency of a network, for the numba kernels.

    Nodes are renumbered ``0..n_nodes-1`` in the order of ``node_ids``.
    The out-links of node ``i`` are ``link_order[indptr[i]:indptr[i+1]]`` (link row indices).
    """

    node_ids: npt.NDArray[np.int64]  # original ids, sorted
    from_idx: npt.NDArray[np.int64]  # per link row
    to_idx: npt.NDArray[np.int64]  # per link row
    indptr: npt.NDArray[np.int64]  # n_nodes + 1
    link_order: npt.NDArray[np.int64]  # link rows sorted by from_idx

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)


@dataclass(frozen=True)
class RoadNetwork:
    """Directed road links and nodes in a metric CRS.

    Parameters
    ----------
    links
        GeoDataFrame with at least :data:`LINK_COLUMNS` and LineString geometry (may be
        empty geometry for networks without coordinates, e.g. some TNTP files).
    nodes
        GeoDataFrame with ``node_id``, ``is_zone`` and Point geometry (may be empty).
    name
        Short name, e.g. ``"ghent"``.
    zone_through
        Whether traffic may pass *through* zone nodes. ``False`` (the default) applies
        the TNTP first-through-node rule to every zone node.
    meta
        Free-form provenance (source file, what cleanup dropped, ...).

    Examples
    --------
    >>> import shapely
    >>> links = conform_links(pd.DataFrame({"link_id": [1], "from_node": [1], "to_node": [2], "length_m": [500.0],
    ...                                     "capacity_vph": [900.0], "free_speed_kmh": [30.0]}), source="example")
    >>> nodes = conform_nodes(pd.DataFrame({"node_id": [1, 2]}), source="example")
    >>> net = RoadNetwork(links, nodes, name="example")
    >>> net.n_links, net.n_nodes, float(net.links["free_flow_time_min"].iloc[0])
    (1, 2, 1.0)
    """

    links: gpd.GeoDataFrame
    nodes: gpd.GeoDataFrame
    name: str = "network"
    zone_through: bool = False
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    # ----------------------------------------------------------------- basics
    @property
    def crs(self) -> CRS | None:
        """The CRS of the links (``None`` for networks without coordinates)."""
        crs: CRS | None = self.links.crs
        return crs

    @property
    def n_links(self) -> int:
        """Number of directed links."""
        return len(self.links)

    @property
    def n_nodes(self) -> int:
        """Number of nodes, zone centroids included."""
        return len(self.nodes)

    @property
    def zone_ids(self) -> npt.NDArray[np.int64]:
        """Node ids of the zone centroids, sorted."""
        return np.sort(self.nodes.loc[self.nodes["is_zone"], "node_id"].to_numpy(np.int64))

    def csr(self) -> CSR:
        """Forward-star arrays over all links (closed links included; kernels mask by class)."""
        node_ids = np.sort(self.nodes["node_id"].to_numpy(np.int64))
        f = np.searchsorted(node_ids, self.links["from_node"].to_numpy(np.int64))
        t = np.searchsorted(node_ids, self.links["to_node"].to_numpy(np.int64))
        order = np.argsort(f, kind="stable").astype(np.int64)
        counts = np.bincount(f, minlength=len(node_ids))
        indptr = np.zeros(len(node_ids) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return CSR(node_ids, f.astype(np.int64), t.astype(np.int64), indptr, order)

    def with_links(self, links: gpd.GeoDataFrame, **meta: Any) -> RoadNetwork:
        """A new network with ``links`` replaced (nodes unchanged)."""
        return replace(self, links=links, meta={**self.meta, **meta})

    def to_geodataframe(self, *, to_wgs84: bool = False) -> gpd.GeoDataFrame:
        """The links as a GeoDataFrame (a copy), optionally in EPSG:4326 for web maps."""
        gdf = self.links.copy()
        return gdf.to_crs(4326) if to_wgs84 and gdf.crs is not None else gdf

    def nodes_to_geodataframe(self) -> gpd.GeoDataFrame:
        """The nodes as a GeoDataFrame (a copy)."""
        return self.nodes.copy()

    def summary(self) -> dict[str, Any]:
        """Counts for ``ldtkit network summary``: nodes, links, km by road class, bridges, components."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        car = self.links[self.links["car_allowed"]]
        c = self.csr()
        mask = self.links["car_allowed"].to_numpy()
        g = coo_matrix((np.ones(mask.sum()), (c.from_idx[mask], c.to_idx[mask])), shape=(c.n_nodes, c.n_nodes))
        _, labels = connected_components(g, directed=True, connection="strong")
        used = np.unique(np.concatenate([c.from_idx[mask], c.to_idx[mask]]))
        comp_sizes = np.bincount(labels[used]) if len(used) else np.array([], dtype=int)
        comp_sizes = np.sort(comp_sizes[comp_sizes > 0])[::-1]
        bridges = self.links[self.links["bridge"]]
        return {
            "name": self.name,
            "nodes": self.n_nodes,
            "links": self.n_links,
            "zones": int(self.nodes["is_zone"].sum()),
            "km_by_road_class": (car.groupby("road_class")["length_m"].sum() / 1000.0).round(2).to_dict(),
            "car_km": round(float(car["length_m"].sum()) / 1000.0, 2),
            "bridges": sorted({str(n) for n in bridges["name"].fillna("(unnamed)")}),
            "bridge_links": int(len(bridges)),
            "strong_components": int(len(comp_sizes)),
            "largest_component_nodes": int(comp_sizes[0]) if len(comp_sizes) else 0,
        }

    # ---------------------------------------------------------------- I/O
    def to_file(self, path: str | Path) -> Path:
        """Write links and nodes to a GeoPackage (``.gpkg``) or a pair of GeoParquet files.

        ``.gpkg`` holds layers ``links`` and ``nodes``; ``.parquet`` writes ``path`` (links)
        and ``path`` with suffix ``.nodes.parquet``. Writes are atomic.
        """
        from ldtkit.io import write_geodataframes

        return write_geodataframes(
            path,
            {"links": self.links, "nodes": self.nodes},
            metadata={"name": self.name, "zone_through": self.zone_through},
        )

    @classmethod
    def from_file(cls, path: str | Path) -> RoadNetwork:
        """Read a network written by :meth:`to_file`."""
        from ldtkit.io import read_geodataframes

        layers, metadata = read_geodataframes(path, ["links", "nodes"])
        return cls(
            links=conform_links(layers["links"], source=str(path)),
            nodes=conform_nodes(layers["nodes"], source=str(path)),
            name=str(metadata.get("name", Path(path).stem)),
            zone_through=bool(metadata.get("zone_through", False)),
            meta={"source": str(path)},
        )


# ---------------------------------------------------------------------------
def conform_links(links: pd.DataFrame, *, source: str, crs: CrsLike = None) -> gpd.GeoDataFrame:
    """Check and coerce a links table to :data:`LINK_COLUMNS` (used by every loader).

    Missing optional columns get :data:`LINK_DEFAULTS`; missing required ones raise
    :class:`~ldtkit.errors.MissingFieldError` naming ``source``. NaN or negative
    lengths, capacities or speeds raise :class:`~ldtkit.errors.InvalidValueError`
    with the offending link ids.

    Examples
    --------
    >>> raw = pd.DataFrame({"link_id": [1, 2], "from_node": [1, 2], "to_node": [2, 1], "length_m": [100.0, -1.0],
    ...                     "capacity_vph": [900.0, 900.0], "free_speed_kmh": [30.0, 30.0]})
    >>> conform_links(raw, source="links.csv")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: links.csv: field 'length_m' must be finite and >= 0; 1 of 2 fail, e.g. id 2 = -1.0
    """
    df = links.copy()
    for req in ("link_id", "from_node", "to_node", "length_m", "capacity_vph", "free_speed_kmh"):
        if req not in df.columns:
            raise MissingFieldError(source, req, expected="a column of the links table")
    for col, val in LINK_DEFAULTS.items():
        if col not in df.columns:
            df[col] = val
    if "free_flow_time_min" not in df.columns:
        with np.errstate(divide="ignore", invalid="ignore"):
            df["free_flow_time_min"] = df["length_m"] / 1000.0 / df["free_speed_kmh"] * 60.0
    link_ids = df["link_id"].to_numpy()
    for col in ("length_m", "capacity_vph", "free_speed_kmh", "free_flow_time_min", "lanes"):
        finite_nonnegative(pd.to_numeric(df[col], errors="coerce").to_numpy(np.float64), name=f"field {col!r}", where=source, ids=link_ids)
    if df["link_id"].duplicated().any():
        dup = df.loc[df["link_id"].duplicated(), "link_id"].head(10).tolist()
        raise InvalidValueError(f"{source}: duplicate link ids {dup}")
    for col, kind in LINK_COLUMNS.items():
        if kind == "object":
            df[col] = df[col].astype(object)
        elif kind == "bool":
            df[col] = df[col].fillna(False).astype(bool)
        else:
            df[col] = df[col].astype(np.dtype(kind))
    if "geometry" not in df.columns:
        df["geometry"] = None
    extra = [c for c in df.columns if c not in LINK_COLUMNS and c != "geometry"]
    gdf = gpd.GeoDataFrame(df[list(LINK_COLUMNS) + extra + ["geometry"]], geometry="geometry", crs=crs or getattr(links, "crs", None))
    return gdf.reset_index(drop=True)


def conform_nodes(nodes: pd.DataFrame, *, source: str, crs: CrsLike = None) -> gpd.GeoDataFrame:
    """Check and coerce a nodes table to :data:`NODE_COLUMNS` plus Point geometry, sorted by ``node_id``.

    Examples
    --------
    >>> conform_nodes(pd.DataFrame({"node_id": [2, 1]}), source="nodes.csv")["node_id"].tolist()
    [1, 2]
    """
    df = nodes.copy()
    if "node_id" not in df.columns:
        raise MissingFieldError(source, "node_id", expected="a column of the nodes table")
    if "is_zone" not in df.columns:
        df["is_zone"] = False
    df["node_id"] = df["node_id"].astype(np.int64)
    df["is_zone"] = df["is_zone"].fillna(False).astype(bool)
    if df["node_id"].duplicated().any():
        raise InvalidValueError(f"{source}: duplicate node ids {df.loc[df['node_id'].duplicated(), 'node_id'].head(10).tolist()}")
    if "geometry" not in df.columns:
        df["geometry"] = None
    gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=crs or getattr(nodes, "crs", None))
    return gdf.sort_values("node_id").reset_index(drop=True)


def check_links_reference_nodes(links: pd.DataFrame, nodes: pd.DataFrame, *, source: str) -> None:
    """Raise :class:`~ldtkit.errors.InvalidValueError` if a link names a node that the nodes table lacks."""
    known = set(nodes["node_id"].tolist())
    missing = sorted(set(links["from_node"]).union(links["to_node"]) - known)
    if missing:
        raise InvalidValueError(f"{source}: links reference unknown node ids {missing[:10]}")


def utm_crs_for(lon: float, lat: float) -> str:
    """The EPSG code of the UTM zone containing (lon, lat).

    Examples
    --------
    >>> utm_crs_for(3.72, 51.05)  # Ghent
    'EPSG:32631'
    """
    zone = int((lon + 180.0) // 6.0) + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"
