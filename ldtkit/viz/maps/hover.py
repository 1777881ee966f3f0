"""Which road is under the mouse: a nearest-link lookup in the kernel, for every road a map draws.

The maps draw roads merged into a few colour-class paths (fast in the browser), so the browser
does not know which road a path piece belongs to. :class:`LinkPicker` answers instead: the map
sends the mouse position (ipyleaflet's ``mousemove`` and ``click`` interactions), and the picker
finds the nearest road within a few screen pixels at the map's zoom, with a spatial index. No
per-road data goes to the page, so hovering works on every road without slowing the first view.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString
>>> roads = gpd.GeoDataFrame(
...     {"name": ["Rooigemlaan", "Ringlaan"], "flow_vph": [1408.2, 35.0]},
...     geometry=[LineString([(3.700, 51.050), (3.710, 51.050)]), LineString([(3.700, 51.060), (3.710, 51.060)])],
...     crs=4326,
... )
>>> picker = LinkPicker(roads, fields={"flow_vph": "Flow (veh/h)"})
>>> picker.pick(51.05002, 3.705, zoom=16)["properties"]
{'name': 'Rooigemlaan', 'flow_vph': 1408.0}
>>> picker.pick(51.055, 3.705, zoom=16) is None  # half a kilometre from either road
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ldtkit.errors import InvalidValueError

if TYPE_CHECKING:  # geopandas loads when a picker is made
    import geopandas as gpd

#: Web Mercator metres per pixel at zoom 0 (256 px tiles), along the projection's own axes.
_MERCATOR_M_PER_PX_Z0 = 40_075_016.685578488 / 256.0
#: How far from a road (screen pixels) the mouse still picks it.
PICK_TOLERANCE_PX = 8.0


def pick_tolerance_m(zoom: float, *, pixels: float = PICK_TOLERANCE_PX) -> float:
    """``pixels`` screen pixels in Web Mercator metres at ``zoom``.

    Examples
    --------
    >>> round(pick_tolerance_m(14), 2)
    76.44
    """
    return float(pixels * _MERCATOR_M_PER_PX_Z0 / 2.0 ** float(zoom))


class LinkPicker:
    """The road nearest to a map position, with its ``title`` and ``fields`` (rounded to whole numbers).

    Parameters
    ----------
    gdf
        Roads (lines) with the ``fields`` columns and, optionally, ``title``; any CRS.
    fields
        Column -> caption of the values a hover shows; missing columns are left out.
    title
        The column naming a road.
    tolerance_px
        How close (screen pixels) the mouse must be to a road.
    """

    def __init__(
        self, gdf: gpd.GeoDataFrame, *, fields: Mapping[str, str], title: str = "name", tolerance_px: float = PICK_TOLERANCE_PX
    ) -> None:
        import shapely

        if gdf.crs is None:
            raise InvalidValueError("LinkPicker: the roads have no CRS; expected a GeoDataFrame with a CRS (e.g. EPSG:4326)")
        if tolerance_px <= 0:
            raise InvalidValueError(f"LinkPicker: tolerance_px must be > 0, got {tolerance_px}")
        keep = gdf.geometry.notna().to_numpy() & ~gdf.geometry.is_empty.to_numpy()
        g = gdf[keep]
        self.fields = {c: cap for c, cap in fields.items() if c in g.columns}
        self.title = title
        self.tolerance_px = float(tolerance_px)
        self._names = g[title].to_numpy(object) if title in g.columns else np.full(len(g), None, dtype=object)
        self._values = {c: np.round(g[c].to_numpy(float)) for c in self.fields}
        self._mercator = g.geometry.to_crs(3857).to_numpy()
        self._wgs84 = shapely.set_precision(g.geometry.to_crs(4326).to_numpy(), 1e-5)
        self._tree = shapely.STRtree(self._mercator)

    def __len__(self) -> int:
        return len(self._mercator)

    def nearest(self, lat: float, lon: float, *, zoom: float) -> int | None:
        """Index of the road nearest to ``(lat, lon)`` within the tolerance at ``zoom``, or ``None``."""
        import shapely
        from pyproj import Transformer

        if not len(self):
            return None
        x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(float(lon), float(lat))
        hit = self._tree.query_nearest(shapely.Point(x, y), max_distance=pick_tolerance_m(zoom, pixels=self.tolerance_px))
        return int(hit[0]) if len(hit) else None

    def feature(self, index: int) -> dict[str, Any]:
        """Road ``index`` as a GeoJSON feature (EPSG:4326) with its title and values as properties."""
        import shapely

        props: dict[str, Any] = {self.title: self._names[index]}
        props.update({c: float(v[index]) for c, v in self._values.items()})
        return {"type": "Feature", "geometry": shapely.geometry.mapping(self._wgs84[index]), "properties": props}

    def pick(self, lat: float, lon: float, *, zoom: float) -> dict[str, Any] | None:
        """The road under ``(lat, lon)`` at ``zoom`` as a feature (:meth:`feature`), or ``None``."""
        i = self.nearest(lat, lon, zoom=zoom)
        return None if i is None else self.feature(i)


#: A FeatureCollection without features (the outline before any hover).
EMPTY_FEATURES: dict[str, Any] = {"type": "FeatureCollection", "features": []}
#: Style of the road under the mouse (drawn over the data).
HIGHLIGHT_STYLE: dict[str, Any] = {"color": "#000000", "weight": 10, "opacity": 0.35, "lineCap": "round"}


__all__ = ["EMPTY_FEATURES", "HIGHLIGHT_STYLE", "PICK_TOLERANCE_PX", "LinkPicker", "pick_tolerance_m"]
