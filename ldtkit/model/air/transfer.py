"""The long-term source-receptor transfer: ug/m3 at each receptor per ug/(m s) on each source.

Computed once per network geometry and receptor set, reused by every scenario that keeps
the link ids and geometry (:func:`~ldtkit.model.air.concentrations.compute_air`). The links
are grouped into sources (:mod:`ldtkit.model.air.sources`); the transfer has three parts:
the near field within ``cutoff_m``, integrated exactly along every link (numba kernel
:func:`~ldtkit.model.kernels.air.transfer_pairs`); the far field to ``far_cutoff_m`` on a
coarse grid (:mod:`ldtkit.model.air.far_field`); and the street-canyon flags
(:mod:`ldtkit.model.air.canyon`).

Examples
--------
>>> tr = air_transfer(net, receptors_grid(bounds, crs=net.crs, cell_m=25))  # doctest: +SKIP
>>> tr.matrix.shape  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ldtkit.errors import InvalidValueError
from ldtkit.model.air.canyon import canyon_flags
from ldtkit.model.air.climatology import direction_density, dispersion_table
from ldtkit.model.air.config import AirConfig
from ldtkit.model.air.far_field import bilinear_nodes, far_field
from ldtkit.model.air.sources import Sources, network_sources
from ldtkit.model.network import RoadNetwork
from ldtkit.model.receptors import Receptors

if TYPE_CHECKING:
    from ldtkit.model.kernels.air import TransferTables

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Cell size (m) of the grid that finds the canyon street a receptor stands in.
CANYON_SEARCH_CELL_M = 50.0


@dataclass(frozen=True)
class AirTransfer:
    """Long-term source-receptor transfer for one network geometry and receptor set.

    Links with the same end nodes (the two directions of a street) share one *source*.

    Attributes
    ----------
    matrix
        scipy CSR ``(n_receptors, n_sources)``: ug/m3 at a receptor per ug/(m s) on a source.
    link_source
        Source index of every link row (``-1``: connector or no geometry).
    link_ids
        The network's link ids the transfer was built for.
    source_mixing_width_m, source_street_width_m, source_canyon
        Per source: CALINE3 mixing-zone width, facade-to-facade width, canyon flag.
    receptor_canyon
        Per receptor: the canyon source whose street it stands in, or ``-1``.
    n_receptors
        Number of receptors.
    config_key
        :meth:`AirConfig.geometry_key` of the parameters it was built with.
    seconds
        Time taken to build it.
    far_matrix, far_cells, far_interp
        The far field, three sparse factors (scipy CSR) whose product is the transfer: ``far_matrix``
        ``(nodes x cells)`` in ug/m3 per ug/s, ``far_cells`` ``(cells x sources)`` in metres of source
        per cell and the bilinear interpolation ``far_interp`` ``(receptors x nodes)``; ``None``
        without a far field. Kept apart, not multiplied out: the product (nodes x sources) is nearly
        dense (Ghent: 14 million entries, 170 MB, and 700 MB while it is formed).
    """

    matrix: Any
    link_source: IntArray
    link_ids: npt.NDArray[Any]
    source_mixing_width_m: FloatArray
    source_street_width_m: FloatArray
    source_canyon: npt.NDArray[np.bool_]
    receptor_canyon: IntArray
    n_receptors: int
    config_key: tuple[object, ...] = ()
    seconds: float = 0.0
    far_matrix: Any = None
    far_interp: Any = None
    far_cells: Any = None

    def apply(self, e_src: FloatArray) -> FloatArray:
        """Concentration at the receptors (ug/m3) for source emissions ``e_src`` (ug/m/s), near + far field."""
        c: FloatArray = self.matrix @ e_src
        if self.far_matrix is not None:
            c = c + self.far_interp @ (self.far_matrix @ (self.far_cells @ e_src))
        return c

    @property
    def n_sources(self) -> int:
        """Number of sources (streets)."""
        return int(self.matrix.shape[1])

    @property
    def nnz(self) -> int:
        """Number of near-field receptor-source pairs."""
        return int(self.matrix.nnz)


def near_field(
    rx: FloatArray,
    ry: FloatArray,
    sources: Sources,
    s_row: IntArray,
    s_dmin: FloatArray,
    cutoff_m: float,
    tables: TransferTables,
) -> Any:
    """Sparse (receptors x sources) transfer within ``cutoff_m`` (numba kernel, parallel over receptors).

    ``s_row`` and ``s_dmin`` give per segment of ``sources`` its row of ``tables.g_table`` and the distance
    below which a receptor counts as on the road.
    """
    from scipy.sparse import csr_matrix

    from ldtkit.model.kernels.air import cell_index, transfer_pairs

    seg = sources.segments
    index = cell_index(seg, rx, ry, reach_m=cutoff_m, cell_m=max(cutoff_m / 2.0, 50.0))
    indptr, found, val = transfer_pairs(rx, ry, seg, s_row, s_dmin, index, float(cutoff_m), tables)
    rows = np.repeat(np.arange(len(rx)), np.diff(indptr))
    mat = csr_matrix((val, (rows, sources.segment_source[found])), shape=(len(rx), sources.n_sources))
    mat.sum_duplicates()
    return mat


def air_transfer(
    network: RoadNetwork,
    receptors: Receptors,
    *,
    config: AirConfig | Mapping[str, Any] | None = None,
    progress: bool = False,
) -> AirTransfer:
    """Precompute the long-term source-receptor transfer for ``network``'s geometry.

    Every link with geometry except connectors is a source (both directions of a street
    share one). For each receptor and each source within ``cutoff_m`` the concentration per
    unit emission is integrated along the link over the wind climatology (see
    :mod:`ldtkit.model.kernels.air`). Scenarios that keep the link ids and geometry (closures,
    capacity edits) reuse the transfer: pass it to :func:`~ldtkit.model.air.compute_air`.

    Parameters
    ----------
    network
        Links in a metric CRS (the receptors' CRS).
    receptors
        Where concentrations are wanted; their mean height is used.
    config
        :class:`AirConfig` or an ``[air]`` table.
    progress
        Show a progress bar (the build is one parallel numba call).

    Returns
    -------
    AirTransfer

    Examples
    --------
    >>> tr = air_transfer(net, receptors_grid(bounds, crs=net.crs, cell_m=25))  # doctest: +SKIP
    >>> tr.matrix.shape  # doctest: +SKIP
    """
    from scipy.sparse import csr_matrix
    from tqdm.auto import tqdm

    from ldtkit.model.kernels.air import Segments, TransferTables, cell_index, nearest_segment

    t0 = time.perf_counter()
    cfg = AirConfig.from_dict(config)
    links = network.links
    if network.crs is not None and receptors.crs is not None:
        from pyproj import CRS

        if CRS.from_user_input(network.crs) != CRS.from_user_input(receptors.crs):
            raise InvalidValueError(f"air_transfer: receptors CRS {receptors.crs} differs from the network CRS {network.crs}")
    bar = tqdm(total=3, desc="air transfer", disable=not progress)
    src = network_sources(network, cfg)
    seg, seg_src, n_src = src.segments, src.segment_source, src.n_sources
    mixing_w = src.mixing_width_m
    # mixing-zone width classes (2 m bins) for the G table
    wclass_w = np.unique(np.round(mixing_w / 2.0) * 2.0)
    s_row = np.searchsorted(wclass_w, np.round(mixing_w / 2.0) * 2.0)[seg_src].astype(np.int64)
    s_dmin = (mixing_w / 2.0)[seg_src]
    z_m = float(np.mean(receptors.z)) if len(receptors) else 1.5
    lx = np.linspace(np.log(0.5), np.log(max(cfg.cutoff_m, cfg.far_cutoff_m) * 1.5), 320)
    g = dispersion_table(cfg, wclass_w / 2.0, z_m, lx)
    dens = direction_density(cfg)
    bar.update(1)
    rx = np.asarray(receptors.x, float)
    ry = np.asarray(receptors.y, float)
    nr = len(rx)
    tables = TransferTables(dens, g, float(lx[0]), float(lx[1] - lx[0]), float(cfg.integration_step))
    far_matrix = far_interp = far_cells = None
    canyon_src = np.zeros(n_src, bool)
    rc = np.full(nr, -1, dtype=np.int64)
    if nr == 0 or len(seg.x1) == 0:
        mat = csr_matrix((nr, n_src))
    else:
        mat = near_field(rx, ry, src, s_row, s_dmin, cfg.cutoff_m, tables)
        bar.update(1)
        if cfg.far_cutoff_m > cfg.cutoff_m:
            far_interp, cx, cy = bilinear_nodes(rx, ry, cfg.far_cell_m)
            far_matrix, far_cells = far_field(cx, cy, src, cfg, dens, g[0], lx)
        # street canyons
        if cfg.canyon:
            canyon_src = canyon_flags(network, src, cfg)
        cs = canyon_src[seg_src]
        if cs.any():
            reach = (src.street_width_m / 2.0)[seg_src][cs] + cfg.canyon_facade_m
            streets = Segments(seg.x1[cs], seg.y1[cs], seg.x2[cs], seg.y2[cs])
            index = cell_index(streets, rx, ry, reach_m=float(reach.max()), cell_m=CANYON_SEARCH_CELL_M)
            near = nearest_segment(rx, ry, streets, reach, index)
            rc = np.where(near >= 0, seg_src[cs][np.maximum(near, 0)], -1)
    bar.update(1)
    bar.close()
    return AirTransfer(
        matrix=mat,
        link_source=src.link_source,
        link_ids=links["link_id"].to_numpy(),
        source_mixing_width_m=mixing_w,
        source_street_width_m=src.street_width_m,
        source_canyon=canyon_src,
        receptor_canyon=rc.astype(np.int64),
        n_receptors=nr,
        config_key=cfg.geometry_key(),
        seconds=time.perf_counter() - t0,
        far_matrix=far_matrix,
        far_interp=far_interp,
        far_cells=far_cells,
    )
