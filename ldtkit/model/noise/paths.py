"""Cut profiles of the direct path over flat ground: buildings, thin walls and ground zones.

:func:`direct_profile` cuts the vertical plane through a source and a receiver: where the path
enters and leaves each building (the roof height), crosses a thin wall (its top at the
crossing) and crosses from one ground zone to another (the G that follows). The result is the
point list :func:`~ldtkit.model.noise.diffraction.profile_attenuation` takes. Lateral paths,
reflections and terrain (triangulated breaklines) are not cut here yet.

Examples
--------
>>> import shapely
>>> pts = direct_profile((0, 0, 1), (100, 0, 4), buildings=[(shapely.box(40, -5, 60, 5), 10.0)])
>>> [(p["type"], p["x"], p.get("intersection")) for p in pts]
[('Source', 0.0, None), ('Wall', 40.0, 'BUILDING_ENTER'), ('Wall', 60.0, 'BUILDING_EXIT'), ('Receiver', 100.0, None)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from ldtkit.errors import InvalidValueError


def _ground_g(x: float, y: float, zones: Sequence[tuple[Any, float]], default_g: float) -> float:
    """G at (x, y): the last zone that contains the point, else ``default_g``."""
    p = shapely.Point(x, y)
    g = default_g
    for poly, gz in zones:
        if poly.covers(p):
            g = gz
    return float(g)


def direct_profile(
    source_xyz: Sequence[float],
    receiver_xyz: Sequence[float],
    *,
    buildings: Sequence[tuple[Any, float]] = (),
    walls: Sequence[Sequence[Sequence[float]]] = (),
    ground_zones: Sequence[tuple[Any, float]] = (),
    default_g: float = 0.0,
) -> list[dict[str, Any]]:
    """The cut profile of the straight path from ``source_xyz`` to ``receiver_xyz`` over flat ground (z = 0).

    Parameters
    ----------
    source_xyz, receiver_xyz
        Points (m); z is the height above the ground.
    buildings
        (footprint polygon, height in m) pairs.
    walls
        Thin walls as polylines of (x, y, z_top).
    ground_zones
        (polygon, G) pairs; where zones overlap the last one wins. Elsewhere ``default_g``.
    """
    s = np.asarray(source_xyz, dtype=np.float64)
    r = np.asarray(receiver_xyz, dtype=np.float64)
    if s.shape != (3,) or r.shape != (3,):
        raise InvalidValueError("source_xyz and receiver_xyz must be (x, y, z) triples")
    for what, p in (("source", s), ("receiver", r)):
        if p[2] < 0:
            raise InvalidValueError(f"{what} height {p[2]} m is below the ground; expected >= 0")
    line = shapely.LineString([s[:2], r[:2]])
    length = float(line.length)
    if length <= 0:
        raise InvalidValueError("source and receiver are at the same (x, y)")
    events: list[tuple[float, dict[str, Any]]] = []

    def at(t: float) -> tuple[float, float]:
        q = s[:2] + (r[:2] - s[:2]) * t
        return float(q[0]), float(q[1])

    for poly, _g in ground_zones:
        for pt in shapely.get_parts(shapely.intersection(line, poly.boundary)):
            if shapely.get_type_id(pt) != 0:
                continue
            t = float(line.project(pt)) / length
            if 1e-9 < t < 1 - 1e-9:
                events.append((t, {"type": "GroundEffect", "z": 0.0}))
    for poly, height in buildings:
        inside = shapely.intersection(line, poly)
        for seg in shapely.get_parts(inside):
            if shapely.get_type_id(seg) != 1 or seg.is_empty:
                continue
            t0, t1 = sorted(float(line.project(shapely.Point(c))) / length for c in (seg.coords[0], seg.coords[-1]))
            wall_enter = {"type": "Wall", "z": float(height), "intersection": "BUILDING_ENTER"}
            wall_exit = {"type": "Wall", "z": float(height), "intersection": "BUILDING_EXIT"}
            events += [(t0, wall_enter), (t1, wall_exit)]
    for wall in walls:
        w = np.asarray(wall, dtype=np.float64)
        wl = shapely.LineString(w[:, :2])
        hit = shapely.intersection(line, wl)
        for pt in shapely.get_parts(hit):
            if shapely.get_type_id(pt) != 0:
                continue
            # top of the wall at the crossing, interpolated along the wall
            d = float(wl.project(pt))
            cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(w[:, :2], axis=0).T))])
            top = float(np.interp(d, cum, w[:, 2]))
            t = float(line.project(pt)) / length
            events.append((t, {"type": "Wall", "z": top, "intersection": "THIN_WALL_ENTER_EXIT", "wall": w.tolist()}))
    events.sort(key=lambda e: e[0])
    # a boundary shared by two zones is one change of ground, not two
    kept: list[tuple[float, dict[str, Any]]] = []
    for t, ev in events:
        if kept and ev["type"] == "GroundEffect" == kept[-1][1]["type"] and (t - kept[-1][0]) * length < 1e-6:
            continue
        kept.append((t, ev))
    events = kept
    out: list[dict[str, Any]] = []
    g0 = _ground_g(float(s[0]), float(s[1]), ground_zones, default_g)
    out.append({"type": "Source", "x": float(s[0]), "y": float(s[1]), "z": float(s[2]), "zGround": 0.0, "G": g0})
    for t, ev in events:
        x, y = at(t)
        xa, ya = at(min(t + 1e-6, 1.0))
        point = {"type": ev["type"], "x": x, "y": y, "z": ev["z"], "zGround": 0.0, "G": _ground_g(xa, ya, ground_zones, default_g)}
        if "intersection" in ev:
            point["intersection"] = ev["intersection"]
        if "wall" in ev:
            point["wall"] = ev["wall"]
        out.append(point)
    gr = _ground_g(float(r[0]), float(r[1]), ground_zones, default_g)
    out.append({"type": "Receiver", "x": float(r[0]), "y": float(r[1]), "z": float(r[2]), "zGround": 0.0, "G": gr})
    return out
