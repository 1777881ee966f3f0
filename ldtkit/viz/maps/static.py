"""The static backend: matplotlib figures for HTML reports, which cannot render widgets offline.

Links coloured and weighted by a value (:func:`plot_links`), differences on a diverging scale
(:func:`plot_difference`), receptor grids as images (:func:`plot_grid`), baseline and scenario
side by side on one scale (:func:`plot_compare`), and PNG bytes of a figure (:func:`figure_to_png`).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString
>>> links = gpd.GeoDataFrame({"flow_vph": [100.0, 400.0]}, crs=31370,
...     geometry=[LineString([(0, 0), (100, 0)]), LineString([(100, 0), (100, 100)])])
>>> ax = plot_links(links, "flow_vph", title="Flow")
>>> figure_to_png(ax.figure)[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ldtkit.io import atomic_path
from ldtkit.viz.maps.inputs import require_column
from ldtkit.viz.maps.raster import rasterise_points
from ldtkit.viz.maps.scales import ColorScale

if TYPE_CHECKING:  # matplotlib loads when a figure is drawn
    import geopandas as gpd
    import matplotlib.axes
    import matplotlib.collections
    import matplotlib.colorbar
    import matplotlib.figure


def _ax(ax: matplotlib.axes.Axes | None, figsize: tuple[float, float] = (7, 6)) -> matplotlib.axes.Axes:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _colorbar(ax_or_axes: matplotlib.axes.Axes | Any, scale: ColorScale) -> matplotlib.colorbar.Colorbar:
    import matplotlib.cm as cm

    axes = np.atleast_1d(ax_or_axes).ravel().tolist()
    fig = axes[0].figure
    sm = cm.ScalarMappable(norm=scale.norm(), cmap=scale.colormap())
    kw = {"extend": "both"} if scale.bounds is not None or scale.extends else {}
    cb = fig.colorbar(sm, ax=axes, shrink=0.8, label=scale.label, **kw)
    if scale.ends:  # what the low (bottom) and high (top) end mean
        cb.ax.set_xlabel(scale.ends[0], fontsize=8, labelpad=10)
        cb.ax.set_title(scale.ends[1], fontsize=8, pad=10)
    return cb


def _draw_lines(
    ax: matplotlib.axes.Axes,
    geoms: npt.ArrayLike,
    *,
    colors: str | npt.ArrayLike,
    linewidths: float | npt.ArrayLike,
    zorder: int = 1,
    alpha: float | None = None,
) -> matplotlib.collections.LineCollection | None:
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


def _style_axes(ax: matplotlib.axes.Axes, title: str | None) -> None:
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
    require_column(gdf, column, "links")
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
    require_column(gdf, column, "difference")
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
    require_column(gdf, column, "receptor grid")
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


def figure_to_png(fig: matplotlib.figure.Figure, path: str | Path | None = None, *, dpi: int = 110) -> bytes:
    """PNG bytes of a figure (written atomically to ``path`` if given)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    data = buf.getvalue()
    if path is not None:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    return data


__all__ = ["figure_to_png", "plot_compare", "plot_difference", "plot_grid", "plot_links"]
