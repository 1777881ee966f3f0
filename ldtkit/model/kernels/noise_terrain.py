"""Numba kernels of terrain in noise maps: bilinear ground elevation and the ground under each path.

:func:`bilinear_many` samples a regular elevation grid; the map kernel :func:`terrain_energy` evaluates
every source–receptor pair over the mean plane of the ground profile sampled along it (CNOSSOS-EU
Annex II 2.5.11), with diffraction over the terrain where it rises above the line of sight (2.5.21).
Only hot loops live here; :mod:`ldtkit.model.noise.terrain` prepares the grid.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

FloatArray = npt.NDArray[np.float64]


@njit(cache=True)
def bilinear(z: FloatArray, x0: float, y0: float, step: float, x: float, y: float) -> float:
    """Elevation at (x, y) on the grid ``z`` (ny, nx) of cell centres (x0 + j·step, y0 + i·step); NaN outside."""
    ny, nx = z.shape
    u = (x - x0) / step
    v = (y - y0) / step
    if not (u >= -1e-9 and v >= -1e-9 and u <= nx - 1 + 1e-9 and v <= ny - 1 + 1e-9):
        return math.nan
    j = min(max(int(math.floor(u)), 0), nx - 2)
    i = min(max(int(math.floor(v)), 0), ny - 2)
    fu = u - j
    fv = v - i
    return (z[i, j] * (1.0 - fu) + z[i, j + 1] * fu) * (1.0 - fv) + (z[i + 1, j] * (1.0 - fu) + z[i + 1, j + 1] * fu) * fv


@njit(cache=True)
def bilinear_many(z: FloatArray, x0: float, y0: float, step: float, x: FloatArray, y: FloatArray, out: FloatArray) -> None:
    """:func:`bilinear` at every point (x[k], y[k]) into ``out[k]``."""
    for k in range(len(x)):
        out[k] = bilinear(z, x0, y0, step, x[k], y[k])
