"""The study area and the zone grid: every zoning aggregates its source points to square cells.

A zones table is a GeoDataFrame in the network's metric CRS with one row per zone:
``zone`` (str label), ``kind`` (``"internal"`` or ``"external"``), ``population``, ``jobs``,
``x``, ``y`` (where the centroid node goes), geometry (cell polygon; a point for external zones).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ldtkit._validate import finite_nonnegative
from ldtkit.errors import EmptyStudyAreaError, InvalidValueError, require_file
from ldtkit.model.road_network import RoadNetwork

#: The columns of every zones table (plus geometry).
ZONE_COLUMNS = ["zone", "kind", "population", "jobs", "x", "y"]


def area_polygon(area: Any, crs: str) -> shapely.Geometry:
    """A single (multi)polygon in ``crs`` from a GeoDataFrame/GeoSeries/geometry/path.

    ``area`` may be a path to a vector file, a GeoDataFrame or GeoSeries with a CRS (reprojected
    to ``crs`` and unioned), or a shapely geometry already in ``crs``.

    Examples
    --------
    >>> area_polygon(shapely.box(0, 0, 10, 10), "EPSG:3035").area
    100.0
    """
    if isinstance(area, (str, Path)):
        area = gpd.read_file(require_file(area, what="study-area boundary"))
    if isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if area.crs is None:
            raise InvalidValueError("study area: the boundary has no CRS")
        return shapely.union_all(area.to_crs(crs).geometry.values)
    if isinstance(area, shapely.Geometry):
        return area
    raise InvalidValueError(f"study area: expected a path, GeoDataFrame or shapely geometry, got {type(area).__name__}")


def network_area(network: RoadNetwork, *, buffer_m: float = 0.0) -> shapely.Geometry:
    """The convex hull of the network's car nodes (zone nodes excluded), buffered."""
    pts = _car_node_points(network)
    hull = shapely.convex_hull(shapely.multipoints(pts))
    return hull.buffer(buffer_m) if buffer_m else hull


def _car_node_points(network: RoadNetwork) -> npt.NDArray[np.float64]:
    links = network.links[network.links["car_allowed"]]
    used = np.unique(np.concatenate([links["from_node"].to_numpy(np.int64), links["to_node"].to_numpy(np.int64)]))
    nodes = network.nodes[network.nodes["node_id"].isin(used) & ~network.nodes["is_zone"]]
    if nodes.geometry.isna().all():
        raise InvalidValueError(f"network {network.name!r}: nodes have no coordinates; zones need geometry")
    return np.column_stack([nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy()])


def aggregate_to_cells(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    population: npt.ArrayLike,
    jobs: npt.ArrayLike,
    *,
    area: shapely.Geometry,
    cell_m: float,
    crs: str,
    min_activity: float = 1.0,
    label: str = "z",
) -> gpd.GeoDataFrame:
    """Aggregate point activity to square zones of ``cell_m`` over ``area``.

    Points outside ``area`` are ignored. A zone's ``x, y`` is the activity-weighted
    mean of its points; zones with ``population + jobs < min_activity`` are dropped.
    Zones are ordered south to north, then west to east, and labelled ``f"{label}{row}_{col}"``.

    Examples
    --------
    >>> sq = shapely.box(0, 0, 2000, 1000)
    >>> z = aggregate_to_cells(np.array([100., 150., 1500.]), np.array([100., 900., 500.]),
    ...                        np.array([10., 30., 0.]), np.array([0., 0., 5.]),
    ...                        area=sq, cell_m=1000, crs="EPSG:3035")
    >>> z[["zone", "population", "jobs", "x", "y"]].values.tolist()
    [['z0_0', 40.0, 0.0, 137.5, 700.0], ['z0_1', 0.0, 5.0, 1500.0, 500.0]]
    """
    pop = finite_nonnegative(population, name="population of the source points", where="zones")
    job = finite_nonnegative(jobs, name="jobs of the source points", where="zones")
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    inside = shapely.contains_xy(area, xs, ys)
    xs, ys, pop, job = xs[inside], ys[inside], pop[inside], job[inside]
    if len(xs) == 0:
        raise EmptyStudyAreaError("zones: no source points (buildings, blocks, land-cover cells) inside the study area")
    x0, y0, _, _ = area.bounds
    col = np.floor((xs - x0) / cell_m).astype(np.int64)
    row = np.floor((ys - y0) / cell_m).astype(np.int64)
    df = pd.DataFrame({"row": row, "col": col, "pop": pop, "job": job, "w": pop + job, "x": xs, "y": ys})
    df["wx"] = df["x"] * df["w"]
    df["wy"] = df["y"] * df["w"]
    g = df.groupby(["row", "col"], sort=True).agg(
        population=("pop", "sum"), jobs=("job", "sum"), w=("w", "sum"), wx=("wx", "sum"), wy=("wy", "sum"),
        mx=("x", "mean"), my=("y", "mean"),
    ).reset_index()  # fmt: skip
    g = g[g["population"] + g["jobs"] >= min_activity].reset_index(drop=True)
    if g.empty:
        raise EmptyStudyAreaError(f"zones: no cell of {cell_m:g} m has at least {min_activity:g} residents + jobs")
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = np.where(g["w"] > 0, g["wx"] / g["w"], g["mx"])
        cy = np.where(g["w"] > 0, g["wy"] / g["w"], g["my"])
    boxes = shapely.box(x0 + g["col"] * cell_m, y0 + g["row"] * cell_m, x0 + (g["col"] + 1) * cell_m, y0 + (g["row"] + 1) * cell_m)
    geom = shapely.intersection(boxes, area)
    # a weighted mean can fall outside a concave zone: use a point inside the zone then
    out = ~shapely.contains_xy(geom, cx, cy)
    if out.any():
        pos = shapely.point_on_surface(geom[out])
        cx[out], cy[out] = shapely.get_x(pos), shapely.get_y(pos)
    return gpd.GeoDataFrame(
        {
            "zone": [f"{label}{r}_{c}" for r, c in zip(g["row"], g["col"])],
            "kind": "internal",
            "population": g["population"].to_numpy(),
            "jobs": g["jobs"].to_numpy(),
            "x": cx,
            "y": cy,
        },
        geometry=geom,
        crs=crs,
    )


def rescale_to_total(values: npt.NDArray[np.float64], total: float | None, *, what: str) -> npt.NDArray[np.float64]:
    """``values`` scaled to sum to ``total`` (unchanged when ``total`` is ``None``).

    Raises :class:`~ldtkit.errors.EmptyStudyAreaError` naming ``what`` when the values sum to 0.

    Examples
    --------
    >>> rescale_to_total(np.array([1.0, 3.0]), 100.0, what="residents").tolist()
    [25.0, 75.0]
    """
    if total is None:
        return values
    s = values.sum()
    if s <= 0:
        raise EmptyStudyAreaError(f"zones: no {what} in the study area to scale to a total of {total:g}")
    scaled: npt.NDArray[np.float64] = values * (float(total) / s)
    return scaled


def rescale_zones(zones: gpd.GeoDataFrame, population_total: float | None, jobs_total: float | None) -> None:
    """Rescale zone totals in place (cells dropped by ``min_activity`` or the clip lose a little)."""
    zones["population"] = rescale_to_total(zones["population"].to_numpy(), population_total, what="residents")
    zones["jobs"] = rescale_to_total(zones["jobs"].to_numpy(), jobs_total, what="jobs")
