"""What a dashboard or report maps per scenario: road flows, noise and NO2 grids, and differences.

:func:`views_from_results` turns the results of :func:`ldtkit.study.runner.run` into one
:class:`ScenarioView` per scenario (roads with both directions summed, clipped to the city's
focus area; receptor grids as points). :func:`flow_difference` and :func:`grid_difference`
give a scenario's change against the baseline, per road and per receptor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ldtkit.errors import InvalidValueError, LdtkitError, MissingFieldError
from ldtkit.viz.maps import aggregate_directions
from ldtkit.viz.maps.measures import MeasureMark, measure_marks

if TYPE_CHECKING:  # geopandas loads when views are built
    import geopandas as gpd

    from ldtkit.study.city import City
    from ldtkit.study.runner import ScenarioResult


@dataclass
class ScenarioView:
    """What the dashboard maps for one scenario, in the city's CRS.

    Attributes
    ----------
    name
        Scenario name (the whitelist key).
    label
        Human-readable title.
    links
        Road links with ``flow_vph`` (two directions summed per road) and geometry.
    noise
        Receptor points with ``lden_db`` (or ``None`` when noise was not modelled).
    air
        Receptor points with ``no2_ugm3`` (or ``None``).
    marks
        The scenario's measures on the map: touched links and a label each (none for the baseline).
    select_link
        Who used the measures' links in the baseline (:func:`select_link_view`), or ``None``.
    """

    name: str
    label: str
    links: gpd.GeoDataFrame
    noise: gpd.GeoDataFrame | None = None
    air: gpd.GeoDataFrame | None = None
    marks: list[MeasureMark] = field(default_factory=list)
    select_link: SelectLinkView | None = None


#: Colour of the origin (filled) and destination (ring) circles of a select-link map, dashboard and report.
ZONE_COLOURS = {"origin": "#d95f02", "destination": "#1b9e77"}


@dataclass
class SelectLinkView:
    """The baseline traffic that used some links: its routes and where it came from and went to.

    Attributes
    ----------
    link_ids
        The selected links (e.g. those a scenario's measures touch).
    links
        Roads the selection's traffic uses (two directions summed): ``source_id``,
        ``select_link_vph`` (its day flow, vehicles per hour), ``flow_vph`` (all traffic) and geometry.
    zones
        Zone centroids the selection's traffic starts or ends at: ``zone``, ``origin_vph``,
        ``destination_vph`` and point geometry.
    trips_vph
        All trips using the selection, vehicles per hour (the origins sum to it, and so do the destinations).
    both_directions
        Whether the selection holds both directions of a road (then ``trips_vph`` sums them).
    """

    link_ids: tuple[int, ...]
    links: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    trips_vph: float
    both_directions: bool = False

    @property
    def directions_text(self) -> str:
        """How ``trips_vph`` counts directions, for a legend: "both directions summed" or "one direction".

        Examples
        --------
        >>> SelectLinkView((1, 2), None, None, 2990.7, both_directions=True).directions_text
        'both directions summed'
        """
        return "both directions summed" if self.both_directions else "one direction"


#: Radius (px) of a zone circle of the select-link map, per sqrt(veh/h) (its area grows with its trips).
ZONE_RADIUS_PX = 0.6


def zones_geojson(sl: SelectLinkView | None) -> dict[str, Any]:
    """GeoJSON (EPSG:4326) of where a selection's traffic came from (filled circles) and went to (rings).

    Each zone is a circle whose area grows with its trips (``origin_vph``, ``destination_vph``);
    every circle carries both values and the zone's ``name`` for a hover box; zones without trips
    of a kind get no circle of that kind.
    """
    if sl is None or not len(sl.zones):
        return {"type": "FeatureCollection", "features": []}
    z = sl.zones.to_crs(4326) if sl.zones.crs is not None else sl.zones
    features = []
    o_vph, d_vph = z["origin_vph"].to_numpy(float), z["destination_vph"].to_numpy(float)
    for kind, fill in (("origin", 0.55), ("destination", 0.0)):
        vph = o_vph if kind == "origin" else d_vph
        for zone, value, o, d, point in zip(z["zone"].to_numpy(), vph, o_vph, d_vph, z.geometry):
            if value <= 0 or point is None:
                continue
            style = {
                "radius": round(3.0 + ZONE_RADIUS_PX * float(np.sqrt(value)), 1),
                "color": ZONE_COLOURS[kind],
                "weight": 2,
                "fillColor": ZONE_COLOURS[kind],
                "fillOpacity": fill,
                "opacity": 0.9,
            }
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [round(point.x, 5), round(point.y, 5)]},
                    "properties": {
                        "name": f"Zone {int(zone)}",
                        "zone": int(zone),
                        "kind": kind,
                        "origin_vph": round(float(o), 3),
                        "destination_vph": round(float(d), 3),
                        "style": style,
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


def select_link_view(baseline: ScenarioResult, link_ids: Sequence[int], *, cache_dir: str | Path | None = None) -> SelectLinkView:
    """Who used ``link_ids`` in ``baseline``: :func:`ldtkit.study.select_link.select_link` as map layers.

    ``cache_dir`` holds the baseline's path sets when the result does not (default: the runner's cache).

    Raises
    ------
    LdtkitError
        When no link is selected or the baseline's path sets are not available.
    """
    import geopandas as gpd

    from ldtkit.model.network import CONNECTOR_CLASS
    from ldtkit.study.select_link import select_link

    sl = select_link(baseline, [int(i) for i in link_ids], cache_dir=cache_dir)
    links = baseline.network.links
    flow = pd.Series(sl.flow_vph, index=sl.link_ids)
    total = pd.Series(sl.total_flow_vph, index=sl.link_ids)
    ids = links["link_id"].to_numpy(np.int64)
    g = links[["link_id", "source_id", "road_class", links.geometry.name]].assign(
        select_link_vph=flow.reindex(ids).fillna(0.0).to_numpy(float), flow_vph=total.reindex(ids).fillna(0.0).to_numpy(float)
    )
    g = g[(g["select_link_vph"].to_numpy(float) > 0) & (g["road_class"] != CONNECTOR_CLASS).to_numpy() & g.geometry.notna().to_numpy()]
    g = g.assign(source_id=g["source_id"].where(g["source_id"].notna(), "link:" + g["link_id"].astype(str)))
    g = aggregate_directions(g, ["select_link_vph", "flow_vph"], key="source_id").drop(columns=["road_class"])
    nodes = baseline.network.nodes
    o, d = sl.origins_vph, sl.destinations_vph
    zone_ids = o.index.union(d.index)
    at = nodes.set_index("node_id").geometry.reindex(zone_ids)
    zones = gpd.GeoDataFrame(
        {
            "zone": zone_ids.to_numpy(np.int64),
            "origin_vph": o.reindex(zone_ids).fillna(0.0).to_numpy(float),
            "destination_vph": d.reindex(zone_ids).fillna(0.0).to_numpy(float),
        },
        geometry=at.to_numpy(),
        crs=nodes.crs,
    )
    chosen = links[np.isin(links["link_id"].to_numpy(np.int64), np.asarray(sl.link_id, dtype=np.int64))]
    both = bool(chosen["source_id"].notna().any() and chosen["source_id"].dropna().duplicated().any())
    return SelectLinkView(tuple(int(i) for i in sl.link_id), g.reset_index(drop=True), zones, sl.trips_vph, both_directions=both)


def view_from_result(
    name: str,
    result: ScenarioResult,
    *,
    label: str | None = None,
    bbox_wgs84: Sequence[float] | None = None,
    period: str = "day",
    shared_points: dict[str, Any] | None = None,
) -> ScenarioView:
    """A :class:`ScenarioView` from a :class:`ldtkit.study.runner.ScenarioResult`.

    Link flows are the ``period``'s hourly traffic (``result.traffic``) or, without it, the
    assignment's flows per class summed; both directions of a road are summed. Links are
    clipped to ``bbox_wgs84`` (lon/lat min, max) to keep the map light. ``shared_points``: a
    dict reused across calls, so that maps on the same receptors build their points once.
    """
    import geopandas as gpd

    from ldtkit.model.network import CONNECTOR_CLASS  # loads geopandas, like the line above

    links = result.network.links
    flow = None
    traffic = getattr(result, "traffic", None) or {}
    if period in traffic:
        t = traffic[period]
        flow = pd.Series(np.asarray(t.total_vph, dtype=float), index=np.asarray(t.link_id))
    elif getattr(result, "assignment", None) is not None:
        a = result.assignment
        total = np.sum([np.asarray(v, dtype=float) for v in a.flow_vph.values()], axis=0)
        flow = pd.Series(total, index=np.asarray(a.link_id))
    if flow is None:
        raise MissingFieldError(f"scenario {name!r}", "traffic", expected="a result with traffic or assignment flows")
    keep = ["link_id", "source_id", "car_allowed", "road_class", *(["name"] if "name" in links.columns else []), links.geometry.name]
    g = links[keep].copy()
    g["flow_vph"] = g["link_id"].map(flow).fillna(0.0).to_numpy(float)
    # roads only: no zone connectors, no links closed to cars in every scenario's own network
    g = g[g["car_allowed"].to_numpy(bool) & g.geometry.notna().to_numpy() & (g["road_class"] != CONNECTOR_CLASS).to_numpy()]
    if bbox_wgs84 is not None:
        box = gpd.GeoSeries.from_xy([bbox_wgs84[0], bbox_wgs84[2]], [bbox_wgs84[1], bbox_wgs84[3]], crs=4326).to_crs(g.crs)
        minx, miny = box.x.min(), box.y.min()
        maxx, maxy = box.x.max(), box.y.max()
        g = g.cx[minx:maxx, miny:maxy]
    g = g.assign(source_id=g["source_id"].where(g["source_id"].notna(), "link:" + g["link_id"].astype(str)))
    g = aggregate_directions(g, ["flow_vph"], key="source_id")
    points = shared_points if shared_points is not None else {}
    noise = air = None
    # the one column each map shows: the other levels stay unread (memory-mapped from the results cache)
    if (noise_map := getattr(result, "noise", None)) is not None:
        noise = _receptor_map(noise_map, "lden_db", points)
    if (air_map := getattr(result, "air", None)) is not None:
        air = _receptor_map(air_map, "no2_ugm3", points)
    network = getattr(result, "network", None)
    scenario = getattr(result, "scenario", None)
    touched = (getattr(network, "meta", None) or {}).get("touched_links") or {}
    marks = measure_marks(links, touched, list(getattr(scenario, "measures", ()))) if touched else []
    return ScenarioView(name=name, label=label or name, links=g.reset_index(drop=True), noise=noise, air=air, marks=marks)


def _receptor_map(grid: Any, column: str, built: dict[str, Any]) -> gpd.GeoDataFrame:
    """Receptor points (shared through ``built``) with ``column`` of a noise or air map."""
    import geopandas as gpd

    values = np.array(getattr(grid, column), dtype=float)
    return gpd.GeoDataFrame({column: values}, geometry=_receptor_points(grid.receptors, built), crs=grid.receptors.crs)


def _receptor_points(receptors: Any, built: dict[str, Any]) -> Any:
    """The receptors' points, built once per distinct receptor set (``built`` is the memo)."""
    import geopandas as gpd

    x, y = np.ascontiguousarray(receptors.x, dtype=float), np.ascontiguousarray(receptors.y, dtype=float)
    key = hashlib.sha1(x.tobytes() + y.tobytes()).hexdigest()
    if key not in built:
        built[key] = gpd.points_from_xy(x, y)
    return built[key]


def views_from_results(
    results: Mapping[str, ScenarioResult],
    *,
    city: City | None = None,
    labels: Mapping[str, str] | None = None,
    baseline_label: str = "Baseline (today)",
    cache_dir: str | Path | None = None,
) -> dict[str, ScenarioView]:
    """:class:`ScenarioView` per result of :func:`ldtkit.study.runner.run`, clipped to the city's focus area.

    ``labels`` maps scenario names to titles (default: the names); the baseline gets ``baseline_label``.
    Each scenario with measures also gets who used their links in the baseline
    (:attr:`ScenarioView.select_link`, from the baseline's path sets in ``cache_dir``, default the
    runner's cache); a baseline without path sets (a run without a cache) leaves it ``None``.
    """
    bbox = None
    if city is not None:
        bbox = city.config.focus.bbox
    labels = dict(labels or {})
    out: dict[str, ScenarioView] = {}
    points: dict[str, Any] = {}  # the scenarios' maps share their receptors: build the points once
    for name, res in results.items():
        label = baseline_label if name == "baseline" else labels.get(name, name)
        out[name] = view_from_result(name, res, label=label, bbox_wgs84=bbox, shared_points=points)
    base = results.get("baseline")
    for name, view in out.items():
        touched = sorted({i for mark in view.marks for i in mark.link_ids})
        if name == "baseline" or base is None or not touched:
            continue
        known = np.isin(touched, base.network.links["link_id"].to_numpy(np.int64))
        try:
            view.select_link = select_link_view(base, np.asarray(touched)[known].tolist(), cache_dir=cache_dir)
        except LdtkitError:  # no path sets kept (a run without a cache): the dashboard offers no such view
            view.select_link = None
    return out


#: What a watched road's row says after :func:`watched_both_directions`: its flow, both directions summed.
BOTH_DIRECTIONS = ", both directions"


def watched_both_directions(table: pd.DataFrame, results: Mapping[str, ScenarioResult], watch: Mapping[str, Any] | None) -> pd.DataFrame:
    """``table`` (:func:`ldtkit.study.compare.study_table`) with each watched road's flow summed over both directions.

    ``[compare.watch]`` rows give the busiest single directed link of the road (one direction).
    The dashboard's map, its hover box and the "who used it" view sum a road's two directions, so
    here a watched road without a ``direction`` gets, per scenario, the largest two-way flow of its
    segments (its links summed per ``source_id``), in a row renamed ``"flow_vph: <label>, both
    directions"``; the ``Δ`` columns are recomputed. Rows of a watch with a ``direction`` stay as
    they are (one direction). ``table.attrs`` (e.g. the convergence notes) are kept.
    """
    from ldtkit.study.indicators import WATCH_PREFIX
    from ldtkit.study.scenario import select_links

    out = table.copy()
    renames: dict[str, str] = {}
    for label, selector in (watch or {}).items():
        row = f"{WATCH_PREFIX}{label}"
        sel = dict(selector)
        if row not in out.index or sel.pop("direction", "both") != "both":
            continue
        for name, res in results.items():
            if name not in out.columns:
                continue
            rows = select_links(res.network, sel, direction="both", context=f"compare.watch {label!r}")
            links = res.network.links.iloc[np.asarray(rows)]
            source = links["source_id"].where(links["source_id"].notna(), "link:" + links["link_id"].astype(str))
            flow = pd.Series(np.asarray(res.traffic["day"].total_vph, dtype=float)[np.asarray(rows)], index=source.to_numpy())
            out.loc[row, name] = float(flow.groupby(level=0).sum().max()) if len(flow) else np.nan
        for col in out.columns:
            if str(col).endswith(" Δ") and str(col)[:-2] in out.columns and "baseline" in out.columns:
                out.loc[row, col] = out.loc[row, str(col)[:-2]] - out.loc[row, "baseline"]
        renames[row] = row + BOTH_DIRECTIONS
    out = out.rename(index=renames)
    out.attrs = dict(table.attrs)
    return out


def unassigned_summary(results: Mapping[str, ScenarioResult], *, labels: Mapping[str, str] | None = None) -> str | None:
    """A sentence per scenario whose measures left car trips without a route (``on_disconnected="drop"``).

    Reads ``assignment.unassigned`` (day period, trips per hour); ``None`` when every trip was assigned.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> r = {"walk": NS(assignment=NS(unassigned=pd.DataFrame({"trips": [500.0, 222.6]})))}
    >>> unassigned_summary(r, labels={"walk": "Great Walk"})
    'Great Walk: 723 vehicle trips per hour (day period) have no road route any more and are not assigned.'
    """
    notes = []
    for name, res in results.items():
        un = getattr(getattr(res, "assignment", None), "unassigned", None)
        if un is not None and len(un) and float(un["trips"].sum()) > 0:
            label = (labels or {}).get(name, name)
            notes.append(
                f"{label}: {float(un['trips'].sum()):,.0f} vehicle trips per hour (day period) have no road route any more and are not assigned."
            )
    return " ".join(notes) if notes else None


def focus_center(city: City) -> tuple[float, float]:
    """``(lat, lon)`` of the middle of the city's ``[focus] bbox`` (WGS84)."""
    bbox = city.config.focus.bbox
    if not bbox or len(bbox) != 4:
        raise MissingFieldError(getattr(city, "config_path", "city.toml"), "focus.bbox", expected="[lon_min, lat_min, lon_max, lat_max]")
    return ((bbox[1] + bbox[3]) / 2.0, (bbox[0] + bbox[2]) / 2.0)


def grid_difference(base: gpd.GeoDataFrame, scen: gpd.GeoDataFrame, column: str) -> gpd.GeoDataFrame:
    """Scenario − baseline ``column`` at the same receptors, as ``d_<column>`` (NaN where either
    is not finite, e.g. Lden −inf where no road is heard).

    Raises
    ------
    InvalidValueError
        If the two maps are not on the same receptors (count or positions differ).

    Examples
    --------
    >>> import geopandas as gpd
    >>> pts = gpd.points_from_xy([0, 10], [0, 0])
    >>> b = gpd.GeoDataFrame({"lden_db": [60.0, -np.inf]}, geometry=pts)
    >>> s = gpd.GeoDataFrame({"lden_db": [57.5, 50.0]}, geometry=pts)
    >>> grid_difference(b, s, "lden_db")["d_lden_db"].tolist()
    [-2.5, nan]
    """
    import geopandas as gpd

    if len(base) != len(scen) or not (
        np.allclose(base.geometry.x.to_numpy(), scen.geometry.x.to_numpy())
        and np.allclose(base.geometry.y.to_numpy(), scen.geometry.y.to_numpy())
    ):
        raise InvalidValueError(
            f"grid_difference({column!r}): baseline and scenario maps are not on the same receptors ({len(base)} vs {len(scen)})"
        )
    b, s = base[column].to_numpy(float), scen[column].to_numpy(float)
    d = np.where(np.isfinite(b) & np.isfinite(s), s - b, np.nan)
    return gpd.GeoDataFrame({f"d_{column}": d}, geometry=base.geometry.to_numpy(), crs=base.crs)


def flow_difference(base: gpd.GeoDataFrame, scen: gpd.GeoDataFrame, *, key: str = "source_id") -> gpd.GeoDataFrame:
    """Scenario − baseline ``flow_vph`` per road (outer join on ``key``), as ``d_flow_vph``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> ls = [LineString([(0, 0), (1, 0)]), LineString([(1, 0), (1, 1)])]
    >>> b = gpd.GeoDataFrame({"source_id": ["a", "b"], "flow_vph": [100.0, 50.0]}, geometry=ls)
    >>> s = gpd.GeoDataFrame({"source_id": ["a"], "flow_vph": [30.0]}, geometry=ls[:1])
    >>> flow_difference(b, s).set_index("source_id")["d_flow_vph"].to_dict()
    {'a': -70.0, 'b': -50.0}
    """
    import geopandas as gpd

    b = base.set_index(key)
    s = scen.set_index(key)
    idx = b.index.union(s.index)
    d = s["flow_vph"].reindex(idx).fillna(0.0) - b["flow_vph"].reindex(idx).fillna(0.0)
    geom = b.geometry.reindex(idx)
    geom = geom.where(geom.notna(), s.geometry.reindex(idx))
    cols: dict[str, Any] = {key: idx}
    if "name" in b.columns or "name" in s.columns:
        names = b["name"].reindex(idx) if "name" in b.columns else pd.Series(None, index=idx, dtype=object)
        if "name" in s.columns:
            names = names.where(names.notna(), s["name"].reindex(idx))
        cols["name"] = names.to_numpy()
    cols["flow_base_vph"] = b["flow_vph"].reindex(idx).fillna(0.0).to_numpy(float)
    cols["flow_vph"] = s["flow_vph"].reindex(idx).fillna(0.0).to_numpy(float)
    cols["d_flow_vph"] = d.to_numpy(float)
    out = gpd.GeoDataFrame(cols, geometry=geom.to_numpy(), crs=base.crs)
    return out.reset_index(drop=True)


__all__ = [
    "BOTH_DIRECTIONS",
    "ZONE_RADIUS_PX",
    "ZONE_COLOURS",
    "ScenarioView",
    "SelectLinkView",
    "flow_difference",
    "focus_center",
    "grid_difference",
    "select_link_view",
    "unassigned_summary",
    "view_from_result",
    "views_from_results",
    "watched_both_directions",
    "zones_geojson",
]
