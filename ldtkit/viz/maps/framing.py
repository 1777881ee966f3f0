"""Where a map opens: the centre and zoom that show a box on a map of a given size in pixels.

Examples
--------
>>> fit_view((3.71, 51.04, 3.75, 51.06), crs=4326, width_px=900, height_px=560)
([51.05, 3.73], 14)
"""

from __future__ import annotations

from typing import Any

import numpy as np


def fit_zoom(bounds: tuple[float, float, float, float], *, width_px: float, height_px: float) -> int:
    """The largest Web Mercator zoom at which ``(south, west, north, east)`` fits in the map's pixels.

    Examples
    --------
    >>> fit_zoom((51.04, 3.71, 51.06, 3.75), width_px=900, height_px=560)
    14
    """
    s, w, n, e = bounds
    merc = lambda lat: float(np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)))
    dx = max(abs(e - w), 1e-9) / 360.0
    dy = max(abs(merc(n) - merc(s)), 1e-9) / (2 * np.pi)
    z = min(np.log2(width_px / (256.0 * dx)), np.log2(height_px / (256.0 * dy)))
    return int(np.clip(np.floor(z), 3, 18))


def fit_view(bounds: tuple[float, float, float, float], *, crs: Any, width_px: float, height_px: float) -> tuple[list[float], int]:
    """``([lat, lon], zoom)`` showing ``(minx, miny, maxx, maxy)`` in ``crs`` on a map of that many pixels.

    Centre and zoom are computed here: Leaflet's fitBounds on a map not yet on the page sees a
    container of size 0 and zooms out to the world.

    Examples
    --------
    >>> fit_view((3.71, 51.04, 3.75, 51.06), crs=4326, width_px=900, height_px=560)
    ([51.05, 3.73], 14)
    """
    from pyproj import Transformer

    tr = Transformer.from_crs(crs, 4326, always_xy=True)
    (w, e), (s, n) = tr.transform([bounds[0], bounds[2]], [bounds[1], bounds[3]])
    return [round((s + n) / 2.0, 9), round((w + e) / 2.0, 9)], fit_zoom((s, w, n, e), width_px=width_px, height_px=height_px)


__all__ = ["fit_view", "fit_zoom"]
