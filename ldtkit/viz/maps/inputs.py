"""What the maps draw: road links and receptor grids as GeoDataFrames, checked and prepared.

Every backend takes GeoDataFrames in any CRS (the city's metric CRS, typically): links with a
value column (e.g. ``flow_vph``) and receptor points with a value column (``lden_db``,
``no2_ugm3``). :func:`require_column` gives the same error for a missing column everywhere;
:func:`aggregate_directions` turns a directed network into one line per road.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from ldtkit.errors import MissingFieldError

if TYPE_CHECKING:  # geopandas loads on first use
    import geopandas as gpd


def require_column(gdf: pd.DataFrame, column: str, what: str) -> None:
    """Raise :class:`~ldtkit.errors.MissingFieldError` naming ``what`` unless ``gdf`` has ``column``.

    Examples
    --------
    >>> require_column(pd.DataFrame({"flow_vph": [1.0]}), "lden_db", "receptor grid")
    Traceback (most recent call last):
    ...
    ldtkit.errors.MissingFieldError: receptor grid: missing required field 'lden_db' (expected a numeric column; available: ['flow_vph'])
    """
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
        require_column(gdf, c, "links")
    has_key = gdf[key].notna()
    keyed = gdf[has_key]
    sums = keyed.groupby(key, sort=False)[list(columns)].sum()
    first = keyed.drop_duplicates(key).set_index(key)
    first[list(columns)] = sums.loc[first.index]
    out = pd.concat([first.reset_index(), gdf[~has_key]], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry=gdf.geometry.name, crs=gdf.crs)


__all__ = ["aggregate_directions", "require_column"]
