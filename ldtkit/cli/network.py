"""``ldtkit network summary CITY``: nodes, links, km by road class, bridges, components."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser("network", help="inspect a city's road network")
    s = p.add_subparsers(dest="network_command", metavar="ACTION")
    summ = s.add_parser("summary", help="print nodes, links, km by road class, bridges and connected components")
    summ.add_argument("city", help="a shipped city name (ghent, athens, porto) or a city folder")
    summ.add_argument("--json", action="store_true", help="print JSON instead of text")
    summ.set_defaults(func=_summary)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _summary(args: argparse.Namespace) -> int:
    import json

    from ldtkit.study.city import load_city

    city = load_city(args.city)
    net = city.load_network()
    summary = net.summary()
    summary["cleanup"] = net.meta.get("cleanup", {})
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
        return 0
    print(f"{city.name}: {summary['nodes']} nodes, {summary['links']} links, {summary['car_km']} km drivable, CRS {net.crs}")
    print(f"strongly connected components (car): {summary['strong_components']} (largest {summary['largest_component_nodes']} nodes)")
    print("km by road class:")
    for cls, km in sorted(summary["km_by_road_class"].items(), key=lambda kv: -kv[1]):
        print(f"  {cls:<20} {km:10.2f}")
    print(f"bridges: {summary['bridge_links']} links: {', '.join(summary['bridges'])}")
    if summary["cleanup"]:
        print(f"cleanup: {summary['cleanup']}")
    return 0
