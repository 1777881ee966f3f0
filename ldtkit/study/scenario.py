"""Scenarios: declarative measures applied to a road network.

A scenario is a name, a description and a list of measures. Each measure has an
``action`` and a selector saying which links it touches::

    name = "bridge-closed-both"
    description = "Rooigemlaan bridge (R40) closed to motor traffic in both directions"

    [[measures]]
    action = "close"                 # close | pedestrianise | bar_heavy | set
    street = "Rooigemlaan"           # selectors: ids, street, bridge, within (+ buffer_m)
    bridge = true
    direction = "both"               # both | forward | backward | northbound | ... | {from=[lon,lat], to=[lon,lat]}

Selectors combine with AND. A selector that matches nothing is an error that lists
the closest street names or link ids, so a typo never silently yields a no-op
scenario. :meth:`Scenario.apply` returns a *new* network; link ids are kept, closed
links are barred per vehicle class (``car_allowed`` / ``hgv_allowed``).

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
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ldtkit._validate import closest
from ldtkit.errors import ConfigError, InvalidValueError, SelectorError, UnreadableFormatError, require_file
from ldtkit.model.network import CONNECTOR_CLASS, RoadNetwork

ACTIONS = ("close", "pedestrianise", "bar_heavy", "set")
SELECTOR_KEYS = ("ids", "street", "bridge", "bridge_name", "within", "buffer_m", "within_crs", "road_class")
COMPASS = {"northbound": 0.0, "eastbound": 90.0, "southbound": 180.0, "westbound": 270.0}
SET_KEYS = ("capacity_vph", "capacity_factor", "lanes", "free_speed_kmh")


@dataclass(frozen=True)
class Measure:
    """One measure: an action on the links a selector picks.

    Attributes
    ----------
    action
        ``"close"`` (cars and heavy vehicles barred), ``"pedestrianise"`` (same, links kept
        for walking), ``"bar_heavy"`` (heavy vehicles barred) or ``"set"`` (edit capacity,
        lanes or speed given in ``values``).
    select
        Selector: any of ``ids`` (link ids), ``street`` (name, case-insensitive, a string
        or list), ``bridge`` (bool), ``bridge_name``, ``road_class``, ``within`` (WKT or a
        GeoJSON geometry dict, in ``within_crs``, default EPSG:4326) with ``buffer_m``.
    direction
        ``"both"``, ``"forward"`` / ``"backward"`` (along / against the source
        digitisation), a compass heading ``"northbound"`` …, or ``{"from": [lon, lat],
        "to": [lon, lat]}`` keeping the links that run from the first place towards the second.
    values
        For ``"set"``: ``capacity_vph``, ``capacity_factor``, ``lanes``, ``free_speed_kmh``.
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
        values = {k: float(d.pop(k)) for k in list(d) if k in SET_KEYS}
        if action == "set" and not values:
            raise ConfigError(f"{source}: a 'set' measure needs one of {list(SET_KEYS)}")
        unknown = [k for k in d if k not in SELECTOR_KEYS]
        if unknown:
            near = closest(unknown, [*SELECTOR_KEYS, *SET_KEYS, "action", "direction"])
            hint = f"; did you mean {', '.join(map(repr, near))}?" if near else ""
            raise ConfigError(
                f"{source}: unknown measure keys {unknown}{hint} (selectors are {list(SELECTOR_KEYS)}, values {list(SET_KEYS)})"
            )
        if not any(k in d for k in ("ids", "street", "bridge", "bridge_name", "within", "road_class")):
            raise ConfigError(f"{source}: measure {action!r} has no selector (give ids, street, bridge, bridge_name, road_class or within)")
        return cls(action=action, select=d, direction=direction, values=values)


@dataclass(frozen=True)
class Scenario:
    """A named set of measures. The baseline is ``Scenario("baseline")`` with no measures."""

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
        measures = tuple(Measure.from_dict(m, source=f"{source} [{d['name']}]") for m in d.get("measures", []))
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


def baseline() -> Scenario:
    """The do-nothing scenario."""
    return Scenario("baseline", "Current network, no measures")


def load_scenarios(paths: list[str | Path] | str | Path) -> list[Scenario]:
    """Scenarios from TOML files, or every ``*.toml`` in a folder (sorted by file name)."""
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
    if not both.any():
        raise SelectorError(f"{context}: selector {select} matches {int(mask.sum())} links, but none in direction {direction!r}")
    return np.flatnonzero(both)


def _close_names(links: pd.DataFrame, missing: list[str]) -> list[str]:
    names = sorted({str(n) for n in links["name"].dropna() if str(n)})
    out: list[str] = []
    lower = {n.casefold(): n for n in names}
    for m in missing:
        out += [lower[c] for c in difflib.get_close_matches(str(m).casefold(), list(lower), n=5, cutoff=0.5)]
    return out


def _within_mask(network: RoadNetwork, within: Any, buffer_m: float, crs: Any, context: str) -> np.ndarray:
    import geopandas as gpd
    import shapely
    from shapely.geometry import shape

    try:
        geom = shapely.from_wkt(within) if isinstance(within, str) else shape(within)
    except Exception as exc:
        raise ConfigError(f"{context}: 'within' is neither WKT nor a GeoJSON geometry ({exc})") from exc
    area = gpd.GeoSeries([geom], crs=crs).to_crs(network.crs).buffer(buffer_m).iloc[0]
    return np.asarray(network.links.geometry.intersects(area).to_numpy(), dtype=bool)


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
        a = math.radians(COMPASS[direction])
        ux, uy = math.sin(a), math.cos(a)
    elif isinstance(direction, dict) and "from" in direction and "to" in direction:
        import geopandas as gpd

        pts = gpd.GeoSeries(gpd.points_from_xy(*zip(direction["from"], direction["to"])), crs="EPSG:4326").to_crs(network.crs)
        ux, uy = pts.iloc[1].x - pts.iloc[0].x, pts.iloc[1].y - pts.iloc[0].y
    else:
        raise ConfigError(
            f"{context}: direction {direction!r}; expected 'both', 'forward', 'backward', "
            f"one of {list(COMPASS)} or {{from = [lon, lat], to = [lon, lat]}}"
        )
    return (dx * ux + dy * uy) > 0


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
