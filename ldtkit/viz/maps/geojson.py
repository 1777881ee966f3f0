"""Road links as GeoJSON for Leaflet: one styled feature per road, or one per colour class.

The Leaflet backend (:mod:`ldtkit.viz.maps.leaflet`) and the dashboard send these
FeatureCollections to the browser; keeping them small (rounded coordinates, simplified lines,
quiet streets merged into one path) is what keeps a city map quick.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ldtkit.viz.maps.inputs import require_column
from ldtkit.viz.maps.scales import ColorScale, format_number

if TYPE_CHECKING:
    import geopandas as gpd


def links_geojson(
    gdf: gpd.GeoDataFrame,
    column: str,
    scale: ColorScale,
    *,
    width_px: tuple[float, float] = (1.0, 6.0),
    width_by_abs: bool = False,
    opacity: float = 0.9,
    precision: int = 5,
    simplify_m: float | None = 1.0,
    min_abs_value: float | None = None,
    merge_below: float | None = None,
    merged_style: dict[str, Any] | None = None,
    bins: int | None = None,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (EPSG:4326) with a per-feature Leaflet ``style``.

    Line colour follows ``scale``; line weight grows with the value (with ``|value|`` when
    ``width_by_abs``, for differences). Coordinates are rounded to ``precision`` decimals
    (1e-5° ≈ 1 m) and lines simplified to within ``simplify_m`` metres (less than a pixel at
    street zoom; it halves the Ghent message) to keep the widget message small and the
    browser quick. Links with ``|value| < min_abs_value``
    are left out; links with ``|value| < merge_below`` are kept as context but merged into
    one thin grey MultiLineString (one SVG path instead of thousands: faster maps).
    With ``bins``, values are classed into that many equal steps of the scale and the links
    of each class are merged into one MultiLineString (a classed map with a handful of SVG
    paths; each feature's value is then the class midpoint and ``range`` its bounds).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> g = gpd.GeoDataFrame({"v": [0.0, 1.0, 500.0]}, crs=4326,
    ...     geometry=[LineString([(3.70, 51.0), (3.71, 51.0)]), LineString([(3.71, 51.0), (3.72, 51.0)]),
    ...               LineString([(3.72, 51.0), (3.73, 51.0)])])
    >>> fc = links_geojson(g, "v", ColorScale(0, 500), merge_below=10)
    >>> [f["geometry"]["type"] for f in fc["features"]]
    ['MultiLineString', 'LineString']
    """
    import shapely

    require_column(gdf, column, "links")
    g = gdf[[column, gdf.geometry.name]].copy()
    v = pd.to_numeric(g[column], errors="coerce").to_numpy(float)
    keep = np.isfinite(v)
    if min_abs_value is not None:
        keep &= np.abs(v) >= min_abs_value
    g, v = g[keep], v[keep]
    projected = g.crs is not None and g.crs.is_projected
    if simplify_m and projected:
        g = g.set_geometry(shapely.simplify(g.geometry.values, simplify_m))
    if g.crs is not None and not g.crs.equals("EPSG:4326"):
        g = g.to_crs(4326)
    geom = g.geometry.values
    if simplify_m and not projected:
        geom = shapely.simplify(geom, simplify_m / 111_320.0)  # degrees of latitude
    geom = shapely.set_precision(geom, 10.0**-precision)
    ok = ~shapely.is_empty(geom) & ~shapely.is_missing(geom)
    v, geom = v[ok], geom[ok]
    features: list[dict[str, Any]] = []
    if merge_below is not None:
        small = np.abs(v) < merge_below
        if small.any():
            merged = shapely.multilinestrings(shapely.get_parts(geom[small]))
            style = {"color": "#8c8c8c", "weight": 0.8, "opacity": 0.7, **(merged_style or {})}
            features.append(
                {"type": "Feature", "geometry": json.loads(shapely.to_geojson(merged)), "properties": {column: None, "style": style}}
            )
        v, geom = v[~small], geom[~small]
    if bins is not None and len(v):
        edges = np.linspace(scale.vmin, scale.vmax, int(bins) + 1)
        k = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, int(bins) - 1)
        present = np.unique(k)
        mids = (edges[:-1] + edges[1:]) / 2
        geom = np.array([shapely.multilinestrings(shapely.get_parts(geom[k == b])) for b in present], dtype=object)
        ranges = [f"{format_number(edges[b])}–{format_number(edges[b + 1])}" for b in present]
        v = mids[present]
    else:
        ranges = None
    mag = np.abs(v) if width_by_abs else v
    lo, hi = (0.0, max(abs(scale.vmin), abs(scale.vmax))) if width_by_abs else (scale.vmin, scale.vmax)
    frac = np.clip((mag - lo) / (hi - lo if hi > lo else 1.0), 0.0, 1.0)
    weights = np.round(width_px[0] + (width_px[1] - width_px[0]) * frac, 2)
    colors = scale.hex(v)
    geoms = json.loads("[" + ",".join(shapely.to_geojson(geom).tolist()) + "]") if len(geom) else []
    features += [
        {
            "type": "Feature",
            "geometry": gm,
            "properties": {column: round(float(val), 3), "style": {"color": c, "weight": float(w), "opacity": opacity}},
        }
        for gm, val, c, w in zip(geoms, v, colors, weights)
    ]
    if ranges is not None:
        for f, r in zip(features[len(features) - len(ranges) :], ranges):
            f["properties"]["range"] = r
    return {"type": "FeatureCollection", "features": features}


__all__ = ["links_geojson"]
