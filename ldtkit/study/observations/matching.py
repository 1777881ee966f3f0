"""Counting sites matched to network links: by id, by end nodes, or by position and heading.

A site located by position is matched to the nearest link within ``max_distance_m`` whose
direction at the nearest point is within ``max_heading_diff_deg`` of the site's heading (any
direction when the site has none). When another such link is within ``ambiguity_m`` of the
nearest (two parallel links, e.g. a service road beside a main road), the site is *ambiguous*
and not used; with no candidate it is *unmatched*. The report keeps the distances.

Examples
--------
>>> import geopandas as gpd, pandas as pd
>>> from shapely.geometry import LineString
>>> links = gpd.GeoDataFrame({"link_id": [1, 2], "from_node": [10, 11], "to_node": [11, 10]},
...     geometry=[LineString([(0, 0), (100, 0)]), LineString([(100, 0), (0, 0)])], crs="EPSG:31370")
>>> sites = pd.DataFrame({"site_id": ["east", "west"], "x": [50.0, 50.0], "y": [3.0, 3.0], "heading_deg": [90.0, 270.0]})
>>> match_positions(links, sites).table[["site_id", "status", "link_id", "distance_m"]].values.tolist()
[['east', 'matched', 1, 3.0], ['west', 'matched', 2, 3.0]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ldtkit._validate import closest
from ldtkit.errors import InvalidValueError
from ldtkit.study.observations.counts import Counts

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

    from ldtkit.model.network import RoadNetwork

STATUSES = ("matched", "ambiguous", "unmatched")


@dataclass(frozen=True)
class MatchReport:
    """One row per site: ``site_id``, ``heading_deg`` (from :func:`match_counts`), ``status`` (:data:`STATUSES`), ``link_id`` (-1 unless
    matched), ``nearest_link_id`` and ``distance_m`` (the nearest link that fits the heading, also
    for an ambiguous site; -1/NaN when unmatched), ``second_link_id`` and ``second_distance_m``
    (the runner-up, -1/NaN without one)."""

    table: pd.DataFrame

    def counts(self) -> dict[str, int]:
        """Number of sites per status."""
        return {s: int((self.table["status"] == s).sum()) for s in STATUSES}

    def summary(self) -> str:
        """One line: how many sites were matched, ambiguous and unmatched."""
        return ", ".join(f"{n} {s}" for s, n in self.counts().items())


def _bearing_deg(lines: gpd.GeoSeries, at_m: np.ndarray) -> np.ndarray:
    import shapely

    length = shapely.length(lines.values)
    a = shapely.line_interpolate_point(lines.values, np.clip(at_m - 1.0, 0.0, length))
    b = shapely.line_interpolate_point(lines.values, np.clip(at_m + 1.0, 0.0, length))
    return np.asarray(np.degrees(np.arctan2(shapely.get_x(b) - shapely.get_x(a), shapely.get_y(b) - shapely.get_y(a))) % 360.0)


def match_positions(
    links: gpd.GeoDataFrame,
    sites: pd.DataFrame,
    *,
    max_distance_m: float = 30.0,
    max_heading_diff_deg: float = 45.0,
    ambiguity_m: float = 5.0,
) -> MatchReport:
    """Match sites (``site_id``, ``x``, ``y`` in the links' metric CRS, ``heading_deg``) to ``links``.

    Parameters
    ----------
    links
        Links with ``link_id`` and line geometries in a metric CRS.
    sites
        One row per site; ``heading_deg`` NaN matches either direction.
    max_distance_m, max_heading_diff_deg, ambiguity_m
        Farthest link considered; largest angle between the site's heading and the link's
        direction; distance margin within which a second link makes the site ambiguous.
    """
    import shapely

    pts = shapely.points(sites["x"].to_numpy(float), sites["y"].to_numpy(float))
    geoms = links.geometry.values
    tree = shapely.STRtree(geoms)
    si, li = tree.query(pts, predicate="dwithin", distance=max_distance_m)
    dist = shapely.distance(pts[si], geoms[li])
    along = shapely.line_locate_point(geoms[li], pts[si])
    bearing = _bearing_deg(links.geometry.iloc[li], along)
    head = sites["heading_deg"].to_numpy(float)[si]
    diff = np.abs((bearing - head + 180.0) % 360.0 - 180.0)
    ok = np.isnan(head) | (diff <= max_heading_diff_deg)
    cand = pd.DataFrame({"s": si[ok], "link_id": links["link_id"].to_numpy()[li[ok]], "d": dist[ok]})
    cand = cand.sort_values(["s", "d", "link_id"], kind="stable")
    rank = cand.groupby("s").cumcount().to_numpy()
    first = cand[rank == 0].set_index("s")
    second = cand[rank == 1].set_index("s")
    n = len(sites)
    out = pd.DataFrame({"site_id": sites["site_id"].to_numpy()})
    out["link_id"] = first["link_id"].reindex(range(n)).fillna(-1).astype(np.int64).to_numpy()
    out["nearest_link_id"] = out["link_id"]
    out["distance_m"] = first["d"].reindex(range(n)).to_numpy(float)
    out["second_link_id"] = second["link_id"].reindex(range(n)).fillna(-1).astype(np.int64).to_numpy()
    out["second_distance_m"] = second["d"].reindex(range(n)).to_numpy(float)
    amb = (out["second_distance_m"] - out["distance_m"]) <= ambiguity_m
    out["status"] = np.where(out["link_id"] < 0, "unmatched", np.where(amb, "ambiguous", "matched"))
    out.loc[out["status"] == "ambiguous", "link_id"] = -1
    return MatchReport(out[["site_id", "status", "link_id", "nearest_link_id", "distance_m", "second_link_id", "second_distance_m"]])


def match_counts(network: RoadNetwork, counts: Counts, **options: float) -> MatchReport:
    """Match every site of ``counts`` to a link of ``network``: by ``link_id``, by ``init_node`` and
    ``term_node``, or by position and heading (:func:`match_positions`).

    Link ids and node pairs that are not in the network raise an error naming the site (with
    the closest link ids); positions far from every link are reported as unmatched.
    """
    t = counts.table.drop_duplicates(["site_id", "heading_deg"]).reset_index(drop=True)
    links = network.links
    ids = links["link_id"].to_numpy(np.int64)
    out = pd.DataFrame(
        {
            "site_id": t["site_id"],
            "status": "unmatched",
            "link_id": -1,
            "nearest_link_id": -1,
            "distance_m": np.nan,
            "second_link_id": -1,
            "second_distance_m": np.nan,
        }
    )
    by_id = (t["link_id"] >= 0).to_numpy()
    if by_id.any():
        unknown = by_id & ~np.isin(t["link_id"].to_numpy(np.int64), ids)
        if unknown.any():
            i = int(np.flatnonzero(unknown)[0])
            lid = int(t["link_id"].iloc[i])
            hint = closest([str(lid)], [str(x) for x in ids])
            raise InvalidValueError(
                f"{counts.source}: site {t['site_id'].iloc[i]}: link_id {lid} is not a link of the network"
                + (f" (closest ids: {', '.join(hint)})" if hint else "")
            )
        out.loc[by_id, "status"] = "matched"
        out.loc[by_id, "distance_m"] = 0.0
        out.loc[by_id, "link_id"] = t.loc[by_id, "link_id"].to_numpy(np.int64)
        out.loc[by_id, "nearest_link_id"] = out.loc[by_id, "link_id"]
    by_nodes = ~by_id & (t["init_node"] >= 0).to_numpy()
    if by_nodes.any():
        key = pd.Series(
            np.arange(len(links)), index=pd.MultiIndex.from_arrays([links["from_node"].to_numpy(), links["to_node"].to_numpy()])
        )
        key = key[~key.index.duplicated()]
        pairs = pd.MultiIndex.from_arrays([t.loc[by_nodes, "init_node"].to_numpy(), t.loc[by_nodes, "term_node"].to_numpy()])
        row = key.reindex(pairs).to_numpy()
        missing = np.isnan(row)
        if missing.any():
            i = int(np.flatnonzero(by_nodes)[np.flatnonzero(missing)[0]])
            raise InvalidValueError(
                f"{counts.source}: site {t['site_id'].iloc[i]}: no link from node {int(t['init_node'].iloc[i])} to node "
                f"{int(t['term_node'].iloc[i])} in the network"
            )
        out.loc[by_nodes, "status"] = "matched"
        out.loc[by_nodes, "link_id"] = ids[row.astype(np.int64)]
        out.loc[by_nodes, "nearest_link_id"] = out.loc[by_nodes, "link_id"]
        out.loc[by_nodes, "distance_m"] = 0.0
    by_pos = ~by_id & ~by_nodes & t["lon"].notna().to_numpy() & t["lat"].notna().to_numpy()
    if by_pos.any():
        import geopandas as gpd

        if links.crs is None:
            raise InvalidValueError(
                f"{counts.source}: sites located by lon/lat need a network with a CRS; give link_id or init_node/term_node"
            )
        metric = links if links.crs.is_projected else links.to_crs(links.estimate_utm_crs())
        p = gpd.GeoSeries(gpd.points_from_xy(t.loc[by_pos, "lon"], t.loc[by_pos, "lat"]), crs=4326).to_crs(metric.crs)
        sites = pd.DataFrame(
            {
                "site_id": t.loc[by_pos, "site_id"].to_numpy(),
                "x": p.x.to_numpy(),
                "y": p.y.to_numpy(),
                "heading_deg": t.loc[by_pos, "heading_deg"].to_numpy(float),
            }
        )
        rep = match_positions(metric, sites, **options).table
        for col in rep.columns:
            out.loc[by_pos, col] = rep[col].to_numpy()
    for col in ("link_id", "nearest_link_id"):
        out[col] = out[col].astype(np.int64)
    out["second_link_id"] = out["second_link_id"].astype(np.int64)
    out.insert(1, "heading_deg", t["heading_deg"].to_numpy(float))
    return MatchReport(out)
