"""Scenarios: declarative measures applied to a road network.

A scenario is a name, a description and a list of measures. Each measure has an
``action`` and a selector saying which links it touches::

    name = "bridge-closed-both"
    description = "Rooigemlaan bridge (R40) closed to motor traffic in both directions"

    [[measures]]
    action = "close"                 # close | pedestrianise | bar_heavy | set
    street = "Rooigemlaan"           # selectors: ids, street, bridge, bridge_name, road_class, within (+ buffer_m, within_crs)
    bridge = true
    direction = "both"               # both | forward | backward | northbound | ... | {from=[lon,lat], to=[lon,lat]}

Selectors combine with AND. A selector that matches nothing is an error that lists
the closest street names or link ids, so a typo never silently yields a no-op
scenario. :meth:`Scenario.apply` returns a *new* network; link ids are kept, closed
links are barred per vehicle class (``car_allowed`` / ``hgv_allowed``).

Every key of a scenario file and what it does is defined once, in
:mod:`ldtkit.study.scenario_keys`, which renders them as ``docs/scenarios.md``.

Examples
--------
>>> s = Scenario.from_dict({"name": "closed", "measures": [{"action": "close", "ids": [10, 11]}]})
>>> s.name, s.measures[0].action
('closed', 'close')
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import numbers
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ldtkit._validate import closest, is_number
from ldtkit.errors import ConfigError, InvalidValueError, SelectorError, UnreadableFormatError, require_file
from ldtkit.model.network import CONNECTOR_CLASS, RoadNetwork
from ldtkit.study.scenario_keys import (
    ACTIONS,
    COMPASS,
    COMPASS_TOLERANCE_DEG,
    DIRECTION_WORDS,
    PICKING_KEYS,
    SELECTOR_KEYS,
    SET_KEYS,
)


@dataclass(frozen=True)
class Measure:
    """One measure: an action on the links a selector picks.

    Every key and what it does is described once, in :mod:`ldtkit.study.scenario_keys`
    (rendered as ``docs/scenarios.md``).

    Attributes
    ----------
    action
        One of :data:`ACTIONS`.
    select
        The selector: keys of :data:`SELECTOR_KEYS`, at least one of :data:`PICKING_KEYS`.
    direction
        A word of :data:`DIRECTION_WORDS` or ``{"from": [lon, lat], "to": [lon, lat]}``.
    values
        For ``"set"``: keys of :data:`SET_KEYS`.
    """

    action: str
    select: dict[str, Any]
    direction: Any = "both"
    values: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "scenario") -> Measure:
        d = dict(d)
        action = d.pop("action", None)
        if action not in ACTIONS:
            raise ConfigError(f"{source}: measure action {action!r}; expected one of {list(ACTIONS)}")
        direction = d.pop("direction", "both")
        check_direction(direction, context=f"{source} ({action})")
        values: dict[str, float] = {}
        for k in [k for k in d if k in SET_KEYS]:
            raw = d.pop(k)
            if not is_number(raw) or not math.isfinite(raw):
                raise ConfigError(f"{source} ({action}): {k} = {raw!r}; expected a finite number")
            values[k] = float(raw)
        if values and action != "set":
            raise ConfigError(
                f"{source}: {sorted(values)} set link values, which a {action!r} measure does not do; "
                'give them in a measure with action = "set" (one measure per action)'
            )
        if "bridge" in d and not isinstance(d["bridge"], bool):
            raise ConfigError(f"{source} ({action}): bridge = {d['bridge']!r}; expected true or false")
        if "ids" in d:
            ids = d["ids"] if isinstance(d["ids"], list) else [d["ids"]]
            if not ids or any(isinstance(i, bool) or not isinstance(i, numbers.Integral) for i in ids):
                raise ConfigError(f"{source} ({action}): ids = {d['ids']!r}; expected a non-empty list of integer link ids")
        if "within" in d:
            parse_geometry(d["within"], context=f"{source} ({action})")
        if "buffer_m" in d:
            b = d["buffer_m"]
            if not is_number(b) or not (math.isfinite(b) and b >= 0):
                raise ConfigError(f"{source} ({action}): buffer_m = {b!r}; expected a distance >= 0 in metres")
        if action == "set" and not values:
            raise ConfigError(f"{source}: a 'set' measure needs one of {list(SET_KEYS)}")
        unknown = [k for k in d if k not in SELECTOR_KEYS]
        if unknown:
            near = closest(unknown, [*SELECTOR_KEYS, *SET_KEYS, "action", "direction"])
            hint = f"; did you mean {', '.join(map(repr, near))}?" if near else ""
            raise ConfigError(
                f"{source}: unknown measure keys {unknown}{hint} (selectors are {list(SELECTOR_KEYS)}, values {list(SET_KEYS)})"
            )
        if not any(k in d for k in PICKING_KEYS):
            raise ConfigError(f"{source}: measure {action!r} has no selector (give {', '.join(PICKING_KEYS[:-1])} or {PICKING_KEYS[-1]})")
        return cls(action=action, select=d, direction=direction, values=values)


@dataclass(frozen=True)
class Scenario:
    """A named set of measures. The baseline is ``Scenario("baseline")`` with no measures.

    Read one from a TOML file (:meth:`from_toml`, or :func:`load_scenarios` for a folder) or
    from a dict of the same keys (:meth:`from_dict`); ``docs/scenarios.md`` lists them.

    Examples
    --------
    >>> from ldtkit.resources import shipped_cities_dir
    >>> s = Scenario.from_toml(shipped_cities_dir() / "ghent" / "scenarios" / "02_bridge_closed_southbound.toml")
    >>> s.name, s.measures[0].action, s.measures[0].select, s.measures[0].direction
    ('bridge-closed-southbound', 'close', {'street': 'Rooigemlaan', 'bridge': True}, 'southbound')
    >>> Scenario.from_dict({"name": "slower", "measures": [{"action": "set", "road_class": "primary", "free_speed_kmh": 30}]}).measures[0].values
    {'free_speed_kmh': 30.0}
    >>> import ldtkit
    >>> network = ldtkit.load_city("ghent").load_network()  # doctest: +SKIP
    >>> closed = s.apply(network)  # doctest: +SKIP
    """

    name: str
    description: str = ""
    measures: tuple[Measure, ...] = ()

    @property
    def is_baseline(self) -> bool:
        return not self.measures

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "scenario") -> Scenario:
        if "name" not in d:
            raise ConfigError(f"{source}: scenario has no 'name'")
        raw = d.get("measures", [])
        if not isinstance(raw, list) or not all(isinstance(m, dict) for m in raw):
            raise ConfigError(f"{source}: 'measures' must be a list of tables ([[measures]] in TOML), got {raw!r}")
        measures = tuple(Measure.from_dict(m, source=f"{source} [{d['name']}], measure {i + 1}") for i, m in enumerate(raw))
        return cls(name=str(d["name"]), description=str(d.get("description", "")), measures=measures)

    @classmethod
    def from_toml(cls, path: str | Path) -> Scenario:
        path = require_file(path, what="scenario file")
        try:
            d = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise UnreadableFormatError(path, expected="TOML", detail=str(exc)) from exc
        return cls.from_dict(d, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "measures": [{"action": m.action, **m.select, "direction": m.direction, **m.values} for m in self.measures],
        }

    def fingerprint(self) -> str:
        """Content hash of the measures (the name and description do not change results)."""
        return hashlib.sha256(json.dumps(self.to_dict()["measures"], sort_keys=True, default=str).encode()).hexdigest()

    def apply(self, network: RoadNetwork) -> RoadNetwork:
        """A new network with every measure applied (the input is not modified).

        Raises
        ------
        SelectorError
            A selector matches no link; the message lists the closest names or ids.
        """
        links = network.links.copy()
        touched: dict[str, list[int]] = {}
        for i, m in enumerate(self.measures):
            rows = select_links(network, m.select, direction=m.direction, context=f"scenario {self.name!r}, measure {i + 1} ({m.action})")
            _apply_action(links, rows, m)
            touched[f"{i + 1}:{m.action}"] = links.loc[rows, "link_id"].astype(int).tolist()
        return network.with_links(links, scenario=self.name, touched_links=touched)

    def touched_vph(self, network: RoadNetwork, flow_vph: np.ndarray) -> float:
        """The flow (``flow_vph``, aligned with ``network.links``) on the links its measures select.

        A measure that touches more traffic sends more of it elsewhere: the scenario takes longer to
        compute (more rerouting, more noise sources changed), so the runner starts such ones first.

        Examples
        --------
        >>> s = Scenario.from_dict({"name": "x", "measures": [{"action": "close", "ids": [2]}]})
        >>> s.touched_vph(net, np.array([100.0, 40.0]))  # doctest: +SKIP
        40.0
        """
        rows = [select_links(network, m.select, direction=m.direction, context=f"scenario {self.name!r}") for m in self.measures]
        return float(np.asarray(flow_vph)[np.unique(np.concatenate(rows))].sum()) if rows else 0.0


def baseline() -> Scenario:
    """The do-nothing scenario."""
    return Scenario("baseline", "Current network, no measures")


def load_scenarios(paths: list[str | Path] | str | Path) -> list[Scenario]:
    """Scenarios from TOML files, or every ``*.toml`` in a folder (sorted by file name).

    Raises
    ------
    InputFileNotFoundError, UnreadableFormatError, ConfigError
        A file is missing, is not TOML or has a bad key (the message names the file); two
        scenarios share a name.

    Examples
    --------
    >>> from ldtkit.resources import shipped_cities_dir
    >>> [s.name for s in load_scenarios(shipped_cities_dir() / "ghent" / "scenarios")]
    ['bridge-closed-both', 'bridge-closed-southbound', 'bridge-closed-northbound']
    """
    if isinstance(paths, (str, Path)):
        p = Path(paths)
        paths = sorted(p.glob("*.toml")) if p.is_dir() else [p]
    scenarios = [Scenario.from_toml(p) for p in paths]
    names = [s.name for s in scenarios]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"duplicate scenario names {dup} in {[str(p) for p in paths]}")
    return scenarios


# ---------------------------------------------------------------- selectors
def select_links(network: RoadNetwork, select: dict[str, Any], *, direction: Any = "both", context: str = "selector") -> np.ndarray:
    """Row indices of the links matching ``select`` and ``direction`` (connectors never match).

    Examples
    --------
    >>> rows = select_links(net, {"street": "Rooigemlaan", "bridge": True})  # doctest: +SKIP
    """
    links = network.links
    mask = (links["road_class"] != CONNECTOR_CLASS).to_numpy().copy()
    if "ids" in select:
        ids = np.asarray(select["ids"], dtype=np.int64)
        known = links["link_id"].to_numpy(np.int64)
        unknown = np.setdiff1d(ids, known)
        if len(unknown):
            near = [int(known[np.argmin(np.abs(known - u))]) for u in unknown[:5]]
            raise SelectorError(f"{context}: unknown link ids {unknown[:10].tolist()} (nearest existing ids: {near})")
        mask &= np.isin(known, ids)
    if "street" in select:
        streets = select["street"] if isinstance(select["street"], list) else [select["street"]]
        names = links["name"].fillna("").astype(str).str.casefold()
        wanted = [str(s).casefold() for s in streets]
        found = names.isin(wanted).to_numpy()
        missing = [s for s, w in zip(streets, wanted) if not (names == w).any()]
        if missing:
            raise SelectorError(f"{context}: no street named {missing}; did you mean {_close_names(links, missing)}?")
        mask &= found
    if "bridge" in select:
        mask &= links["bridge"].to_numpy() == bool(select["bridge"])
    if "bridge_name" in select:
        bridges = links[links["bridge"]]
        name = str(select["bridge_name"]).casefold()
        hit = links["bridge"].to_numpy() & (links["name"].fillna("").astype(str).str.casefold() == name).to_numpy()
        if not hit.any():
            known = sorted({str(n) for n in bridges["name"].dropna()})
            raise SelectorError(f"{context}: no bridge named {select['bridge_name']!r}; bridges in the network: {known[:20]}")
        mask &= hit
    if "road_class" in select:
        classes = select["road_class"] if isinstance(select["road_class"], list) else [select["road_class"]]
        mask &= links["road_class"].astype(str).isin([str(c) for c in classes]).to_numpy()
    if "within" in select:
        mask &= _within_mask(network, select["within"], float(select.get("buffer_m", 0.0)), select.get("within_crs", "EPSG:4326"), context)
    if not mask.any():
        raise SelectorError(f"{context}: selector {select} matches no link (each criterion matched something; together they match nothing)")
    dmask = _direction_mask(network, direction, context)
    both = mask & dmask
    if isinstance(direction, str) and direction in COMPASS and not (both & (compass_word(link_bearings_deg(network)) == direction)).any():
        # links within the tolerance are kept, but at least one must be closer to this word than to any other
        raise SelectorError(
            f"{context}: direction {direction!r} does not match the selected links: none runs within "
            f"{COMPASS_TOLERANCE_DEG:g} degrees of {direction[:-5]} and closer to it than to another compass direction; "
            f"they run {_directions_present(network, mask)}"
        )
    if not both.any():
        raise SelectorError(f"{context}: selector {select} matches {int(mask.sum())} links, but none in direction {direction!r}")
    return np.flatnonzero(both)


def link_bearings_deg(network: RoadNetwork) -> np.ndarray:
    """Compass bearing of each link's travel direction, start to end: 0 north, 90 east (degrees, in [0, 360)).

    Measured in the network's (projected) CRS, whose grid north is taken as north.
    """
    dx, dy = _link_vectors(network)
    return np.asarray(np.mod(np.degrees(np.arctan2(dx, dy)), 360.0), dtype=np.float64)


def compass_word(bearing_deg: np.ndarray) -> np.ndarray:
    """The nearest compass direction word of each bearing.

    Examples
    --------
    >>> compass_word(np.array([10.0, 100.0, 181.0, 300.0, 350.0])).tolist()
    ['northbound', 'eastbound', 'southbound', 'westbound', 'northbound']
    """
    words = np.array(list(COMPASS), dtype=object)
    return np.asarray(words[np.round(np.mod(bearing_deg, 360.0) / 90.0).astype(np.int64) % 4], dtype=object)


def _directions_present(network: RoadNetwork, mask: np.ndarray) -> str:
    """``"northbound (1 link, bearing 40 deg), southbound (2 links, bearing 175-185 deg)"`` for the masked links."""
    bearings = link_bearings_deg(network)[mask]
    words = compass_word(bearings)
    parts = []
    for word in COMPASS:
        hit = words == word
        if hit.any():
            b = bearings[hit]
            n = int(hit.sum())
            span = f"{b.min():.0f}" if round(b.min()) == round(b.max()) else f"{b.min():.0f}-{b.max():.0f}"
            parts.append(f"{word} ({n} link{'s' if n > 1 else ''}, bearing {span} deg)")
    return ", ".join(parts)


def _close_names(links: pd.DataFrame, missing: list[str]) -> list[str]:
    names = sorted({str(n) for n in links["name"].dropna() if str(n)})
    out: list[str] = []
    lower = {n.casefold(): n for n in names}
    for m in missing:
        out += [lower[c] for c in difflib.get_close_matches(str(m).casefold(), list(lower), n=5, cutoff=0.5)]
    return out


def parse_geometry(within: Any, *, context: str) -> Any:
    """The shapely geometry of a ``within`` value (WKT text or a GeoJSON geometry table).

    Examples
    --------
    >>> parse_geometry("POINT (3.72 51.05)", context="s.toml").geom_type
    'Point'
    >>> parse_geometry("POINT (3.72)", context="s.toml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ldtkit.errors.ConfigError: s.toml: 'within' is neither WKT nor a GeoJSON geometry (...)
    """
    import shapely
    from shapely.geometry import shape

    try:
        geom = shapely.from_wkt(within) if isinstance(within, str) else shape(within)
    except Exception as exc:
        detail = " ".join(str(exc).split())[:160]
        raise ConfigError(f"{context}: 'within' is neither WKT nor a GeoJSON geometry ({detail})") from None
    if geom is None or geom.is_empty:
        raise ConfigError(f"{context}: 'within' is an empty geometry")
    return geom


def _within_mask(network: RoadNetwork, within: Any, buffer_m: float, crs: Any, context: str) -> np.ndarray:
    import geopandas as gpd
    import shapely

    geom = parse_geometry(within, context=context)
    if not math.isfinite(buffer_m) or buffer_m < 0:
        raise ConfigError(f"{context}: buffer_m = {buffer_m}; expected a distance >= 0 in metres")
    projected = gpd.GeoSeries([geom], crs=crs).to_crs(network.crs)
    area = projected.buffer(buffer_m).iloc[0] if buffer_m > 0 else projected.iloc[0]  # a point or line itself at 0 m
    hit = np.asarray(network.links.geometry.intersects(area).to_numpy(), dtype=bool)
    if hit.any():
        return hit
    extent = shapely.box(*network.links.total_bounds)
    distance_km = extent.distance(area) / 1000.0 if not area.is_empty else math.inf
    if gpd.GeoSeries([geom], crs=crs).crs.is_geographic:
        swapped = gpd.GeoSeries([shapely.transform(geom, lambda xy: xy[:, ::-1])], crs=crs)
        if bool(swapped.to_crs(network.crs).buffer(max(buffer_m, 1.0)).intersects(extent).iloc[0]):
            raise SelectorError(
                f"{context}: 'within' lies {distance_km:.0f} km outside the network, but with its coordinates "
                f"swapped it falls inside: did you swap lat and lon? (give [lon, lat] / WKT 'x y' as longitude latitude)"
            )
    where = f"{distance_km:.1f} km from the network's extent" if distance_km > 0 else "inside the network's extent"
    raise SelectorError(f"{context}: 'within' (buffer_m = {buffer_m:g}) touches no link; the geometry lies {where}")


def swapped_mask(lon: np.ndarray, lat: np.ndarray, *, crs: Any, bounds: tuple[float, float, float, float]) -> np.ndarray:
    """For each point, whether it falls within ``bounds`` when read as ``(lat, lon)`` instead.

    The test behind "did you swap lat and lon?": apply it to points that lie outside as given.

    Parameters
    ----------
    lon, lat
        The coordinates as given (WGS84 degrees).
    crs
        The CRS of ``bounds``.
    bounds
        ``(minx, miny, maxx, maxy)`` of the study area in ``crs``.

    Examples
    --------
    >>> ghent = (100000.0, 190000.0, 110000.0, 200000.0)  # EPSG:31370 metres around Ghent
    >>> swapped_mask(np.array([51.05, 3.72]), np.array([3.72, 51.05]), crs="EPSG:31370", bounds=ghent).tolist()
    [True, False]
    """
    from pyproj import Transformer

    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    out = np.zeros(len(lon), dtype=bool)
    ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 90.0) & (np.abs(lat) <= 180.0)  # swapped, |lat| <= 90
    if not ok.any():
        return out
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lat[ok], lon[ok])
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    minx, miny, maxx, maxy = bounds
    out[ok] = np.isfinite(x) & np.isfinite(y) & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
    return out


def swapped_inside(lon: np.ndarray, lat: np.ndarray, *, crs: Any, bounds: tuple[float, float, float, float], share: float = 0.5) -> bool:
    """True when at least ``share`` of the points read as ``(lat, lon)`` fall within ``bounds`` (see :func:`swapped_mask`).

    Examples
    --------
    >>> ghent = (100000.0, 190000.0, 110000.0, 200000.0)  # EPSG:31370 metres around Ghent
    >>> swapped_inside(np.array([51.05]), np.array([3.72]), crs="EPSG:31370", bounds=ghent)
    True
    >>> swapped_inside(np.array([3.72]), np.array([51.05]), crs="EPSG:31370", bounds=ghent)
    False
    """
    hit = swapped_mask(lon, lat, crs=crs, bounds=bounds)
    return bool(len(hit) and hit.sum() >= share * len(hit))


def check_direction(direction: Any, *, context: str) -> None:
    """Raise :class:`ConfigError` unless ``direction`` is a direction a measure understands.

    Examples
    --------
    >>> check_direction("nortbound", context="s.toml")
    Traceback (most recent call last):
    ...
    ldtkit.errors.ConfigError: s.toml: direction 'nortbound'; did you mean 'northbound'? (expected 'both', 'forward', 'backward', one of ['northbound', 'eastbound', 'southbound', 'westbound'] or {from = [lon, lat], to = [lon, lat]})
    """
    words = tuple(DIRECTION_WORDS)
    if direction is None or (isinstance(direction, str) and direction in words):
        return
    expected = f"'both', 'forward', 'backward', one of {list(COMPASS)} or {{from = [lon, lat], to = [lon, lat]}}"
    if isinstance(direction, dict) and set(direction) == {"from", "to"}:
        ends = [direction["from"], direction["to"]]
        if all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in p) for p in ends
        ):
            if all(abs(p[0]) <= 180 and abs(p[1]) <= 90 for p in ends):
                return
            expected = "[lon, lat] places in WGS84 degrees (lon within +-180, lat within +-90)"
    near = closest([str(direction)], words, n=1) if isinstance(direction, str) else []
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise ConfigError(f"{context}: direction {direction!r}{hint} (expected {expected})")


def _direction_mask(network: RoadNetwork, direction: Any, context: str) -> np.ndarray:
    links = network.links
    n = len(links)
    if direction in (None, "both"):
        return np.ones(n, dtype=bool)
    reversed_ = np.asarray(links["reversed"].to_numpy(), dtype=bool)
    if direction == "forward":
        return ~reversed_
    if direction == "backward":
        return reversed_
    dx, dy = _link_vectors(network)
    if isinstance(direction, str) and direction in COMPASS:
        diff = np.abs(np.mod(link_bearings_deg(network) - COMPASS[direction] + 180.0, 360.0) - 180.0)
        return np.asarray((diff <= COMPASS_TOLERANCE_DEG) & ((dx != 0) | (dy != 0)), dtype=bool)
    if isinstance(direction, dict) and "from" in direction and "to" in direction:
        import geopandas as gpd

        pts = gpd.GeoSeries(gpd.points_from_xy(*zip(direction["from"], direction["to"])), crs="EPSG:4326").to_crs(network.crs)
        ux, uy = pts.iloc[1].x - pts.iloc[0].x, pts.iloc[1].y - pts.iloc[0].y
    else:
        raise ConfigError(
            f"{context}: direction {direction!r}; expected 'both', 'forward', 'backward', "
            f"one of {list(COMPASS)} or {{from = [lon, lat], to = [lon, lat]}}"
        )
    return np.asarray((dx * ux + dy * uy) > 0, dtype=bool)


def _link_vectors(network: RoadNetwork) -> tuple[np.ndarray, np.ndarray]:
    """End minus start of each link's travel direction (from geometry, else node coordinates)."""
    import shapely

    geoms = network.links.geometry.to_numpy()
    start = shapely.get_coordinates(shapely.get_point(geoms, 0))
    end = shapely.get_coordinates(shapely.get_point(geoms, -1))
    return end[:, 0] - start[:, 0], end[:, 1] - start[:, 1]


def _apply_action(links: pd.DataFrame, rows: np.ndarray, m: Measure) -> None:
    if m.action in ("close", "pedestrianise"):
        links.loc[rows, "car_allowed"] = False
        links.loc[rows, "hgv_allowed"] = False
        if m.action == "pedestrianise":
            links.loc[rows, "walk_allowed"] = True
    elif m.action == "bar_heavy":
        links.loc[rows, "hgv_allowed"] = False
    elif m.action == "set":
        v = m.values
        if "lanes" in v:
            if v["lanes"] <= 0:
                raise InvalidValueError(f"set lanes must be > 0 (use action 'close' to close a link), got {v['lanes']}")
            old = links.loc[rows, "lanes"].clip(lower=1.0)
            if "capacity_vph" not in v:
                links.loc[rows, "capacity_vph"] = links.loc[rows, "capacity_vph"] * v["lanes"] / old
            links.loc[rows, "lanes"] = v["lanes"]
        if "capacity_vph" in v:
            links.loc[rows, "capacity_vph"] = v["capacity_vph"]
        if "capacity_factor" in v:
            links.loc[rows, "capacity_vph"] = links.loc[rows, "capacity_vph"] * v["capacity_factor"]
        if "free_speed_kmh" in v:
            if v["free_speed_kmh"] <= 0:
                raise InvalidValueError(f"set free_speed_kmh must be > 0, got {v['free_speed_kmh']}")
            links.loc[rows, "free_speed_kmh"] = v["free_speed_kmh"]
            links.loc[rows, "free_flow_time_min"] = links.loc[rows, "length_m"] / 1000.0 / v["free_speed_kmh"] * 60.0
        if (links.loc[rows, "capacity_vph"] <= 0).any():
            raise InvalidValueError("set: capacity must stay > 0 (use action 'close' to close a link)")
