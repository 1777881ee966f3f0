"""Comparative maps, one module per backend, one colour logic shared by all of them.

======================================  ====================================================
:mod:`~ldtkit.viz.maps.scales`          :class:`ColorScale` (continuous or banded, with its
                                        HTML legend), :func:`lden_scale`, :func:`no2_scale`,
                                        :func:`change_scale` (scenario − baseline)
:mod:`~ldtkit.viz.maps.leaflet`         :class:`CompareMap`, the interactive split map
                                        (ipyleaflet), baseline left and scenario right
:mod:`~ldtkit.viz.maps.side_by_side`    :class:`SideBySideMap`, two synced maps (the
                                        alternative to the split handle)
:mod:`~ldtkit.viz.maps.deck`            :func:`deck_flows`, a pydeck 3D view of flows, and
                                        :func:`deck_to_html`
:mod:`~ldtkit.viz.maps.static`          :func:`plot_links`, :func:`plot_difference`,
                                        :func:`plot_grid`, :func:`plot_compare`,
                                        :func:`figure_to_png`: matplotlib for reports
:mod:`~ldtkit.viz.maps.geojson`         :func:`links_geojson`, styled GeoJSON of links
:mod:`~ldtkit.viz.maps.raster`          :func:`rasterise_points`, :func:`grid_image`:
                                        receptor grids as arrays and PNG overlays
:mod:`~ldtkit.viz.maps.inputs`          :func:`aggregate_directions`, :func:`require_column`
======================================  ====================================================

Inputs are GeoDataFrames in any CRS (the city's metric CRS, typically): links with a value
column (e.g. ``flow_vph``), receptor points on a regular grid with a value column
(``lden_db``, ``no2_ugm3``). Every public name is importable from here
(``from ldtkit.viz import maps; maps.CompareMap``). The Lden classes and the NO2 limit come
from :mod:`ldtkit.model.limits` (:data:`MAP_LDEN_BANDS_DB`, :data:`NO2_LIMIT_UGM3`).

Examples are in :mod:`ldtkit.viz.maps.leaflet`, whose doctests run with the tests.
"""

from __future__ import annotations

from ldtkit.model.limits import MAP_LDEN_BANDS_DB, NO2_LIMIT_UGM3
from ldtkit.viz.maps.deck import deck_flows, deck_to_html
from ldtkit.viz.maps.geojson import links_geojson
from ldtkit.viz.maps.inputs import aggregate_directions, require_column
from ldtkit.viz.maps.leaflet import BASEMAPS, CompareMap, Side
from ldtkit.viz.maps.raster import grid_image, rasterise_points
from ldtkit.viz.maps.scales import ColorScale, change_scale, format_number, lden_scale, no2_scale
from ldtkit.viz.maps.side_by_side import SideBySideMap
from ldtkit.viz.maps.static import figure_to_png, plot_compare, plot_difference, plot_grid, plot_links

__all__ = [
    "BASEMAPS",
    "MAP_LDEN_BANDS_DB",
    "NO2_LIMIT_UGM3",
    "ColorScale",
    "CompareMap",
    "Side",
    "SideBySideMap",
    "aggregate_directions",
    "change_scale",
    "deck_flows",
    "deck_to_html",
    "figure_to_png",
    "format_number",
    "grid_image",
    "lden_scale",
    "links_geojson",
    "no2_scale",
    "plot_compare",
    "plot_difference",
    "plot_grid",
    "plot_links",
    "rasterise_points",
    "require_column",
]
