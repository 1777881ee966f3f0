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

#: Side of the grid cells that bucket building edges (m): a few edges per cell in a dense centre.
OBSTACLE_CELL_M = 16.0


def no_obstacles() -> kernels.Obstacles:
    """No building at all: the map kernel propagates in open field.

    Examples
    --------
    >>> len(no_obstacles().cell_edges)
    0
    """
    z = np.zeros(0)
    return kernels.Obstacles(
        z, z, z, z, z, np.zeros(2, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, 4)), z, 0.0, 0.0, 1.0, 1, 1
    )


def building_obstacles(
    buildings: Buildings, bounds: tuple[float, float, float, float], *, cell_m: float = OBSTACLE_CELL_M
) -> kernels.Obstacles:
    """The edges of every footprint ring (outer walls and courtyards) within ``bounds`` (minx, miny, maxx, maxy), bucketed.

    Each edge carries its building's height and is listed in every grid cell its bounding box
    touches. Buildings outside ``bounds`` are left out (paths never leave the sources' and
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
    height = buildings.height_m[sel][part_of[ring_of[coord_of[:-1][same]]]]
    x0, y0 = min(minx, float(xy[:, 0].min())), min(miny, float(xy[:, 1].min()))
    nx = int(np.ceil((max(maxx, float(xy[:, 0].max())) - x0) / cell_m)) + 1
    ny = int(np.ceil((max(maxy, float(xy[:, 1].max())) - y0) / cell_m)) + 1
    ix0 = ((np.minimum(a[:, 0], b[:, 0]) - x0) // cell_m).astype(np.int64)
    ix1 = ((np.maximum(a[:, 0], b[:, 0]) - x0) // cell_m).astype(np.int64)
    iy0 = ((np.minimum(a[:, 1], b[:, 1]) - y0) // cell_m).astype(np.int64)
    iy1 = ((np.maximum(a[:, 1], b[:, 1]) - y0) // cell_m).astype(np.int64)
    nxs, nys = ix1 - ix0 + 1, iy1 - iy0 + 1
    counts = nxs * nys
    edge = np.repeat(np.arange(len(a), dtype=np.int64), counts)
    k = np.arange(len(edge), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    cell = (iy0[edge] + k // nxs[edge]) * nx + ix0[edge] + k % nxs[edge]
    order = np.argsort(cell, kind="stable")
    start = np.zeros(nx * ny + 1, dtype=np.int64)
    np.add.at(start, cell + 1, 1)
    entries = edge[order]
    ax, ay, bx, by = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
    height = np.ascontiguousarray(height, dtype=np.float64)
    return kernels.Obstacles(
        np.ascontiguousarray(ax),
        np.ascontiguousarray(ay),
        np.ascontiguousarray(bx),
        np.ascontiguousarray(by),
        height,
        np.cumsum(start).astype(np.int64),
        entries,
        np.ascontiguousarray(np.stack([ax, ay, bx - ax, by - ay], axis=1)[entries]),
        height[entries],
        float(x0),
        float(y0),
        float(cell_m),
        int(nx),
        int(ny),
    )
