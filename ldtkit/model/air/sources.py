"""The emitting streets of a network as the dispersion model sees them: sources and their segments.

Links with the same end nodes and length (the two directions of a street) share one *source*;
connectors and links without geometry emit nothing. Each source has a width (CALINE3 mixing
zone, facade to facade) and a geometry cut into straight segments, which the kernels integrate.

Examples
--------
>>> street_widths_m(AirConfig(), np.array([1.0, 2.0]))
(array([ 9.5, 13. ]), array([11.5, 15. ]))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from ldtkit.model.air.config import AirConfig
from ldtkit.model.network import CONNECTOR_CLASS, RoadNetwork

if TYPE_CHECKING:
    from ldtkit.model.kernels.air import Segments

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: CALINE3 mixing zone: the carriageway plus 3 m on each side.
MIXING_ZONE_MARGIN_M = 6.0


@dataclass(frozen=True)
class Sources:
    """The sources of a network and their geometry.

    Attributes
    ----------
    link_source
        Source index of every link row (``-1``: connector or no geometry).
    representative_link
        One link row per source (its geometry, speed limit and car access stand for the source).
    mixing_width_m, street_width_m
        Per source: CALINE3 mixing-zone width and facade-to-facade width.
    segments
        The straight segments of the sources' (simplified) geometry.
    segment_source
        The source of each segment.
    """

    link_source: IntArray
    representative_link: IntArray
    mixing_width_m: FloatArray
    street_width_m: FloatArray
    segments: Segments
    segment_source: IntArray

    @property
    def n_sources(self) -> int:
        """Number of sources."""
        return len(self.representative_link)


def street_widths_m(cfg: AirConfig, lanes: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mixing-zone and facade-to-facade widths (m) of streets with ``lanes`` lanes (at least one)."""
    carriage = cfg.lane_width_m * np.maximum(lanes, 1.0)
    return carriage + MIXING_ZONE_MARGIN_M, carriage + 2 * cfg.verge_m


def link_segments(network: RoadNetwork, rows: IntArray, simplify_m: float = 0.0) -> tuple[Segments, IntArray]:
    """Straight segments of the given links' geometries, and the link row each comes from."""
    import shapely

    from ldtkit.model.kernels.air import Segments

    geoms = network.links.geometry.to_numpy()[rows]
    ok = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if simplify_m > 0:  # drop vertices that bend the line by less than simplify_m (dispersion cannot tell)
        geoms = geoms.copy()
        geoms[ok] = shapely.simplify(geoms[ok], simplify_m)
    coords, idx = shapely.get_coordinates(geoms[ok], return_index=True)
    owner = rows[ok][idx]
    same = idx[1:] == idx[:-1]
    x1, y1 = coords[:-1][same, 0], coords[:-1][same, 1]
    x2, y2 = coords[1:][same, 0], coords[1:][same, 1]
    keep = (x1 != x2) | (y1 != y2)
    return Segments(x1[keep], y1[keep], x2[keep], y2[keep]), owner[:-1][same][keep]


def network_sources(network: RoadNetwork, cfg: AirConfig) -> Sources:
    """Group ``network``'s links into sources: undirected node pairs (+ rounded length) of non-connector links with geometry."""
    links = network.links
    cand = np.flatnonzero((links["road_class"].to_numpy(object) != CONNECTOR_CLASS) & links.geometry.notna().to_numpy())
    a = links["from_node"].to_numpy(np.int64)[cand]
    b = links["to_node"].to_numpy(np.int64)[cand]
    key = pd.DataFrame({"a": np.minimum(a, b), "b": np.maximum(a, b), "l": np.round(links["length_m"].to_numpy(float)[cand])})
    src_of_cand = key.groupby(["a", "b", "l"], sort=False).ngroup().to_numpy()
    n_src = int(src_of_cand.max()) + 1 if len(cand) else 0
    link_source = np.full(len(links), -1, dtype=np.int64)
    link_source[cand] = src_of_cand
    lanes = links["lanes"].to_numpy(float)[cand]
    lanes_src = np.asarray(np.bincount(src_of_cand, weights=np.where(lanes > 0, lanes, 1.0), minlength=n_src), dtype=np.float64)
    mixing_w, street_w = street_widths_m(cfg, lanes_src)
    # one representative link per source for geometry (both directions share it): the first
    rep = np.full(n_src, -1, dtype=np.int64)
    rep[src_of_cand[::-1]] = cand[::-1]
    seg, owner = link_segments(network, rep, cfg.simplify_m)
    return Sources(link_source, rep, mixing_w, street_w, seg, link_source[owner])
