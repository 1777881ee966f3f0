"""``ldtkit run CITY [--scenario FILE ...] [--scheduler ADDRESS] [--out DIR] [--grids]``: baseline and scenarios.

Writes ``DIR/<city>/links.gpkg``, ``links.parquet`` and ``indicators.csv``; their columns are
documented in ``docs/cli.md`` (scripts read them).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from ldtkit.cli.args import Subparsers, disconnected_message, positive, writable_dir


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Register ``ldtkit run``."""
    p = subparsers.add_parser(
        "run",
        help="run the baseline and scenarios of a city; write links with flows and differences",
        description="Run a city's baseline and scenarios (traffic, noise, air) and write the links and indicators to DIR/<city>/.",
    )
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
    p.add_argument("--max-iter", type=positive(int), default=500, help="iteration cap per assignment (default 500)")
    p.add_argument("--demand-scale", default="1.0", metavar="FACTOR", help="multiply the city's traffic demand, > 0 (default 1.0)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    p.add_argument(
        "--cache-max-mb",
        type=positive(float),
        metavar="MB",
        help="size limit of the result cache in MB; the least recently used entries are evicted beyond it "
        "(default: $LDTKIT_CACHE_MAX_MB, else 2048)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="stop with an error listing the trips a measure leaves without a route (default: assign the rest "
        'and report the dropped trips; also set by [demand] on_disconnected = "raise")',
    )
    p.add_argument(
        "--select-link",
        metavar="STREET_OR_IDS",
        help="add a select_link_vph column: the baseline day flow (veh/h) of the traffic using a street or comma-separated link ids",
    )
    p.add_argument(
        "--grids",
        action="store_true",
        help="also write the noise and NO2 grids as GeoTIFF, the receptors as GeoPackage and QGIS styles, into DIR/<city>/grids",
    )
    p.set_defaults(func=run_city)
    return p


def run_city(args: argparse.Namespace) -> int:
    """Run ``args.city``'s baseline and scenarios, write the links and indicators; exit code 0.

    Options are checked and the output folder is made writable before any model runs.
    Assignments that stop at the iteration cap before the gap target are listed as warnings.
    """
    from ldtkit.errors import DisconnectedDemandError, InputFileNotFoundError
    from ldtkit.io import write_geodataframes, write_table
    from ldtkit.study.cache import cache_max_mb
    from ldtkit.study.city import load_city
    from ldtkit.study.compare import indicators_table, noise_note
    from ldtkit.study.config.params import check_demand_scale, check_models
    from ldtkit.study.convergence import unconverged_all
    from ldtkit.study.runner import DEFAULT_CACHE, run
    from ldtkit.study.scenario import load_scenarios

    models = check_models(args.models, where="--models")
    demand_scale = check_demand_scale(args.demand_scale, where="ldtkit run", name="--demand-scale")
    max_mb = cache_max_mb(args.cache_max_mb, name="--cache-max-mb")  # also checks $LDTKIT_CACHE_MAX_MB, before any model runs
    city = load_city(args.city)
    out = writable_dir(Path(args.out) / city.name, given=args.out)
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
    try:
        with warnings.catch_warnings():  # the dropped pairs are reported below, in the CLI's words
            warnings.filterwarnings("ignore", message=r".*have no path", category=UserWarning)
            results = run(
                city,
                scenarios,
                client=client,
                models=models,
                gap=args.gap,
                max_iter=args.max_iter,
                demand_scale=demand_scale,
                cache_dir=None if args.no_cache else DEFAULT_CACHE,
                cache_max_mb=max_mb,
                on_disconnected="raise" if args.strict else "drop",
            )
    except DisconnectedDemandError as exc:
        message = disconnected_message(exc.pairs, hint="rerun without --strict to assign the rest and report the dropped trips")
        raise DisconnectedDemandError(f"{city.name}: {message}", pairs=exc.pairs) from None
    for name, res in results.items():
        for period, a in res.period_assignments.items():
            if len(a.unassigned):
                print(f"{name}, {period}: {len(a.unassigned)} OD pairs without a path, {a.unassigned['trips'].sum():.1f} trips/h dropped")
                hint = "they are dropped; pass --strict to stop with an error instead"
                print(f"ldtkit: warning: {name}, {period}: {disconnected_message(a.unassigned, hint=hint)}", file=sys.stderr)
    not_converged = unconverged_all(results)
    for w in not_converged:
        print(f"ldtkit: warning: {w} (raise --max-iter or loosen --gap)", file=sys.stderr)
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
    if args.select_link:
        from ldtkit.study.select_link import parse_selection, select_link_column

        column = select_link_column(
            results["baseline"], parse_selection(args.select_link), cache_dir=None if args.no_cache else DEFAULT_CACHE
        )
        links["select_link_vph"] = column.reindex(links["link_id"].to_numpy()).to_numpy()
    links = links[links["road_class"] != "connector"]
    write_geodataframes(out / "links.gpkg", {"links": links})
    write_geodataframes(out / "links.parquet", {"links": links})
    table = indicators_table(results, watch=city.config.compare.watch)
    write_table(table.reset_index(names="indicator"), out / "indicators.csv")
    print(table.round(1).to_string())
    if note := noise_note(results["baseline"]):
        print(note)
    if not_converged:
        print("notes:")
        for w in not_converged:
            print(f"  {w}")
    print(f"wrote {out / 'links.gpkg'}, {out / 'links.parquet'}, {out / 'indicators.csv'}")
    if args.grids:
        from ldtkit.viz.export import export_results

        written = export_results(results, out / "grids")
        print(f"wrote {len(written)} files in {out / 'grids'}: " + ", ".join(f.name for f in written))
    return 0
