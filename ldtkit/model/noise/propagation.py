"""The traffic-independent part of a noise map, prepared once and reused across scenarios.

:func:`noise_propagation` sorts the source segments into a pyramid of nested grid cells (distant
cells act as one point source), orders the receptors in spatial blocks and, by default, tabulates
the ground and air terms per receptor height. :meth:`NoisePropagation.energies` then sums the
band energies at every receptor for given line powers, in the numba kernel
:func:`ldtkit.model.kernels.noise.map_energy`.

Examples
--------
>>> prop = noise_propagation(net, receptors)  # doctest: +SKIP
>>> energy, n_pairs = prop.energies(w_line)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numba
import numpy as np
import numpy.typing as npt

from ldtkit.errors import InvalidValueError
from ldtkit.model.kernels import noise as kernels
from ldtkit.model.kernels.noise_terrain import TerrainGrid
from ldtkit.model.noise.attenuation import atmospheric_absorption_db_km
from ldtkit.model.noise.reflections import REFLECTION_DISTANCE_M, facade_reflectors, no_reflectors
from ldtkit.model.noise.screening import OBSTACLE_CELL_M, building_obstacles, no_obstacles
from ldtkit.model.noise.sources import SOURCE_HEIGHT_M, NoiseSources, noise_sources
from ldtkit.model.noise.tables import A_WEIGHTING_DB, BANDS_HZ

if TYPE_CHECKING:
    from ldtkit.model.buildings import Buildings
    from ldtkit.model.network import RoadNetwork
    from ldtkit.model.noise.terrain import Terrain
    from ldtkit.model.receptors import Receptors

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: With buildings, point sources within this distance of a receptor (m, projected) are always evaluated
#: in full; their energy sets the allowance for leaving out negligible screened paths beyond.
PRUNE_NEAR_M = 100.0
#: Default bound (dB) of how much leaving out negligible screened and reflected paths may lower a level.
PRUNE_DB = 0.1


@dataclass(frozen=True)
class MapArrays:
    """The kernel inputs of a map that do not depend on traffic, in the groups the kernels take.

    ``receptor_order`` lists the receptors block by block (``block_start`` in that order; receptors
    inside a building are left out); ``z_index`` is each receptor's row of the transfer table (in
    the receptors' own order); ``obstacles`` the building edges that screen paths (empty: open field);
    ``reflectors`` the walls that reflect to each receptor, in ``receptor_order`` (none: no reflection).
    """

    segments: kernels.Segments
    pyramid: kernels.Pyramid
    bands: kernels.BandTerms
    table: kernels.TransferTable
    z_index: IntArray
    receptor_order: IntArray
    block_start: IntArray
    obstacles: kernels.Obstacles
    reflectors: kernels.Reflectors


@dataclass(frozen=True)
class NoisePropagation:
    """Everything about a noise map that does not depend on traffic, reusable across scenarios.

    Holds the source segments (sorted by grid cell), the pyramid of nested source cells used as
    far-field point sources, the receptors, the propagation settings and (``method="table"``) the
    ground/air transfer tables. Build with :func:`noise_propagation`; pass to
    :func:`~ldtkit.model.noise.compute_noise` as ``propagation=`` so that a scenario only
    recomputes emission and the source–receiver sums.
    """

    sources: NoiseSources
    receptors: Receptors
    cutoff_m: float
    ground_g: float
    g_source: float
    p_favourable: float
    temperature_c: float
    humidity_pct: float
    spacing_ratio: float
    method: str
    arrays: MapArrays
    network_links: int = 0
    buildings: Buildings | None = None
    inside_building: npt.NDArray[np.bool_] | None = None
    reflection_order: int = 0
    prune_db: float = 0.0
    terrain: Terrain | None = None
    terrain_grid: TerrainGrid | None = None

    @property
    def screening(self) -> str:
        """One line saying how buildings enter the map, e.g. ``"open-field propagation: no building data"``."""
        if self.terrain is not None:
            what = "no building data" if self.buildings is None else f"screening by {len(self.buildings)} buildings, no reflections"
            return f"propagation over the terrain of {self.terrain.source}, diffraction over it and the roofs; {what}"
        if self.buildings is None or len(self.arrays.obstacles.cell_parts) == 0:
            return "open-field propagation: no building data"
        refl = {0: "", 1: ", first-order reflections on their façades", 2: ", reflections on their façades up to the second order"}[
            self.reflection_order
        ]
        return f"screening by {len(self.buildings)} buildings ({self.buildings.source or 'footprints'}), diffraction over their roofs{refl}"

    @property
    def prunes(self) -> bool:
        """Whether maps leave out negligible screened or reflected paths (``prune_db`` > 0 with buildings, flat ground)."""
        return self.prune_db > 0 and len(self.arrays.obstacles.cell_parts) > 0 and self.terrain_grid is None

    @property
    def far_field(self) -> bool:
        """Whether distant source cells act as one point source (``far_field=True`` when prepared)."""
        return bool(np.isfinite(self.arrays.pyramid.theta))

    def energies(
        self,
        w_line: FloatArray,
        *,
        w_reference: FloatArray | None = None,
        only_segments: npt.NDArray[np.bool_] | None = None,
        blocks: npt.NDArray[np.int64] | None = None,
        progress: bool = False,
    ) -> tuple[FloatArray, int]:
        """Band energies (linear) at every receptor for per-metre line powers ``w_line`` (n_periods, n_lines, 8).

        Distant groups of sources act as one point at their power-weighted centroid; the weights
        are ``w_reference`` (n_lines, 8), by default the first period of ``w_line``. For a fixed
        reference the energies are linear in ``w_line`` and each period is independent of the
        others, so maps computed together (periods of several scenarios stacked) equal maps
        computed one by one. Returns the energies (n_receptors, n_periods, 8) and the number of
        source–receptor evaluations. Receptors inside a building get NaN.

        ``only_segments`` (n_segments, in :attr:`arrays` order) restricts the segments evaluated
        one by one near the receptors to those flagged; the others must have no power in
        ``w_line`` (used for maps of power changes, :mod:`ldtkit.model.noise.incremental`).
        ``blocks`` (increasing indices of the receptor blocks, :attr:`MapArrays.block_start`)
        evaluates only the receptors of those blocks, as the whole map would (the others get 0).
        """
        from tqdm.auto import tqdm  # only here: in a notebook tqdm.auto imports the widget machinery

        a = self.arrays
        s = self.sources
        r = self.receptors
        w_seg = np.ascontiguousarray(np.transpose(w_line, (1, 0, 2))[s.seg_line])
        w_ref = np.ascontiguousarray((w_line[0] if w_reference is None else w_reference)[s.seg_line])
        clusters = kernels.ClusterPowers(
            *kernels.cluster_power(w_seg, w_ref, a.segments, a.pyramid.level_nx, a.pyramid.level_offset, 10.0 ** (A_WEIGHTING_DB / 10.0))
        )
        segments = a.segments
        if only_segments is not None:
            rows = np.flatnonzero(only_segments)
            n_cells = len(segments.cell_start) - 1
            start = np.concatenate([[0], np.cumsum(np.bincount(segments.cell[rows], minlength=n_cells))]).astype(np.int64)
            g = segments
            segments = kernels.Segments(g.x0[rows], g.y0[rows], g.x1[rows], g.y1[rows], g.length_m[rows], g.cell[rows], start)
            w_seg = np.ascontiguousarray(w_seg[rows])
        if self.terrain_grid is not None:
            from ldtkit.model.noise.terrain import terrain_energies

            assert self.terrain is not None
            open_ = a.receptor_order  # the receptors outside buildings
            e, n_pairs = terrain_energies(
                self.terrain, self.terrain_grid, (r.x[open_], r.y[open_], r.z[open_]), segments, w_seg, cutoff_m=self.cutoff_m,
                spacing_ratio=self.spacing_ratio, bands=a.bands, obstacles=a.obstacles,
                ground=kernels.Ground(g_path=self.ground_g, g_source=self.g_source, p_favourable=self.p_favourable),
            )  # fmt: skip
            out = np.full((len(r), w_line.shape[0], 8), np.nan)
            out[open_] = e
            return out, n_pairs
        # power changes (only_segments) may be negative: no allowance can be taken from them
        eps = 10.0 ** (self.prune_db / 10.0) - 1.0 if only_segments is None else 0.0
        settings = kernels.MapSettings(
            source_height_m=SOURCE_HEIGHT_M,
            cutoff_m=self.cutoff_m,
            spacing_ratio=self.spacing_ratio,
            near_m=PRUNE_NEAR_M,
            prune_epsilon=float(eps),
            a_weight=10.0 ** (np.asarray(A_WEIGHTING_DB, dtype=np.float64) / 10.0),
        )
        ground = kernels.Ground(g_path=self.ground_g, g_source=self.g_source, p_favourable=self.p_favourable)
        order, bstart = a.receptor_order, a.block_start
        rx, ry, rz, zi = r.x[order], r.y[order], r.z[order], a.z_index[order]
        out = np.zeros((len(r), w_line.shape[0], 8))
        n_pairs = 0
        nblocks = len(bstart) - 1
        # chunks of blocks for the progress bar: about 50, of at least 200 blocks each
        edges = np.unique(np.linspace(0, nblocks, max(2, min(51, nblocks // 200 + 1))).astype(np.int64))
        chunks = list(zip(edges[:-1], edges[1:]))
        if blocks is not None:  # runs of consecutive blocks
            cut = np.flatnonzero(np.diff(blocks) != 1) + 1
            chunks = [(int(run[0]), int(run[-1]) + 1) for run in np.split(np.asarray(blocks, dtype=np.int64), cut) if len(run)]
        for b0, b1 in tqdm(chunks, desc="noise map", unit="block", disable=not progress):
            lo, hi = bstart[b0], bstart[b1]
            receivers = kernels.Receivers(rx[lo:hi], ry[lo:hi], rz[lo:hi], zi[lo:hi], bstart[b0 : b1 + 1] - lo)
            rf = a.reflectors
            refl = kernels.Reflectors(rf.start[lo : hi + 1], rf.wall, rf.keep, rf.order) if len(rf.wall) else no_reflectors(hi - lo)
            e, cnt = _map_energy_balanced(
                receivers, segments, w_seg, a.pyramid, clusters, settings, ground, a.bands, a.table, a.obstacles, refl
            )
            out[order[lo:hi]] = e
            n_pairs += int(cnt.sum())
        if self.inside_building is not None:
            out[self.inside_building] = np.nan
        return out, n_pairs


def _map_energy_balanced(
    receivers: kernels.Receivers,
    segments: kernels.Segments,
    w_seg: FloatArray,
    pyramid: kernels.Pyramid,
    clusters: kernels.ClusterPowers,
    settings: kernels.MapSettings,
    ground: kernels.Ground,
    bands: kernels.BandTerms,
    table: kernels.TransferTable,
    obstacles: kernels.Obstacles,
    reflectors: kernels.Reflectors,
) -> tuple[FloatArray, IntArray]:
    """:func:`ldtkit.model.kernels.noise.map_energy` with dynamic scheduling of receptor blocks.

    Blocks differ a lot in work (a block beside a motorway junction sees many more sources
    than one in a park); numba's default static split leaves a thread idle, small chunks don't.
    """
    previous = numba.set_parallel_chunksize(4)
    try:
        return kernels.map_energy(receivers, segments, w_seg, pyramid, clusters, settings, ground, bands, table, obstacles, reflectors)
    finally:
        numba.set_parallel_chunksize(previous)


def _check_settings(*, method: str, cutoff_m: float, ground_g: float, g_source: float, p_favourable: float, spacing_ratio: float) -> None:
    """Reject settings outside their domain, naming the setting and what it must be."""
    if method not in ("table", "exact"):
        raise InvalidValueError(f"method={method!r}: expected 'table' or 'exact'")
    if not cutoff_m > 0:
        raise InvalidValueError(f"cutoff_m must be > 0, got {cutoff_m}")
    if not (0.0 <= ground_g <= 1.0 and 0.0 <= g_source <= 1.0):
        raise InvalidValueError(f"ground factors must be within [0, 1], got ground_g={ground_g}, g_source={g_source}")
    if not (0.0 <= p_favourable <= 1.0):
        raise InvalidValueError(f"p_favourable must be within [0, 1], got {p_favourable}")
    if not spacing_ratio > 0:
        raise InvalidValueError(f"spacing_ratio must be > 0, got {spacing_ratio}")


def _band_terms(ground_g: float, temperature_c: float, humidity_pct: float) -> kernels.BandTerms:
    """The per-band constants of the ground and air terms for these settings."""
    f = np.asarray(BANDS_HZ, dtype=np.float64)
    alpha = atmospheric_absorption_db_km(temperature_c=temperature_c, humidity_pct=humidity_pct)
    return kernels.BandTerms(
        k_per_m=2 * np.pi * f / kernels.C_SOUND,
        f_2_5=f**2.5,
        f_1_5=f**1.5,
        f_0_75=f**0.75,
        w_path=np.array([kernels.ground_w(x, ground_g) for x in f]),
        air_per_m=alpha / 1000.0 * np.log(10.0) / 10.0,
    )


def _block_order(rx: FloatArray, ry: FloatArray, block_m: float) -> tuple[IntArray, IntArray]:
    """Receptors in square blocks of about ``block_m`` (one pyramid descent per block): their order and block starts."""
    bkey = np.floor((ry - ry.min()) / block_m).astype(np.int64) * (int((rx.max() - rx.min()) / block_m) + 1) + np.floor(
        (rx - rx.min()) / block_m
    ).astype(np.int64)
    r_order = np.argsort(bkey, kind="stable")
    _, first = np.unique(bkey[r_order], return_index=True)
    return r_order, np.append(first, len(rx)).astype(np.int64)


def noise_propagation(
    network: RoadNetwork,
    receptors: Receptors,
    *,
    cutoff_m: float = 3000.0,
    ground_g: float = 0.5,
    g_source: float = 0.0,
    p_favourable: float = 0.5,
    temperature_c: float = 15.0,
    humidity_pct: float = 70.0,
    spacing_ratio: float = 2.0,
    max_segment_m: float = 20.0,
    cell_m: float = 25.0,
    block_m: float = 40.0,
    far_field: bool = True,
    method: str = "table",
    table_step_m: float = 0.25,
    buildings: Buildings | None = None,
    obstacle_cell_m: float = OBSTACLE_CELL_M,
    reflection_order: int = 1,
    reflection_distance_m: float = REFLECTION_DISTANCE_M,
    prune_db: float = PRUNE_DB,
    terrain: Terrain | None = None,
) -> NoisePropagation:
    """Prepare the traffic-independent part of a noise map (see :class:`NoisePropagation`).

    Parameters
    ----------
    network, receptors
        A :class:`~ldtkit.model.network.RoadNetwork` with link geometry and the receptors.
    cutoff_m
        Point sources farther than this (projected distance) are ignored. Without screening by
        buildings, distant main roads still count: on the Ghent focus area the default 3 km keeps
        Lden within 0.6 dB of the whole-city sum at every grid receptor (``tests/test_noise_map.py``).
    ground_g, g_source
        Ground factor G of the propagation area (0 hard … 1 porous) and at the source (0: road platform).
    p_favourable
        Occurrence of favourable (downward-refracting) conditions, the same in every direction.
    temperature_c, humidity_pct
        Air conditions for ISO 9613-1 absorption (the temperature also enters road emission).
    spacing_ratio
        Point sources are at most max(1 m, d_min / ratio) long (NMPB 2008 rule; 2 in NoiseModelling).
        The same rule lets a whole grid cell of sources act as one point at its centroid when its
        extent is at most d_min / ratio (``far_field=True``).
    max_segment_m, cell_m
        Longest straight source segment before adaptive splitting; size of the finest source cell.
    block_m
        Receptors are processed in square blocks of this size (one pyramid descent per block).
    far_field
        Group distant sources per (nested) grid cell; ``False`` splits every segment individually.
    method
        ``"table"`` interpolates the ground and air terms in projected distance from exact values
        tabulated every ``table_step_m`` for each receptor height (≤ 0.01 dB from ``"exact"``);
        ``"exact"`` evaluates eq. 2.5.15–2.5.20 for every source–receiver pair.
    buildings
        :class:`~ldtkit.model.buildings.Buildings` that screen the paths they cross: where roofs
        rise above the ray, diffraction over their convex hull (ΔdifH/ΔdifF with the ground on
        either side, CNOSSOS-EU 2.5.21) replaces the ground term; receptors inside a building are
        masked (NaN). ``None``: open-field propagation.
    obstacle_cell_m
        Grid cell (m) that buckets the building footprints for path tracing.
    reflection_order
        With ``buildings``: 1 adds the first-order specular reflections on the façades within
        ``reflection_distance_m`` of each receptor (its own façade excluded, 10·lg(1 − α) of the
        façade's absorption, :mod:`ldtkit.model.noise.reflections`), diffracted over the roofs
        that screen them; 2 adds the second-order reflections on pairs of those façades; 0 leaves
        reflections out.
    prune_db
        With ``buildings``: screened and reflected paths from point sources beyond 100 m may be left
        out when an upper bound of their energy is negligible, all of them together lowering each
        period's A-weighted level by at most ``prune_db`` (see
        :func:`~ldtkit.model.kernels.noise.map_energy`); 0 evaluates every path.
    terrain
        Ground elevation (:class:`~ldtkit.model.noise.terrain.Terrain`); receptor heights and the
        source height are then above the local ground, and every source–receptor pair is evaluated
        exactly over the mean plane of the terrain profile under it, with diffraction over the
        terrain and the roofs where they rise above the ray
        (:func:`~ldtkit.model.kernels.noise_terrain.terrain_energy`; no far-field cells, no table, no
        reflections, no pruning). ``None``: flat ground.

    Examples
    --------
    >>> prop = noise_propagation(net, receptors)  # doctest: +SKIP
    >>> base = compute_noise(net, traffic_base, receptors, propagation=prop)  # doctest: +SKIP
    >>> closed = compute_noise(net_closed, traffic_closed, receptors, propagation=prop)  # doctest: +SKIP
    """
    if reflection_order not in (0, 1, 2):
        raise InvalidValueError(
            f"reflection_order must be 0, 1 or 2 (maps trace reflections up to the second order), got {reflection_order!r}"
        )
    if not 0.0 <= prune_db <= 1.0:
        raise InvalidValueError(f"prune_db must be within [0, 1] dB, got {prune_db}")
    if not reflection_distance_m > 0:
        raise InvalidValueError(f"reflection_distance_m must be > 0, got {reflection_distance_m}")
    _check_settings(
        method=method, cutoff_m=cutoff_m, ground_g=ground_g, g_source=g_source, p_favourable=p_favourable, spacing_ratio=spacing_ratio
    )
    if len(receptors) == 0:
        raise InvalidValueError("noise_propagation: no receptors")
    rz = np.asarray(receptors.z, dtype=np.float64)
    if (rz <= SOURCE_HEIGHT_M).any():
        raise InvalidValueError(f"receptor heights must be above the source height {SOURCE_HEIGHT_M} m")
    src = noise_sources(network, max_segment_m=max_segment_m)
    # only segments that can reach a receptor
    rx, ry = np.asarray(receptors.x, dtype=np.float64), np.asarray(receptors.y, dtype=np.float64)
    margin = cutoff_m + max_segment_m
    xm, ym = (src.x0 + src.x1) / 2, (src.y0 + src.y1) / 2
    keep = (xm >= rx.min() - margin) & (xm <= rx.max() + margin) & (ym >= ry.min() - margin) & (ym <= ry.max() + margin)
    if not keep.any():
        raise InvalidValueError(f"network {getattr(network, 'name', '')!r}: no emitting link within cutoff_m={cutoff_m} of the receptors")
    xm, ym = xm[keep], ym[keep]
    # pyramid of nested cells: level k has cells of cell_m·2^k; the top level spans about the cutoff
    n_lev = 1 + max(0, int(np.ceil(np.log2(max(cutoff_m / cell_m, 1.0)))) - 1)
    top = 1 << (n_lev - 1)
    gx0, gy0 = min(xm.min(), rx.min()) - cell_m, min(ym.min(), ry.min()) - cell_m
    nx0 = int(np.ceil((max(xm.max(), rx.max()) + cell_m - gx0) / cell_m / top)) * top
    ny0 = int(np.ceil((max(ym.max(), ry.max()) + cell_m - gy0) / cell_m / top)) * top
    lv_nx = np.array([nx0 >> k for k in range(n_lev)], dtype=np.int64)
    lv_ny = np.array([ny0 >> k for k in range(n_lev)], dtype=np.int64)
    lv_off = np.concatenate([[0], np.cumsum(lv_nx * lv_ny)]).astype(np.int64)
    order, seg_start = kernels.grid_index(xm, ym, gx0, gy0, cell_m, nx0, ny0)
    src = src.take(np.flatnonzero(keep)[order])
    seg_cell = np.minimum(((ym[order] - gy0) / cell_m).astype(np.int64), ny0 - 1) * nx0 + np.minimum(
        ((xm[order] - gx0) / cell_m).astype(np.int64), nx0 - 1
    )
    segments = kernels.Segments(src.x0, src.y0, src.x1, src.y1, np.hypot(src.x1 - src.x0, src.y1 - src.y0), seg_cell, seg_start)
    cl_x, cl_y, cl_rho, cl_len = kernels.build_pyramid(segments, lv_nx, lv_ny, lv_off)
    pyramid = kernels.Pyramid(
        level_nx=lv_nx,
        level_ny=lv_ny,
        level_offset=lv_off,
        x=cl_x,
        y=cl_y,
        rho_m=cl_rho,
        length_m=cl_len,
        x0=float(gx0),
        y0=float(gy0),
        cell_m=float(cell_m),
        theta=(2.0 * spacing_ratio + 1.0) if far_field else np.inf,
    )
    bands = _band_terms(ground_g, temperature_c, humidity_pct)
    z_vals, z_index = np.unique(rz, return_inverse=True)
    # a table per receptor height pays off for the few heights of grids and façades, not for arbitrary points;
    # over terrain the ground differs from path to path, no table applies
    if method == "table" and len(z_vals) <= 64 and terrain is None:
        n_steps = int(np.ceil(cutoff_m / table_step_m)) + 3
        # floats throughout, so that integer settings do not compile another specialisation
        ground = kernels.Ground(g_path=float(ground_g), g_source=float(g_source), p_favourable=float(p_favourable))
        values = kernels.transfer_table(z_vals, SOURCE_HEIGHT_M, n_steps, float(table_step_m), ground, bands)
        table = kernels.TransferTable(values, float(table_step_m))
    else:
        method = "exact"
        table = kernels.TransferTable(np.zeros((0, 2, 8)), 1.0)
    inside = None
    obstacles = no_obstacles()
    if buildings is not None and len(buildings):
        inside = buildings.inside(rx, ry)
        if inside.all():
            raise InvalidValueError(f"noise_propagation: every receptor lies inside a building of {buildings.source or 'buildings'}")
        pad = reflection_distance_m if reflection_order else 0.0  # walls around the receptors reflect
        bounds = (
            float(min(rx.min() - pad, src.x0.min(), src.x1.min())),
            float(min(ry.min() - pad, src.y0.min(), src.y1.min())),
            float(max(rx.max() + pad, src.x0.max(), src.x1.max())),
            float(max(ry.max() + pad, src.y0.max(), src.y1.max())),
        )
        obstacles = building_obstacles(buildings, bounds, cell_m=obstacle_cell_m)
    open_idx = np.arange(len(rx)) if inside is None else np.flatnonzero(~inside)
    sub_order, block_start = _block_order(rx[open_idx], ry[open_idx], block_m)
    r_order = open_idx[sub_order].astype(np.int64)
    # over terrain the paths are traced by the terrain kernel, which has no reflections yet
    reflect = bool(reflection_order) and len(obstacles.cell_parts) > 0 and terrain is None
    reflectors = (
        facade_reflectors(obstacles, rx[r_order], ry[r_order], max_distance_m=reflection_distance_m, order=reflection_order)
        if reflect
        else no_reflectors(len(r_order))
    )
    arrays = MapArrays(segments, pyramid, bands, table, z_index.astype(np.int64).ravel(), r_order, block_start, obstacles, reflectors)
    grid = None
    if terrain is not None:
        from ldtkit.model.noise.terrain import check_covers, terrain_grid

        check_covers(terrain, rx, ry, what="receptors")
        check_covers(terrain, np.concatenate([src.x0, src.x1]), np.concatenate([src.y0, src.y1]), what="road segment ends")
        grid = terrain_grid(terrain)
    return NoisePropagation(
        src,
        receptors,
        float(cutoff_m),
        float(ground_g),
        float(g_source),
        float(p_favourable),
        float(temperature_c),
        float(humidity_pct),
        float(spacing_ratio),
        method,
        arrays,
        len(network.links),
        buildings if buildings is not None and len(buildings) else None,
        inside,
        int(reflection_order) if reflect else 0,
        float(prune_db),
        terrain,
        grid,
    )
