"""The ``ldtkit`` command.

Examples
--------
::

    ldtkit network summary ghent
    ldtkit assign --tntp TransportationNetworks/SiouxFalls --gap 1e-6 --out flows.csv
    ldtkit run ghent --out out
    ldtkit report notebooks/bridge_closure.ipynb --out out/reports
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from ldtkit import __version__
from ldtkit.errors import LdtkitError

#: Sub-commands, one module each in this package: ``add_parser(subparsers)`` registers the
#: command and sets ``func`` (parsed args -> exit code).
SUBCOMMANDS = ("network", "assign", "run", "city", "sample", "report", "export", "noise", "calibrate", "cache")


def build_parser() -> argparse.ArgumentParser:
    """The ``ldtkit`` parser with every sub-command of :data:`SUBCOMMANDS` registered.

    Examples
    --------
    >>> sorted(build_parser().parse_args(["network", "summary", "ghent"]).__dict__)
    ['city', 'command', 'func', 'json', 'network_command', 'verbose']
    """
    parser = argparse.ArgumentParser(
        prog="ldtkit", description="A Local Digital Twin for a city: traffic, noise and air quality, baseline vs scenarios."
    )
    parser.add_argument("--version", action="version", version=f"ldtkit {__version__}")
    parser.add_argument("--verbose", action="store_true", help="show the full traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"ldtkit.cli.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``ldtkit`` command; return its exit code (documented in ``docs/cli.md``).

    0 on success, 1 on an :class:`~ldtkit.errors.LdtkitError` (its message on stderr after
    ``ldtkit: error:``), 2 on a usage error or without a command (argparse exits itself),
    3 when ``ldtkit assign`` stops before its gap target, 130 on Ctrl-C. Any other exception is
    printed as one line naming its type, with a pointer to ``--verbose`` (which shows the traceback).
    """
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    # --verbose is accepted anywhere on the line, after any sub-command too
    args, extra = parser.parse_known_args(argv)
    extra = [a for a in extra if a != "--verbose"]
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    verbose = "--verbose" in argv[: argv.index("--")] if "--" in argv else "--verbose" in argv
    try:
        return int(args.func(args) or 0)
    except LdtkitError as exc:
        if verbose:
            traceback.print_exc()
        print(f"ldtkit: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ldtkit: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if verbose:
            traceback.print_exc()
            return 1
        detail = " ".join(str(exc).split()) or "(no message)"
        print(f"ldtkit: unexpected error: {type(exc).__name__}: {detail} (run again with --verbose for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
