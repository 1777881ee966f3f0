"""Receptors: where noise and air quality are computed, with population weights.

A :class:`Receptors` is a set of points in the city's metric CRS with a height and a
population weight. Build one with :func:`receptors_grid` (a regular grid over a focus
area), :func:`receptors_facades` (points in front of building façades) or
:func:`receptors_from_points` (arbitrary points, e.g. monitoring sites).

Examples
--------
>>> r = receptors_grid((0, 0, 30, 20), crs="EPSG:31370", cell_m=10, height_m=4.0)
>>> len(r), r.x.tolist()[:3], float(r.z[0])
(6, [5.0, 15.0, 25.0], 4.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ldtkit.errors import EmptyStudyAreaError, InvalidValueError, MissingFieldError


@dataclass(frozen=True)
class Receptors:
    """Receptor points.

    Attributes
    ----------
    x, y
        Coordinates in ``crs`` (metres).
    z
        Height above ground (m), e.g. 4 m for END noise maps.
    population
        People represented by each receptor (0 where nobody lives).
    crs
        The metric CRS of ``x``, ``y``.
    kind
        ``"grid"``, ``"facade"`` or ``"points"``.
    grid_shape
        ``(ny, nx)`` when ``kind == "grid"`` (row-major from the south-west corner), else ``None``.
    cell_m
        Grid spacing (m) when ``kind == "grid"``, else ``None``.
    ids
        Optional identifiers (e.g. monitoring-site codes; the building row for façade points).
    meta
        Free-form settings of how the receptors were built (e.g. façade spacing and offset).
    """

    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    z: npt.NDArray[np.float64]
    population: npt.NDArray[np.float64]
    crs: Any
    kind: str = "points"
    grid_shape: tuple[int, int] | None = None
    cell_m: float | None = None
    ids: npt.NDArray[Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        z = np.asarray(self.z, dtype=np.float64)
        bad = np.flatnonzero(~(z >= 0.0))
        if len(bad):
            i = int(bad[0])
            who = f"receptor {i}" + (f" (id {self.ids[i]})" if self.ids is not None and len(self.ids) > i else "")
            raise InvalidValueError(
                f"Receptors: field z (height above ground, m) must be >= 0; {who} has {z[i]} ({len(bad)} receptor(s) below ground)"
            )

    def __len__(self) -> int:
        return len(self.x)

    def to_geodataframe(self, *, geometry: Any = None, **columns: npt.NDArray[Any]) -> gpd.GeoDataFrame:
        """Receptors as points, with extra result columns (e.g. ``lden_db=...``); ``geometry``:
        the points if already built (maps on the same receptors can share them)."""
        data = {"z_m": self.z, "population": self.population, **columns}
        if self.ids is not None:
            data = {"id": self.ids, **data}
        geom = gpd.points_from_xy(self.x, self.y) if geometry is None else geometry
        return gpd.GeoDataFrame(data, geometry=geom, crs=self.crs)


def receptors_grid(
    bounds: tuple[float, float, float, float],
    *,
    crs: Any,
    cell_m: float = 10.0,
    height_m: float = 4.0,
    population: gpd.GeoDataFrame | None = None,
    population_column: str = "population",
) -> Receptors:
    """A regular grid of receptors at cell centres over ``bounds`` (minx, miny, maxx, maxy in ``crs``).

    Population is spread from polygons in ``population`` (same CRS) over the cells whose
    centres fall inside them, in proportion to count.

    Examples
    --------
    >>> r = receptors_grid((0, 0, 100, 50), crs="EPSG:31370", cell_m=10)
    >>> len(r), r.grid_shape
    (50, (5, 10))
    """
    minx, miny, maxx, maxy = bounds
    if not (maxx > minx and maxy > miny):
        raise EmptyStudyAreaError(f"receptor grid bounds {bounds} are empty (need maxx > minx and maxy > miny)")
    if cell_m <= 0:
        raise InvalidValueError(f"receptor grid cell_m must be > 0, got {cell_m}")
    xs = np.arange(minx + cell_m / 2, maxx, cell_m)
    ys = np.arange(miny + cell_m / 2, maxy, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    x, y = gx.ravel(), gy.ravel()
    pop = np.zeros(len(x))
    if population is not None and len(population):
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=crs)
        joined = gpd.sjoin(pts, population[[population_column, "geometry"]].reset_index(drop=True), predicate="within", how="inner")
        if len(joined):
            counts = joined.groupby("index_right").size()
            per_cell = joined["index_right"].map(population[population_column].reset_index(drop=True) / counts)
            pop[joined.index.to_numpy()] = per_cell.to_numpy()
    return Receptors(
        x=x,
        y=y,
        z=np.full(len(x), float(height_m)),
        population=pop,
        crs=crs,
        kind="grid",
        grid_shape=(len(ys), len(xs)),
        cell_m=float(cell_m),
    )


def receptors_from_points(points: gpd.GeoDataFrame, *, crs: Any, height_m: float = 4.0, id_column: str | None = None) -> Receptors:
    """Receptors at the given points (reprojected to ``crs``)."""
    if len(points) == 0:
        raise EmptyStudyAreaError("receptors_from_points: no points given")
    pts = points.to_crs(crs)
    ids = pts[id_column].to_numpy() if id_column else None
    return Receptors(
        x=pts.geometry.x.to_numpy(),
        y=pts.geometry.y.to_numpy(),
        z=np.full(len(pts), float(height_m)),
        population=np.zeros(len(pts)),
        crs=crs,
        kind="points",
        ids=ids,
    )


def receptors_facades(
    buildings: gpd.GeoDataFrame,
    *,
    crs: Any,
    spacing_m: float = 5.0,
    offset_m: float = 2.0,
    height_m: float = 4.0,
    population_column: str | None = None,
) -> Receptors:
    """Façade receptors: points ``offset_m`` in front of every building façade, every ``spacing_m``.

    The points follow each building's outline pushed out by ``offset_m`` (2 m, so the façade's own
    reflection is not counted: the END assesses the incident sound), at ``height_m`` (4 m for END
    maps). Points nearer to another building than to their own (inside it, or in front of a
    neighbour's façade past a party wall) are dropped. A building's population (column
    ``population_column``, else 0) is shared equally among its points; ``ids`` holds the row
    position of the building in ``buildings``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"pop": [40.0]}, geometry=[box(0, 0, 20, 10)], crs="EPSG:31370")
    >>> r = receptors_facades(b, crs="EPSG:31370", spacing_m=5.0, population_column="pop")
    >>> r.kind, len(r), round(float(r.population.sum()), 6)
    ('facade', 15, 40.0)
    """
    if spacing_m <= 0 or offset_m <= 0:
        raise InvalidValueError(f"receptors_facades: spacing_m and offset_m must be > 0, got {spacing_m}, {offset_m}")
    if population_column is not None and population_column not in buildings.columns:
        raise MissingFieldError("buildings", population_column, expected="a population count per building")
    b = buildings.to_crs(crs) if buildings.crs is not None else buildings.set_crs(crs)
    b = b.reset_index(drop=True)
    b["_row"] = np.arange(len(b))
    b = b[b.geometry.geom_type.isin(["Polygon", "MultiPolygon"]) & ~b.geometry.is_empty]
    if len(b) == 0:
        raise EmptyStudyAreaError("receptors_facades: no building polygons given")
    parts = b.explode(index_parts=False, ignore_index=True)
    rings = shapely.get_exterior_ring(shapely.buffer(parts.geometry.to_numpy(), offset_m, join_style="mitre"))
    lengths = shapely.length(rings)
    n = np.maximum(1, np.floor(lengths / spacing_m)).astype(np.int64)
    rep = np.repeat(np.arange(len(rings)), n)
    j = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n)
    pts = shapely.line_interpolate_point(rings[rep], (j + 0.5) * (lengths[rep] / n[rep]))
    row = parts["_row"].to_numpy()[rep]
    # keep a point only when its own building is the nearest one (drops points inside other buildings
    # and points that sit in front of a neighbour's façade, e.g. past a party wall)
    bgeoms = b.geometry.to_numpy()
    pos = np.searchsorted(b["_row"].to_numpy(), row)
    own = shapely.distance(pts, bgeoms[pos])
    _, nearest = shapely.STRtree(bgeoms).query_nearest(pts, return_distance=True, all_matches=False)
    keep = own <= nearest + 1e-6
    pts, row = pts[keep], row[keep]
    if len(pts) == 0:
        raise EmptyStudyAreaError("receptors_facades: every façade point falls inside a building")
    pop = np.zeros(len(pts))
    if population_column is not None:
        per_building = pd.to_numeric(buildings[population_column], errors="coerce").fillna(0.0).to_numpy(np.float64)
        counts = np.bincount(row, minlength=len(buildings))
        pop = per_building[row] / counts[row]
    xy = shapely.get_coordinates(pts)
    return Receptors(
        x=xy[:, 0],
        y=xy[:, 1],
        z=np.full(len(xy), float(height_m)),
        population=pop,
        crs=crs,
        kind="facade",
        ids=row,
        meta={"spacing_m": float(spacing_m), "offset_m": float(offset_m)},
    )


def population_out_of_buildings(receptors: Receptors, inside: npt.NDArray[np.bool_]) -> Receptors:
    """The receptors with the population of those ``inside`` a building moved to the nearest receptor outside.

    A map screened by buildings has no level inside them (NaN); the people a grid spreads there
    are counted at the nearest point in the open instead, which for a building's residents is a
    point in front of its façade. The total population is kept; with no receptor outside, the
    error says so.

    Examples
    --------
    >>> r = receptors_grid((0, 0, 30, 10), crs="EPSG:31370", cell_m=10, height_m=4.0, population=None)
    >>> r = Receptors(r.x, r.y, r.z, np.array([1.0, 5.0, 2.0]), r.crs, kind=r.kind, grid_shape=r.grid_shape, cell_m=r.cell_m)
    >>> population_out_of_buildings(r, np.array([False, True, False])).population.tolist()
    [6.0, 0.0, 2.0]
    """
    from scipy.spatial import cKDTree

    inside = np.asarray(inside, dtype=bool)
    if inside.shape != (len(receptors),):
        raise InvalidValueError(f"population_out_of_buildings: inside has shape {inside.shape}; expected ({len(receptors)},)")
    pop = np.asarray(receptors.population, dtype=np.float64).copy()
    move = inside & (pop != 0)
    if not move.any():
        return receptors
    out = np.flatnonzero(~inside)
    if len(out) == 0:
        raise EmptyStudyAreaError("population_out_of_buildings: every receptor lies inside a building; nowhere to count the people")
    _, k = cKDTree(np.column_stack([receptors.x[out], receptors.y[out]])).query(np.column_stack([receptors.x[move], receptors.y[move]]))
    moved = float(pop[move].sum())
    np.add.at(pop, out[k], pop[move])
    pop[move] = 0.0
    return Receptors(
        receptors.x, receptors.y, receptors.z, pop, receptors.crs, kind=receptors.kind, grid_shape=receptors.grid_shape,
        cell_m=receptors.cell_m, ids=receptors.ids, meta={**receptors.meta, "population_moved_out_of_buildings": moved},
    )  # fmt: skip
