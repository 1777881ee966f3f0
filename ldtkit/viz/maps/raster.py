"""Receptor grids as rasters: point values onto a regular pixel grid, and a PNG overlay for Leaflet.

Receptor points from :func:`~ldtkit.model.receptors.receptors_grid` map one-to-one onto
pixels; other point sets take the nearest point within 0.75 cell. The static figures
(:mod:`ldtkit.viz.maps.static`) draw the array, the Leaflet backend the PNG
(:func:`grid_image`, resampled in Web Mercator so it lines up with the vector layers).
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ldtkit.errors import EmptyStudyAreaError
from ldtkit.viz.maps.inputs import require_column
from ldtkit.viz.maps.scales import ColorScale

if TYPE_CHECKING:
    import geopandas as gpd


def _nearest_spacing(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> float:
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
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    cell: float | None = None,
    max_px: int = 1200,
) -> tuple[npt.NDArray[np.float64], tuple[float, float, float, float]]:
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

    require_column(gdf, column, "receptor grid")
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


__all__ = ["grid_image", "rasterise_points"]
