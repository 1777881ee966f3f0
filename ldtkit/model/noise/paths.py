"""Cut profiles of the direct path: buildings, thin walls, ground zones and terrain.

:func:`direct_profile` cuts the vertical plane through a source and a receiver: where the path
enters and leaves each building (the roof height), crosses a thin wall (its top at the
crossing), crosses from one ground zone to another (the G that follows) and, given a
:class:`~ldtkit.model.noise.terrain.Terrain`, where the ground under it changes slope. The result
is the point list :func:`~ldtkit.model.noise.diffraction.profile_attenuation` takes. Lateral
paths and reflections are not cut here yet.

Examples
--------
>>> import shapely
>>> pts = direct_profile((0, 0, 1), (100, 0, 4), buildings=[(shapely.box(40, -5, 60, 5), 10.0)])
>>> [(p["type"], p["x"], p.get("intersection")) for p in pts]
[('Source', 0.0, None), ('Wall', 40.0, 'BUILDING_ENTER'), ('Wall', 60.0, 'BUILDING_EXIT'), ('Receiver', 100.0, None)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from ldtkit.errors import InvalidValueError

if TYPE_CHECKING:
    from ldtkit.model.noise.terrain import Terrain


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
    terrain: Terrain | None = None,
) -> list[dict[str, Any]]:
    """The cut profile of the straight path from ``source_xyz`` to ``receiver_xyz``.

    Every z is an elevation (m), as in ISO/TR 17534-4: the ground is flat at z = 0 without
    ``terrain`` (so z is then also the height above it), else the terrain's elevation.

    Parameters
    ----------
    source_xyz, receiver_xyz
        Points (m); they must not be below the ground.
    buildings
        (footprint polygon, roof elevation in m) pairs.
    walls
        Thin walls as polylines of (x, y, z_top).
    ground_zones
        (polygon, G) pairs; where zones overlap the last one wins. Elsewhere ``default_g``.
    terrain
        Ground elevation; the profile gets a ``Topography`` point wherever the ground under the path
        changes slope, and every point its ``zGround``.

    Examples
    --------
    >>> from ldtkit.model.noise.terrain import terrain_from_breaklines
    >>> hill = terrain_from_breaklines([[(0, -50, 0), (0, 50, 0)], [(50, -50, 5), (50, 50, 5)], [(100, -50, 0), (100, 50, 0)]])
    >>> [(p["type"], p["x"], p["zGround"]) for p in direct_profile((0, 0, 1), (100, 0, 4), terrain=hill)]
    [('Source', 0.0, 0.0), ('Topography', 50.0, 5.0), ('Receiver', 100.0, 0.0)]
    """
    s = np.asarray(source_xyz, dtype=np.float64)
    r = np.asarray(receiver_xyz, dtype=np.float64)
    if s.shape != (3,) or r.shape != (3,):
        raise InvalidValueError("source_xyz and receiver_xyz must be (x, y, z) triples")
    line = shapely.LineString([s[:2], r[:2]])
    length = float(line.length)
    if length <= 0:
        raise InvalidValueError("source and receiver are at the same (x, y)")
    if terrain is None:
        ground_s, ground_z = np.array([0.0, length]), np.zeros(2)
    else:
        ground_s, ground_z = terrain.profile((float(s[0]), float(s[1])), (float(r[0]), float(r[1])))

    def ground(t: float) -> float:
        return float(np.interp(t * length, ground_s, ground_z))

    for what, p, t_end in (("source", s, 0.0), ("receiver", r, 1.0)):
        if p[2] < ground(t_end) - 1e-9:
            raise InvalidValueError(f"{what} height {p[2] - ground(t_end)} m is below the ground; expected >= 0")
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
                events.append((t, {"type": "GroundEffect", "z": None}))
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
    for sk in ground_s[1:-1]:
        events.append((float(sk) / length, {"type": "Topography", "z": None}))
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
    out.append({"type": "Source", "x": float(s[0]), "y": float(s[1]), "z": float(s[2]), "zGround": ground(0.0), "G": g0})
    for t, ev in events:
        x, y = at(t)
        xa, ya = at(min(t + 1e-6, 1.0))
        zg = ground(t)
        # ground points (zone changes, breaks of slope) are on the ground; walls and roofs at their tops
        z = zg if ev["z"] is None else ev["z"]
        point = {"type": ev["type"], "x": x, "y": y, "z": z, "zGround": zg, "G": _ground_g(xa, ya, ground_zones, default_g)}
        if "intersection" in ev:
            point["intersection"] = ev["intersection"]
        if "wall" in ev:
            point["wall"] = ev["wall"]
        out.append(point)
    gr = _ground_g(float(r[0]), float(r[1]), ground_zones, default_g)
    out.append({"type": "Receiver", "x": float(r[0]), "y": float(r[1]), "z": float(r[2]), "zGround": ground(1.0), "G": gr})
    return out
