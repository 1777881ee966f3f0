"""Map context without internet: water, parks, the city boundary and major street names.

A city folder may hold a ``context/`` folder of GeoJSON layers drawn under the model's layers
(Ghent ships ``waterways.geojson`` from OpenStreetMap, ``parks.geojson`` from Stad Gent and
``boundary.geojson``; see ``data/README.md``). :func:`context_layers` reads them and
:func:`major_street_labels` picks the names of the longest streets of the network, so a map
without a web basemap still says where it is.

Examples
--------
>>> sorted(CONTEXT_STYLES)
['boundary', 'parks', 'waterways']
"""

from __future__ import annotations

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
        try:
            g = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises its own classes: name the file whatever the reason
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


__all__ = [
    "ATTRIBUTION_FILE",
    "CONTEXT_STYLES",
    "OTHER_STYLE",
    "context_attribution",
    "context_layers",
    "context_style",
    "major_street_labels",
]
