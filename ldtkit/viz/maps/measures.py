"""Where and what: the links a scenario's measures touch, with a label, and the area that changes.

:func:`measure_marks` reads the links each measure touched (``network.meta["touched_links"]``,
set when a scenario is applied) and gives one :class:`MeasureMark` per measure: the touched
links' geometry, a point to pin the label on, and a label such as
``"Rooigemlaan bridge: closed both ways"``. :func:`change_bounds` is the box a map opens on:
the measures plus the links whose flow changes by more than a threshold.

Examples
--------
>>> measure_label("close", {"street": "Rooigemlaan", "bridge": True}, "both")
'Rooigemlaan bridge: closed both ways'
>>> measure_label("set", {"street": ["Vasilissis Olgas"]}, "northbound", {"lanes": 1})
'Vasilissis Olgas: lanes 1 (northbound)'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

#: What each action does, as a map label says it.
_ACTION_WORDS = {"close": "closed", "pedestrianise": "pedestrianised", "bar_heavy": "heavy vehicles barred", "set": ""}
#: A flow change (veh/h) above which a road counts as "changing" when a map is framed.
CHANGE_THRESHOLD_VPH = 100.0


@dataclass(frozen=True)
class MeasureMark:
    """One measure on a map.

    Attributes
    ----------
    label
        What and where, e.g. ``"Rooigemlaan bridge: closed both ways"``.
    link_ids
        The links the measure touched.
    geometry
        Their union, in the network's CRS.
    anchor
        A point on the touched links where the marker and label go, in the network's CRS.
    place
        Where, without what (:func:`measure_place`, e.g. ``"Rooigemlaan bridge"``): how a map of the
        baseline, where nothing is done yet, names the place; ``""``: the label names it.
    """

    label: str
    link_ids: tuple[int, ...]
    geometry: BaseGeometry
    anchor: BaseGeometry
    place: str = ""


def measure_place(select: Mapping[str, Any]) -> str:
    """Where a measure acts, as its label begins: a street or bridge, a number of links, or an area.

    Examples
    --------
    >>> measure_place({"street": "Rooigemlaan", "bridge": True}), measure_place({"ids": [1, 2, 3]})
    ('Rooigemlaan bridge', '3 links')
    """
    street = select.get("bridge_name") or select.get("street")
    if isinstance(street, (list, tuple)):
        street = " / ".join(str(s) for s in street)
    if street:
        return str(street) + (" bridge" if select.get("bridge") or "bridge_name" in select else "")
    if "ids" in select:
        return f"{len(select['ids'])} links"
    return "area" if "within" in select else "selected links"


def measure_label(action: str, select: Mapping[str, Any], direction: Any = "both", values: Mapping[str, float] | None = None) -> str:
    """A short label of a measure: the place, what happens, and in which direction.

    Examples
    --------
    >>> measure_label("close", {"street": "Rooigemlaan", "bridge": True}, "southbound")
    'Rooigemlaan bridge: closed southbound'
    >>> measure_label("bar_heavy", {"ids": [1, 2, 3]})
    '3 links: heavy vehicles barred'
    """
    place = measure_place(select)
    what = _ACTION_WORDS.get(action, action)
    if action == "set":
        what = ", ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in dict(values or {}).items()) or "changed"
    if direction == "both":
        where = " both ways" if action in ("close", "pedestrianise") else ""
    elif isinstance(direction, str):
        where = f" {direction}" if action != "set" else f" ({direction})"
    else:
        where = " one way"
    return f"{place}: {what}{where}"


def measure_marks(network_links: gpd.GeoDataFrame, touched: Mapping[str, Sequence[int]], measures: Sequence[Any]) -> list[MeasureMark]:
    """One :class:`MeasureMark` per measure that touched links.

    Parameters
    ----------
    network_links
        The scenario network's links (``link_id`` and geometry).
    touched
        ``network.meta["touched_links"]``: ``{"<i>:<action>": [link ids]}`` (``i`` from 1).
    measures
        The scenario's measures (with ``action``, ``select``, ``direction``, ``values``).
    """
    import shapely

    ids = network_links["link_id"].to_numpy(np.int64)
    geoms = network_links.geometry.to_numpy()
    marks = []
    for key, link_ids in touched.items():
        rows = np.flatnonzero(np.isin(ids, np.asarray(list(link_ids), dtype=np.int64)))
        if not len(rows):
            continue
        i = int(str(key).split(":", 1)[0]) - 1
        m = measures[i] if 0 <= i < len(measures) else None
        label = measure_label(m.action, m.select, m.direction, m.values) if m is not None else str(key)
        place = measure_place(m.select) if m is not None else ""
        geom = shapely.union_all(geoms[rows])
        # the middle of the longest touched link: on the road, not in a river between two of them
        longest = geoms[rows][int(np.argmax(shapely.length(geoms[rows])))]
        anchor = shapely.line_interpolate_point(longest, 0.5, normalized=True)
        marks.append(MeasureMark(label, tuple(int(x) for x in ids[rows]), geom, anchor, place))
    return marks


def change_bounds(
    diff: gpd.GeoDataFrame,
    column: str,
    marks: Sequence[MeasureMark] = (),
    *,
    threshold: float = CHANGE_THRESHOLD_VPH,
    margin: float = 0.1,
) -> tuple[float, float, float, float] | None:
    """``(minx, miny, maxx, maxy)`` around the measures and the links whose ``|column|`` exceeds
    ``threshold``, widened by ``margin`` of its size on each side (``None``: nothing changes).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> d = gpd.GeoDataFrame({"d": [5.0, -400.0, 300.0]}, geometry=[LineString([(0, 0), (1, 0)]),
    ...     LineString([(10, 10), (20, 10)]), LineString([(20, 10), (20, 30)])])
    >>> change_bounds(d, "d", margin=0.0)
    (10.0, 10.0, 20.0, 30.0)
    """
    import shapely

    parts = list(diff.geometry[np.abs(diff[column].to_numpy(float)) > threshold].to_numpy())
    parts += [m.geometry for m in marks]
    if not parts:
        return None
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(np.asarray(parts, dtype=object)))
    pad_x, pad_y = margin * max(maxx - minx, 1.0), margin * max(maxy - miny, 1.0)
    return (minx - pad_x, miny - pad_y, maxx + pad_x, maxy + pad_y)


def places_of(marks: Sequence[MeasureMark]) -> list[MeasureMark]:
    """One mark per place the measures act on, labelled by the place only (for a map of the baseline,
    where nothing is done yet): several scenarios at one bridge give one "Rooigemlaan bridge" mark, not
    their labels stacked on each other. Of the marks at one place, the one touching the most links is kept.

    Examples
    --------
    >>> from shapely.geometry import LineString, Point
    >>> both = MeasureMark("Bridge: closed both ways", (1, 2), LineString([(0, 0), (10, 0)]), Point(5, 0), "Bridge")
    >>> north = MeasureMark("Bridge: closed northbound", (1,), LineString([(0, 0), (10, 0)]), Point(5, 0), "Bridge")
    >>> [(m.label, m.link_ids) for m in places_of([north, both])]
    [('Bridge', (1, 2))]
    """
    kept: dict[str, MeasureMark] = {}
    for m in marks:
        where = m.place or m.label
        if where not in kept or len(m.link_ids) > len(kept[where].link_ids):
            kept[where] = replace(m, label=where)
    return list(kept.values())


def plot_marks(ax: Any, marks: Sequence[MeasureMark], *, bounds: tuple[float, float, float, float] | None = None) -> None:
    """Draw measures on a static map (same CRS as the marks): the touched links dashed, a pin and
    the label; with ``bounds``, frame the axes on them (e.g. :func:`change_bounds`).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from shapely.geometry import LineString, Point
    >>> fig, ax = plt.subplots()
    >>> plot_marks(ax, [MeasureMark("Bridge: closed both ways", (1,), LineString([(0, 0), (10, 0)]), Point(5, 0))],
    ...            bounds=(-5.0, -5.0, 15.0, 5.0))
    >>> [t.get_text() for t in ax.texts], [float(v) for v in ax.get_xlim()]
    (['Bridge: closed both ways'], [-5.0, 15.0])
    >>> plt.close(fig)
    """
    import shapely

    for mark in marks:
        for part in shapely.get_parts(np.asarray([mark.geometry], dtype=object)):
            xy = shapely.get_coordinates(part)
            ax.plot(xy[:, 0], xy[:, 1], color="#111111", lw=4.0, ls=(0, (3, 2)), alpha=0.7, zorder=5, solid_capstyle="butt")
        x, y = float(mark.anchor.x), float(mark.anchor.y)
        ax.plot([x], [y], marker="o", ms=9, color="#111111", mec="white", mew=1.5, zorder=6)
        ax.annotate(
            mark.label,
            (x, y),
            xytext=(8, 8),
            textcoords="offset points",
            fontsize=8,
            fontweight="bold",
            zorder=7,
            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#111111", "alpha": 0.92},
        )
    if bounds is not None:
        ax.set_xlim(bounds[0], bounds[2])
        ax.set_ylim(bounds[1], bounds[3])


__all__ = [
    "CHANGE_THRESHOLD_VPH",
    "MeasureMark",
    "change_bounds",
    "measure_label",
    "measure_marks",
    "measure_place",
    "places_of",
    "plot_marks",
]
