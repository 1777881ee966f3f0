"""``ldtkit export CITY [--scenario NAME] [--ngsi-ld DIR] [--dcat FILE.ttl] [--broker URL]``: open-standard data out.

NGSI-LD entities (Smart Data Models ``RoadSegment``, ``NoiseLevelObserved``,
``AirQualityObserved``) of one scenario, a DCAT-AP catalogue of the study, an upsert to a
context broker. What is exported and how is in ``docs/standards.md``.
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path

from ldtkit.cli.args import Subparsers, positive


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Register ``ldtkit export``."""
    p = subparsers.add_parser("export", help="export a scenario as NGSI-LD entities, the study as a DCAT-AP catalogue, or post to a broker")
    p.add_argument("city", help="a shipped city name or a city folder")
    p.add_argument(
        "--scenario",
        metavar="NAME",
        default="baseline",
        help="the scenario to export, by name, from the city's scenarios/ folder (default: baseline)",
    )
    p.add_argument(
        "--ngsi-ld", metavar="DIR", help="write one NGSI-LD entity file per road segment and receptor into DIR (replaced atomically)"
    )
    p.add_argument("--dcat", metavar="FILE", help="write a DCAT-AP catalogue (Turtle) of the inputs, the model and the runs")
    p.add_argument("--broker", metavar="URL", help="upsert the entities into the NGSI-LD broker at URL (e.g. http://localhost:1026)")
    p.add_argument("--tenant", metavar="NAME", help="NGSILD-Tenant for --broker (e.g. one tenant per scenario)")
    p.add_argument("--year", type=positive(int), default=None, help="calendar year of the modelled annual levels (default: this year)")
    p.add_argument(
        "--noise-spacing", type=positive(float), default=50.0, metavar="M", help="spacing of the exported noise grid in metres (default 50)"
    )
    p.add_argument("--gap", type=positive(float), default=1e-4, help="relative gap target (default 1e-4)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    p.set_defaults(func=export_city)
    return p


def export_city(args: argparse.Namespace) -> int:
    """Run (or read from the cache) the city's baseline and the scenario, then export; exit code 0."""
    from ldtkit._validate import closest
    from ldtkit.errors import InvalidValueError
    from ldtkit.resources import shipped_cities_dir
    from ldtkit.study.city import load_city
    from ldtkit.study.runner import DEFAULT_CACHE, run
    from ldtkit.study.scenario import load_scenarios
    from ldtkit.study.standards.broker import upsert
    from ldtkit.study.standards.dcat import catalogue, input_datasets, write_catalogue
    from ldtkit.study.standards.ngsi_ld import scenario_entities, write_entities
    from ldtkit.study.standards.smart_data_models import read_entities

    if not (args.ngsi_ld or args.dcat or args.broker):
        raise InvalidValueError("ldtkit export: nothing to do; give --ngsi-ld DIR, --dcat FILE or --broker URL")
    city = load_city(args.city)
    folder = city.root / "scenarios"
    available = load_scenarios(folder) if folder.is_dir() else []
    scenarios = available
    if args.scenario != "baseline":
        chosen = [s for s in available if s.name == args.scenario]
        if not chosen:
            near = closest([args.scenario], [s.name for s in available])
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise InvalidValueError(
                f"{folder}: no scenario named {args.scenario!r}{hint} (have: baseline, {', '.join(s.name for s in available)})"
            )
        if not args.dcat:
            scenarios = chosen
    elif not args.dcat:
        scenarios = []
    results = run(city, scenarios, gap=args.gap, cache_dir=None if args.no_cache else DEFAULT_CACHE)
    result = results[args.scenario]
    year = args.year or datetime.datetime.now(datetime.UTC).year
    target = Path(args.ngsi_ld) if args.ngsi_ld else None
    if target is not None:
        entities, unreached = scenario_entities(result, city=city.name, year=year, noise_spacing_m=args.noise_spacing)
        print(f"wrote {write_entities(entities, target, noise_unreached=unreached)}")
    if args.broker:
        if target is not None:
            entities_iter = iter(read_entities(target))
        else:
            entities_iter, _ = scenario_entities(result, city=city.name, year=year, noise_spacing_m=args.noise_spacing)
        report = upsert(entities_iter, args.broker, tenant=args.tenant)
        print(
            f"{args.broker}: {report.accepted} of {report.posted} entities upserted in {report.requests} requests ({report.retries} retries)"
        )
    if args.dcat:
        readme = shipped_cities_dir() / "README.md"
        inputs = input_datasets(readme.read_text(encoding="utf-8"), city=city.name) if readme.is_file() else []
        graph = catalogue(
            city=city.name,
            results=results,
            inputs=inputs,
            parameters={"gap": args.gap, "year": year, "noise_spacing_m": args.noise_spacing},
            data_root=shipped_cities_dir(),
            distributions={args.scenario: str(target)} if target is not None else None,
        )
        path = write_catalogue(graph, args.dcat)
        print(f"wrote {path}: {len(inputs)} input datasets, {len(results)} scenario runs")
    return 0
