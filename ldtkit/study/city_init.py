"""A runnable city folder from nothing but an OSM extract: ``city.toml``, an example scenario, a report.

:func:`init_city` is what ``ldtkit city init DIR --osm FILE`` does. The configuration it writes
runs as written on any extract of a town, city or small region: zones too far from a car road
get a longer connector (``on_unconnected = "extend"``), the gravity model relaxes what it cannot
balance, external gateways fall back to boundary roads of any class when no major road crosses
the boundary, and an extract without buildings gets zones from its street grid.

Examples
--------
>>> made = init_city("my_city", osm="extract.osm.pbf")  # doctest: +SKIP
>>> print("\\n".join(made.report))  # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ldtkit.errors import ConfigError, EmptyStudyAreaError, require_file
from ldtkit.model.network import CONNECTOR_CLASS, RoadNetwork

#: Car trips in a mean day hour (07-19) per resident and per job, used to size the demand of a
#: new city. Ghent's configured demand (33,000 veh/h for 265,000 residents and 180,000 jobs)
#: gives about 0.08 per resident-plus-half-a-job; we start a new city from the same ratio.
TRIPS_PER_ACTIVITY_HOUR = 0.08
#: Road classes of the gateways where traffic enters an OSM extract, when any of them crosses its boundary.
MAJOR_OSM_CLASSES = ("motorway", "motorway_link", "trunk", "primary", "secondary")
#: Residents per km of car street when an extract has no buildings (grid fallback): 100/km is the order of
#: a low-density European town (a 10 m frontage per resident on both sides together); jobs are half of it.
RESIDENTS_PER_STREET_KM = 100.0
#: Fewer zones than this from the buildings (an extract with few or no buildings mapped): zones come from the street grid.
MIN_BUILDING_ZONES = 3
#: Road classes never used for gateways or for the example closure.
_MINOR = ("service", "track", "living_street", "pedestrian", CONNECTOR_CLASS)


@dataclass(frozen=True)
class CityInit:
    """What :func:`init_city` wrote and found.

    Attributes
    ----------
    config
        The ``city.toml`` written.
    scenario
        The example scenario written in ``scenarios/``.
    report
        Lines for the user: network cleanup, zones, gateways, the example measure, warnings.
    next_commands
        The exact commands to run next.
    """

    config: Path
    scenario: Path
    report: tuple[str, ...]
    next_commands: tuple[str, ...]


def example_closure(network: RoadNetwork) -> tuple[dict[str, Any], str]:
    """The example measure of a new city: its busiest bridge closed both ways, else its busiest street segment.

    "Busiest" is read from the network alone (no traffic yet): the highest capacity, then the
    longest. Only candidates whose closure leaves every other node of the main car component
    reachable are taken, so the closure moves traffic instead of cutting trips off.

    Returns
    -------
    (dict, str)
        The measure (a ``[[measures]]`` table) and a one-line description.

    Examples
    --------
    >>> from ldtkit.study.city import load_city
    >>> measure, text = example_closure(load_city("porto").load_network())  # doctest: +SKIP
    """
    from dataclasses import replace

    from ldtkit.model.zones import main_car_component

    links = network.links
    car = links["car_allowed"].to_numpy(bool) & (links["capacity_vph"].to_numpy(np.float64) > 0)
    car &= ~links["road_class"].astype(str).isin(_MINOR).to_numpy()
    base = main_car_component(network)
    cand = links[car & base.in_main[np.searchsorted(base.node_ids, links["from_node"].to_numpy(np.int64))]].copy()
    if cand.empty:
        raise EmptyStudyAreaError(f"network {network.name!r}: no street to close in the example scenario")
    names = cand["name"].fillna("").astype(str)
    cand["group"] = np.where(names != "", "name:" + names, "way:" + cand["source_id"].astype(str))
    bridges = cand[cand["bridge"].to_numpy(bool)]
    for pool, kind in ((bridges, "bridge"), (cand, "street")):
        if pool.empty:
            continue
        if kind == "bridge":
            groups = (
                pool.groupby("group").agg(cap=("capacity_vph", "max"), km=("length_m", "sum")).sort_values(["cap", "km"], ascending=False)
            )
            options = [pool.index[pool["group"] == g] for g in groups.index[:8]]
        else:
            # one street segment: the highest-capacity link and its opposite direction
            top = pool.sort_values(["capacity_vph", "length_m"], ascending=False).head(8)
            key = pool["from_node"].astype(str) + ">" + pool["to_node"].astype(str)
            options = [pool.index[(key == f"{r.from_node}>{r.to_node}") | (key == f"{r.to_node}>{r.from_node}")] for r in top.itertuples()]
        for rows in options:
            closed = links.copy()
            closed.loc[rows, "car_allowed"] = False
            after = main_car_component(replace(network, links=closed))
            touched = np.searchsorted(base.node_ids, np.union1d(closed.loc[rows, "from_node"], closed.loc[rows, "to_node"]))
            lost = base.in_main & ~after.in_main
            lost[touched] = False
            if lost.any():
                continue
            sel = links.loc[rows]
            name = str(sel["name"].fillna("").iloc[0])
            ids = [int(i) for i in sel["link_id"]]
            measure: dict[str, Any] = {"action": "close", "ids": ids}
            what = f"{kind} {name!r}" if name else f"unnamed {kind} (OSM way {sel['source_id'].iloc[0]})"
            ways = "both ways" if len(ids) > 1 and (sel["from_node"].isin(sel["to_node"])).any() else "(one-way)"
            return measure, f"{what} closed {ways} ({len(ids)} links, {sel['capacity_vph'].max():.0f} veh/h capacity)"
    raise EmptyStudyAreaError(f"network {network.name!r}: every street closure would cut part of the network off")


def report_command(folder: str | Path, network: RoadNetwork, measure: dict[str, Any]) -> str:
    """The ``ldtkit report`` command of a use-case notebook for the example measure: the bridge-closure
    report when it closes a named bridge, else the pedestrianisation report of its street or scenario file.

    Examples
    --------
    >>> from ldtkit.study.city import load_city
    >>> net = load_city("porto").load_network()  # doctest: +SKIP
    >>> report_command("porto", net, example_closure(net)[0])  # doctest: +SKIP
    'ldtkit report notebooks/bridge_closure.ipynb -p city porto -p bridge "Ponte Infante Dom Henrique"'
    """
    import json
    import shlex

    sel = network.links[network.links["link_id"].isin(measure["ids"])]
    name = str(sel["name"].fillna("").iloc[0]) if len(sel) else ""
    where = shlex.quote(str(folder))
    if name and bool(sel["bridge"].all()):
        return f"ldtkit report notebooks/bridge_closure.ipynb -p city {where} -p bridge {shlex.quote(name)}"
    if name:
        return f"ldtkit report notebooks/pedestrianisation.ipynb -p city {where} -p streets {shlex.quote(json.dumps([name], ensure_ascii=False))}"
    files = shlex.quote(json.dumps(["example_closure.toml"]))
    return f"ldtkit report notebooks/pedestrianisation.ipynb -p city {where} -p scenario_files {files}"


def init_city(folder: str | Path, *, osm: str | Path, name: str | None = None, force: bool = False) -> CityInit:
    """Create ``folder/city.toml``, copy the extract and write an example scenario, so that ``ldtkit run folder`` works.

    The network comes from the extract; zones from its buildings (floor area → residents and
    jobs, :data:`ldtkit.model.zones.OSM_BUILDING_DEFAULTS`), or from its street grid at
    :data:`RESIDENTS_PER_STREET_KM` when it has no buildings; demand is sized at
    :data:`TRIPS_PER_ACTIVITY_HOUR`; external zones where major roads (any car road when no
    major road crosses) leave the extract; the focus area is the middle half of the network's
    extent; the CRS is the extract's UTM zone. The example scenario closes the busiest bridge
    (:func:`example_closure`).

    Raises
    ------
    ConfigError
        ``folder/city.toml`` exists and ``force`` is false.
    EmptyStudyAreaError
        The extract has no drivable road.

    Examples
    --------
    >>> made = init_city("my_city", osm="extract.osm.pbf")  # doctest: +SKIP
    >>> made.next_commands[0]  # doctest: +SKIP
    'ldtkit run my_city'
    """
    import geopandas as gpd
    import tomli_w

    from ldtkit.io import write_text_atomic
    from ldtkit.model.network import network_from_osm
    from ldtkit.model.zones import external_zones, network_area, read_osm_buildings, zones_from_network_grid, zones_from_osm_buildings

    osm = require_file(osm, what="OSM extract")
    folder = Path(folder)
    target = folder / "city.toml"
    if target.exists() and not force:
        raise ConfigError(f"{target} exists already (use --force to overwrite)")
    name = name or folder.resolve().name
    with warnings.catch_warnings():  # the cleanup warning goes into the report
        warnings.simplefilter("ignore", UserWarning)
        # loaded as configured below, before anything is written: an extract without roads stops here
        net = network_from_osm(osm, name=name, include_service=True)
    folder.mkdir(parents=True, exist_ok=True)
    local = folder / osm.name
    if local.resolve() != osm.resolve():
        shutil.copyfile(osm, local)
    report: list[str] = []
    cl = net.meta.get("cleanup", {})
    share = float(cl.get("car_km_share_dropped", 0.0))
    report.append(
        f"network: {len(net.links)} links; the cleanup dropped {100 * share:.1f} % of the car network ({cl.get('car_km_dropped', 0):.1f} km)"
    )
    if cl.get("warning"):
        report.append(f"warning: {cl['warning']}")
    if net.crs is None:
        raise EmptyStudyAreaError(f"{osm}: the network has no coordinate reference system")
    crs = str(net.crs.to_string())
    minx, miny, maxx, maxy = net.links.total_bounds
    cx, cy, hw, hh = (minx + maxx) / 2, (miny + maxy) / 2, (maxx - minx) / 4, (maxy - miny) / 4
    focus = gpd.GeoSeries.from_xy([cx - hw, cx + hw], [cy - hh, cy + hh], crs=net.crs).to_crs(4326)
    bbox = [round(float(focus.x.min()), 5), round(float(focus.y.min()), 5), round(float(focus.x.max()), 5), round(float(focus.y.max()), 5)]
    area = network_area(net)
    buildings = read_osm_buildings(local, crs=crs)
    demand: dict[str, Any] = {"area": "network", "cell_m": 500.0, "min_activity": 10.0}
    zones = zones_from_osm_buildings(buildings, area, crs=crs, cell_m=500.0) if len(buildings) else pd.DataFrame()
    if len(zones) >= MIN_BUILDING_ZONES:
        demand["zoning"] = "osm_buildings"
        residents, jobs = float(zones["population"].sum()), float(zones["jobs"].sum())
        basis = f"the extract's {len(buildings)} buildings"
    else:
        car_km = float(net.links.loc[net.links["car_allowed"], "length_m"].sum()) / 1000.0
        residents = round(RESIDENTS_PER_STREET_KM * car_km, -2) or 100.0
        jobs = round(residents / 2, -2) or 50.0
        demand.update({"zoning": "grid", "population_total": residents, "jobs_total": jobs})
        zones = zones_from_network_grid(net, area, cell_m=500.0, population_total=residents, jobs_total=jobs, min_activity=10.0)
        basis = f"the street grid ({RESIDENTS_PER_STREET_KM:g} residents per car-street km), for lack of buildings"
        found = f"only {len(buildings)} buildings" if len(buildings) else "no buildings"
        report.append(f"zones: {found} in {osm.name}: the street-grid fallback is used ({residents:.0f} residents, {jobs:.0f} jobs)")
    report.append(f"zones: {len(zones)} internal zones from {basis} ({residents:.0f} residents, {jobs:.0f} jobs estimated)")
    total_vph = max(round(TRIPS_PER_ACTIVITY_HOUR * (residents + 0.5 * jobs), -2), 500.0)
    classes = list(MAJOR_OSM_CLASSES)
    gateways = external_zones(net, area, road_classes=classes, boundary_buffer_m=300.0, cluster_m=150.0)
    if len(gateways) < 2:
        present = sorted(set(net.links.loc[net.links["car_allowed"], "road_class"].astype(str)) - set(_MINOR))
        any_gw = external_zones(net, area, road_classes=present, boundary_buffer_m=300.0, cluster_m=150.0)
        if len(any_gw) > len(gateways):
            classes, gateways = present, any_gw
            report.append(f"gateways: no major road crosses the extract's boundary; {len(gateways)} gateways on roads of any class")
    if len(gateways) >= 2:
        report.append(
            f"gateways: {len(gateways)} external zones where {', '.join(classes[:6])}{' ...' if len(classes) > 6 else ''} roads leave the extract"
        )
        ext_share, through = 0.3, 0.2
    else:
        ext_share, through = (0.3, 0.0) if len(gateways) == 1 else (0.0, 0.0)
        report.append(
            f"gateways: {len(gateways)} road leaves the extract: {'no through traffic' if len(gateways) else 'no external traffic'}"
        )
    demand.update(
        {
            "total_vph": total_vph,
            "heavy_share": 0.05,
            "mean_trip_km": round(max(1.5, min(8.0, 0.4 * ((maxx - minx) * (maxy - miny)) ** 0.5 / 1000.0)), 1),
            "external_share": ext_share,
            "through_share": through,
            "heavy_external_factor": 2.0,
            "pcu": {"light": 1.0, "heavy": 2.0},
            "external": (
                {"source": "gateways", "road_classes": classes, "boundary_buffer_m": 300.0, "cluster_m": 150.0}
                if len(gateways)
                else {"source": "none"}
            ),
            "connectors": {
                "n_connectors": 2,
                "speed_kmh": 20.0,
                "capacity_vph": 100000.0,
                "exclude_road_classes": ["motorway", "motorway_link", "trunk", "trunk_link"],
                "max_distance_m": 1000.0,
                "on_unconnected": "extend",
                "reattach_max_walk_m": 500.0,
            },
        }
    )
    if demand["zoning"] == "osm_buildings":
        demand["osm"] = {}
    config = {
        "name": name,
        "crs": crs,
        "network": {"source": "osm", "path": local.name, "include_service": True},
        "focus": {"bbox": bbox},
        "demand": demand,
    }
    measure, what = example_closure(net)
    report.append(f"example scenario: the {what}")
    header = (
        f"# {name}: generated by `ldtkit city init` from {osm.name}.\n"
        f"# Demand is sized at {TRIPS_PER_ACTIVITY_HOUR} car trips per day-hour per (resident + job/2) estimated from\n"
        f"# {basis}: {residents:.0f} residents, {jobs:.0f} jobs. Replace total_vph, heavy_share and\n"
        "# mean_trip_km with the city's own figures where known. Every key: docs/city-config.md.\n"
    )
    path = write_text_atomic(target, header + tomli_w.dumps(config))
    scenario = {"name": "example-closure", "description": f"Example: the {what}", "measures": [measure]}
    scen_path = write_text_atomic(
        folder / "scenarios" / "example_closure.toml",
        "# Generated by `ldtkit city init`: an example measure to start from (link ids of this extract's network).\n"
        "# Every key of a scenario file: docs/scenarios.md.\n" + tomli_w.dumps(scenario),
    )
    next_commands = (f"ldtkit run {folder}", report_command(folder, net, measure), f"ldtkit city check {folder}")
    return CityInit(path, scen_path, tuple(report), next_commands)
