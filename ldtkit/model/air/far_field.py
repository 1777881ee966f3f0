"""The far field of the transfer: sources between ``cutoff_m`` and ``far_cutoff_m`` on a coarse grid.

Beyond the near-field radius each receptor would see thousands of links; their sum varies
slowly in space, so it is computed exactly at the nodes of a ``far_cell_m`` grid, with the
links lumped into ``far_cell_m`` cells, and interpolated bilinearly to the receptors.

Examples
--------
>>> import numpy as np
>>> interp, nx, ny = bilinear_nodes(np.array([50.0, 150.0]), np.array([50.0, 50.0]), 100.0)
>>> interp.toarray().round(2).tolist(), nx.tolist(), ny.tolist()
([[0.25, 0.25, 0.0, 0.25, 0.25, 0.0], [0.0, 0.25, 0.25, 0.0, 0.25, 0.25]], [0.0, 100.0, 200.0, 0.0, 100.0, 200.0], [0.0, 0.0, 0.0, 100.0, 100.0, 100.0])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ldtkit.model.air.config import AirConfig
from ldtkit.model.air.sources import Sources

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Far-field nodes whose pairs with the source cells are formed at once (bounds the memory of :func:`far_field`).
FAR_NODE_CHUNK = 256


def far_field(
    cx: FloatArray,
    cy: FloatArray,
    sources: Sources,
    cfg: AirConfig,
    dens: FloatArray,
    g_row: FloatArray,
    log_x: FloatArray,
) -> tuple[Any, Any]:
    """Far-field transfer for sources between ``cutoff_m`` and ``far_cutoff_m``, as two sparse factors.

    Links are sampled every <= 20 m and lumped into ``far_cell_m`` cells, each a point source at
    its length-weighted centroid; a point source at distance ``x`` and bearing ``b`` gives
    ``p(b) G(x) / (sqrt(2 pi) x)`` per ug/s (long-term narrow-plume formula).

    Parameters
    ----------
    cx, cy
        Nodes where the far field is computed (:func:`bilinear_nodes`).
    sources
        The network's sources and their segments.
    dens, g_row, log_x
        Wind-from direction density, one row of the G table and its ln-distances.

    Returns
    -------
    tuple
        ``(kernel, cells)``, scipy CSR matrices ``(nodes x cells)`` in ug/m3 per ug/s and
        ``(cells x sources)`` in metres of source per cell: their product is the transfer.
    """
    from scipy.sparse import csr_matrix
    from scipy.spatial import cKDTree

    x1, y1, x2, y2 = sources.segments
    seg_src, n_src = sources.segment_source, sources.n_sources
    seglen = np.hypot(x2 - x1, y2 - y1)
    n_pts = np.maximum(np.ceil(seglen / 20.0).astype(np.int64), 1)
    sidx = np.repeat(np.arange(len(x1)), n_pts)
    frac = (np.arange(n_pts.sum()) - np.repeat(np.cumsum(n_pts) - n_pts, n_pts) + 0.5) / np.repeat(n_pts, n_pts)
    px = x1[sidx] + frac * (x2 - x1)[sidx]
    py = y1[sidx] + frac * (y2 - y1)[sidx]
    w = (seglen / n_pts)[sidx]
    fc = cfg.far_cell_m
    key = np.floor(px / fc).astype(np.int64) * 1_000_003 + np.floor(py / fc).astype(np.int64)
    cells, cell_of = np.unique(key, return_inverse=True)
    nc = len(cells)
    wc = np.bincount(cell_of, weights=w, minlength=nc)
    ccx = np.bincount(cell_of, weights=w * px, minlength=nc) / wc
    ccy = np.bincount(cell_of, weights=w * py, minlength=nc) / wc
    m = csr_matrix((w, (cell_of, seg_src[sidx])), shape=(nc, n_src))
    m.sum_duplicates()
    cell_tree = cKDTree(np.c_[ccx, ccy])
    nd = len(dens)
    counts: list[IntArray] = []
    cols: list[npt.NDArray[np.int32]] = []
    vals: list[FloatArray] = []
    # the nodes in chunks: their pairs with the cells within reach come with several temporaries each
    # (Ghent: 12 million pairs, 700 MB at once)
    for lo in range(0, len(cx), FAR_NODE_CHUNK):  # loop over chunks of nodes only
        hi = min(lo + FAR_NODE_CHUNK, len(cx))
        pairs = cKDTree(np.c_[cx[lo:hi], cy[lo:hi]]).sparse_distance_matrix(cell_tree, cfg.far_cutoff_m, output_type="coo_matrix")
        keep = pairs.data >= cfg.cutoff_m
        order = np.lexsort((pairs.col[keep], pairs.row[keep]))  # by node, then cell: the rows of the CSR matrix
        r, c, dist = pairs.row[keep][order] + lo, pairs.col[keep][order], pairs.data[keep][order]
        bearing = np.degrees(np.arctan2(ccx[c] - cx[r], ccy[c] - cy[r])) % 360.0
        fb = bearing * nd / 360.0
        i0 = np.floor(fb).astype(np.int64) % nd
        t = fb - np.floor(fb)
        p = dens[i0] * (1 - t) + dens[(i0 + 1) % nd] * t
        gx = np.interp(np.log(dist), log_x, g_row)
        counts.append(np.bincount(r - lo, minlength=hi - lo))
        cols.append(c.astype(np.int32))
        vals.append(p * gx / (np.sqrt(2 * np.pi) * dist))
    indptr = np.zeros(len(cx) + 1, np.int64)
    np.cumsum(np.concatenate(counts) if counts else np.zeros(0, np.int64), out=indptr[1:])
    k = csr_matrix(
        (np.concatenate(vals) if vals else np.zeros(0), np.concatenate(cols) if cols else np.zeros(0, np.int32), indptr),
        shape=(len(cx), nc),
    )
    return k, m


def bilinear_nodes(rx: FloatArray, ry: FloatArray, cell: float) -> tuple[Any, FloatArray, FloatArray]:
    """Nodes of a ``cell``-spaced grid around the receptors and the bilinear interpolation matrix to them.

    Returns ``(interp, node_x, node_y)``: ``interp`` a scipy CSR ``(receptors x nodes)``.
    """
    from scipy.sparse import csr_matrix

    x0 = np.floor(rx.min() / cell) * cell
    y0 = np.floor(ry.min() / cell) * cell
    fx = (rx - x0) / cell
    fy = (ry - y0) / cell
    i = np.floor(fx).astype(np.int64)
    j = np.floor(fy).astype(np.int64)
    tx, ty = fx - i, fy - j
    nx = int(i.max()) + 2
    ci = np.concatenate([i, i + 1, i, i + 1])
    cj = np.concatenate([j, j, j + 1, j + 1])
    w = np.concatenate([(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty])
    node = cj * nx + ci
    uniq, col = np.unique(node, return_inverse=True)
    rows = np.tile(np.arange(len(rx)), 4)
    interp = csr_matrix((w, (rows, col)), shape=(len(rx), len(uniq)))
    return interp, x0 + (uniq % nx) * cell, y0 + (uniq // nx) * cell
