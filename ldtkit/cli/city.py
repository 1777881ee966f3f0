"""``ldtkit city init DIR --osm FILE [--name NAME]`` and ``ldtkit city check DIR``.

``init`` writes a runnable city folder from an OSM extract; ``check`` reads a city folder's
``city.toml`` and prints every value the models will use (defaults included), or the list of
problems found in it (unknown keys with the closest valid one, bad values, missing keys and
files), exiting 1.

Examples
--------
::

    ldtkit city init my_city --osm extract.osm.pbf
    ldtkit city check my_city
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Iterable
from pathlib import Path

from ldtkit.cli.args import Subparsers
from ldtkit.errors import InputFileNotFoundError, LdtkitError, MissingFieldError

#: Car trips in a mean day hour (07-19) per resident and per job, used to size the demand of a
#: new city. Ghent's configured demand (33,000 veh/h for 265,000 residents and 180,000 jobs)
#: gives about 0.08 per resident-plus-half-a-job; we start a new city from the same ratio.
TRIPS_PER_ACTIVITY_HOUR = 0.08


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Register ``ldtkit city`` and its actions ``init`` and ``check``."""
    p = subparsers.add_parser("city", help="create or check a city folder")
    s = p.add_subparsers(dest="city_command", metavar="ACTION")
    init = s.add_parser("init", help="write DIR/city.toml with sensible defaults for an OSM extract")
    init.add_argument("dir", help="the new city folder")
    init.add_argument("--osm", required=True, metavar="FILE", help=".osm.pbf / .osm / .osm.gz extract (copied into DIR)")
    init.add_argument("--name", help="short city name (default: the folder name)")
    init.add_argument("--force", action="store_true", help="overwrite an existing city.toml")
    init.set_defaults(func=_init)
    check = s.add_parser("check", help="print DIR/city.toml with every default filled in, or the list of its problems")
    check.add_argument("dir", help="a city folder (or a shipped city's name)")
    check.set_defaults(func=_check)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    return p


def _init(args: argparse.Namespace) -> int:
    path = init_city(args.dir, osm=args.osm, name=args.name, force=args.force)
    print(f"wrote {path}; next: ldtkit run {Path(args.dir)} --scenario FILE")
    return 0


def _check(args: argparse.Namespace) -> int:
    report, ok = check_city(args.dir)
    print(report, end="")
    return 0 if ok else 1


def check_city(folder: str | Path) -> tuple[str, bool]:
    """The report of ``ldtkit city check``: the resolved ``city.toml``, or its problems.

    Returns
    -------
    (str, bool)
        The text to print and whether the city has no problem.

    Examples
    --------
    >>> text, ok = check_city("ghent")
    >>> ok, text.splitlines()[1]
    (True, 'name = "ghent"')
    """
    from ldtkit.study.city import city_dir
    from ldtkit.study.config import config_paths, parse_city_config, read_toml, resolved_toml

    root = city_dir(folder)
    source = root / "city.toml"
    config, problems = parse_city_config(read_toml(source), source=str(source))
    if config is not None:
        problems += file_problems(root, config_paths(config), source)
        for table, needed_by in (("network", "every command"), ("demand", "ldtkit run")):
            if getattr(config, table) is None:
                problems.append(MissingFieldError(source, table, expected=f"a [{table}] table ({needed_by} needs it)"))
    if problems:
        lines = [
            f"{source}: {len(problems)} problem{'s' if len(problems) > 1 else ''}:",
            *(f"  - {str(p).removeprefix(f'{source}: ')}" for p in problems),
        ]
        return "\n".join(lines) + "\n", False
    assert config is not None
    return f"# {source}: no problems; every value the models use, defaults included\n" + resolved_toml(config), True


def file_problems(root: Path, named: Iterable[tuple[str, str]], source: Path) -> list[LdtkitError]:
    """A not-found error for every ``(key, relative path)`` in ``named`` that does not exist under ``root``."""
    out: list[LdtkitError] = []
    for key, rel in named:
        p = Path(rel) if Path(rel).is_absolute() else root / rel
        if not p.exists():
            out.append(InputFileNotFoundError(p, what=f"file named by {source} field {key!r}"))
    return out


def init_city(folder: str | Path, *, osm: str | Path, name: str | None = None, force: bool = False) -> Path:
    """Create ``folder/city.toml`` (and copy the extract) so that ``ldtkit run folder`` works.

    The network comes from the extract; zones from its buildings (floor area → residents and
    jobs, :data:`ldtkit.model.zones.OSM_BUILDING_DEFAULTS`); demand is sized at
    :data:`TRIPS_PER_ACTIVITY_HOUR`; external zones where major roads leave the extract; the
    focus area is the middle half of the network's extent; the CRS is the extract's UTM zone.

    Examples
    --------
    >>> init_city("my_city", osm="extract.osm.pbf")  # doctest: +SKIP
    PosixPath('my_city/city.toml')
    """
    import geopandas as gpd
    import tomli_w

    from ldtkit.errors import ConfigError, require_file
    from ldtkit.io import write_text_atomic
    from ldtkit.model.network import network_from_osm
    from ldtkit.model.zones import read_osm_buildings, zones_from_osm_buildings

    osm = require_file(osm, what="OSM extract")
    folder = Path(folder)
    target = folder / "city.toml"
    if target.exists() and not force:
        raise ConfigError(f"{target} exists already (use --force to overwrite)")
    folder.mkdir(parents=True, exist_ok=True)
    local = folder / osm.name
    if local.resolve() != osm.resolve():
        shutil.copyfile(osm, local)
    name = name or folder.resolve().name
    net = network_from_osm(local, name=name)
    crs = str(net.crs.to_string() if hasattr(net.crs, "to_string") else net.crs)
    minx, miny, maxx, maxy = net.links.total_bounds
    cx, cy, hw, hh = (minx + maxx) / 2, (miny + maxy) / 2, (maxx - minx) / 4, (maxy - miny) / 4
    focus = gpd.GeoSeries.from_xy([cx - hw, cx + hw], [cy - hh, cy + hh], crs=net.crs).to_crs(4326)
    bbox = [round(float(focus.x.min()), 5), round(float(focus.y.min()), 5), round(float(focus.x.max()), 5), round(float(focus.y.max()), 5)]
    from ldtkit.model.zones import network_area

    zones = zones_from_osm_buildings(read_osm_buildings(local, crs=crs), network_area(net), crs=crs, cell_m=500.0)
    activity = float(zones["population"].sum() + 0.5 * zones["jobs"].sum())
    total_vph = max(round(TRIPS_PER_ACTIVITY_HOUR * activity, -2), 500.0)
    config = {
        "name": name,
        "crs": crs,
        "network": {"source": "osm", "path": local.name, "include_service": True},
        "focus": {"bbox": bbox},
        "demand": {
            "zoning": "osm_buildings",
            "area": "network",
            "cell_m": 500.0,
            "min_activity": 10.0,
            "total_vph": total_vph,
            "heavy_share": 0.05,
            "mean_trip_km": round(max(1.5, min(8.0, 0.4 * ((maxx - minx) * (maxy - miny)) ** 0.5 / 1000.0)), 1),
            "external_share": 0.3,
            "through_share": 0.2,
            "heavy_external_factor": 2.0,
            "pcu": {"light": 1.0, "heavy": 2.0},
            "osm": {},
            "external": {
                "source": "gateways",
                "road_classes": ["motorway", "motorway_link", "trunk", "primary", "secondary"],
                "boundary_buffer_m": 300.0,
                "cluster_m": 150.0,
            },
            "connectors": {
                "n_connectors": 2,
                "speed_kmh": 20.0,
                "capacity_vph": 100000.0,
                "exclude_road_classes": ["motorway", "motorway_link", "trunk", "trunk_link"],
                "max_distance_m": 1000.0,
                "on_unconnected": "error",
            },
        },
    }
    header = (
        f"# {name}: generated by `ldtkit city init` from {osm.name}.\n"
        f"# Demand is sized at {TRIPS_PER_ACTIVITY_HOUR} car trips per day-hour per (resident + job/2) found in the\n"
        f"# extract's buildings ({zones['population'].sum():.0f} residents, {zones['jobs'].sum():.0f} jobs estimated): replace\n"
        "# total_vph, heavy_share and mean_trip_km with the city's own figures where known.\n"
    )
    return write_text_atomic(target, header + tomli_w.dumps(config))
