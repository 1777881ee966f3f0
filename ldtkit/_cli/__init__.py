"""Sub-commands of the ``ldtkit`` CLI, one module each.

Each module defines ``add_parser(subparsers)`` (registering its sub-command and
setting ``func`` to a callable taking the parsed args and returning an exit code).
"""

SUBCOMMANDS = ["network", "assign", "run", "city", "sample", "report"]
