"""Noise sources: road centre lines cut into straight segments, one line per road.

Both directions of a road share one source line (their powers add); connectors, tunnels and
links without geometry never emit. The segments are what the map kernels split further into
point sources, at :data:`SOURCE_HEIGHT_M` above the road.

Examples
--------
>>> SOURCE_HEIGHT_M
0.05
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from ldtkit.errors import InvalidValueError

if TYPE_CHECKING:
    from ldtkit.model.network import RoadNetwork

#: Height of the equivalent point sources above the road (Annex II 2.2, JRC Road_Params Hsrc).
SOURCE_HEIGHT_M = 0.05


@dataclass(frozen=True)
class NoiseSources:
    """Road centre lines as straight segments, prepared once per network geometry.

    Links running both ways along the same geometry share one source line; ``line_of_link``
    maps every link row to its line (``-1`` for links that never emit: connectors, tunnels).
    Segment ``s`` runs from ``(x0[s], y0[s])`` to ``(x1[s], y1[s])`` on line ``seg_line[s]``.
    """

    line_of_link: npt.NDArray[np.int64]
    n_lines: int
    x0: npt.NDArray[np.float64]
    y0: npt.NDArray[np.float64]
    x1: npt.NDArray[np.float64]
    y1: npt.NDArray[np.float64]
    seg_line: npt.NDArray[np.int64]

    @property
    def n_segments(self) -> int:
        """Number of straight segments."""
        return len(self.x0)

    @property
    def length_m(self) -> float:
        """Total length of the source lines (m)."""
        return float(np.hypot(self.x1 - self.x0, self.y1 - self.y0).sum())

    def take(self, rows: npt.NDArray[np.int64]) -> NoiseSources:
        """The segments ``rows`` (in that order), same lines."""
        return NoiseSources(
            self.line_of_link, self.n_lines, self.x0[rows], self.y0[rows], self.x1[rows], self.y1[rows], self.seg_line[rows]
        )


def noise_sources(network: RoadNetwork, *, max_segment_m: float = 50.0) -> NoiseSources:
    """Split the network's link geometries into straight source segments of at most ``max_segment_m``.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import LineString
    >>> from ldtkit.model.network import RoadNetwork, conform_links
    >>> links = pd.DataFrame({"link_id": [1, 2], "from_node": [1, 2], "to_node": [2, 1], "length_m": [120.0, 120.0],
    ...                       "capacity_vph": 900.0, "free_speed_kmh": 50.0})
    >>> g = gpd.GeoDataFrame(links, geometry=[LineString([(0, 0), (120, 0)]), LineString([(120, 0), (0, 0)])], crs=31370)
    >>> nodes = gpd.GeoDataFrame({"node_id": [1, 2], "is_zone": False}, geometry=gpd.points_from_xy([0, 120], [0, 0]), crs=31370)
    >>> src = noise_sources(RoadNetwork(conform_links(g, source="doctest"), nodes))
    >>> src.n_lines, src.n_segments, src.line_of_link.tolist()
    (1, 3, [0, 0])
    """
    import shapely  # only here: the noise package imports without the geometry stack

    links = network.links
    geoms = links.geometry.to_numpy() if hasattr(links, "geometry") else np.array([])
    if len(geoms) == 0 or shapely.is_empty(geoms).all():
        raise InvalidValueError(f"network {getattr(network, 'name', '')!r}: links have no geometry; noise maps need link centre lines")
    emits = (links["road_class"].astype(str).to_numpy() != "connector") & ~links["tunnel"].to_numpy(bool)
    emits &= ~shapely.is_empty(geoms) & ~pd.isna(geoms)
    a = links["from_node"].to_numpy(np.int64)
    b = links["to_node"].to_numpy(np.int64)
    key = pd.DataFrame({"u": np.minimum(a, b), "v": np.maximum(a, b), "l": np.round(links["length_m"].to_numpy(float), 1)})
    key = key[emits]
    codes, _ = pd.factorize(pd.MultiIndex.from_frame(key))
    line_of_link = np.full(len(links), -1, dtype=np.int64)
    line_of_link[np.flatnonzero(emits)] = codes
    n_lines = int(codes.max()) + 1 if len(codes) else 0
    first = np.flatnonzero(emits)[np.unique(codes, return_index=True)[1]]
    coords, idx = shapely.get_coordinates(geoms[first], return_index=True)
    same = idx[1:] == idx[:-1]
    p0, p1, line = coords[:-1][same], coords[1:][same], codes[np.unique(codes, return_index=True)[1]][idx[:-1][same]]
    seg_len = np.hypot(*(p1 - p0).T)
    keep = seg_len > 0
    p0, p1, line, seg_len = p0[keep], p1[keep], line[keep], seg_len[keep]
    n_sub = np.maximum(1, np.ceil(seg_len / max_segment_m)).astype(np.int64)
    rep = np.repeat(np.arange(len(p0)), n_sub)
    j = np.arange(len(rep)) - np.repeat(np.cumsum(n_sub) - n_sub, n_sub)
    t0 = (j / n_sub[rep])[:, None]
    t1 = ((j + 1) / n_sub[rep])[:, None]
    q0 = p0[rep] + t0 * (p1[rep] - p0[rep])
    q1 = p0[rep] + t1 * (p1[rep] - p0[rep])
    return NoiseSources(
        line_of_link, n_lines, q0[:, 0].copy(), q0[:, 1].copy(), q1[:, 0].copy(), q1[:, 1].copy(), line[rep].astype(np.int64)
    )
