"""``ldtkit network summary CITY [--json]``: nodes, links, km by road class, bridges, components.

The text lines are documented in ``docs/cli.md``; scripts read them.
"""

from __future__ import annotations

import argparse

from ldtkit.cli.args import Subparsers, show_help


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Register ``ldtkit network`` and its action ``summary``."""
    p = subparsers.add_parser("network", help="inspect a city's road network")
    s = p.add_subparsers(dest="network_command", metavar="ACTION")
    summ = s.add_parser("summary", help="print nodes, links, km by road class, bridges and connected components")
    summ.add_argument("city", help="a shipped city name (ghent, athens, porto) or a city folder")
    summ.add_argument("--json", action="store_true", help="print JSON instead of text")
    summ.set_defaults(func=summary)
    p.set_defaults(func=show_help(p))
    return p


def summary(args: argparse.Namespace) -> int:
    """Print the summary of ``args.city``'s network; exit code 0."""
    import json

    from ldtkit.study.city import load_city

    city = load_city(args.city)
    net = city.load_network()
    info = net.summary()
    info["cleanup"] = net.meta.get("cleanup", {})
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    print(f"{city.name}: {info['nodes']} nodes, {info['links']} links, {info['car_km']} km drivable, CRS {net.crs}")
    print(f"strongly connected components (car): {info['strong_components']} (largest {info['largest_component_nodes']} nodes)")
    print("km by road class:")
    for cls, km in sorted(info["km_by_road_class"].items(), key=lambda kv: -kv[1]):
        print(f"  {cls:<20} {km:10.2f}")
    print(f"bridges: {info['bridge_links']} links: {', '.join(info['bridges'])}")
    if info["cleanup"]:
        print(f"cleanup: {info['cleanup']}")
    return 0
