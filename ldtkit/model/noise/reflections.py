"""Specular reflections on building façades (first and second order), as the map kernel sees them.

:func:`facade_reflectors` lists, for every receptor, the walls that can reflect sound to it (image
method): building edges within ``max_distance_m`` that the receptor sees in plan, not its own
façade. :func:`~ldtkit.model.kernels.noise.map_energy` then adds, for every point source, the
reflections on those walls whose specular point lies on the wall below its roof, times 1 − α of
the façade: with both legs (source → wall → receptor) in sight over the buildings, the open-field
transfer (divergence, ground and air over the unfolded path); where roofs rise above the unfolded
ray, the diffraction over their convex hull (ΔdifH/ΔdifF with the ground on either side, CNOSSOS-EU
2.5.21), as for the direct path. With ``order=2`` the second-order reflections follow as well:
source → wall A → wall B → receptor for every ordered pair of the receptor's walls, through the
image of the receptor's image in B in A's line, both specular points within their walls and below
their roofs, times (1 − α_A)(1 − α_B). Retro-diffraction at a wall's top is left out.

Examples
--------
>>> import shapely
>>> from ldtkit.model.buildings import Buildings
>>> from ldtkit.model.noise.screening import building_obstacles
>>> b = Buildings.from_arrays(["a"], [shapely.box(0, 0, 10, 10)], [9.0], crs="EPSG:32629")
>>> o = building_obstacles(b, (-50.0, -50.0, 50.0, 50.0), cell_m=20.0)
>>> r = facade_reflectors(o, np.array([5.0, 5.0]), np.array([20.0, 12.0]), max_distance_m=30.0)
>>> r.start.tolist()  # the first receptor sees the north wall; the second stands at its own façade
[0, 1, 1]
>>> r.wall[0, :2].tolist()  # the image of (5, 20) in the wall y = 10
[5.0, 0.0]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ldtkit.errors import InvalidValueError
from ldtkit.model.kernels import noise as kernels

FloatArray = npt.NDArray[np.float64]

#: Walls farther than this from a receptor (m) do not reflect to it.
REFLECTION_DISTANCE_M = 50.0
#: A wall whose line passes this close to a receptor (m), on a building with an edge as close, is the
#: receptor's own façade: façade receptors stand 2 m in front of it and exclude its reflection.
OWN_FACADE_M = 2.5
#: Most reflecting walls kept per receptor (the nearest).
MAX_WALLS = 64


def no_reflectors(n_receptors: int = 0) -> kernels.Reflectors:
    """No reflecting wall for any receptor.

    Examples
    --------
    >>> no_reflectors(3).start.tolist()
    [0, 0, 0, 0]
    """
    return kernels.Reflectors(np.zeros(n_receptors + 1, dtype=np.int64), np.zeros((0, 11)), np.zeros((0, 8)), 1)


def facade_reflectors(
    obstacles: kernels.Obstacles,
    x: FloatArray,
    y: FloatArray,
    *,
    max_distance_m: float = REFLECTION_DISTANCE_M,
    own_facade_m: float = OWN_FACADE_M,
    max_walls: int = MAX_WALLS,
    order: int = 1,
) -> kernels.Reflectors:
    """The walls of ``obstacles`` that reflect to each receptor (x, y), in the receptors' order.

    See the module docstring; rows of the result as in :class:`~ldtkit.model.kernels.noise.Reflectors`.
    ``order`` 2 adds the second-order reflections on pairs of those walls; orders above 2 are refused.

    Examples
    --------
    >>> import shapely
    >>> from ldtkit.model.buildings import Buildings
    >>> from ldtkit.model.noise.screening import building_obstacles
    >>> canyon = [shapely.box(0, 10, 60, 20), shapely.box(0, -20, 60, -10)]
    >>> b = Buildings.from_arrays(["n", "s"], canyon, [12.0, 12.0], crs="EPSG:32629")
    >>> o = building_obstacles(b, (-50.0, -50.0, 110.0, 50.0), cell_m=20.0)
    >>> r = facade_reflectors(o, np.array([30.0]), np.array([0.0]), order=2)
    >>> r.order, r.start.tolist()  # the street's two façades, each 10 m away
    (2, [0, 2])
    """
    if not max_distance_m > 0 or not own_facade_m >= 0 or max_walls < 1:
        raise InvalidValueError(
            f"facade_reflectors: max_distance_m must be > 0, own_facade_m >= 0 and max_walls >= 1, "
            f"got {max_distance_m}, {own_facade_m}, {max_walls}"
        )
    if order not in (1, 2):
        raise InvalidValueError(f"facade_reflectors: order must be 1 or 2 (reflections up to the second order), got {order!r}")
    rx = np.ascontiguousarray(x, dtype=np.float64)
    ry = np.ascontiguousarray(y, dtype=np.float64)
    if len(obstacles.cell_parts) == 0:
        return no_reflectors(len(rx))._replace(order=order)
    count, edges = kernels.reflecting_walls(rx, ry, obstacles, float(max_distance_m), float(own_facade_m), int(max_walls))
    start = np.concatenate([[0], np.cumsum(count)]).astype(np.int64)
    rows = edges[edges >= 0]  # row by row: each receptor's walls come first in its row
    rec = np.repeat(np.arange(len(rx)), count)
    ax, ay, ex, ey = (obstacles.edge_seg[rows, k] for k in range(4))
    l2 = ex * ex + ey * ey
    le = np.sqrt(l2)
    px, py = rx[rec], ry[rec]
    dl = ((px - ax) * ey - (py - ay) * ex) / le  # > 0: the receptor on the right of the edge
    sign = np.sign(dl)
    nx, ny = sign * ey / le, -sign * ex / le
    dist = np.abs(dl)
    wall = np.stack([px - 2 * dist * nx, py - 2 * dist * ny, ax, ay, ex, ey, nx, ny, dist, obstacles.height_m[rows], 1.0 / l2], axis=1)
    return kernels.Reflectors(start, np.ascontiguousarray(wall), np.ascontiguousarray(obstacles.keep[rows]), int(order))
