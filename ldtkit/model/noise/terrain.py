"""Ground elevation for noise paths: a DEM raster or triangulated breaklines.

CNOSSOS-EU evaluates the ground and diffraction terms over the mean plane of the terrain profile
under each path (Directive 2015/996 Annex II 2.5.11 as amended by 2021/1226). :class:`Terrain`
holds the ground elevation of a study area on a regular grid (bilinear between the cell centres)
or as a triangulated irregular network (linear on each triangle):

- :func:`terrain_from_raster` reads a DEM (a GeoTIFF or any raster GDAL reads) in the city's CRS;
- :func:`terrain_from_breaklines` triangulates 3-D breaklines (the terrain of ISO/TR 17534-4).

:meth:`Terrain.elevation` samples it at many points at once, :meth:`Terrain.profile` gives the
piecewise-linear ground under a straight path (the breakpoints where it changes slope), and
:meth:`Terrain.as_grid` the regular grid that the map kernels sample.

Examples
--------
>>> t = terrain_from_breaklines([[(0, 0, 0), (100, 0, 0)], [(0, 100, 10), (100, 100, 10)]])
>>> t.elevation([50.0], [25.0]).round(3).tolist()
[2.5]
>>> s, z = t.profile((50, 0), (50, 100))
>>> s.tolist(), z.tolist()
([0.0, 100.0], [0.0, 10.0])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ldtkit.errors import InputFileNotFoundError, InvalidValueError, UnreadableFormatError
from ldtkit.model.kernels import noise_terrain as kernels

if TYPE_CHECKING:
    from scipy.interpolate import LinearNDInterpolator

    from ldtkit.model.kernels.noise import BandTerms, Ground, Obstacles, Segments

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Breakpoints of a profile closer to the straight line through their neighbours than this (m) are dropped.
COLLINEAR_M = 1e-3
#: Grid step (m) of a triangulated terrain resampled for the map kernels.
GRID_STEP_M = 1.0


@dataclass(frozen=True, eq=False)
class Terrain:
    """Ground elevation of a study area (m), on a regular grid or a triangulation.

    A grid holds ``z_m`` (ny, nx) at the cell centres ``x0_m + j·step_m``, ``y0_m + i·step_m``
    (rows going north), NaN where the raster has no data; elevation is bilinear between the centres
    and undefined (NaN) outside them. A triangulation holds its vertices ``points_xyz`` (n, 3) and
    ``triangles`` (m, 3); elevation is linear on each triangle and NaN outside their hull.
    ``source`` names where it came from (a file, or ``"breaklines"``) for messages; ``crs`` is the
    raster's CRS when known.

    Examples
    --------
    >>> t = terrain_from_grid(np.array([[0.0, 10.0], [0.0, 10.0]]), x0_m=0.0, y0_m=0.0, step_m=10.0)
    >>> t.elevation([5.0, 10.0], [5.0, 0.0]).tolist()
    [5.0, 10.0]
    """

    source: str
    z_m: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    x0_m: float = 0.0
    y0_m: float = 0.0
    step_m: float = 1.0
    points_xyz: FloatArray | None = None
    triangles: IntArray | None = None
    crs: str | None = None

    @property
    def is_grid(self) -> bool:
        """Whether the elevation is a regular grid (else a triangulation)."""
        return self.points_xyz is None

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the area where the elevation is defined (the grid's cell centres)."""
        if self.points_xyz is None:
            ny, nx = self.z_m.shape
            return (self.x0_m, self.y0_m, self.x0_m + (nx - 1) * self.step_m, self.y0_m + (ny - 1) * self.step_m)
        p = self.points_xyz
        return (float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max()))

    @cached_property
    def _interpolator(self) -> LinearNDInterpolator:
        from scipy.interpolate import LinearNDInterpolator
        from scipy.spatial import Delaunay

        assert self.points_xyz is not None and self.triangles is not None
        tri = Delaunay(self.points_xyz[:, :2])
        return LinearNDInterpolator(tri, self.points_xyz[:, 2], fill_value=np.nan)

    @cached_property
    def _edges(self) -> tuple[FloatArray, FloatArray]:
        """The triangulation's unique edges as start points (k, 2) and vectors (k, 2)."""
        assert self.points_xyz is not None and self.triangles is not None
        t = self.triangles
        e = np.sort(np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]]), axis=1)
        e = np.unique(e, axis=0)
        a = self.points_xyz[e[:, 0], :2]
        return a, self.points_xyz[e[:, 1], :2] - a

    def elevation(self, x_m: npt.ArrayLike, y_m: npt.ArrayLike) -> FloatArray:
        """Ground elevation (m) at the points (x, y); NaN outside the terrain or in a nodata hole.

        Examples
        --------
        >>> t = terrain_from_grid(np.array([[1.0, 1.0], [3.0, 3.0]]), x0_m=0.0, y0_m=0.0, step_m=2.0)
        >>> t.elevation([1.0, 5.0], [1.0, 1.0]).tolist()
        [2.0, nan]
        """
        x = np.ascontiguousarray(np.asarray(x_m, dtype=np.float64).ravel())
        y = np.ascontiguousarray(np.asarray(y_m, dtype=np.float64).ravel())
        if x.shape != y.shape:
            raise InvalidValueError(f"terrain {self.source}: x and y have different lengths ({len(x)} and {len(y)})")
        if self.points_xyz is None:
            out = np.empty(len(x))
            kernels.bilinear_many(self.z_m, self.x0_m, self.y0_m, self.step_m, x, y, out)
            return out
        return np.asarray(self._interpolator(np.column_stack([x, y])), dtype=np.float64)

    def profile(self, start_xy: Sequence[float], end_xy: Sequence[float]) -> tuple[FloatArray, FloatArray]:
        """The ground under the straight path from ``start_xy`` to ``end_xy``: distances from the start
        and elevations (m) of the breakpoints where its slope changes, the ends included.

        On a triangulation these are the crossings of the triangle edges (exact); on a grid the
        crossings of the lines between cell centres and the midpoints between them (bilinear is
        quadratic inside a cell along an oblique path: the chords are within step²·|z_xy|/8). Raises
        :class:`~ldtkit.errors.InvalidValueError` naming the terrain's source where the path leaves
        the terrain or crosses a nodata hole.
        """
        x0, y0 = float(start_xy[0]), float(start_xy[1])
        x1, y1 = float(end_xy[0]), float(end_xy[1])
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy)
        if self.points_xyz is None:
            t = np.unique(np.concatenate([[0.0], _grid_crossings(x0, y0, dx, dy, self.x0_m, self.y0_m, self.step_m), [1.0]]))
            t = np.concatenate([t, (t[:-1] + t[1:]) / 2.0])
        else:
            a, v = self._edges
            # the path P0 + t·D meets the edge A + u·V where t, u in [0, 1]
            den = dx * v[:, 1] - dy * v[:, 0]
            ok = np.abs(den) > 1e-12
            wx, wy = a[ok, 0] - x0, a[ok, 1] - y0
            t = (wx * v[ok, 1] - wy * v[ok, 0]) / den[ok]
            u = (wx * dy - wy * dx) / den[ok]
            t = t[(t > 0.0) & (t < 1.0) & (u >= -1e-9) & (u <= 1.0 + 1e-9)]
        t = np.unique(np.concatenate([[0.0], t, [1.0]]))
        z = self.elevation(x0 + t * dx, y0 + t * dy)
        if not np.isfinite(z).all():
            bad = int(np.flatnonzero(~np.isfinite(z))[0])
            raise InvalidValueError(
                f"terrain {self.source}: no elevation at ({x0 + t[bad] * dx:.1f}, {y0 + t[bad] * dy:.1f}) on the path from "
                f"({x0:.1f}, {y0:.1f}) to ({x1:.1f}, {y1:.1f}) (outside the terrain or a nodata hole); expected the terrain "
                "to cover every path"
            )
        s = t * length
        keep = _not_collinear(s, z, COLLINEAR_M)
        return s[keep], z[keep]

    def as_grid(self, *, step_m: float = GRID_STEP_M) -> Terrain:
        """This terrain on a regular grid (itself if it is one; a triangulation sampled every ``step_m``)."""
        if self.points_xyz is None:
            return self
        xmin, ymin, xmax, ymax = self.bounds
        nx = int(math.floor((xmax - xmin) / step_m)) + 1
        ny = int(math.floor((ymax - ymin) / step_m)) + 1
        gx, gy = np.meshgrid(xmin + step_m * np.arange(nx), ymin + step_m * np.arange(ny))
        z = self.elevation(gx.ravel(), gy.ravel()).reshape(ny, nx)
        return Terrain(self.source, np.ascontiguousarray(z), float(xmin), float(ymin), float(step_m), crs=self.crs)


def _grid_crossings(x0: float, y0: float, dx: float, dy: float, gx0: float, gy0: float, step: float) -> FloatArray:
    """Path parameters t in (0, 1) where x0 + t·dx or y0 + t·dy crosses a grid line gx0 + k·step, gy0 + k·step."""
    out = []
    for p0, d, g0 in ((x0, dx, gx0), (y0, dy, gy0)):
        if abs(d) < 1e-12:
            continue
        k0, k1 = sorted(((p0 - g0) / step, (p0 + d - g0) / step))
        k = np.arange(math.floor(k0) + 1, math.ceil(k1))
        out.append((g0 + k * step - p0) / d)
    t = np.concatenate(out) if out else np.zeros(0)
    return np.asarray(t[(t > 0.0) & (t < 1.0)], dtype=np.float64)


def _not_collinear(s: FloatArray, z: FloatArray, tol_m: float) -> npt.NDArray[np.bool_]:
    """Mask of the profile points to keep: the ends and every point off the line through its kept neighbours."""
    keep = np.ones(len(s), dtype=bool)
    last = 0
    for i in range(1, len(s) - 1):
        # the point i is kept if it is off the line from the last kept point to the next point
        ds = s[i + 1] - s[last]
        zi = z[last] + (z[i + 1] - z[last]) * (s[i] - s[last]) / ds if ds > 0 else z[i]
        if abs(z[i] - zi) <= tol_m:
            keep[i] = False
        else:
            last = i
    return keep


def terrain_from_grid(
    z_m: npt.ArrayLike, *, x0_m: float, y0_m: float, step_m: float, source: str = "grid", crs: str | None = None
) -> Terrain:
    """A :class:`Terrain` from elevations ``z_m`` (ny, nx) at the cell centres (x0 + j·step, y0 + i·step), NaN = no data.

    Examples
    --------
    >>> terrain_from_grid(np.zeros((3, 4)), x0_m=10.0, y0_m=20.0, step_m=5.0).bounds
    (10.0, 20.0, 25.0, 30.0)
    """
    z = np.ascontiguousarray(np.asarray(z_m, dtype=np.float64))
    if z.ndim != 2 or min(z.shape) < 2:
        raise InvalidValueError(f"terrain {source}: expected a grid of at least 2 x 2 elevations, got shape {z.shape}")
    if not (step_m > 0 and math.isfinite(step_m)):
        raise InvalidValueError(f"terrain {source}: grid step must be > 0 m, got {step_m}")
    return Terrain(source, z, float(x0_m), float(y0_m), float(step_m), crs=crs)


def terrain_from_breaklines(
    lines_xyz: Sequence[Sequence[Sequence[float]]], *, step_m: float | None = None, source: str = "breaklines"
) -> Terrain:
    """A triangulated :class:`Terrain` from 3-D breaklines (polylines of (x, y, z), z the ground elevation).

    The vertices of the lines are triangulated (Delaunay) and the ground is linear on each triangle,
    as the reference software of ISO/TR 17534-4 builds its terrain. With ``step_m`` the lines are
    first densified to vertices at most that far apart, so that the triangulation follows long
    lines more closely (where lines cross at different elevations the result depends on it).

    Examples
    --------
    >>> t = terrain_from_breaklines([[(0, 0, 0), (10, 0, 0), (10, 10, 5), (0, 10, 5), (0, 0, 0)]])
    >>> float(t.elevation([5.0], [5.0])[0])
    2.5
    """
    from scipy.spatial import Delaunay, QhullError

    pts: list[FloatArray] = []
    for k, line in enumerate(lines_xyz):
        a = np.asarray(line, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != 3 or len(a) < 1 or not np.isfinite(a).all():
            raise InvalidValueError(f"terrain {source}: breakline {k} must be a list of finite (x, y, z) points")
        pts.append(a[:1])
        for p, q in zip(a[:-1], a[1:]):
            n = 1 if step_m is None else max(1, math.ceil(math.hypot(*(q[:2] - p[:2])) / step_m))
            pts.append(p + (q - p) * (np.arange(1, n + 1) / n)[:, None])
    if not pts:
        raise InvalidValueError(f"terrain {source}: no breaklines")
    if step_m is not None and not step_m > 0:
        raise InvalidValueError(f"terrain {source}: step_m must be > 0 m, got {step_m}")
    xyz = np.concatenate(pts)
    # one vertex per (x, y): where lines meet they share it
    _, first = np.unique(np.round(xyz[:, :2], 6), axis=0, return_index=True)
    xyz = np.ascontiguousarray(xyz[np.sort(first)])
    try:
        tri = Delaunay(xyz[:, :2])
    except (QhullError, ValueError) as exc:
        raise InvalidValueError(f"terrain {source}: the breaklines do not span an area ({len(xyz)} distinct points)") from exc
    return Terrain(source, points_xyz=xyz, triangles=np.asarray(tri.simplices, dtype=np.int64))


def terrain_from_raster(path: str | Path, *, crs: Any = None, band: int = 1) -> Terrain:
    """A :class:`Terrain` from a DEM raster (GeoTIFF or any single-band raster GDAL reads), elevations in m.

    ``crs`` (anything :class:`pyproj.CRS` takes) is the CRS the terrain must be in, the city's; a raster
    in another CRS, or with none, is refused (reproject it first, e.g. ``gdalwarp -t_srs``). Rotated
    or non-square cells are refused too. Nodata cells become NaN (paths crossing them are refused).

    Examples
    --------
    >>> t = terrain_from_raster("dem.tif", crs="EPSG:31370")  # doctest: +SKIP
    """
    import rasterio
    from rasterio.errors import RasterioIOError

    p = Path(path)
    if not p.exists():
        raise InputFileNotFoundError(p, what="terrain raster")
    try:
        with rasterio.open(p) as src:
            data = src.read(band, masked=True).astype(np.float64)
            transform, raster_crs = src.transform, src.crs
    except (RasterioIOError, IndexError) as exc:
        raise UnreadableFormatError(p, expected=f"a DEM raster (GeoTIFF) with band {band} of ground elevations", detail=str(exc)) from None
    if crs is not None:
        from pyproj import CRS

        want = CRS.from_user_input(crs)
        if raster_crs is None:
            raise InvalidValueError(f"{p}: the DEM has no CRS; expected {want.to_string()} (the city's CRS)")
        if CRS.from_user_input(raster_crs.to_wkt()) != want:
            raise InvalidValueError(
                f"{p}: the DEM is in {raster_crs.to_string()}; expected {want.to_string()} (the city's CRS): reproject it first"
            )
    if transform.b != 0 or transform.d != 0 or not math.isclose(abs(transform.a), abs(transform.e), rel_tol=1e-6):
        raise UnreadableFormatError(p, expected="a DEM on a north-up grid of square cells", detail=f"transform {tuple(transform)[:6]}")
    z = np.ma.filled(data, np.nan)
    step = abs(float(transform.a))
    # cell centres; rows of the raster go south (e < 0): flip them so that row i is at y0 + i·step
    xc0 = float(transform.c) + transform.a / 2.0
    if transform.a < 0:
        z, xc0 = z[:, ::-1], xc0 + transform.a * (z.shape[1] - 1)
    yc0 = float(transform.f) + transform.e / 2.0
    if transform.e < 0:
        z, yc0 = z[::-1, :], yc0 + transform.e * (z.shape[0] - 1)
    return terrain_from_grid(z, x0_m=xc0, y0_m=yc0, step_m=step, source=str(p), crs=None if raster_crs is None else raster_crs.to_string())


#: Most samples of the terrain profile along one path in maps (longer paths are sampled more coarsely).
PROFILE_SAMPLES_MAX = 1024


def terrain_grid(terrain: Terrain, *, sample_m: float | None = None, max_samples: int = PROFILE_SAMPLES_MAX) -> kernels.TerrainGrid:
    """The map kernel's view of ``terrain``: its regular grid (a triangulation resampled every
    :data:`GRID_STEP_M`) and the spacing of the profile samples along each path (default: the grid step).

    Examples
    --------
    >>> g = terrain_grid(terrain_from_grid(np.zeros((3, 3)), x0_m=0.0, y0_m=0.0, step_m=2.0))
    >>> g.step, g.sample_m, g.max_samples
    (2.0, 2.0, 1024)
    """
    g = terrain.as_grid()
    step = g.step_m if sample_m is None else float(sample_m)
    if not step > 0 or max_samples < 2:
        raise InvalidValueError(f"terrain {terrain.source}: sample_m must be > 0 and max_samples >= 2, got {sample_m}, {max_samples}")
    hole = ~np.isfinite(g.z_m)
    z = np.ascontiguousarray(np.where(hole, 0.0, g.z_m))
    return kernels.TerrainGrid(z, g.x0_m, g.y0_m, g.step_m, step, int(max_samples), np.ascontiguousarray(hole, dtype=np.uint8))


def check_covers(terrain: Terrain, x_m: FloatArray, y_m: FloatArray, *, what: str) -> None:
    """Raise :class:`~ldtkit.errors.InvalidValueError` naming the terrain's source if a point (x, y) has no elevation."""
    bad = np.flatnonzero(~np.isfinite(terrain.elevation(x_m, y_m)))
    if len(bad):
        i = int(bad[0])
        raise InvalidValueError(
            f"terrain {terrain.source}: no elevation under {len(bad)} {what} (the first at ({float(x_m[i]):.1f}, "
            f"{float(y_m[i]):.1f})); expected the terrain to cover the receptors and the roads within the cutoff"
        )


def terrain_energies(
    terrain: Terrain,
    grid: kernels.TerrainGrid,
    receptors_xyz: tuple[FloatArray, FloatArray, FloatArray],
    segments: Segments,
    w_seg: FloatArray,
    *,
    cutoff_m: float,
    spacing_ratio: float,
    ground: Ground,
    bands: BandTerms,
    obstacles: Obstacles | None = None,
) -> tuple[FloatArray, int]:
    """Band energies (n_receptors, n_periods, 8) at receptors (x, y, height above the ground) over ``terrain``
    and the number of pairs evaluated (see :meth:`~ldtkit.model.noise.propagation.NoisePropagation.energies`).

    Every source–receptor pair is evaluated over the mean plane of the terrain profile under it
    (:func:`ldtkit.model.kernels.noise_terrain.terrain_energy`), without far-field cells, screened by the
    buildings of ``obstacles`` (:func:`~ldtkit.model.noise.screening.building_obstacles`); a path that
    leaves the terrain or crosses a nodata hole raises :class:`~ldtkit.errors.InvalidValueError`.
    """
    from ldtkit.model.noise.screening import no_obstacles
    from ldtkit.model.noise.sources import SOURCE_HEIGHT_M

    x, y, h = (np.ascontiguousarray(a, dtype=np.float64) for a in receptors_xyz)
    obst = no_obstacles() if obstacles is None else obstacles
    energy, count, missed = kernels.terrain_energy(
        x, y, h, segments, w_seg, SOURCE_HEIGHT_M, float(cutoff_m), float(spacing_ratio), grid, ground, bands, obst
    )
    if missed.any():
        raise InvalidValueError(
            f"terrain {terrain.source}: {int(missed.sum())} source–receptor paths leave the terrain or cross a "
            "nodata hole; expected the terrain to cover the receptors and the roads within the cutoff"
        )
    return energy, int(count.sum())
