"""``ldtkit city init DIR --osm FILE [--name NAME]`` and ``ldtkit city check DIR``.

``init`` writes a runnable city folder from an OSM extract, with an example scenario
(:func:`ldtkit.study.city_init.init_city`); ``check`` reads a city folder's
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
from collections.abc import Iterable
from pathlib import Path

from ldtkit.cli.args import Subparsers
from ldtkit.errors import InputFileNotFoundError, LdtkitError, MissingFieldError


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Register ``ldtkit city`` and its actions ``init`` and ``check``."""
    p = subparsers.add_parser("city", help="create or check a city folder")
    s = p.add_subparsers(dest="city_command", metavar="ACTION")
    init = s.add_parser("init", help="write DIR/city.toml and an example scenario for an OSM extract")
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
    from ldtkit.study.city_init import init_city

    made = init_city(args.dir, osm=args.osm, name=args.name, force=args.force)
    for line in made.report:
        print(line)
    print(f"wrote {made.config} and {made.scenario}")
    print("next:")
    for cmd in made.next_commands:
        print(f"  {cmd}")
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
