"""Buildings as the map kernel sees them: footprint edges with roof heights in a uniform grid.

:func:`building_obstacles` turns :class:`~ldtkit.model.buildings.Buildings` into the
:class:`~ldtkit.model.kernels.noise.Obstacles` that :func:`~ldtkit.model.kernels.noise.map_energy`
traverses for every source–receiver path (prepared once per map geometry); :func:`no_obstacles`
is the empty set (open-field propagation).

Examples
--------
>>> import shapely
>>> from ldtkit.model.buildings import Buildings
>>> b = Buildings.from_arrays(["a"], [shapely.box(0, 0, 10, 10)], [9.0], crs="EPSG:32629")
>>> o = building_obstacles(b, (-50.0, -50.0, 50.0, 50.0), cell_m=20.0)
>>> len(o.ex0), float(o.height_m.max())
(4, 9.0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

from ldtkit.errors import InvalidValueError
from ldtkit.model.kernels import noise as kernels

if TYPE_CHECKING:
    from ldtkit.model.buildings import Buildings

#: Side of the grid cells that bucket the building parts (m): a few parts per cell in a dense centre.
#: On Porto's centre, 32 m traces 3 km paths about a quarter faster than 16 m (fewer cells to walk,
#: each part tested once anyway) and 500 m paths as fast.
OBSTACLE_CELL_M = 32.0


def no_obstacles() -> kernels.Obstacles:
    """No building at all: the map kernel propagates in open field.

    Examples
    --------
    >>> len(no_obstacles().cell_parts)
    0
    """
    z = np.zeros(0)
    i = np.zeros(1, dtype=np.int64)
    return kernels.Obstacles(
        z, z, z, z, z, np.zeros((0, 4)), i, np.zeros((0, 4), dtype=np.int64), np.zeros((0, 3)), np.zeros(2, dtype=np.int64),
        np.zeros(0, dtype=np.int64), 0.0, 0.0, 1.0, 1, 1, np.zeros((0, 8)),
    )  # fmt: skip


def building_obstacles(
    buildings: Buildings, bounds: tuple[float, float, float, float], *, cell_m: float = OBSTACLE_CELL_M
) -> kernels.Obstacles:
    """The footprint parts (one polygon each, with its outer and courtyard rings) within ``bounds``
    (minx, miny, maxx, maxy), with their edges, bucketed.

    Each edge carries its building's height; each part is listed in every grid cell its bounding
    box touches. Buildings outside ``bounds`` are left out (paths never leave the sources' and
    receptors' extent).
    """
    if not cell_m > 0:
        raise InvalidValueError(f"building_obstacles: cell_m must be > 0, got {cell_m}")
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    sel = np.asarray(buildings.index.query(shapely.box(minx, miny, maxx, maxy)), dtype=np.int64)
    if len(sel) == 0:
        return no_obstacles()
    parts, part_of = shapely.get_parts(buildings.polygons[sel], return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, coord_of = shapely.get_coordinates(rings, return_index=True)
    same = coord_of[1:] == coord_of[:-1]
    a, b = xy[:-1][same], xy[1:][same]
    edge_part = ring_of[coord_of[:-1][same]]  # non-decreasing: the edges of a part are contiguous
    height = np.ascontiguousarray(buildings.height_m[sel][part_of[edge_part]], dtype=np.float64)
    n_parts = len(parts)
    part_start = np.searchsorted(edge_part, np.arange(n_parts + 1)).astype(np.int64)
    lo = part_start[:-1]
    bx0 = np.minimum.reduceat(np.minimum(a[:, 0], b[:, 0]), lo)
    bx1 = np.maximum.reduceat(np.maximum(a[:, 0], b[:, 0]), lo)
    by0 = np.minimum.reduceat(np.minimum(a[:, 1], b[:, 1]), lo)
    by1 = np.maximum.reduceat(np.maximum(a[:, 1], b[:, 1]), lo)
    x0, y0 = min(minx, float(xy[:, 0].min())), min(miny, float(xy[:, 1].min()))
    nx = int(np.ceil((max(maxx, float(xy[:, 0].max())) - x0) / cell_m)) + 1
    ny = int(np.ceil((max(maxy, float(xy[:, 1].max())) - y0) / cell_m)) + 1
    ix0 = ((bx0 - x0) // cell_m).astype(np.int64)
    ix1 = ((bx1 - x0) // cell_m).astype(np.int64)
    iy0 = ((by0 - y0) // cell_m).astype(np.int64)
    iy1 = ((by1 - y0) // cell_m).astype(np.int64)
    nxs, nys = ix1 - ix0 + 1, iy1 - iy0 + 1
    counts = nxs * nys
    part = np.repeat(np.arange(n_parts, dtype=np.int64), counts)
    k = np.arange(len(part), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    cell = (iy0[part] + k // nxs[part]) * nx + ix0[part] + k % nxs[part]
    order = np.argsort(cell, kind="stable")
    start = np.zeros(nx * ny + 1, dtype=np.int64)
    np.add.at(start, cell + 1, 1)
    ax, ay, ex, ey = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
    return kernels.Obstacles(
        np.ascontiguousarray(ax),
        np.ascontiguousarray(ay),
        np.ascontiguousarray(ex),
        np.ascontiguousarray(ey),
        height,
        np.ascontiguousarray(np.stack([ax, ay, ex - ax, ey - ay], axis=1)),
        part_start,
        np.ascontiguousarray(np.stack([ix0, ix1, iy0, iy1], axis=1)),
        np.ascontiguousarray(np.stack([(bx0 + bx1) / 2, (by0 + by1) / 2, np.hypot(bx1 - bx0, by1 - by0) / 2 + 1e-6], axis=1)),
        np.cumsum(start).astype(np.int64),
        part[order],
        float(x0),
        float(y0),
        float(cell_m),
        int(nx),
        int(ny),
        np.ascontiguousarray(1.0 - buildings.alpha[sel][part_of[edge_part]], dtype=np.float64),
    )
