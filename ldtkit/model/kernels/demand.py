"""Numba kernels for demand: path attributes along shortest-path trees, doubly-constrained balancing."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit


@njit(cache=True)
def path_attribute(
    pred: np.ndarray, sources: np.ndarray, targets: np.ndarray, indptr: np.ndarray, heads: np.ndarray, attr: np.ndarray
) -> np.ndarray:
    """Sum an edge attribute along shortest paths, walking the predecessor trees back from each target.

    Parameters
    ----------
    pred
        ``(ns, n)`` int32 predecessors from :func:`scipy.sparse.csgraph.dijkstra` (negative = none).
    sources
        ``(ns,)`` node index of each tree's source.
    targets
        ``(nt,)`` node indices to report.
    indptr, heads, attr
        CSR adjacency (row = tail node) with the edge attribute (one edge per node pair).

    Returns
    -------
    ``(ns, nt)`` float64: the attribute summed along the path (0 at the source, NaN where unreached).
    """
    ns = pred.shape[0]
    nt = targets.shape[0]
    out = np.full((ns, nt), np.nan)
    for s in range(ns):
        src = sources[s]
        for k in range(nt):
            v = targets[k]
            if v == src:
                out[s, k] = 0.0
                continue
            total = 0.0
            ok = True
            while v != src:
                u = pred[s, v]
                if u < 0:
                    ok = False
                    break
                val = np.nan
                for e in range(indptr[u], indptr[u + 1]):
                    if heads[e] == v:
                        val = attr[e]
                        break
                total += val
                v = u
            if ok:
                out[s, k] = total
    return out


@njit(cache=True)
def furness(
    seed: npt.NDArray[np.float64], rows: npt.NDArray[np.float64], cols: npt.NDArray[np.float64], tol: float, max_iter: int
) -> tuple[npt.NDArray[np.float64], int, float]:
    """Doubly-constrained balancing (Furness / IPF) of ``seed`` to row and column totals.

    Returns ``(matrix, iterations, max_relative_error)``. Rows or columns with a positive
    target but an all-zero seed cannot be balanced; the caller checks the error.
    """
    nr, nc = seed.shape
    m = seed.copy()
    a = np.ones(nr)
    b = np.ones(nc)
    err = np.inf
    it = 0
    for iteration in range(1, max_iter + 1):
        it = iteration
        # row factors
        for i in range(nr):
            s = 0.0
            for j in range(nc):
                s += seed[i, j] * b[j]
            a[i] = rows[i] / s if s > 0 else 0.0
        # column factors
        for j in range(nc):
            s = 0.0
            for i in range(nr):
                s += seed[i, j] * a[i]
            b[j] = cols[j] / s if s > 0 else 0.0
        # check rows (columns are exact after the column step)
        err = 0.0
        for i in range(nr):
            s = 0.0
            for j in range(nc):
                s += seed[i, j] * a[i] * b[j]
            if rows[i] > 0:
                e = abs(s - rows[i]) / rows[i]
                if e > err:
                    err = e
        if err < tol:
            break
    for i in range(nr):
        for j in range(nc):
            m[i, j] = seed[i, j] * a[i] * b[j]
    return m, it, err
