"""What the ``ldtkit`` sub-command modules share: argument types and the parser plumbing.

Examples
--------
>>> positive(float)("1e-5")
1e-05
>>> positive(int)("0")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: expected a whole number > 0, got '0'
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeAlias, TypeVar

#: What a sub-command module's ``add_parser`` receives: the parent parser's sub-command registry.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
#: A sub-command's handler: parsed arguments in, exit code out.
Handler: TypeAlias = Callable[[argparse.Namespace], int]

Number = TypeVar("Number", int, float)


def positive(kind: type[Number]) -> Callable[[str], Number]:
    """An argparse type: a number of ``kind`` that must be > 0 (NaN refused too).

    Parameters
    ----------
    kind
        ``float`` or ``int``.

    Examples
    --------
    >>> positive(float)("1e-5")
    1e-05
    >>> positive(float)("nan")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a number > 0, got 'nan'
    """
    what = {"float": "number", "int": "whole number"}.get(kind.__name__, kind.__name__)

    def parse(text: str) -> Number:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {what} > 0, got {text!r}") from None
        if not value > 0:  # also refuses nan
            raise argparse.ArgumentTypeError(f"expected a {what} > 0, got {text!r}")
        return value

    # argparse names the type in its messages ("invalid float value") by this name
    parse.__name__ = kind.__name__
    return parse


def show_help(parser: argparse.ArgumentParser) -> Handler:
    """The handler of a command group run without its action (``ldtkit network``): print the
    group's help and exit 2, as ``ldtkit`` does without a command.

    Examples
    --------
    >>> group = argparse.ArgumentParser(prog="ldtkit network", add_help=False)
    >>> show_help(group)(argparse.Namespace())
    usage: ldtkit network
    2
    """

    def handler(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return handler
