"""Comparative maps: split maps (ipyleaflet), a 3D flow view (pydeck) and static figures (matplotlib).

Three kinds of output, one colour logic (:class:`ColorScale`) shared by all of them:

- :class:`CompareMap`: an interactive split map, baseline on the left and scenario on the
  right, with road links coloured by a value (``add_links``), a receptor grid rendered as
  an image (``add_grid``), a difference layer on a diverging scale (``add_difference``) and
  HTML legends (``add_legend``). Each side's layers sit in their own Leaflet map pane, so the
  split control clips vector layers too. Works without internet (``basemap=None``: vectors on
  grey) and with a web basemap when online (``basemap="osm"``) or local tiles (a URL template).
- :func:`deck_flows`: a pydeck 3D view with links extruded by flow (``map_provider=None``, so
  no basemap service or token is needed; :func:`deck_to_html` can inline the deck.gl bundle).
- :func:`plot_links`, :func:`plot_grid`, :func:`plot_difference`, :func:`plot_compare`: static
  matplotlib figures for HTML reports, which cannot render widgets offline.

Inputs are GeoDataFrames in any CRS (the city's metric CRS, typically): links with a value
column (e.g. ``flow_vph``), receptor points on a regular grid with a value column
(``lden_db``, ``no2_ugm3``).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString
>>> links = gpd.GeoDataFrame(
...     {"flow_vph": [120.0, 800.0]},
...     geometry=[LineString([(3.72, 51.05), (3.73, 51.05)]), LineString([(3.73, 51.05), (3.73, 51.06)])],
...     crs=4326,
... )
>>> scale = ColorScale.shared(links["flow_vph"], cmap="viridis", label="flow (veh/h)")
>>> m = CompareMap("Baseline", "Bridge closed", center=(51.05, 3.72), zoom=14, basemap=None)
>>> _ = m.add_links(links, "flow_vph", side="left", scale=scale)
>>> _ = m.add_links(links, "flow_vph", side="right", scale=scale)
>>> _ = m.add_legend(scale)
>>> m.widget  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ldtkit.errors import EmptyStudyAreaError, InvalidValueError, MissingFieldError

if TYPE_CHECKING:  # heavy optional imports stay lazy
    import geopandas as gpd
    import ipyleaflet
    import matplotlib.axes
    import matplotlib.figure
    import pydeck

Side = Literal["left", "right"]

#: Lden band edges (dB) used by the END strategic noise maps and exposure tables.
LDEN_BANDS_DB: tuple[float, ...] = (45.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0)
#: The EU annual limit value for NO2 (µg/m³), Directive 2008/50/EC.
NO2_LIMIT_UGM3 = 40.0

#: Web basemaps available by name; anything else containing ``{z}`` is used as a tile URL template.
BASEMAPS: dict[str, dict[str, str]] = {
    "osm": {
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": "&copy; OpenStreetMap contributors",
    },
}


# --------------------------------------------------------------------------- colours
@dataclass(frozen=True)
class ColorScale:
    """A colour scale shared by both sides of a map, its legend and the static figures.

    Parameters
    ----------
    vmin, vmax
        Value range mapped onto the colormap (values outside are clipped).
    cmap
        A matplotlib colormap name.
    label
        Legend title, with the unit, e.g. ``"flow (veh/h)"``.
    bounds
        Optional band edges; when given the scale is discrete (one colour per band, plus an
        open band below the first and above the last edge).

    Examples
    --------
    >>> s = ColorScale(0.0, 100.0, cmap="viridis", label="x")
    >>> s.hex([0.0, 100.0, 1e9])
    ['#440154', '#fde725', '#fde725']
    >>> ColorScale.bands(LDEN_BANDS_DB, label="Lden (dB)").band_labels()[:2]
    ['< 45', '45–50']
    """

    vmin: float
    vmax: float
    cmap: str = "viridis"
    label: str = ""
    bounds: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.vmin) and np.isfinite(self.vmax)):
            raise InvalidValueError(f"ColorScale {self.label!r}: vmin/vmax must be finite, got {self.vmin}, {self.vmax}")
        if self.vmax <= self.vmin:
            object.__setattr__(self, "vmax", float(self.vmin) + 1.0)
        if self.bounds is not None:
            b = tuple(float(v) for v in self.bounds)
            if len(b) < 2 or any(np.diff(b) <= 0):
                raise InvalidValueError(f"ColorScale {self.label!r}: bounds must increase, got {self.bounds}")
            object.__setattr__(self, "bounds", b)

    # constructors ------------------------------------------------------------
    @classmethod
    def shared(
        cls,
        *values: Iterable[float],
        cmap: str = "viridis",
        label: str = "",
        quantiles: tuple[float, float] = (0.0, 0.98),
        vmin: float | None = None,
    ) -> ColorScale:
        """One scale covering every array given (e.g. baseline and scenario flows).

        ``quantiles`` trims outliers so a few motorway links do not wash out the city;
        ``vmin`` forces the lower end (e.g. 0 for flows).
        """
        v = _finite(np.concatenate([np.asarray(list(x) if not hasattr(x, "__array__") else x, dtype=float).ravel() for x in values]))
        if len(v) == 0:
            raise EmptyStudyAreaError(f"ColorScale.shared({label!r}): no finite values to scale")
        lo, hi = np.quantile(v, quantiles)
        return cls(float(lo if vmin is None else vmin), float(hi), cmap=cmap, label=label)

    @classmethod
    def diverging(cls, *values: Iterable[float], cmap: str = "RdBu_r", label: str = "", quantile: float = 0.98) -> ColorScale:
        """A scale symmetric around zero (for scenario − baseline differences)."""
        v = _finite(np.concatenate([np.asarray(x, dtype=float).ravel() for x in values]))
        m = float(np.quantile(np.abs(v), quantile)) if len(v) else 1.0
        m = m if m > 0 else 1.0
        return cls(-m, m, cmap=cmap, label=label)

    @classmethod
    def bands(cls, bounds: Sequence[float], *, cmap: str = "RdYlGn_r", label: str = "") -> ColorScale:
        """A discrete scale with the given band edges (e.g. :data:`LDEN_BANDS_DB`)."""
        return cls(float(bounds[0]), float(bounds[-1]), cmap=cmap, label=label, bounds=tuple(bounds))

    # mapping -----------------------------------------------------------------
    @property
    def is_diverging(self) -> bool:
        return self.bounds is None and np.isclose(self.vmin, -self.vmax)

    def norm(self):
        """The matplotlib normaliser (``BoundaryNorm`` for banded scales)."""
        from matplotlib.colors import BoundaryNorm, Normalize

        if self.bounds is not None:
            return BoundaryNorm(self.bounds, self.colormap().N, extend="both")
        return Normalize(self.vmin, self.vmax, clip=True)

    def colormap(self):
        import matplotlib

        return matplotlib.colormaps[self.cmap]

    def rgba(self, values: Iterable[float]) -> np.ndarray:
        """``(n, 4)`` float RGBA in 0–1; NaN values get transparent black."""
        v = np.asarray(values, dtype=float)
        out = np.asarray(self.colormap()(self.norm()(np.ma.masked_invalid(v))), dtype=float).reshape(-1, 4)
        out[~np.isfinite(v.ravel())] = 0.0
        return out

    def hex(self, values: Iterable[float]) -> list[str]:
        """``#rrggbb`` colour per value."""
        rgb = np.round(self.rgba(values)[:, :3] * 255).astype(np.int64)
        packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
        return [f"#{int(p):06x}" for p in packed]

    def band_labels(self) -> list[str]:
        """Labels of a banded scale: ``'< b0'``, ``'b0–b1'``, …, ``'≥ bn'``."""
        if self.bounds is None:
            return []
        b = [_fmt(x) for x in self.bounds]
        return [f"< {b[0]}"] + [f"{lo}–{hi}" for lo, hi in zip(b[:-1], b[1:])] + [f"≥ {b[-1]}"]

    def band_values(self) -> np.ndarray:
        """One representative value per band (for swatches)."""
        b = np.asarray(self.bounds, dtype=float)
        mids = (b[:-1] + b[1:]) / 2
        return np.concatenate([[b[0] - 1.0], mids, [b[-1] + 1.0]])

    def to_html(self, *, title: str | None = None, width_px: int = 220) -> str:
        """A small self-contained HTML legend (gradient bar or band swatches)."""
        title = self.label if title is None else title
        head = f"<div style='font:12px sans-serif;font-weight:600;margin-bottom:3px'>{_esc(title)}</div>"
        if self.bounds is not None:
            rows = "".join(
                f"<div style='display:flex;align-items:center;gap:6px;font:11px sans-serif'>"
                f"<span style='width:18px;height:10px;background:{c};display:inline-block'></span>{_esc(t)}</div>"
                for c, t in zip(self.hex(self.band_values()), self.band_labels())
            )
            body = rows
        else:
            stops = np.linspace(self.vmin, self.vmax, 9)
            grad = ", ".join(self.hex(stops))
            mid = "0" if self.is_diverging else _fmt((self.vmin + self.vmax) / 2)
            body = (
                f"<div style='width:{width_px}px;height:12px;background:linear-gradient(to right, {grad})'></div>"
                f"<div style='display:flex;justify-content:space-between;width:{width_px}px;font:11px sans-serif'>"
                f"<span>{_fmt(self.vmin)}</span><span>{mid}</span><span>{_fmt(self.vmax)}</span></div>"
            )
        return f"<div class='ldtkit-legend' style='background:white;padding:6px 8px;border-radius:4px'>{head}{body}</div>"


def lden_scale(label: str = "Lden (dB)") -> ColorScale:
    """The END Lden band scale (45–75 dB in 5 dB bands)."""
    return ColorScale.bands(LDEN_BANDS_DB, cmap="RdYlGn_r", label=label)


def no2_scale(*values: Iterable[float], label: str = "NO2 (µg/m³)") -> ColorScale:
    """A continuous NO2 scale up to at least the EU limit (40 µg/m³).

    It starts just below the lowest values (the 1st percentile, rounded down to 5 µg/m³;
    at most 10 below the limit) rather than at 0: a city's NO2 sits on a regional background
    of 15–30 µg/m³, and a scale from 0 spends most of its colours where no receptor is.

    Examples
    --------
    >>> s = no2_scale(np.array([26.0, 31.0, 48.0]))
    >>> s.vmin, s.vmax >= 40.0
    (25.0, True)
    """
    vmin, vmax = 0.0, NO2_LIMIT_UGM3
    v = _finite(np.concatenate([np.asarray(x, dtype=float).ravel() for x in values])) if values else np.array([])
    if len(v):
        vmax = max(vmax, float(np.quantile(v, 0.99)))
        vmin = min(max(0.0, 5.0 * np.floor(float(np.quantile(v, 0.01)) / 5.0)), NO2_LIMIT_UGM3 - 10.0)
    return ColorScale(float(vmin), vmax, cmap="YlOrRd", label=label)


# --------------------------------------------------------------------------- geometry helpers
def _finite(v: np.ndarray) -> np.ndarray:
    return v[np.isfinite(v)]


def _fmt(x: float) -> str:
    x = float(x)
    if abs(x) >= 100 or x == int(x):
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _esc(s: str) -> str:
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _require_column(gdf: pd.DataFrame, column: str, what: str) -> None:
    if column not in gdf.columns:
        raise MissingFieldError(what, column, expected=f"a numeric column; available: {sorted(map(str, gdf.columns))}")


def aggregate_directions(gdf: gpd.GeoDataFrame, columns: Sequence[str], *, key: str = "source_id") -> gpd.GeoDataFrame:
    """Sum ``columns`` over links sharing ``key`` (the two directions of one road segment).

    Directed networks hold one link per direction on the same geometry; a map shows one
    line per road with the two-way total. Rows without a key are kept as they are.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> g = gpd.GeoDataFrame({"source_id": ["a", "a", "b"], "flow_vph": [10.0, 5.0, 1.0]},
    ...                      geometry=[LineString([(0, 0), (1, 0)]), LineString([(1, 0), (0, 0)]),
    ...                                LineString([(1, 0), (1, 1)])])
    >>> aggregate_directions(g, ["flow_vph"])["flow_vph"].tolist()
    [15.0, 1.0]
    """
    import geopandas as gpd

    if key not in gdf.columns:
        raise MissingFieldError("links", key, expected="a segment key shared by both directions")
    for c in columns:
        _require_column(gdf, c, "links")
    has_key = gdf[key].notna()
    keyed = gdf[has_key]
    sums = keyed.groupby(key, sort=False)[list(columns)].sum()
    first = keyed.drop_duplicates(key).set_index(key)
    first[list(columns)] = sums.loc[first.index]
    out = pd.concat([first.reset_index(), gdf[~has_key]], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry=gdf.geometry.name, crs=gdf.crs)


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

    _require_column(gdf, column, "links")
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
        ranges = [f"{_fmt(edges[b])}–{_fmt(edges[b + 1])}" for b in present]
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


def _nearest_spacing(x: np.ndarray, y: np.ndarray) -> float:
    from scipy.spatial import cKDTree

    if len(x) < 2:
        raise EmptyStudyAreaError("a receptor grid needs at least two points to infer its cell size")
    # a regular grid (receptors_grid): the step between its distinct coordinates, no tree needed
    ux, uy = np.unique(np.round(x, 6)), np.unique(np.round(y, 6))
    if len(ux) > 1 and len(uy) > 1 and len(ux) * len(uy) <= 2 * len(x):
        dx, dy = np.diff(ux), np.diff(uy)
        if np.allclose(dx, dx[0], rtol=1e-6) and np.allclose(dy, dx[0], rtol=1e-6):
            return float(dx[0])
    pts = np.column_stack([x, y])
    # the median nearest-neighbour distance of a few thousand points is that of all of them
    probe = pts[:: max(1, len(pts) // 4000)]
    d, _ = cKDTree(pts).query(probe, k=2)
    return float(np.median(d[:, 1]))


def rasterise_points(
    x: np.ndarray,
    y: np.ndarray,
    values: np.ndarray,
    *,
    cell: float | None = None,
    max_px: int = 1200,
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Put point values on a regular raster (nearest point within 0.75 cell, else NaN).

    Returns ``(array, (minx, miny, maxx, maxy))`` with row 0 at the north edge, in the
    coordinates of ``x``/``y``. Points from :func:`~ldtkit.model.receptors.receptors_grid` map
    one-to-one onto pixels when ``cell`` is the grid's cell size (in the same units).

    Examples
    --------
    >>> import numpy as np
    >>> a, b = rasterise_points(np.array([5., 15., 5.]), np.array([5., 5., 15.]), np.array([1., 2., 3.]), cell=10)
    >>> a.tolist(), b
    ([[3.0, nan], [1.0, 2.0]], (0.0, 0.0, 20.0, 20.0))
    """
    from scipy.spatial import cKDTree

    x, y, values = (np.asarray(a, dtype=float) for a in (x, y, values))
    if len(x) == 0:
        raise EmptyStudyAreaError("rasterise_points: no points")
    cell = float(cell) if cell else _nearest_spacing(x, y)
    minx, maxx = x.min() - cell / 2, x.max() + cell / 2
    miny, maxy = y.min() - cell / 2, y.max() + cell / 2
    px = cell * max(1.0, max(maxx - minx, maxy - miny) / cell / max_px)
    nx = max(1, int(np.ceil((maxx - minx) / px - 1e-9)))
    ny = max(1, int(np.ceil((maxy - miny) / px - 1e-9)))
    if px == cell:
        # points on a regular grid (receptors_grid) map one-to-one onto pixels: no search needed
        col = (x - minx) / px - 0.5
        row = (maxy - y) / px - 0.5
        ic, ir = np.rint(col).astype(np.int64), np.rint(row).astype(np.int64)
        if np.all(np.abs(col - ic) < 1e-6) and np.all(np.abs(row - ir) < 1e-6):
            out = np.full((ny, nx), np.nan)
            out[ir, ic] = values
            return out, (float(minx), float(maxy - ny * px), float(minx + nx * px), float(maxy))
    cx = minx + (np.arange(nx) + 0.5) * px
    cy = maxy - (np.arange(ny) + 0.5) * px
    gx, gy = np.meshgrid(cx, cy)
    d, idx = cKDTree(np.column_stack([x, y])).query(
        np.column_stack([gx.ravel(), gy.ravel()]), k=1, distance_upper_bound=0.75 * max(cell, px)
    )
    out = np.full(gx.size, np.nan)
    hit = np.isfinite(d)
    out[hit] = values[idx[hit]]
    return out.reshape(ny, nx), (float(minx), float(maxy - ny * px), float(minx + nx * px), float(maxy))


def grid_image(
    gdf: gpd.GeoDataFrame,
    column: str,
    scale: ColorScale,
    *,
    cell_m: float | None = None,
    opacity: float = 0.75,
    max_px: int = 1200,
) -> tuple[str, list[list[float]]]:
    """A receptor grid as a PNG data URL plus its Leaflet bounds ``[[south, west], [north, east]]``.

    The grid is resampled in Web Mercator (EPSG:3857), the projection Leaflet displays, so the
    image lines up with the vector layers whatever the city's CRS.
    """
    import geopandas as gpd
    from matplotlib.image import imsave
    from pyproj import Transformer

    _require_column(gdf, column, "receptor grid")
    pts = gdf.to_crs(3857) if gdf.crs is not None else gdf
    x = pts.geometry.x.to_numpy()
    y = pts.geometry.y.to_numpy()
    if cell_m is None:
        cell = _nearest_spacing(x, y)
    else:  # metres on the ground → Mercator units at this latitude
        lat = float(gpd.GeoSeries(gdf.geometry.iloc[:1], crs=gdf.crs).to_crs(4326).y.iloc[0]) if gdf.crs else 0.0
        cell = float(cell_m) / np.cos(np.radians(lat))
    arr, (minx, miny, maxx, maxy) = rasterise_points(x, y, gdf[column].to_numpy(float), cell=cell, max_px=max_px)
    rgba = scale.rgba(arr.ravel()).reshape(arr.shape + (4,))
    rgba[..., 3] = np.where(np.isfinite(arr), opacity, 0.0)
    buf = io.BytesIO()
    imsave(buf, rgba, format="png")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    tr = Transformer.from_crs(3857, 4326, always_xy=True)
    (w, e), (s, n) = tr.transform([minx, maxx], [miny, maxy])
    return url, [[float(s), float(w)], [float(n), float(e)]]


# --------------------------------------------------------------------------- interactive split map
@dataclass
class _Entry:
    layer: Any
    side: Side
    name: str


class CompareMap:
    """A split map: baseline on the left, scenario on the right, with legends.

    Parameters
    ----------
    left_title, right_title
        Captions shown in the top corners of each half.
    center
        ``(lat, lon)`` of the initial view.
    zoom
        Initial zoom level.
    basemap
        ``"osm"`` (web tiles, needs internet), a tile URL template with ``{z}/{x}/{y}``
        (e.g. local tiles served by Voila under ``/voila/files/``), or ``None`` for no
        basemap (vectors on grey; works offline).
    height
        CSS height of the map.
    split
        Whether to add the swipe control (``False`` shows both sides' layers stacked).

    Notes
    -----
    ipyleaflet's split control clips vector layers only when each side's layers sit in their
    own map pane, so every layer is created with ``pane="left"`` or ``pane="right"`` and
    ``"pane"`` is added to its options. The split control takes its layers when the map is
    first displayed; later ``add_*`` calls rebuild it. To switch scenarios in a dashboard,
    change layer data with :meth:`update_links` / :meth:`update_grid` instead of adding
    layers.

    Examples
    --------
    >>> m = CompareMap("Baseline", "Scenario", center=(51.05, 3.72), zoom=13, basemap=None)
    >>> sorted(m.map.panes)
    ['left', 'right']
    """

    def __init__(
        self,
        left_title: str = "Baseline",
        right_title: str = "Scenario",
        *,
        center: tuple[float, float],
        zoom: float = 13,
        basemap: str | None = "osm",
        height: str = "560px",
        split: bool = True,
    ) -> None:
        import ipyleaflet
        import ipywidgets

        layers: tuple = ()
        if basemap is not None:
            spec = BASEMAPS.get(basemap)
            if spec is None and "{z}" not in str(basemap):
                raise InvalidValueError(
                    f"CompareMap basemap={basemap!r}: expected None, one of {sorted(BASEMAPS)} or a tile URL template with {{z}}/{{x}}/{{y}}"
                )
            spec = spec or {"url": str(basemap), "attribution": ""}
            tiles = ipyleaflet.TileLayer(url=spec["url"], attribution=spec["attribution"], name="basemap", base=True, max_zoom=19)
            layers = (tiles,)
        self.map = ipyleaflet.Map(
            center=list(center),
            zoom=zoom,
            layers=layers,
            panes={"left": {"zIndex": 410}, "right": {"zIndex": 420}},
            scroll_wheel_zoom=True,
            layout=ipywidgets.Layout(height=height, width="100%"),
        )
        self.titles = (left_title, right_title)
        self.split = split
        self._entries: list[_Entry] = []
        self._legends: dict[str, Any] = {}
        self._split_control = None
        self._shown = False
        self._title_controls = []
        for text, pos in ((left_title, "topleft"), (right_title, "topright")):
            if text:
                html = ipywidgets.HTML(
                    f"<div style='font:600 13px sans-serif;padding:2px 6px;background:rgba(255,255,255,.85);border-radius:3px'>{_esc(text)}</div>"
                )
                ctl = ipyleaflet.WidgetControl(widget=html, position=pos, transparent_bg=True)
                self.map.add(ctl)
                self._title_controls.append(ctl)

    # layers -------------------------------------------------------------------
    def _side(self, side: str) -> Side:
        if side not in ("left", "right"):
            raise InvalidValueError(f"CompareMap: side must be 'left' or 'right', got {side!r}")
        return side  # type: ignore[return-value]

    def _register(self, layer, side: Side, name: str):
        layer.pane = side
        if "pane" not in layer.options:
            layer.options = [*layer.options, "pane"]
        self._entries.append(_Entry(layer, side, name))
        if not self.split:
            self.map.add(layer)
        elif self._shown:
            self._rebuild_split()
        return layer

    def add_links(
        self,
        gdf: gpd.GeoDataFrame,
        column: str,
        *,
        side: Side,
        scale: ColorScale,
        name: str | None = None,
        width_px: tuple[float, float] = (1.0, 6.0),
        min_abs_value: float | None = None,
    ) -> ipyleaflet.GeoJSON:
        """Road links coloured (and weighted) by ``column`` on one side.

        Use the same ``scale`` on both sides so colours compare. Returns the layer.
        """
        import ipyleaflet

        side = self._side(side)
        data = links_geojson(gdf, column, scale, width_px=width_px, min_abs_value=min_abs_value)
        layer = ipyleaflet.GeoJSON(data=data, name=name or f"{column} ({side})", hover_style={"weight": 8, "opacity": 1.0})
        layer._ldtkit = {"column": column, "width_px": width_px, "min_abs_value": min_abs_value}
        return self._register(layer, side, layer.name)

    def update_links(self, layer: ipyleaflet.GeoJSON, gdf: gpd.GeoDataFrame, column: str | None = None, *, scale: ColorScale) -> None:
        """Replace the data of a links layer (e.g. when the dashboard switches scenario)."""
        opts = getattr(layer, "_ldtkit", {})
        column = column or opts.get("column")
        layer.data = links_geojson(
            gdf,
            column,
            scale,
            width_px=opts.get("width_px", (1.0, 6.0)),
            min_abs_value=opts.get("min_abs_value"),
            width_by_abs=opts.get("width_by_abs", False),
        )

    def add_difference(
        self,
        gdf: gpd.GeoDataFrame,
        column: str,
        *,
        side: Side = "right",
        scale: ColorScale | None = None,
        name: str | None = None,
        width_px: tuple[float, float] = (1.0, 7.0),
        min_abs_value: float | None = None,
    ) -> ipyleaflet.GeoJSON:
        """A scenario − baseline difference on a diverging scale (blue less, red more).

        Line weight grows with the absolute difference. Without ``scale`` a symmetric scale is
        fitted to the data.
        """
        import ipyleaflet

        side = self._side(side)
        scale = scale or ColorScale.diverging(gdf[column].to_numpy(float), label=f"Δ {column}")
        data = links_geojson(gdf, column, scale, width_px=width_px, width_by_abs=True, min_abs_value=min_abs_value)
        layer = ipyleaflet.GeoJSON(data=data, name=name or f"Δ {column}", hover_style={"weight": 9, "opacity": 1.0})
        layer._ldtkit = {"column": column, "width_px": width_px, "min_abs_value": min_abs_value, "width_by_abs": True}
        return self._register(layer, side, layer.name)

    def add_grid(
        self,
        gdf: gpd.GeoDataFrame,
        column: str,
        *,
        side: Side,
        scale: ColorScale,
        cell_m: float | None = None,
        opacity: float = 0.75,
        name: str | None = None,
    ) -> ipyleaflet.ImageOverlay:
        """A receptor grid (points with ``column``) as an image overlay on one side."""
        import ipyleaflet

        side = self._side(side)
        url, bounds = grid_image(gdf, column, scale, cell_m=cell_m, opacity=opacity)
        layer = ipyleaflet.ImageOverlay(url=url, bounds=bounds, name=name or f"{column} ({side})")
        layer._ldtkit = {"column": column, "cell_m": cell_m, "opacity": opacity}
        return self._register(layer, side, layer.name)

    def update_grid(self, layer: ipyleaflet.ImageOverlay, gdf: gpd.GeoDataFrame, column: str | None = None, *, scale: ColorScale) -> None:
        """Replace the image of a grid layer."""
        opts = getattr(layer, "_ldtkit", {})
        url, bounds = grid_image(gdf, column or opts["column"], scale, cell_m=opts.get("cell_m"), opacity=opts.get("opacity", 0.75))
        layer.bounds = bounds
        layer.url = url

    def add_legend(self, scale: ColorScale, *, title: str | None = None, position: str = "bottomright", key: str | None = None):
        """An HTML legend for ``scale`` (one legend serves both sides when they share the scale).

        Calling again with the same ``key`` (default: the scale's label) replaces the legend's content.
        """
        import ipyleaflet
        import ipywidgets

        key = key or scale.label
        html = scale.to_html(title=title)
        if key in self._legends:
            self._legends[key].widget.value = html
            return self._legends[key]
        ctl = ipyleaflet.WidgetControl(widget=ipywidgets.HTML(html), position=position)
        self.map.add(ctl)
        self._legends[key] = ctl
        return ctl

    def set_legend(self, key: str, scale: ColorScale, *, title: str | None = None) -> None:
        """Change the content of an existing legend."""
        self._legends[key].widget.value = scale.to_html(title=title)

    @property
    def layers(self) -> dict[str, list[Any]]:
        """The data layers per side."""
        return {s: [e.layer for e in self._entries if e.side == s] for s in ("left", "right")}

    # display -------------------------------------------------------------------
    def _rebuild_split(self) -> None:
        import ipyleaflet

        if self._split_control is not None:
            self.map.remove(self._split_control)
        side = self.layers
        self._split_control = ipyleaflet.SplitMapControl(left_layer=side["left"], right_layer=side["right"])
        self.map.add(self._split_control)

    @property
    def widget(self) -> ipyleaflet.Map:
        """The ipyleaflet map, with the split control in place (display this)."""
        if self.split and not self._shown:
            self._rebuild_split()
        self._shown = True
        return self.map

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


# --------------------------------------------------------------------------- pydeck
def deck_flows(
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    scale: ColorScale | None = None,
    width_m: float = 8.0,
    elevation_m_per_unit: float | None = None,
    max_height_m: float = 600.0,
    pitch: float = 50.0,
    bearing: float = -20.0,
    zoom: float | None = None,
    map_provider: str | None = None,
    min_abs_value: float | None = None,
) -> pydeck.Deck:
    """A pydeck 3D view: each link a ribbon extruded in proportion to ``column``.

    ``map_provider=None`` (default) needs no basemap service or token. Display the deck in a
    notebook as usual, or write it with :func:`deck_to_html` (``offline=True`` inlines the
    deck.gl bundle, ~4 MB, for viewing without internet).

    Examples
    --------
    >>> deck = deck_flows(links_gdf, "flow_vph")  # doctest: +SKIP
    >>> html = deck_to_html(deck, offline=True)  # doctest: +SKIP
    """
    import pydeck
    import shapely

    _require_column(gdf, column, "links")
    v_all = pd.to_numeric(gdf[column], errors="coerce").to_numpy(float)
    keep = np.isfinite(v_all) & (v_all != 0)
    if min_abs_value is not None:
        keep &= np.abs(v_all) >= min_abs_value
    g = gdf[keep]
    if len(g) == 0:
        raise EmptyStudyAreaError(f"deck_flows: no link has a non-zero finite {column!r}")
    v = v_all[keep]
    metric = g if (g.crs is not None and g.crs.is_projected) else g.to_crs(g.estimate_utm_crs())
    ribbons = shapely.buffer(metric.geometry.values, width_m / 2, cap_style="flat")
    import geopandas as gpd

    ribbons = gpd.GeoSeries(ribbons, crs=metric.crs).to_crs(4326).values
    coords, idx = shapely.get_coordinates(shapely.get_exterior_ring(_largest_part(ribbons)), return_index=True)
    splits = np.flatnonzero(np.diff(idx)) + 1
    polys = [c.round(6).tolist() for c in np.split(coords, splits)]
    scale = scale or ColorScale.shared(v, label=column, vmin=0.0)
    per_unit = elevation_m_per_unit or (max_height_m / max(float(np.nanmax(np.abs(v))), 1e-9))
    rgba = np.round(scale.rgba(v) * 255).astype(int)
    df = pd.DataFrame(
        {
            "polygon": polys,
            "value": np.round(v, 1),
            "height": np.round(np.abs(v) * per_unit, 1),
            "color": rgba[:, :3].tolist(),
        }
    )
    layer = pydeck.Layer(
        "PolygonLayer",
        df,
        get_polygon="polygon",
        get_elevation="height",
        get_fill_color="color",
        extruded=True,
        pickable=True,
        auto_highlight=True,
    )
    b = gdf.to_crs(4326).total_bounds if gdf.crs is not None else gdf.total_bounds
    lat, lon = (b[1] + b[3]) / 2, (b[0] + b[2]) / 2
    if zoom is None:
        span = max(b[2] - b[0], (b[3] - b[1]) / np.cos(np.radians(lat)), 1e-4)
        zoom = float(np.clip(np.log2(360.0 / span) + 0.5, 3, 17))
    view = pydeck.ViewState(latitude=lat, longitude=lon, zoom=zoom, pitch=pitch, bearing=bearing)
    return pydeck.Deck(
        layers=[layer],
        initial_view_state=view,
        map_provider=map_provider,
        map_style=None if map_provider is None else pydeck.map_styles.LIGHT,
        tooltip={"text": f"{column}: {{value}}"},
    )


def _largest_part(geoms: np.ndarray) -> np.ndarray:
    """For (multi)polygons, the largest polygon of each (buffers of bent lines can split)."""
    import shapely

    parts, owner = shapely.get_parts(geoms, return_index=True)
    area = shapely.area(parts)
    order = np.lexsort((-area, owner))
    first = order[np.r_[True, np.diff(owner[order]) != 0]]
    return parts[first]


def deck_to_html(deck: pydeck.Deck, path: str | None = None, *, offline: bool = False) -> str:
    """The deck as a standalone HTML page (written atomically to ``path`` if given).

    ``offline=True`` inlines the deck.gl bundle from the pydeck wheel so the page needs no CDN.
    """
    html = deck.to_html(as_string=True, notebook_display=False, offline=offline)
    if path is not None:
        from ldtkit.io import write_text_atomic

        write_text_atomic(path, html)
    return html


# --------------------------------------------------------------------------- static figures
def _ax(ax, figsize=(7, 6)):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _colorbar(ax_or_axes, scale: ColorScale):
    import matplotlib.cm as cm

    axes = np.atleast_1d(ax_or_axes).ravel().tolist()
    fig = axes[0].figure
    sm = cm.ScalarMappable(norm=scale.norm(), cmap=scale.colormap())
    kw = {"extend": "both"} if scale.bounds is not None else {}
    cb = fig.colorbar(sm, ax=axes, shrink=0.8, label=scale.label, **kw)
    return cb


def _draw_lines(ax, geoms, *, colors, linewidths, zorder: int = 1, alpha: float | None = None):
    """Add (multi)line geometries as one LineCollection (no per-call redraw, unlike GeoSeries.plot)."""
    import shapely
    from matplotlib.collections import LineCollection

    geoms = np.asarray(geoms, dtype=object)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    if len(coords) == 0:
        return None
    splits = np.flatnonzero(np.diff(idx)) + 1
    segments = np.split(coords, splits)
    present = np.unique(idx)
    own = owner[present]
    if not isinstance(colors, str):
        colors = np.asarray(colors, dtype=float)[own]
    lw = np.broadcast_to(np.asarray(linewidths, dtype=float), (len(geoms),))[own]
    lc = LineCollection(segments, colors=colors, linewidths=lw, zorder=zorder, alpha=alpha, capstyle="round")
    ax.add_collection(lc)
    ax.update_datalim(coords)
    ax.autoscale_view()
    return lc


def _style_axes(ax, title: str | None) -> None:
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_facecolor("#eeeeee")
    if title:
        ax.set_title(title, fontsize=11)


def plot_links(
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    scale: ColorScale | None = None,
    ax: matplotlib.axes.Axes | None = None,
    title: str | None = None,
    width: tuple[float, float] = (0.3, 3.0),
    width_by_abs: bool = False,
    colorbar: bool = True,
    background: gpd.GeoDataFrame | None = None,
) -> matplotlib.axes.Axes:
    """Links coloured and weighted by ``column`` (a static figure for reports)."""
    _require_column(gdf, column, "links")
    ax = _ax(ax)
    v = pd.to_numeric(gdf[column], errors="coerce").to_numpy(float)
    scale = scale or ColorScale.shared(v, label=column, vmin=0.0)
    if background is not None and len(background):
        _draw_lines(ax, background.to_crs(gdf.crs).geometry.values, colors="#bbbbbb", linewidths=0.3, zorder=0)
    mag = np.abs(v) if width_by_abs else v
    lo, hi = (0.0, max(abs(scale.vmin), abs(scale.vmax))) if width_by_abs else (scale.vmin, scale.vmax)
    frac = np.clip((mag - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    order = np.argsort(np.nan_to_num(mag, nan=-np.inf))  # big values on top
    g = gdf.iloc[order]
    if len(g):
        _draw_lines(ax, g.geometry.values, colors=scale.rgba(v[order]), linewidths=width[0] + (width[1] - width[0]) * frac[order], zorder=1)
    _style_axes(ax, title)
    if colorbar:
        _colorbar(ax, scale)
    return ax


def plot_difference(
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    scale: ColorScale | None = None,
    ax: matplotlib.axes.Axes | None = None,
    title: str | None = None,
    background: gpd.GeoDataFrame | None = None,
    colorbar: bool = True,
) -> matplotlib.axes.Axes:
    """Scenario − baseline per link on a diverging scale, weight by ``|difference|``."""
    _require_column(gdf, column, "difference")
    scale = scale or ColorScale.diverging(gdf[column].to_numpy(float), label=f"Δ {column}")
    return plot_links(
        gdf,
        column,
        scale=scale,
        ax=ax,
        title=title,
        width=(0.2, 3.5),
        width_by_abs=True,
        colorbar=colorbar,
        background=background,
    )


def plot_grid(
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    scale: ColorScale | None = None,
    ax: matplotlib.axes.Axes | None = None,
    title: str | None = None,
    cell: float | None = None,
    links: gpd.GeoDataFrame | None = None,
    colorbar: bool = True,
) -> matplotlib.axes.Axes:
    """A receptor grid as an image in the grid's own CRS, optionally with links on top."""
    _require_column(gdf, column, "receptor grid")
    ax = _ax(ax)
    v = gdf[column].to_numpy(float)
    scale = scale or ColorScale.shared(v, label=column)
    arr, (minx, miny, maxx, maxy) = rasterise_points(gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy(), v, cell=cell)
    ax.imshow(
        np.ma.masked_invalid(arr),
        cmap=scale.colormap(),
        norm=scale.norm(),
        extent=(minx, maxx, miny, maxy),
        origin="upper",
        interpolation="nearest",
        zorder=0,
    )
    if links is not None and len(links):
        _draw_lines(ax, links.to_crs(gdf.crs).geometry.values, colors="#333333", linewidths=0.3, alpha=0.6, zorder=1)
        ax.set_xlim(minx, maxx)
        ax.set_ylim(miny, maxy)
    _style_axes(ax, title)
    if colorbar:
        _colorbar(ax, scale)
    return ax


def plot_compare(
    left: gpd.GeoDataFrame,
    right: gpd.GeoDataFrame,
    column: str,
    *,
    scale: ColorScale | None = None,
    titles: tuple[str, str] = ("Baseline", "Scenario"),
    kind: Literal["links", "grid"] = "links",
    figsize: tuple[float, float] = (12, 5.5),
    **kwargs: Any,
) -> matplotlib.figure.Figure:
    """Baseline and scenario side by side on one shared colour scale (static split map).

    Examples
    --------
    >>> fig = plot_compare(base_links, scen_links, "flow_vph", titles=("Baseline", "Closed"))  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    scale = scale or ColorScale.shared(
        left[column].to_numpy(float), right[column].to_numpy(float), label=column, vmin=0.0 if kind == "links" else None
    )
    fig, axes = plt.subplots(1, 2, figsize=figsize, layout="constrained", sharex=True, sharey=True)
    fn = plot_links if kind == "links" else plot_grid
    for ax, g, t in zip(axes, (left, right), titles):
        fn(g, column, scale=scale, ax=ax, title=t, colorbar=False, **kwargs)
    _colorbar(axes, scale)
    return fig


def figure_to_png(fig: matplotlib.figure.Figure, path=None, *, dpi: int = 110) -> bytes:
    """PNG bytes of a figure (written atomically to ``path`` if given)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    data = buf.getvalue()
    if path is not None:
        from ldtkit.io import atomic_path

        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    return data


__all__ = [
    "BASEMAPS",
    "LDEN_BANDS_DB",
    "NO2_LIMIT_UGM3",
    "ColorScale",
    "CompareMap",
    "aggregate_directions",
    "deck_flows",
    "deck_to_html",
    "figure_to_png",
    "grid_image",
    "lden_scale",
    "links_geojson",
    "no2_scale",
    "plot_compare",
    "plot_difference",
    "plot_grid",
    "plot_links",
    "rasterise_points",
]
