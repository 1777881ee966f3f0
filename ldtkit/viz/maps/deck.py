"""The 3D backend: pydeck ribbons extruded by flow, viewable without a basemap service.

:func:`deck_flows` needs no token or tiles (``map_provider=None``); :func:`deck_to_html`
writes a standalone page and can inline the deck.gl bundle for viewing offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from ldtkit.errors import EmptyStudyAreaError
from ldtkit.io import write_text_atomic
from ldtkit.viz.maps.inputs import require_column
from ldtkit.viz.maps.scales import ColorScale

if TYPE_CHECKING:  # pydeck loads when a deck is made
    import geopandas as gpd
    import pydeck


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

    require_column(gdf, column, "links")
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


def _largest_part(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """For (multi)polygons, the largest polygon of each (buffers of bent lines can split)."""
    import shapely

    parts, owner = shapely.get_parts(geoms, return_index=True)
    area = shapely.area(parts)
    order = np.lexsort((-area, owner))
    first = order[np.r_[True, np.diff(owner[order]) != 0]]
    return parts[first]


def deck_to_html(deck: pydeck.Deck, path: str | Path | None = None, *, offline: bool = False) -> str:
    """The deck as a standalone HTML page (written atomically to ``path`` if given).

    ``offline=True`` inlines the deck.gl bundle from the pydeck wheel so the page needs no CDN.
    """
    html = deck.to_html(as_string=True, notebook_display=False, offline=offline)
    if path is not None:
        write_text_atomic(path, html)
    return html


__all__ = ["deck_flows", "deck_to_html"]
