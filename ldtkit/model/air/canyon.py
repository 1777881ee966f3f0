"""Street canyons: which streets are lined by buildings, and the recirculation increment inside them.

No building data is needed: a street counts as a canyon by a road-density proxy (see
:class:`~ldtkit.model.air.config.AirConfig`), and receptors standing in such a street get an
OSPM-style recirculation increment (Berkowicz 2000): ``C = q / (W sigma_wt)`` with
``sigma_wt = sqrt((0.1 u)^2 + sigma_w0^2)`` and the traffic turbulence
``sigma_w0 = 0.3 sqrt(N V S^2 / W)``.

Examples
--------
>>> import numpy as np
>>> inc = canyon_increment(np.array([0, -1]), np.array([15.0]), {"nox": np.array([10.0])},
...                        np.array([0.2]), np.array([10.0]), AirConfig())
>>> bool(inc["nox"][0] > 0), float(inc["nox"][1])
(True, 0.0)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from ldtkit.model.air.config import AirConfig
from ldtkit.model.air.sources import Sources
from ldtkit.model.network import RoadNetwork

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Radius (m) around a street's midpoint within which the road density is measured.
DENSITY_RADIUS_M = 150.0
#: Streets at or above this speed limit (km/h) are never canyons (ring roads, through roads).
CANYON_MAX_SPEED_KMH = 70.0


def canyon_flags(network: RoadNetwork, sources: Sources, cfg: AirConfig) -> BoolArray:
    """Per source: whether it is a street lined by buildings, by the road-density proxy.

    Parameters
    ----------
    network
        The network (speed limit and car access of each source's representative link).
    sources
        The network's sources and their segments.
    cfg
        ``canyon_density_km_km2`` is the density (km of car road per km2 within
        :data:`DENSITY_RADIUS_M`) above which a street counts as a canyon.
    """
    from scipy.spatial import cKDTree

    links = network.links
    rep, seg_src, n_src = sources.representative_link, sources.segment_source, sources.n_sources
    speed = links["free_speed_kmh"].to_numpy(float)[rep]
    car = links["car_allowed"].to_numpy(bool)[rep]
    x1, y1, x2, y2 = sources.segments
    # density: segment length (sampled every ~10 m) within 150 m of each source midpoint
    seglen = np.hypot(x2 - x1, y2 - y1)
    carseg = car[seg_src]
    n_pts = np.maximum(np.ceil(seglen / 10.0).astype(int), 1)
    sidx = np.repeat(np.arange(len(x1)), n_pts)
    frac = (np.arange(n_pts.sum()) - np.repeat(np.cumsum(n_pts) - n_pts, n_pts) + 0.5) / np.repeat(n_pts, n_pts)
    px = x1[sidx] + frac * (x2 - x1)[sidx]
    py = y1[sidx] + frac * (y2 - y1)[sidx]
    w = (seglen / n_pts)[sidx] * carseg[sidx]
    tree = cKDTree(np.c_[px, py])
    # source midpoints: the middle sample of each source's segments
    order = np.argsort(seg_src, kind="stable")
    first = np.searchsorted(seg_src[order], np.arange(n_src))
    counts = np.bincount(seg_src, minlength=n_src)
    mid_seg = order[np.minimum(first + counts // 2, len(order) - 1)]
    start = np.cumsum(n_pts) - n_pts
    mid_sample = start[mid_seg] + n_pts[mid_seg] // 2
    r = DENSITY_RADIUS_M
    neigh = tree.query_ball_point(np.c_[px[mid_sample], py[mid_sample]], r)
    dens = np.array([w[n].sum() for n in neigh]) / 1000.0 / (np.pi * (r / 1000.0) ** 2)
    flags: BoolArray = (dens >= cfg.canyon_density_km_km2) & (speed < CANYON_MAX_SPEED_KMH) & car & (counts > 0)
    return flags


def canyon_increment(
    receptor_canyon: IntArray,
    source_street_width_m: FloatArray,
    e_src: Mapping[str, FloatArray],
    q_src_vps: FloatArray,
    v_src_ms: FloatArray,
    cfg: AirConfig,
) -> dict[str, FloatArray]:
    """OSPM-style recirculation increment (ug/m3) at receptors standing in a canyon street.

    Parameters
    ----------
    receptor_canyon
        Per receptor the canyon source whose street it stands in, or -1.
    source_street_width_m
        Facade-to-facade width per source.
    e_src
        Emission per source (ug/m/s) by species.
    q_src_vps, v_src_ms
        Traffic per source: vehicles per second and their mean speed (m/s).
    cfg
        Wind speeds and the stability/speed frequencies, ``canyon_factor``.
    """
    nr = len(receptor_canyon)
    inside = receptor_canyon >= 0
    out = {s: np.zeros(nr) for s in e_src}
    if not inside.any():
        return out
    s = receptor_canyon[inside]
    w = source_street_width_m[s]
    sw0 = 0.3 * np.sqrt(q_src_vps[s] * v_src_ms[s] * 2.0**2 / w)  # traffic turbulence, cars of 2 m2 frontal area
    joint = np.asarray(cfg.stability_speed_freq, float).sum(axis=0)
    inv = np.zeros(len(s))
    for f, u in zip(joint, cfg.wind_speeds_ms):
        inv += f / np.sqrt((0.1 * u) ** 2 + sw0**2)
    for sp, e in e_src.items():
        out[sp][inside] = cfg.canyon_factor * e[s] / w * inv
    return out
