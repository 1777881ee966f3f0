"""Attenuation along a cut profile with obstacles (CNOSSOS-EU, Annex II 2.5 as amended by 2021/1226).

A cut profile is the vertical section of one propagation path: the source, the points where the
ground factor or the terrain changes, the walls and building edges it crosses, the reflection
points and vertical edges it turns around, and the receiver. :func:`profile_attenuation` unfolds
it into the (distance, height) plane and evaluates

- the direct path over the mean plane of the ground (2.5.11, 2.5.15–2.5.20) when nothing rises
  above the line of sight;
- diffraction in the vertical plane over the upper convex hull of the obstacles (2.5.21):
  Δdif(S,R) with the path difference δ (straight rays in homogeneous, curved rays of radius
  Γ = max(1000, 8·d) in favourable conditions), and the ground on both sides,
  Δground(S,O) and Δground(O,R), each on its own mean plane;
- lateral paths around vertical edges: Δdif(S,R) from the 3-D path difference plus the ground
  effect on the unfolded path's mean plane;
- specular reflections: 10·lg(1 − α) of the reflecting surface and the retro-diffraction of its
  top edge.

Examples
--------
>>> pts = [
...     {"type": "Source", "x": 0.0, "y": 0.0, "z": 1.0, "zGround": 0.0, "G": 0.0},
...     {"type": "Wall", "x": 50.0, "y": 0.0, "z": 6.0, "zGround": 0.0, "G": 0.0},
...     {"type": "Receiver", "x": 100.0, "y": 0.0, "z": 4.0, "zGround": 0.0, "G": 0.0},
... ]
>>> pa = profile_attenuation(pts, temperature_c=10.0)
>>> pa.diffracted, round(float(pa.delta_dif_h[3]), 2)
(True, 12.4)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ldtkit.errors import InvalidValueError
from ldtkit.model.kernels import noise as kernels
from ldtkit.model.noise.attenuation import atmospheric_absorption_db_km, mean_plane
from ldtkit.model.noise.tables import BANDS_HZ

FloatArray = npt.NDArray[np.float64]

_BANDS = np.asarray(BANDS_HZ, dtype=np.float64)
_LAMBDA_M = kernels.C_SOUND / _BANDS
#: Largest diffraction attenuation over a horizontal edge (dB).
MAX_DELTA_DIF_DB = 25.0
_OBSTACLE_TYPES = ("Wall", "Building", "Topography", "GroundEffect", "VEdgeDiffraction", "Reflection")


def delta_dif_db(delta_m: float | FloatArray, *, e_m: float = 0.0) -> FloatArray:
    """Δdif per octave band for a path difference ``delta_m`` (2.5.21, C_h = 1, capped at 25 dB).

    ``e_m`` is the distance between the first and last diffraction edges (multiple diffraction).
    Not capped here: A_dif bounds Δdif(S,R) at :data:`MAX_DELTA_DIF_DB` before adding the ground terms.

    Examples
    --------
    >>> delta_dif_db(0.0).round(2).tolist()  # 10·lg 3
    [4.77, 4.77, 4.77, 4.77, 4.77, 4.77, 4.77, 4.77]
    >>> float(delta_dif_db(-1.0)[0])
    0.0
    """
    lam = _LAMBDA_M
    if e_m > 0.3:
        r = (5.0 * lam / e_m) ** 2
        c2 = (1.0 + r) / (1.0 / 3.0 + r)
    else:
        c2 = np.ones(8)
    x = 40.0 / lam * c2 * np.asarray(delta_m, dtype=np.float64)
    out = np.where(x >= -2.0, 10.0 * np.log10(np.maximum(3.0 + x, 1e-12)), 0.0)
    return np.asarray(out, dtype=np.float64)


def _arc(chord_m: float, gamma_m: float) -> float:
    """Length of the arc of radius ``gamma_m`` on a chord (favourable conditions, 2.5.21)."""
    return 2.0 * gamma_m * math.asin(min(chord_m / (2.0 * gamma_m), 1.0))


def _path_difference(pts: FloatArray, *, curved: bool, gamma_m: float) -> float:
    """δ of the polyline ``pts`` (k, 2) against its chord, straight or curved rays.

    Negative when the line of sight is clear (every intermediate point below the chord); with
    ``curved`` the rays are arcs of radius ``gamma_m`` (favourable conditions, 2021/1226).
    """
    seg = np.hypot(np.diff(pts[:, 0]), np.diff(pts[:, 1]))
    chord = float(np.hypot(*(pts[-1] - pts[0])))
    delta = float(seg.sum() - chord)
    u = (pts[-1] - pts[0]) / chord
    rel = pts[1:-1] - pts[0]
    # height above the chord, the chord taken left to right (an image point may lie behind the source)
    above = (rel[:, 1] * u[0] - rel[:, 0] * u[1]) * (1.0 if u[0] >= 0 else -1.0)
    if curved:
        arcs = float(sum(_arc(float(c), gamma_m) for c in seg))
        if len(above) == 0 or float(above.max()) >= 0:
            # an edge on or above the chord: δF = SO + OR − SR along arcs of radius Γ (may be < 0)
            return arcs - _arc(chord, gamma_m)
        # edges below the chord: δF = 2·SA + 2·AR − SO − OR − SR (arcs), A on the chord above the edge
        sa = float((rel @ u)[int(np.argmax(above))])
        return 2.0 * (_arc(sa, gamma_m) + _arc(chord - sa, gamma_m)) - arcs - _arc(chord, gamma_m)
    return -delta if len(above) and float(above.max()) < 0 else delta


@dataclass(frozen=True)
class Profile:
    """A cut profile unfolded into the vertical plane (distances from the source along the path).

    ``s_m`` horizontal distance, ``z_m`` height of the ray/obstacle point, ``ground_m`` ground
    elevation, ``g`` ground factor from each point to the next; ``kind`` the point types.
    ``ground_*`` is the ground polyline of the mean planes, where a building's roof is ground
    (G = 0) between its entry and exit; point ``i`` is at ``ground_first[i]..ground_last[i]`` on it.
    """

    s_m: FloatArray
    z_m: FloatArray
    ground_m: FloatArray
    g: FloatArray
    xyz: FloatArray
    kind: tuple[str, ...]
    alpha: FloatArray
    wall_top_m: FloatArray
    ground_s_m: FloatArray
    ground_z_m: FloatArray
    ground_g: FloatArray
    ground_first: npt.NDArray[np.int64]
    ground_last: npt.NDArray[np.int64]


def unfold_profile(points: Sequence[Mapping[str, Any]], *, name: str = "profile") -> Profile:
    """Read a cut profile (a list of points ``{type, x, y, z, zGround, G}``) into a :class:`Profile`.

    Raises :class:`~ldtkit.errors.InvalidValueError` naming the profile and point for a missing field.

    Examples
    --------
    >>> p = unfold_profile([{"type": "Source", "x": 0, "y": 0, "z": 1, "zGround": 0, "G": 0},
    ...                     {"type": "Receiver", "x": 3, "y": 4, "z": 2, "zGround": 0, "G": 0}])
    >>> p.s_m.tolist()
    [0.0, 5.0]
    """
    if len(points) < 2:
        raise InvalidValueError(f"{name}: a cut profile needs at least a source and a receiver, got {len(points)} point(s)")
    rows = []
    for i, p in enumerate(points):
        try:
            rows.append((float(p["x"]), float(p["y"]), float(p["z"]), float(p["zGround"]), float(p["G"])))
        except KeyError as exc:
            raise InvalidValueError(f"{name}: point {i} ({p.get('type', '?')}) has no field {exc.args[0]!r}") from None
        except (TypeError, ValueError):
            raise InvalidValueError(f"{name}: point {i} ({p.get('type', '?')}) has a non-numeric coordinate or G") from None
    a = np.asarray(rows, dtype=np.float64)
    kind = tuple(str(p.get("type", "")) for p in points)
    if kind[0] != "Source" or kind[-1] != "Receiver":
        raise InvalidValueError(f"{name}: a cut profile starts with the Source and ends with the Receiver, got {kind[0]}…{kind[-1]}")
    for i, what in ((0, "source"), (len(a) - 1, "receiver")):
        if a[i, 2] < a[i, 3]:
            raise InvalidValueError(
                f"{name}: {what} height {a[i, 2] - a[i, 3]:.2f} m above ground (z {a[i, 2]} below zGround {a[i, 3]}); expected >= 0"
            )
    if not np.isfinite(a).all():
        raise InvalidValueError(f"{name}: a point has a non-finite coordinate or G")
    s = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(a[:, 0]), np.diff(a[:, 1])))])
    alpha = np.zeros((len(points), 8))
    top = np.full(len(points), np.nan)
    for i, p in enumerate(points):
        if p.get("wall_alpha") is not None:
            alpha[i] = np.asarray(p["wall_alpha"], dtype=np.float64)
        wall = p.get("wall")
        if wall:
            w = np.asarray(wall, dtype=np.float64)
            # wall top at the point, interpolated along the wall polyline
            t = np.hypot(w[:, 0] - a[i, 0], w[:, 1] - a[i, 1])
            top[i] = float(w[np.argmin(t), 2]) if len(w) < 2 else _interp_wall_top(w, a[i, 0], a[i, 1])
    gs: list[float] = []
    gz: list[float] = []
    gg: list[float] = []
    first = np.zeros(len(points), dtype=np.int64)
    last = np.zeros(len(points), dtype=np.int64)
    for i, p in enumerate(points):
        first[i] = len(gs)
        where = p.get("intersection")
        if where == "BUILDING_ENTER":
            gs += [s[i], s[i]]
            gz += [a[i, 3], a[i, 2]]
            gg += [0.0, 0.0]
        elif where == "BUILDING_EXIT":
            gs += [s[i], s[i]]
            gz += [a[i, 2], a[i, 3]]
            gg += [0.0, a[i, 4]]
        else:
            gs.append(s[i])
            gz.append(a[i, 3])
            gg.append(a[i, 4])
        last[i] = len(gs) - 1
    return Profile(
        s, a[:, 2], a[:, 3], a[:, 4], a[:, :3], kind, alpha, top,
        np.asarray(gs, dtype=np.float64), np.asarray(gz, dtype=np.float64), np.asarray(gg, dtype=np.float64), first, last,
    )  # fmt: skip


def _interp_wall_top(w: FloatArray, x: float, y: float) -> float:
    """Height of the wall polyline ``w`` (k, 3) at its point nearest to (x, y)."""
    p = np.array([x, y])
    best, zbest = np.inf, float(w[0, 2])
    for a, b in zip(w[:-1], w[1:]):
        ab = b[:2] - a[:2]
        t = float(np.clip(np.dot(p - a[:2], ab) / max(float(np.dot(ab, ab)), 1e-12), 0.0, 1.0))
        q = a[:2] + t * ab
        dist = float(np.hypot(*(p - q)))
        if dist < best:
            best, zbest = dist, float(a[2] + t * (b[2] - a[2]))
    return zbest


def upper_hull(s_m: FloatArray, z_m: FloatArray) -> npt.NDArray[np.int64]:
    """Indices of the upper convex hull of the points (s, z), from the first to the last.

    Examples
    --------
    >>> upper_hull(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 2.0, 1.0, 0.0])).tolist()
    [0, 1, 3]
    """
    hull: list[int] = []
    for i in range(len(s_m)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            cross = (s_m[b] - s_m[a]) * (z_m[i] - z_m[a]) - (z_m[b] - z_m[a]) * (s_m[i] - s_m[a])
            if cross >= -1e-9:
                hull.pop()
            else:
                break
        hull.append(i)
    return np.asarray(hull, dtype=np.int64)


@dataclass(frozen=True)
class GroundSide:
    """Ground attenuation on one mean plane: heights above it, projected distance, G and A_ground (H, F)."""

    zs_m: float
    zr_m: float
    dp_m: float
    g_path: float
    g_path_prime: float
    a_ground_h: FloatArray
    a_ground_f: FloatArray
    w_h: FloatArray
    cf_h: FloatArray
    plane: tuple[float, float]


def _ground_side(prof: Profile, i0: int, i1: int, z0: float, z1: float, *, g_source: float | None, alpha: FloatArray) -> GroundSide:
    """A_ground between profile points ``i0`` and ``i1`` with end heights ``z0``, ``z1`` (elevations)."""
    j0, j1 = int(prof.ground_last[i0]), int(prof.ground_first[i1])
    s, zg = prof.ground_s_m[j0 : j1 + 1] - prof.ground_s_m[j0], prof.ground_z_m[j0 : j1 + 1]
    length = float(s[-1])
    a, b = mean_plane(np.column_stack([s, zg])) if length > 0 else (0.0, float(zg[0]))
    norm = math.hypot(1.0, a)
    # the source and the receiver below the mean plane are on it (height 0); a diffraction edge
    # below it (a roof seen from a high receiver) is at its distance from it
    h0, h1 = (z0 - b) / norm, (z1 - (a * length + b)) / norm
    zs = max(h0, 0.0) if i0 == 0 else abs(h0)
    zr = max(h1, 0.0) if i1 == len(prof.s_m) - 1 else abs(h1)
    if zs + zr <= 0.0:  # both ends under a plane lifted by roofs: only ever a blocked path's unused term
        zs = zr = 1e-3
    ps = a * (z0 - b) / norm
    pr = (length + a * (z1 - b)) / norm
    dp = abs(pr - ps)
    seg = np.diff(s)
    g = prof.ground_g[j0:j1]
    g_path = float(np.sum(seg * g) / length) if length > 0 else float(prof.ground_g[j0])
    gs = g_path if g_source is None else g_source
    d = math.hypot(length, z1 - z0)
    out = kernels.path_terms(max(d, 1e-6), max(dp, 1e-6), zs, zr, g_path, gs, _BANDS, alpha, np.zeros((9, 8)))
    gp = float(kernels.g_prime(g_path, gs, dp, zs, zr))
    return GroundSide(zs, zr, dp, g_path, gp, out[2].copy(), out[5].copy(), out[0].copy(), out[1].copy(), (float(a), float(b)))


@dataclass(frozen=True)
class ProfileAttenuation:
    """Every attenuation term of one cut profile, per octave band (dB).

    ``diffracted`` says whether the vertical-plane diffraction applies (an obstacle above the line
    of sight); ``delta_dif_*`` are zero otherwise. ``a_boundary_*`` is A_ground or A_dif.
    ``delta_abs`` is 10·lg(1 − α) of the reflections (≤ 0, added to the level) and
    ``delta_retrodif_*`` the retro-diffraction of reflecting edges (subtracted).
    """

    kind: str
    distance_m: float
    diffracted: bool
    a_div: FloatArray
    a_atm: FloatArray
    a_ground_h: FloatArray
    a_ground_f: FloatArray
    delta_dif_h: FloatArray
    delta_dif_f: FloatArray
    a_dif_h: FloatArray
    a_dif_f: FloatArray
    a_boundary_h: FloatArray
    a_boundary_f: FloatArray
    delta_abs: FloatArray
    delta_retrodif_h: FloatArray
    delta_retrodif_f: FloatArray

    def levels(self, lw_db: float | FloatArray, *, p_favourable: float = 0.5) -> dict[str, FloatArray]:
        """Path levels ``{"LH", "LF", "L"}`` per band for a point source of power ``lw_db``."""
        lw = np.broadcast_to(np.asarray(lw_db, dtype=np.float64), (8,))
        base = lw - self.a_div - self.a_atm + self.delta_abs
        lh = base - self.a_boundary_h - self.delta_retrodif_h
        lf = base - self.a_boundary_f - self.delta_retrodif_f
        p = p_favourable
        return {"LH": lh, "LF": lf, "L": 10 * np.log10(p * 10 ** (lf / 10) + (1 - p) * 10 ** (lh / 10))}


def _vertical_diffraction(
    prof: Profile, hull: npt.NDArray[np.int64], *, g_source: float, alpha: FloatArray, curved: bool
) -> tuple[FloatArray, FloatArray]:
    """(Δdif(S,R), A_dif) over the hull vertices in homogeneous (``curved=False``) or favourable conditions."""
    s, z = prof.s_m, prof.z_m
    pts = np.column_stack([s[hull], z[hull]])
    d_sr = float(np.hypot(*(pts[-1] - pts[0])))
    gamma = max(1000.0, 8.0 * d_sr)
    e = float(np.sum(np.hypot(np.diff(pts[1:-1, 0]), np.diff(pts[1:-1, 1])))) if len(pts) > 3 else 0.0
    dd_sr = delta_dif_db(_path_difference(pts, curved=curved, gamma_m=gamma), e_m=e)
    i_o1, i_on, n = int(hull[1]), int(hull[-2]), len(s) - 1
    src = _ground_side(prof, 0, i_o1, z[0], z[i_o1], g_source=g_source, alpha=alpha)
    rcv = _ground_side(prof, i_on, n, z[i_on], z[n], g_source=None, alpha=alpha)
    # images of S and R in their mean planes
    s_img = _mirror(pts[0], src.plane, 0.0)
    r_img = _mirror(pts[-1], rcv.plane, float(s[i_on]))
    dd_s = delta_dif_db(_path_difference(np.vstack([s_img, pts[1:]]), curved=curved, gamma_m=gamma), e_m=e)
    dd_r = delta_dif_db(_path_difference(np.vstack([pts[:-1], r_img]), curved=curved, gamma_m=gamma), e_m=e)
    ag_so = src.a_ground_f if curved else src.a_ground_h
    ag_or = rcv.a_ground_f if curved else rcv.a_ground_h
    dg_so = -20.0 * np.log10(1.0 + (10.0 ** (-ag_so / 20.0) - 1.0) * 10.0 ** (-(dd_s - dd_sr) / 20.0))
    dg_or = -20.0 * np.log10(1.0 + (10.0 ** (-ag_or / 20.0) - 1.0) * 10.0 ** (-(dd_r - dd_sr) / 20.0))
    return dd_sr, np.minimum(dd_sr, MAX_DELTA_DIF_DB) + dg_so + dg_or


def _mirror(p: FloatArray, plane: tuple[float, float], s0: float) -> FloatArray:
    """Image of the point ``p`` (s, z) in the line z = a·(s − s0) + b."""
    a, b = plane
    # line through (s0, b) with direction (1, a)
    d = np.array([1.0, a]) / math.hypot(1.0, a)
    q = p - np.array([s0, b])
    proj = np.dot(q, d) * d
    return np.asarray(np.array([s0, b]) + 2.0 * proj - q, dtype=np.float64)


def profile_attenuation(
    points: Sequence[Mapping[str, Any]],
    *,
    g_source: float | None = None,
    temperature_c: float = 15.0,
    humidity_pct: float = 70.0,
    lateral: bool | None = None,
    name: str = "profile",
) -> ProfileAttenuation:
    """All attenuation terms of one cut profile (see the module docstring).

    Parameters
    ----------
    points
        The profile from source to receiver: mappings with ``type`` (Source, GroundEffect,
        Topography, Wall, Building, VEdgeDiffraction, Reflection, Receiver), ``x``, ``y``, ``z``
        (elevation of the ray point, or of the obstacle top), ``zGround`` and ``G`` (ground factor
        from this point to the next); reflection points carry ``wall_alpha`` (8 bands) and ``wall``
        (the reflecting polyline with its top z).
    g_source
        G at the source (default: the source point's G).
    temperature_c, humidity_pct
        Air conditions for the ISO 9613-1 absorption.
    lateral
        Whether this is a path around vertical edges (default: it has a VEdgeDiffraction point).
    name
        Named in error messages.
    """
    prof = unfold_profile(points, name=name)
    alpha = atmospheric_absorption_db_km(temperature_c=temperature_c, humidity_pct=humidity_pct)
    gs = float(prof.g[0]) if g_source is None else float(g_source)
    n = len(prof.s_m) - 1
    xyz = prof.xyz
    is_lateral = ("VEdgeDiffraction" in prof.kind) if lateral is None else lateral
    d_unfold = float(math.hypot(prof.s_m[-1], prof.z_m[-1] - prof.z_m[0]))
    zero = np.zeros(8)
    # obstacle tops: every intermediate point except reflection points (their z is the ray height)
    zt = prof.z_m.copy()
    refl = np.array([k == "Reflection" for k in prof.kind])
    zt[refl] = -np.inf
    keep = np.flatnonzero(~refl)
    s = prof.s_m
    half = s[n] / 2.0
    gamma = max(1000.0, 8.0 * d_unfold)
    # favourable conditions: rays are arcs of radius Γ, so every obstacle is lower by the arc's rise
    rise = np.sqrt(gamma**2 - (s - half) ** 2) - math.sqrt(gamma**2 - half**2)
    ends = np.array([0, n], dtype=np.int64)
    hull = ends if is_lateral else keep[upper_hull(s[keep], zt[keep])]
    hull_f = ends if is_lateral else keep[upper_hull(s[keep], (zt - rise)[keep])]
    delta_abs, retro_h, retro_f = _reflection_terms(prof, hull, hull_f, gamma_m=gamma)
    if is_lateral:
        # the path unfolded around the vertical edges into one vertical plane
        d = d_unfold
        whole = _ground_side(prof, 0, n, prof.z_m[0], prof.z_m[n], g_source=gs, alpha=alpha)
        edges = np.flatnonzero(np.array([k == "VEdgeDiffraction" for k in prof.kind]))
        e_lat = float(np.sum(np.linalg.norm(np.diff(xyz[edges], axis=0), axis=1))) if len(edges) else 0.0
        dd = delta_dif_db(d_unfold - float(np.linalg.norm(xyz[-1] - xyz[0])), e_m=e_lat)
        # divergence over the direct distance, air absorption along the path around the edges
        a_div = np.full(8, 20.0 * math.log10(float(np.linalg.norm(xyz[-1] - xyz[0]))) + 11.0)
        return ProfileAttenuation(
            "lateral", d, False, a_div, alpha * d / 1000.0, whole.a_ground_h, whole.a_ground_f, dd, dd, dd, dd,
            whole.a_ground_h + dd, whole.a_ground_f + dd, delta_abs, retro_h, retro_f,
        )  # fmt: skip
    d = d_unfold
    a_div = np.full(8, 20.0 * math.log10(d) + 11.0)
    a_atm = alpha * d / 1000.0
    whole = _ground_side(prof, 0, n, prof.z_m[0], prof.z_m[n], g_source=gs, alpha=alpha)
    kind = "reflection" if refl.any() else "direct"
    terms = []
    blocked = False
    for curved in (False, True):
        edges = hull_f if curved else hull
        blocked_here = len(edges) > 2
        blocked |= blocked_here
        if not blocked_here:
            inner = keep[1:-1]
            if len(inner) == 0:
                terms.append((zero, zero, whole.a_ground_f if curved else whole.a_ground_h))
                continue
            # line of sight clear: the edge nearest to the ray may still diffract (Rayleigh criterion)
            line = prof.z_m[0] + (prof.z_m[n] - prof.z_m[0]) * s[inner] / s[n]
            height = (zt - rise if curved else zt)[inner] - line
            edges = np.array([0, int(inner[np.argmax(height)]), n], dtype=np.int64)
        admitted = _rayleigh(prof, edges, g_source=gs, alpha=alpha, curved=curved, blocked=blocked_here)
        if admitted.any():
            dd, ad = _vertical_diffraction(prof, edges, g_source=gs, alpha=alpha, curved=curved)
            ground = whole.a_ground_f if curved else whole.a_ground_h
            terms.append((np.where(admitted, dd, 0.0), np.where(admitted, ad, 0.0), np.where(admitted, ad, ground)))
        else:
            terms.append((zero, zero, whole.a_ground_f if curved else whole.a_ground_h))
    (dd_h, ad_h, bh), (dd_f, ad_f, bf) = terms
    return ProfileAttenuation(
        kind, d, bool(blocked or np.any(dd_h != 0) or np.any(dd_f != 0)), a_div, a_atm, whole.a_ground_h, whole.a_ground_f,
        dd_h, dd_f, ad_h, ad_f, bh, bf, delta_abs, retro_h, retro_f,
    )  # fmt: skip


def _rayleigh(
    prof: Profile, hull: npt.NDArray[np.int64], *, g_source: float, alpha: FloatArray, curved: bool, blocked: bool
) -> npt.NDArray[np.bool_]:
    """Bands where diffraction over the hull applies: all when the ray is blocked (δ ≥ 0); else the
    Rayleigh criterion of 2021/1226, δ > −λ/20 and δ > λ/4 − δ*, with δ* between the images S*, R*."""
    s, z = prof.s_m, prof.z_m
    pts = np.column_stack([s[hull], z[hull]])
    d = float(np.hypot(*(pts[-1] - pts[0])))
    gamma = max(1000.0, 8.0 * d)
    delta = _path_difference(pts, curved=curved, gamma_m=gamma)
    if blocked or delta >= 0:
        return np.ones(8, dtype=bool)
    i_o1, i_on, n = int(hull[1]), int(hull[-2]), len(s) - 1
    src = _ground_side(prof, 0, i_o1, z[0], z[i_o1], g_source=g_source, alpha=alpha)
    rcv = _ground_side(prof, i_on, n, z[i_on], z[n], g_source=None, alpha=alpha)
    images = np.vstack([_mirror(pts[0], src.plane, 0.0), pts[1:-1], _mirror(pts[-1], rcv.plane, float(s[i_on]))])
    delta_star = _path_difference(images, curved=curved, gamma_m=gamma)
    return np.asarray((delta > -_LAMBDA_M / 20.0) & (delta > _LAMBDA_M / 4.0 - delta_star), dtype=bool)


def _reflection_terms(
    prof: Profile, hull: npt.NDArray[np.int64], hull_f: npt.NDArray[np.int64], *, gamma_m: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """10·lg(1 − α) of every reflection and the retro-diffraction of its top edge T (H, F).

    Δretrodif = Δdif(−δ) of the ray's leg around T, between the diffraction points on either side
    of the reflection (``hull`` straight rays, ``hull_f`` curved rays): zero once the ray passes λ/20
    below T, above 10·lg 3 when T is below the ray.
    """
    delta_abs, retro_h, retro_f = np.zeros(8), np.zeros(8), np.zeros(8)
    s, z = prof.s_m, prof.z_m
    for i in np.flatnonzero(np.array([k == "Reflection" for k in prof.kind])):
        delta_abs += 10.0 * np.log10(1.0 - np.clip(prof.alpha[i], 0.0, 0.999999))
        if not np.isfinite(prof.wall_top_m[i]):
            continue
        for edges, curved in ((hull, False), (hull_f, True)):
            before, after = int(edges[edges < i].max()), int(edges[edges > i].min())
            leg = np.array([[s[before], z[before]], [s[i], prof.wall_top_m[i]], [s[after], z[after]]])
            term = delta_dif_db(-_path_difference(leg, curved=curved, gamma_m=gamma_m))
            if curved:
                retro_f += term
            else:
                retro_h += term
    return delta_abs, retro_h, retro_f
