"""Zone-to-zone free-flow shortest paths (time and length) on the car network."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ldtkit.errors import EmptyStudyAreaError, InvalidValueError
from ldtkit.model.road_network import RoadNetwork
from ldtkit.model.traffic import CLASS_PERMISSION


@dataclass(frozen=True)
class Skim:
    """Zone-to-zone free-flow shortest paths (by time) on the car network.

    ``time_min[i, j]`` and ``length_km[i, j]`` are the time and length of the fastest path
    from zone ``zone_ids[i]`` to ``zone_ids[j]`` (``inf``/``nan`` where there is none).
    """

    zone_ids: npt.NDArray[np.int64]
    time_min: npt.NDArray[np.float64]
    length_km: npt.NDArray[np.float64]


def skim_free_flow(network: RoadNetwork, *, zone_ids: npt.ArrayLike | None = None, vehicle_class: str = "light") -> Skim:
    """Free-flow time and length between zone centroids, zone nodes not passed through.

    Uses :func:`scipy.sparse.csgraph.dijkstra` on the links the class may use. Unless
    ``network.zone_through``, every zone node is split into an origin copy (its out-links) and
    a destination copy (its in-links), so no path passes *through* a zone centroid (the TNTP
    first-through-node rule). Lengths are summed along the fastest paths.

    Examples
    --------
    >>> from ldtkit.model.network import network_from_tntp  # doctest: +SKIP
    >>> sk = skim_free_flow(network_from_tntp("TransportationNetworks/SiouxFalls"))  # doctest: +SKIP
    >>> sk.time_min.shape  # doctest: +SKIP
    (24, 24)
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    from ldtkit.model.kernels.demand import path_attribute  # numba: compiled on first use

    zone_ids = network.zone_ids if zone_ids is None else np.asarray(zone_ids, dtype=np.int64)
    if len(zone_ids) == 0:
        raise EmptyStudyAreaError(f"network {network.name!r}: no zone nodes to skim (is_zone is False everywhere)")
    links = network.links
    perm = CLASS_PERMISSION.get(vehicle_class)
    if perm is None:
        raise InvalidValueError(f"skim_free_flow: unknown vehicle class {vehicle_class!r}; expected one of {sorted(CLASS_PERMISSION)}")
    ok = links[perm].to_numpy(bool) & (links["capacity_vph"].to_numpy(np.float64) > 0)
    node_ids = np.sort(network.nodes["node_id"].to_numpy(np.int64))
    n = len(node_ids)
    zpos = np.searchsorted(node_ids, zone_ids)
    if (zpos >= n).any() or (node_ids[np.minimum(zpos, n - 1)] != zone_ids).any():
        missing = zone_ids[(zpos >= n) | (node_ids[np.minimum(zpos, n - 1)] != zone_ids)][:10].tolist()
        raise InvalidValueError(f"network {network.name!r}: zone ids {missing} are not nodes of the network")
    f = np.searchsorted(node_ids, links["from_node"].to_numpy(np.int64)[ok])
    t = np.searchsorted(node_ids, links["to_node"].to_numpy(np.int64)[ok])
    tt = np.maximum(links["free_flow_time_min"].to_numpy(np.float64)[ok], 1e-6)  # csgraph drops zero weights
    ll = links["length_m"].to_numpy(np.float64)[ok] / 1000.0
    # destination copies of zone nodes: n + k (unless the network lets traffic through zones)
    through = bool(network.zone_through)
    if not through:
        dest_copy = np.full(n, -1, dtype=np.int64)
        dest_copy[zpos] = n + np.arange(len(zone_ids))
        t = np.where(dest_copy[t] >= 0, dest_copy[t], t)
    # one edge per node pair: the fastest
    order = np.lexsort((tt, t, f))
    f, t, tt, ll = f[order], t[order], tt[order], ll[order]
    first = np.ones(len(f), dtype=bool)
    first[1:] = (f[1:] != f[:-1]) | (t[1:] != t[:-1])
    f, t, tt, ll = f[first], t[first], tt[first], ll[first]
    size = n if through else n + len(zone_ids)
    g = csr_matrix((tt, (f, t)), shape=(size, size))
    g.sort_indices()
    # the same CSR structure for lengths (no duplicates remain, so data aligns)
    gl = csr_matrix((ll, (f, t)), shape=(size, size))
    gl.sort_indices()
    nz = len(zone_ids)
    time = np.full((nz, nz), np.inf)
    length = np.full((nz, nz), np.nan)
    chunk = max(1, int(2e7 // size))
    targets = zpos.astype(np.int64) if through else np.arange(n, size, dtype=np.int64)
    indptr, heads, data = gl.indptr.astype(np.int64), gl.indices.astype(np.int64), gl.data.astype(np.float64)
    for s0 in range(0, nz, chunk):
        src = zpos[s0 : s0 + chunk]
        dist, pred = dijkstra(g, directed=True, indices=src, return_predecessors=True)
        time[s0 : s0 + chunk] = dist[:, targets]
        length[s0 : s0 + chunk] = path_attribute(pred, src.astype(np.int64), targets, indptr, heads, data)
    np.fill_diagonal(time, 0.0)
    np.fill_diagonal(length, 0.0)
    return Skim(zone_ids=zone_ids, time_min=time, length_km=length)
