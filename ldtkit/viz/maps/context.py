"""Map context without internet: water, parks, the city boundary and major street names.

A city folder may hold a ``context/`` folder of GeoJSON layers drawn under the model's layers
(Ghent ships ``waterways.geojson`` from OpenStreetMap, ``parks.geojson`` from Stad Gent and
``boundary.geojson``; see ``data/README.md``). :func:`context_layers` reads them and
:func:`major_street_labels` picks the names of the longest streets of the network, so a map
without a web basemap still says where it is. :func:`context_map_layers` turns both into
ipyleaflet layers, and :func:`attribution_control` shows the layers' credit line
(:func:`context_attribution`, from ``context/ATTRIBUTION.txt``) on the map.

Examples
--------
>>> sorted(CONTEXT_STYLES)
['boundary', 'parks', 'waterways']
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from ldtkit.errors import UnreadableFormatError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

#: Leaflet style of each known context layer (file ``context/<name>.geojson``), bottom to top.
CONTEXT_STYLES: Final = MappingProxyType(
    {
        "parks": {"color": "#7fb77e", "weight": 0.5, "fillColor": "#b9dcb0", "fillOpacity": 0.55, "opacity": 0.8},
        "waterways": {"color": "#5b9bd5", "weight": 3, "fillColor": "#a8cdf0", "fillOpacity": 0.7, "opacity": 0.9},
        "boundary": {"color": "#555555", "weight": 1.5, "dashArray": "4 3", "fill": False, "opacity": 0.8},
    }
)
#: Style of a context layer whose file name is not one of :data:`CONTEXT_STYLES`.
OTHER_STYLE: Final = MappingProxyType({"color": "#999999", "weight": 1, "fillOpacity": 0.3, "opacity": 0.7})
#: Style of a street name on the map.
_STREET_STYLE = "font:italic 11px sans-serif;color:#333;white-space:nowrap;text-shadow:0 0 3px #fff,0 0 3px #fff"
#: Style of the credit line of offline context layers.
_ATTRIBUTION_STYLE = "font:10px sans-serif;color:#333;background:rgba(255,255,255,.8);padding:0 4px"


#: File in a city's ``context/`` folder with the credit line its layers require (e.g. the ODbL's for OpenStreetMap data).
ATTRIBUTION_FILE: Final = "ATTRIBUTION.txt"


def context_attribution(folder: str | Path) -> str:
    """The credit line of the context layers in ``folder`` (its ``ATTRIBUTION.txt``, lines joined), ``""`` without one.

    Maps drawing the layers show it, as their licences require (e.g. "© OpenStreetMap contributors").

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / ATTRIBUTION_FILE).write_text("Waterways © OpenStreetMap contributors (ODbL)" + chr(10) + "parks: Stad Gent", encoding="utf-8")
    >>> context_attribution(folder)
    'Waterways © OpenStreetMap contributors (ODbL) · parks: Stad Gent'
    >>> context_attribution("no/such/folder")
    ''
    """
    path = Path(folder) / ATTRIBUTION_FILE
    if not path.is_file():
        return ""
    return " · ".join(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def context_layers(folder: str | Path) -> dict[str, gpd.GeoDataFrame]:
    """Every ``*.geojson`` in ``folder`` as a layer in EPSG:4326, known layers first (parks, water, boundary).

    A missing folder gives no layers (a city without context); an unreadable file is an error
    naming it.
    """
    import geopandas as gpd

    root = Path(folder)
    if not root.is_dir():
        return {}
    files = sorted(root.glob("*.geojson"), key=lambda p: (list(CONTEXT_STYLES).index(p.stem) if p.stem in CONTEXT_STYLES else 99, p.stem))
    out: dict[str, gpd.GeoDataFrame] = {}
    for path in files:
        try:  # parsed here rather than by GDAL, which a dashboard kernel would load for three small files (30 MB)
            data = json.loads(path.read_text(encoding="utf-8"))
            crs = ((data.get("crs") or {}).get("properties") or {}).get("name") or "OGC:CRS84"  # RFC 7946: lon/lat
            g = gpd.GeoDataFrame.from_features(data["features"], crs=crs)
            g = g[[*(c for c in g.columns if c != "geometry"), "geometry"]]  # properties, then geometry, as GDAL reads them
        except Exception as exc:  # bad JSON, not a FeatureCollection, an unknown CRS: name the file whatever the reason
            raise UnreadableFormatError(path, expected="a GeoJSON context layer", detail=str(exc)) from exc
        out[path.stem] = g.to_crs(4326) if g.crs is not None else g.set_crs(4326)
    return out


def major_street_labels(links: gpd.GeoDataFrame, *, n: int = 15, min_length_m: float = 400.0) -> gpd.GeoDataFrame:
    """The ``n`` named streets with the most road length, each with a point on its longest piece (EPSG:4326).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> g = gpd.GeoDataFrame({"name": ["Ring", "Ring", "Lane", None]}, crs="EPSG:31370",
    ...     geometry=[LineString([(0, 0), (500, 0)]), LineString([(500, 0), (900, 0)]),
    ...               LineString([(0, 0), (0, 100)]), LineString([(0, 0), (0, 900)])])
    >>> major_street_labels(g, n=5)["name"].tolist()
    ['Ring']
    """
    import geopandas as gpd
    import shapely

    named = links[links["name"].notna() & (links["name"].astype(str).str.len() > 0)]
    if named.crs is not None and named.crs.is_geographic:
        named = named.to_crs(3857)
    length = named.geometry.length
    total = length.groupby(named["name"]).sum()
    top = total[total >= min_length_m].nlargest(n)
    picks = length[named["name"].isin(top.index)].groupby(named["name"]).idxmax().reindex(top.index)
    pts = shapely.line_interpolate_point(named.geometry.loc[picks.to_numpy()].to_numpy(), 0.5, normalized=True)
    return gpd.GeoDataFrame({"name": top.index.to_numpy()}, geometry=pts, crs=named.crs).to_crs(4326)


def context_style(name: str) -> dict[str, Any]:
    """The Leaflet style of context layer ``name``."""
    style: Mapping[str, Any] = CONTEXT_STYLES.get(name, OTHER_STYLE)
    return dict(style)


#: Context geometry is simplified to within this many metres (a pixel at zoom 15 is about 3 m at 51° N).
CONTEXT_SIMPLIFY_M: Final = 2.0


def compact_geojson(layer: gpd.GeoDataFrame, *, simplify_m: float = CONTEXT_SIMPLIFY_M) -> dict[str, Any]:
    """A context layer (EPSG:4326) as a small FeatureCollection: its polygons merged into one
    MultiPolygon, its lines into one MultiLineString (one SVG path each in the browser instead
    of one per feature), simplified to within ``simplify_m`` metres, coordinates to 1e-5°.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point, box
    >>> g = gpd.GeoDataFrame(geometry=[box(3.70, 51.0, 3.71, 51.01), box(3.72, 51.0, 3.73, 51.01),
    ...     LineString([(3.70, 51.02), (3.705, 51.0200001), (3.71, 51.02)]), Point(3.7, 51.0)], crs=4326)
    >>> fc = compact_geojson(g)
    >>> [(f["geometry"]["type"], len(f["geometry"]["coordinates"])) for f in fc["features"]]
    [('MultiPolygon', 2), ('MultiLineString', 1)]
    >>> fc["features"][1]["geometry"]["coordinates"][0]
    [[3.7, 51.02], [3.71, 51.02]]
    """
    import shapely

    geom = layer.geometry.to_numpy()
    geom = geom[~shapely.is_missing(geom) & ~shapely.is_empty(geom)]
    parts = shapely.get_parts(geom)
    if len(parts):
        parts = shapely.set_precision(shapely.simplify(parts, simplify_m / 111_320.0), 1e-5)
        parts = parts[~shapely.is_empty(parts)]
    kinds = shapely.get_type_id(parts)
    merged = [
        shapely.multipolygons(parts[kinds == 3]) if (kinds == 3).any() else None,
        shapely.multilinestrings(parts[kinds == 1]) if (kinds == 1).any() else None,
    ]
    features = [{"type": "Feature", "geometry": json.loads(shapely.to_geojson(m)), "properties": {}} for m in merged if m is not None]
    return {"type": "FeatureCollection", "features": features}


#: The map pane the context layers are drawn in (under the data, over a web basemap's tiles).
CONTEXT_PANE: Final = "context"
#: The pane's stacking order: over the tiles (200), under Leaflet's overlay pane (400) and the data.
CONTEXT_PANE_Z: Final = 390


def context_map_layers(layers: Mapping[str, gpd.GeoDataFrame], *, labels: gpd.GeoDataFrame | None = None) -> list[Any]:
    """The offline context as ipyleaflet layers: one GeoJSON per entry of ``layers`` (EPSG:4326,
    from :func:`~ldtkit.viz.maps.context.context_layers`) in the map pane :data:`CONTEXT_PANE`,
    then the street ``labels`` (points with ``name``) as one group of text markers, when there are any.

    When a web basemap's tiles load, the dashboard page hides that pane and the street names
    (the basemap shows water, parks and names itself); without tiles (offline) they stay.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> names = gpd.GeoDataFrame({"name": ["Kortrijksesteenweg"]}, geometry=[Point(3.70, 51.03)], crs=4326)
    >>> [layer.name for layer in context_map_layers({}, labels=names)]
    ['street names']
    """
    import ipyleaflet

    added: list[Any] = []
    for name, g in layers.items():
        layer = ipyleaflet.GeoJSON(data=compact_geojson(g), style=context_style(name), name=f"context: {name}")
        layer.pane = CONTEXT_PANE
        layer.options = [*layer.options, "pane"]
        added.append(layer)
    if labels is not None and len(labels):
        added.append(ipyleaflet.LayerGroup(layers=street_name_markers(labels), name="street names"))
    return added


def street_name_markers(labels: gpd.GeoDataFrame) -> list[Any]:
    """A text marker (no pin) per street of ``labels`` (points with ``name``, EPSG:4326).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> names = gpd.GeoDataFrame({"name": ["Kortrijksesteenweg"]}, geometry=[Point(3.70, 51.03)], crs=4326)
    >>> [(m.title, m.location) for m in street_name_markers(names)]
    [('Kortrijksesteenweg', [51.03, 3.7])]
    """
    import ipyleaflet

    return [
        ipyleaflet.Marker(
            location=(float(p.y), float(p.x)),
            icon=ipyleaflet.DivIcon(
                html=f"<span class='ldtkit-street' style='{_STREET_STYLE}'>{html.escape(str(n), quote=False)}</span>",
                icon_size=[0, 0],
            ),
            draggable=False,
            keyboard=False,
            title=str(n),
        )
        for n, p in zip(labels["name"], labels.geometry)
    ]


def attribution_control(text: str) -> Any:
    """A small credit line at the bottom right of a map (for offline layers, which Leaflet's own
    attribution does not list), as an ipyleaflet control.

    Examples
    --------
    >>> attribution_control("© OpenStreetMap contributors").widget.value
    "<span class='ldtkit-attribution' style='font:10px sans-serif;color:#333;background:rgba(255,255,255,.8);padding:0 4px'>© OpenStreetMap contributors</span>"
    """
    import ipyleaflet
    import ipywidgets as w

    text = html.escape(text, quote=False)
    box = w.HTML(f"<span class='ldtkit-attribution' style='{_ATTRIBUTION_STYLE}'>{text}</span>")
    return ipyleaflet.WidgetControl(widget=box, position="bottomright", transparent_bg=True)


__all__ = [
    "ATTRIBUTION_FILE",
    "CONTEXT_STYLES",
    "OTHER_STYLE",
    "CONTEXT_PANE",
    "CONTEXT_PANE_Z",
    "CONTEXT_SIMPLIFY_M",
    "attribution_control",
    "compact_geojson",
    "context_attribution",
    "context_layers",
    "context_map_layers",
    "context_style",
    "major_street_labels",
    "street_name_markers",
]
