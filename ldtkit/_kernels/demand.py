"""Numba kernels for demand: path attributes along shortest-path trees, doubly-constrained balancing."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def tree_attribute(
    pred: np.ndarray, order: np.ndarray, sources: np.ndarray, indptr: np.ndarray, heads: np.ndarray, attr: np.ndarray
) -> np.ndarray:
    """Sum an edge attribute along shortest-path trees.

    Parameters
    ----------
    pred
        ``(ns, n)`` int32 predecessors from :func:`scipy.sparse.csgraph.dijkstra` (-9999 = none).
    order
        ``(ns, n)`` node order per source, by increasing distance (so a predecessor comes first).
    sources
        ``(ns,)`` node index of each source (its attribute is 0).
    indptr, heads, attr
        CSR adjacency (row = tail node) with the edge attribute to sum (one edge per node pair).

    Returns
    -------
    ``(ns, n)`` float64: the attribute summed from the source to every node (NaN where unreached).
    """
    ns, n = pred.shape
    out = np.full((ns, n), np.nan)
    for s in range(ns):
        out[s, sources[s]] = 0.0
        for k in range(n):
            v = order[s, k]
            u = pred[s, v]
            if u < 0:
                continue  # the source itself, or unreached
            base = out[s, u]
            if np.isnan(base):
                continue
            val = np.nan
            for e in range(indptr[u], indptr[u + 1]):
                if heads[e] == v:
                    val = attr[e]
                    break
            out[s, v] = base + val
    return out


@njit(cache=True)
def furness(seed: np.ndarray, rows: np.ndarray, cols: np.ndarray, tol: float, max_iter: int):
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
    for it in range(1, max_iter + 1):
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
