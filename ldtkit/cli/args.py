"""Argument types shared by the ``ldtkit`` subcommands."""

from __future__ import annotations

import argparse


def positive(kind: type):
    """An argparse type: a number of ``kind`` that must be > 0 (NaN refused too).

    Examples
    --------
    >>> positive(float)("1e-5")
    1e-05
    """
    what = {"float": "number", "int": "whole number"}.get(kind.__name__, kind.__name__)

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {what} > 0, got {text!r}") from None
        if not value > 0:  # also refuses nan
            raise argparse.ArgumentTypeError(f"expected a {what} > 0, got {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse
