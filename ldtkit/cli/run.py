"""``ldtkit run CITY [--scenario FILE ...] [--scheduler ADDRESS] [--out DIR]``: baseline and scenarios.

Writes ``DIR/<city>/links.gpkg``, ``links.parquet`` and ``indicators.csv``; their columns are
documented in ``docs/cli.md`` (scripts read them).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ldtkit.cli.args import Subparsers, positive


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Register ``ldtkit run``."""
    p = subparsers.add_parser("run", help="run the baseline and scenarios of a city; write links with flows and differences")
    p.add_argument("city", help="a shipped city name or a city folder")
    p.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="FILE",
        help="scenario TOML (repeatable); default: every file in the city's scenarios/ folder",
    )
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler address, e.g. tcp://127.0.0.1:8786 (default: local threads)")
    p.add_argument("--out", default="out", metavar="DIR", help="output folder (default: out)")
    p.add_argument("--models", default="traffic,noise,air", help="comma-separated: traffic,noise,air (default: all)")
    p.add_argument("--gap", type=positive(float), default=1e-4, help="relative gap target (default 1e-4)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    p.add_argument(
        "--drop-disconnected",
        action="store_true",
        help="assign what can be assigned when a measure leaves OD pairs without a path, and report the "
        "dropped trips (default: stop with an error listing them)",
    )
    p.set_defaults(func=run_city)
    return p


def run_city(args: argparse.Namespace) -> int:
    """Run ``args.city``'s baseline and scenarios, write the links and indicators; exit code 0."""
    from ldtkit.errors import InputFileNotFoundError
    from ldtkit.io import write_geodataframes, write_table
    from ldtkit.study.city import load_city
    from ldtkit.study.compare import indicators_table
    from ldtkit.study.runner import DEFAULT_CACHE, run
    from ldtkit.study.scenario import load_scenarios

    city = load_city(args.city)
    if args.scenario:
        scenarios = load_scenarios(args.scenario)
    else:
        folder = city.root / "scenarios"
        if not folder.is_dir():
            raise InputFileNotFoundError(folder, what="scenario folder (give --scenario FILE)")
        scenarios = load_scenarios(folder)
    client = None
    if args.scheduler:
        from distributed import Client

        client = Client(args.scheduler)
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    results = run(
        city,
        scenarios,
        client=client,
        models=models,
        gap=args.gap,
        cache_dir=None if args.no_cache else DEFAULT_CACHE,
        on_disconnected="drop" if args.drop_disconnected else "raise",
    )
    for name, res in results.items():
        for period, a in res.period_assignments.items():
            if len(a.unassigned):
                print(f"{name}, {period}: {len(a.unassigned)} OD pairs without a path, {a.unassigned['trips'].sum():.1f} trips/h dropped")
    out = Path(args.out) / city.name
    base = results["baseline"].links_geodataframe()
    links = base.rename(
        columns={c: f"{c}_baseline" for c in ("light_vph", "heavy_vph", "flow_vph", "flow_pcu", "speed_kmh", "voc", "vehicles_per_day")}
    )
    for name, res in results.items():
        if name == "baseline":
            continue
        g = res.links_geodataframe()
        links[f"flow_vph_{name}"] = g["flow_vph"].to_numpy()
        links[f"flow_diff_vph_{name}"] = g["flow_vph"].to_numpy() - base["flow_vph"].to_numpy()
        links[f"car_allowed_{name}"] = g["car_allowed"].to_numpy()
    links = links[links["road_class"] != "connector"]
    write_geodataframes(out / "links.gpkg", {"links": links})
    write_geodataframes(out / "links.parquet", {"links": links})
    table = indicators_table(results, watch=city.config.compare.watch)
    write_table(table.reset_index(names="indicator"), out / "indicators.csv")
    print(table.round(1).to_string())
    print(f"wrote {out / 'links.gpkg'}, {out / 'links.parquet'}, {out / 'indicators.csv'}")
    return 0
