"""Conflation: speed limits and one-way tags of OpenStreetMap ways matched onto road segments.

A road-segment file without speeds (e.g. the Stad Gent *wegsegmenten*) gets the OSM speed limit
of the ways that run along it. A segment and an OSM way match when

* **geometry**: the way lies along the segment: the share of the segment's length within
  ``buffer_m`` of the way (its *coverage*) counts, summed over the ways that pass the other tests;
* **bearing**: the way's piece next to the segment runs parallel to it (angle, undirected, at
  most ``max_angle_deg``);
* **name**: where both carry a street name, the normalised names (:func:`normalise_name`) agree.
  A way without a name may match on geometry alone.

The segment's score is its summed coverage (at most 1) times 1 when a name agrees, 0.8 when the
way has no name; segments scoring at least ``min_score`` are matched. Its speed limit is the one
covering the largest length of the segment (OSM ``maxspeed``, else a limit implied by the road
type, :data:`IMPLIED_SPEED_KMH_BY_HIGHWAY`).

``maxspeed`` values are parsed by :func:`parse_maxspeed`: numbers (km/h; ``mph`` converted) and
the implicit zone/road-type values of :data:`IMPLICIT_MAXSPEED_KMH` (Belgian Highway Code:
``BE:zone30`` 30, ``BE:urban`` 50, ``BE-VLG:rural`` 70, ``BE:motorway`` 120, ...).

Examples
--------
>>> parse_maxspeed(pd.Series(["50", "BE:zone30", "30 mph", "none", None, "BE-VLG:rural"])).tolist()
[50.0, 30.0, 48.0, nan, nan, 70.0]
>>> normalise_name("Sint-Pietersnieuwstraat "), normalise_name("St. Pietersnieuwstr.")
('sintpietersnieuwstraat', 'sintpietersnieuwstraat')
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = [
    "CAR_HIGHWAYS",
    "IMPLICIT_MAXSPEED_KMH",
    "IMPLIED_SPEED_KMH_BY_HIGHWAY",
    "Conflation",
    "conflate_osm",
    "normalise_name",
    "parse_maxspeed",
]

#: Implicit ``maxspeed`` values (OSM ``<country>:<type>`` convention) and their limit in km/h,
#: from the Belgian Highway Code (art. 11, 22bis, 22ter, 22quater) and the Flemish rural limit of
#: 70 km/h (since 2017) for roads outside built-up areas. ``walk`` is walking pace.
IMPLICIT_MAXSPEED_KMH: dict[str, float] = {
    "be:living_street": 20.0,
    "be:woonerf": 20.0,
    "be:pedestrian_zone": 20.0,
    "be:school": 30.0,
    "be:zone30": 30.0,
    "be:urban": 50.0,
    "be-vlg:rural": 70.0,
    "be-bru:rural": 70.0,
    "be-wal:rural": 90.0,
    "be:rural": 90.0,
    "be:trunk": 120.0,
    "be:motorway": 120.0,
    "walk": 6.0,
}

#: Limits implied by the OSM road type alone where the Belgian Highway Code fixes them whatever
#: the signs: a *woonerf* (``living_street``) is 20 km/h, a motorway 120 km/h.
IMPLIED_SPEED_KMH_BY_HIGHWAY: dict[str, float] = {"living_street": 20.0, "motorway": 120.0}

#: OSM ``highway`` values that carry cars.
CAR_HIGHWAYS = (
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link",
    "tertiary", "tertiary_link", "unclassified", "residential", "living_street", "service", "road",
)  # fmt: skip

_MPH = 1.609344
_ABBREVIATIONS = ((r"\bst\.?\s*", "sint"), (r"str\.?$", "straat"), (r"\bo\.?\s*l\.?\s*v\.?\s*", "onzelievevrouw"))


def parse_maxspeed(values: pd.Series) -> pd.Series:
    """OSM ``maxspeed`` strings as km/h (NaN where unknown, ``none`` or unparsable).

    Parameters
    ----------
    values
        Raw tag values: ``"50"``, ``"30 mph"``, ``"BE:zone30"``, ``"50;30"`` (the first counts).

    Returns
    -------
    pandas.Series
        Floats in km/h, same index.

    Examples
    --------
    >>> parse_maxspeed(pd.Series(["70", "BE:urban", "walk", "50;30", "signals"])).tolist()
    [70.0, 50.0, 6.0, 50.0, nan]
    """
    s = values.astype("string").str.strip().str.lower().str.split(";").str[0].str.strip()
    number = pd.to_numeric(s.str.extract(r"^(\d+(?:\.\d+)?)\s*(?:km/h|kmh)?$")[0], errors="coerce")
    mph = pd.to_numeric(s.str.extract(r"^(\d+(?:\.\d+)?)\s*mph$")[0], errors="coerce") * _MPH
    implicit = s.map(IMPLICIT_MAXSPEED_KMH)
    out = number.fillna(mph.round()).fillna(pd.to_numeric(implicit, errors="coerce"))
    return out.astype("float64").where(out > 0)


def normalise_name(name: object) -> str:
    """Street name for comparison: lower case, no accents, common abbreviations spelled out, letters and digits only.

    Examples
    --------
    >>> normalise_name("Coupure Links"), normalise_name("Oude Houtlei"), normalise_name(None)
    ('coupurelinks', 'oudehoutlei', '')
    """
    if not isinstance(name, str):
        return ""
    s = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().strip()
    for pattern, repl in _ABBREVIATIONS:
        s = re.sub(pattern, repl, s)
    return re.sub(r"[^a-z0-9]", "", s)


@dataclass(frozen=True)
class Conflation:
    """Result of :func:`conflate_osm`.

    Attributes
    ----------
    speeds
        One row per matched segment with a speed limit: ``segment_id``, ``speed_kmh``,
        ``source`` (``maxspeed`` or ``highway=<type>``), ``score`` (0-1).
    oneway_disagreements
        Matched segments whose OSM one-way tag differs from the segment's direction:
        ``segment_id``, ``name``, ``segment_direction``, ``osm_direction``, ``score``. Without
        ``check_orientation`` only one-way against two-way counts (``osm_direction`` is then
        ``oneway`` or ``both``).
    n_segments
        Car segments considered (inside the OSM file's extent).
    n_matched
        Of those, segments matched to an OSM way (with or without a limit).
    """

    speeds: pd.DataFrame
    oneway_disagreements: pd.DataFrame
    n_segments: int
    n_matched: int

    @property
    def share_with_speed(self) -> float:
        """Share of the considered segments that got an OSM speed limit."""
        return len(self.speeds) / self.n_segments if self.n_segments else 0.0


def _bearing_deg(lines: np.ndarray) -> np.ndarray:
    """Direction (degrees) from the first to the last vertex of each line (NaN when empty)."""
    xy, idx = shapely.get_coordinates(lines, return_index=True)
    out = np.full(len(lines), np.nan)
    if len(idx) == 0:
        return out
    first = np.r_[0, np.flatnonzero(np.diff(idx)) + 1]
    last = np.r_[first[1:] - 1, len(idx) - 1]
    d = xy[last] - xy[first]
    out[idx[first]] = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
    return out


def conflate_osm(
    segments: gpd.GeoDataFrame,
    osm: gpd.GeoDataFrame,
    *,
    id_column: str,
    name_column: str | None = None,
    direction_column: str | None = None,
    crs: str = "EPSG:31370",
    buffer_m: float = 12.0,
    max_angle_deg: float = 30.0,
    min_score: float = 0.5,
    check_orientation: bool = False,
) -> Conflation:
    """Match OSM ways to road segments by geometry, bearing and name; carry over speed limits.

    Parameters
    ----------
    segments
        Car segments (LineStrings) with ``id_column`` and optionally ``name_column`` and
        ``direction_column`` (values ``forward``, ``backward``, ``both``).
    osm
        OSM ways with ``highway`` and optionally ``name``, ``maxspeed``, ``oneway``, ``motorcar``.
    id_column, name_column, direction_column
        Columns of ``segments``.
    crs
        Metric CRS for the comparison.
    buffer_m
        How far from a way a segment's length counts as covered by it.
    max_angle_deg
        Largest angle between a segment and a way's nearby piece.
    min_score
        Smallest score of a match.
    check_orientation
        Also compare which way a one-way runs. Only meaningful when the OSM lines keep their
        way's digitisation; graph exports that store edges between vertex ids (such as the
        routable-tiles Ghent file) do not, so the default compares one-way against two-way only.

    Returns
    -------
    Conflation
        Matched speeds, one-way disagreements and counts. Only segments inside the extent of
        ``osm`` are considered.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> seg = gpd.GeoDataFrame({"id": ["a", "b"], "name": ["Dok", "Kaai"]},
    ...     geometry=[LineString([(0, 0), (100, 0)]), LineString([(0, 50), (0, 150)])], crs="EPSG:31370")
    >>> way = gpd.GeoDataFrame({"highway": ["residential", "residential"], "name": ["Dok", "Kaai"],
    ...     "maxspeed": ["30", None]}, geometry=[LineString([(-5, 3), (105, 2)]),
    ...     LineString([(200, 0), (300, 200)])], crs="EPSG:31370")
    >>> c = conflate_osm(seg, way, id_column="id", name_column="name")
    >>> c.speeds[["segment_id", "speed_kmh", "source"]].values.tolist(), c.n_segments
    ([['a', 30.0, 'maxspeed']], 2)
    """
    seg = segments.to_crs(crs).reset_index(drop=True)
    ways = osm.to_crs(crs).reset_index(drop=True)
    ways = ways[ways["highway"].isin(CAR_HIGHWAYS)]
    if "motorcar" in ways:
        ways = ways[ways["motorcar"].astype("string").fillna("") != "no"]
    ways = ways.reset_index(drop=True)
    x0, y0, x1, y1 = osm.to_crs(crs).total_bounds
    seg = seg[shapely.covered_by(seg.geometry.to_numpy(), shapely.box(x0, y0, x1, y1))].reset_index(drop=True)
    seg_geom = seg.geometry.to_numpy()
    way_geom = ways.geometry.to_numpy()

    # candidate pairs: ways within buffer_m of a segment
    tree = shapely.STRtree(way_geom)
    si, wi = tree.query(seg_geom, predicate="dwithin", distance=buffer_m)
    sg, wg = seg_geom[si], way_geom[wi]
    seg_len = np.maximum(shapely.length(seg_geom), 0.1)
    covered = shapely.length(shapely.intersection(sg, shapely.buffer(wg, buffer_m, cap_style="flat")))
    coverage = covered / seg_len[si]
    # bearing of the way's piece along the segment vs the segment's own
    piece = shapely.intersection(wg, shapely.buffer(sg, buffer_m, cap_style="flat"))
    piece = shapely.line_merge(piece, directed=True) if len(piece) else piece
    ok_piece = shapely.get_type_id(piece) == 1  # LineString
    b_seg = _bearing_deg(sg)
    b_way = np.where(ok_piece, _bearing_deg(piece), np.nan)
    diff = np.abs((b_way - b_seg + 180.0) % 360.0 - 180.0)  # 0..180, directed
    undirected = np.minimum(diff, 180.0 - diff)
    parallel = ok_piece & (undirected <= max_angle_deg)
    same_way = diff <= 90.0  # the way's digitisation runs along the segment's

    seg_names = seg[name_column].map(normalise_name).to_numpy(object)[si] if name_column else np.full(len(si), "", object)
    way_names = ways["name"].map(normalise_name).to_numpy(object)[wi] if "name" in ways else np.full(len(si), "", object)
    name_factor = np.where(way_names == "", 0.8, np.where((seg_names == way_names) | (seg_names == ""), 1.0, 0.0))
    keep = parallel & (name_factor > 0) & (coverage > 0)

    pairs = pd.DataFrame(
        {
            "seg": si[keep],
            "coverage": coverage[keep],
            "weighted": coverage[keep] * name_factor[keep],
            "way": wi[keep],
            "same_way": same_way[keep],
        }
    )
    maxspeed = parse_maxspeed(ways["maxspeed"]) if "maxspeed" in ways else pd.Series(np.nan, index=ways.index)
    implied = ways["highway"].map(IMPLIED_SPEED_KMH_BY_HIGHWAY)
    pairs["speed_kmh"] = maxspeed.to_numpy()[pairs["way"].to_numpy()]
    pairs["source"] = np.where(pairs["speed_kmh"].notna(), "maxspeed", "highway=" + ways["highway"].to_numpy(object)[pairs["way"]])
    pairs["speed_kmh"] = pairs["speed_kmh"].fillna(pd.Series(implied.to_numpy()[pairs["way"].to_numpy()], index=pairs.index))

    score = pairs.groupby("seg")["weighted"].sum().clip(upper=1.0)
    matched = score[score >= min_score]
    with_speed = pairs[pairs["seg"].isin(matched.index) & pairs["speed_kmh"].notna()]
    # the limit covering the largest length of the segment
    by_speed = with_speed.groupby(["seg", "speed_kmh", "source"])["coverage"].sum().reset_index()
    best = by_speed.sort_values(["seg", "coverage"], ascending=[True, False]).drop_duplicates("seg")
    speeds = pd.DataFrame(
        {
            "segment_id": seg[id_column].astype(str).to_numpy(object)[best["seg"].to_numpy()],
            "speed_kmh": best["speed_kmh"].to_numpy(),
            "source": best["source"].to_numpy(object),
            "score": matched.loc[best["seg"]].round(2).to_numpy(),
        }
    )

    # one-way check: the direction OSM allows vs the segment's
    columns = ["segment_id", "name", "segment_direction", "osm_direction", "score"]
    oneway_rows = pd.DataFrame(columns=columns)
    if direction_column and "oneway" in ways:
        ow = ways["oneway"].astype("string").fillna("no").to_numpy(object)[pairs["way"].to_numpy()]
        junction = ways["junction"].astype("string").fillna("").to_numpy(object)[pairs["way"].to_numpy()] if "junction" in ways else ""
        one = (ow == "yes") | (ow == "-1") | (ow == "true") | (ow == "1") | (junction == "roundabout")
        along = np.where(ow == "-1", ~pairs["same_way"].to_numpy(), pairs["same_way"].to_numpy())
        pairs["osm_direction"] = np.where(one, np.where(along, "forward", "backward") if check_orientation else "oneway", "both")
        ok = pairs[pairs["seg"].isin(matched.index)]
        ok = ok.sort_values(["seg", "coverage"], ascending=[True, False]).drop_duplicates("seg")
        seg_dir = seg[direction_column].astype(str).to_numpy(object)[ok["seg"].to_numpy()]
        if not check_orientation:
            seg_dir = np.where(np.isin(seg_dir, ["forward", "backward"]), "oneway", seg_dir)
        differ = seg_dir != ok["osm_direction"].to_numpy(object)
        oneway_rows = pd.DataFrame(
            {
                "segment_id": seg[id_column].astype(str).to_numpy(object)[ok["seg"].to_numpy()[differ]],
                "name": seg[name_column].to_numpy(object)[ok["seg"].to_numpy()[differ]] if name_column else "",
                "segment_direction": seg_dir[differ],
                "osm_direction": ok["osm_direction"].to_numpy(object)[differ],
                "score": matched.loc[ok["seg"].to_numpy()[differ]].round(2).to_numpy(),
            }
        )
    return Conflation(
        speeds=speeds.sort_values("segment_id").reset_index(drop=True),
        oneway_disagreements=oneway_rows.sort_values("segment_id").reset_index(drop=True),
        n_segments=len(seg),
        n_matched=len(matched),
    )
