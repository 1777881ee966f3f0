"""Exports for GIS: receptor grids as GeoTIFF, point results as GeoPackage, QGIS styles for links.

- :func:`write_grid_geotiff`: noise levels or NO2 on a regular receptor grid as a GeoTIFF, one
  band per column, in the grid's own CRS (float32, NaN where there is no receptor);
- :func:`write_points_gpkg`: receptor or façade points with their values as GeoPackage layers;
- :func:`qgis_line_style`: a QGIS layer style (``.qml``) that colours links by flow or by a
  difference (symmetric diverging classes), to open ``links.gpkg`` of ``ldtkit run`` in QGIS;
- :func:`export_results`: all of them for a baseline and its scenarios.

Every file is written atomically.

Examples
--------
>>> import numpy as np
>>> import geopandas as gpd
>>> pts = gpd.GeoDataFrame({"lden_db": [50.0, 60.0]}, geometry=gpd.points_from_xy([5.0, 15.0], [5.0, 5.0]), crs="EPSG:31370")
>>> import tempfile, pathlib
>>> out = write_grid_geotiff(pts, ["lden_db"], pathlib.Path(tempfile.mkdtemp()) / "lden.tif")
>>> import rasterio
>>> with rasterio.open(out) as src:
...     src.read(1).tolist(), src.crs.to_epsg(), tuple(src.transform)[:6]
([[50.0, 60.0]], 31370, (10.0, 0.0, 0.0, 0.0, -10.0, 10.0))
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ldtkit.errors import EmptyStudyAreaError, MissingFieldError
from ldtkit.io import atomic_path, write_geodataframes, write_text_atomic
from ldtkit.viz.maps.raster import rasterise_points
from ldtkit.viz.maps.scales import ColorScale

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

    from ldtkit.study.runner import ScenarioResult

#: Noise levels written to ``noise_<scenario>.tif``, one band each.
NOISE_BANDS = ("lden_db", "lnight_db")
#: Air quality written to ``no2_<scenario>.tif``.
AIR_BANDS = ("no2_ugm3",)


def write_grid_geotiff(gdf: gpd.GeoDataFrame, columns: Sequence[str], path: str | Path, *, cell_m: float | None = None) -> Path:
    """Write receptor points on a regular grid as a GeoTIFF: one float32 band per column.

    Parameters
    ----------
    gdf
        Receptor points (e.g. ``NoiseMap.to_geodataframe()``) in a projected CRS.
    columns
        The value columns, one band each (band descriptions carry the names).
    path
        The ``.tif`` to write (atomically).
    cell_m
        The grid's cell size; default: inferred from the points (exact for
        :func:`~ldtkit.model.receptors.receptors_grid`).

    Returns
    -------
    Path
        ``path``. Pixels without a receptor hold NaN (the nodata value).
    """
    import rasterio
    from rasterio.transform import from_origin

    if len(gdf) == 0:
        raise EmptyStudyAreaError(f"{path}: no receptor points to write")
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise MissingFieldError("receptor grid", missing[0], expected=f"one of {[c for c in gdf.columns if c != 'geometry']}")
    x, y = gdf.geometry.x.to_numpy(float), gdf.geometry.y.to_numpy(float)
    bands = []
    bounds = (0.0, 0.0, 0.0, 0.0)
    for col in columns:  # one raster per column (a handful), the points vectorised
        arr, bounds = rasterise_points(x, y, gdf[col].to_numpy(float), cell=cell_m, max_px=1_000_000)
        bands.append(arr.astype(np.float32))
    minx, _, maxx, maxy = bounds
    ny, nx = bands[0].shape
    px = (maxx - minx) / nx
    profile = {
        "driver": "GTiff",
        "width": nx,
        "height": ny,
        "count": len(bands),
        "dtype": "float32",
        "crs": gdf.crs,
        "transform": from_origin(minx, maxy, px, px),
        "nodata": float("nan"),
        "compress": "deflate",
    }
    target = Path(path)
    with atomic_path(target) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        for i, (col, arr) in enumerate(zip(columns, bands), start=1):
            dst.write(arr, i)
            dst.set_band_description(i, col)
    return target


def write_points_gpkg(layers: Mapping[str, gpd.GeoDataFrame], path: str | Path) -> Path:
    """Write point results (receptors, façade points) as layers of one GeoPackage, atomically."""
    empty = [name for name, g in layers.items() if len(g) == 0]
    if not layers or empty:
        raise EmptyStudyAreaError(f"{path}: no points to write in layers {empty or list(layers)}")
    return write_geodataframes(Path(path), dict(layers))


def qgis_line_style(column: str, scale: ColorScale, *, classes: int = 10, width_mm: float = 0.6, label: str = "") -> str:
    """A QGIS ``.qml`` layer style: links coloured by ``column`` in ``classes`` graduated classes.

    The classes span ``scale`` (``vmin`` to ``vmax``, the outer ones open-ended so every value
    gets a colour); a diverging scale gives classes symmetric around zero.

    Examples
    --------
    >>> qml = qgis_line_style("flow_diff_vph_x", ColorScale.diverging([-720.0, 10.0]), classes=4)
    >>> 'attr="flow_diff_vph_x"' in qml, qml.count("<range ")
    (True, 4)
    """
    edges = np.linspace(scale.vmin, scale.vmax, classes + 1)
    mids = 0.5 * (edges[:-1] + edges[1:])
    colours = (np.round(scale.rgba(mids) * 255)).astype(int)
    lo = edges.copy()
    lo[0], lo[-1] = -1e12, 1e12  # the outer classes take every value beyond the scale
    ranges, symbols = [], []
    for i in range(classes):  # a handful of classes
        text = f"{edges[i]:,.0f} – {edges[i + 1]:,.0f}"
        ranges.append(f'<range lower="{lo[i]:.6f}" upper="{lo[i + 1]:.6f}" symbol="{i}" label="{html.escape(text)}" render="true"/>')
        r, g, b, _ = colours[i]
        symbols.append(
            f'<symbol type="line" name="{i}" alpha="1" clip_to_extent="1" force_rhr="0">'
            '<layer class="SimpleLine" enabled="1" pass="0" locked="0"><Option type="Map">'
            f'<Option name="line_color" type="QString" value="{r},{g},{b},255"/>'
            f'<Option name="line_width" type="QString" value="{width_mm:g}"/>'
            '<Option name="line_width_unit" type="QString" value="MM"/>'
            '<Option name="capstyle" type="QString" value="round"/>'
            "</Option></layer></symbol>"
        )
    title = html.escape(label or scale.label or column)
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="3.28" styleCategories="Symbology">\n<!-- {title} -->\n'
        f'<renderer-v2 type="graduatedSymbol" attr="{html.escape(column)}" graduatedMethod="GraduatedColor" '
        'symbollevels="0" enableorderby="0" forceraster="0">\n'
        f"<ranges>{''.join(ranges)}</ranges>\n<symbols>{''.join(symbols)}</symbols>\n"
        "</renderer-v2>\n</qgis>\n"
    )


def export_results(results: Mapping[str, ScenarioResult], out_dir: str | Path) -> list[Path]:
    """Grids, points and QGIS styles of a baseline and its scenarios in ``out_dir``.

    Writes, for every result ``<name>`` with noise: ``noise_<name>.tif`` (bands ``lden_db``,
    ``lnight_db``), with air: ``no2_<name>.tif``; ``points.gpkg`` (layers ``noise_<name>``,
    ``air_<name>``); ``flow_vph_baseline.qml`` and one ``flow_diff_vph_<scenario>.qml`` per
    scenario (one diverging scale across scenarios), matching the columns of ``links.gpkg``.

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if "baseline" not in results:
        raise MissingFieldError("results", "baseline", expected=f"the baseline among {list(results)}")
    written: list[Path] = []
    points: dict[str, gpd.GeoDataFrame] = {}
    for name, res in results.items():
        if res.noise is not None:
            g = res.noise.to_geodataframe()
            written.append(write_grid_geotiff(g, NOISE_BANDS, out / f"noise_{name}.tif"))
            points[f"noise_{name}"] = g[["population", *NOISE_BANDS, "geometry"]]
        if res.air is not None:
            g = res.air.to_geodataframe()
            written.append(write_grid_geotiff(g, AIR_BANDS, out / f"no2_{name}.tif"))
            points[f"air_{name}"] = g[[c for c in g.columns if c in ("population", "no2_ugm3", "geometry")]]
    if points:
        written.append(write_points_gpkg(points, out / "points.gpkg"))
    base = results["baseline"].traffic["day"].total_vph
    written.append(
        write_text_atomic(
            out / "flow_vph_baseline.qml",
            qgis_line_style("flow_vph_baseline", ColorScale.shared(base, vmin=0.0, label="Traffic flow (veh/h)")),
        )
    )
    diffs = {n: r.traffic["day"].total_vph - base for n, r in results.items() if n != "baseline"}
    if diffs:
        scale = ColorScale.diverging(*diffs.values(), label="Change in flow (veh/h)")
        for name in diffs:
            col = f"flow_diff_vph_{name}"
            written.append(write_text_atomic(out / f"{col}.qml", qgis_line_style(col, scale)))
    return written


__all__ = ["AIR_BANDS", "NOISE_BANDS", "export_results", "qgis_line_style", "write_grid_geotiff", "write_points_gpkg"]
