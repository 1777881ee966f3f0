"""docs/cli.md documents the ``ldtkit`` command exactly: every command, option and choice, and no option that is gone."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from ldtkit.cli import SUBCOMMANDS, build_parser

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict[str, argparse.ArgumentParser]:
    """Every runnable command, by its words after ``ldtkit`` (``"network summary"``), to its parser.

    A command group (``network``, ``city``) is not listed itself: its actions are.
    """
    found: dict[str, argparse.ArgumentParser] = {}
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for group in groups:
        for name, sub in group.choices.items():
            found.update(_commands(sub, (*path, name)))
    if not groups or not path:
        found[" ".join(path)] = parser
    return found


def _sections() -> dict[str, str]:
    """The doc's ``## `ldtkit ...` `` sections by their words after ``ldtkit`` ("" for the text before the first)."""
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^## `ldtkit ?([a-z ]*)`\s*$", text, flags=re.M)
    sections = {"": parts[0]}
    sections.update(dict(zip(parts[1::2], parts[2::2], strict=True)))
    return sections


COMMANDS = _commands(build_parser())


def test_every_command_has_a_section_and_every_section_a_command():
    documented = set(_sections()) - {""}
    assert documented == set(COMMANDS) - {""}, f"docs/cli.md sections {sorted(documented)} vs commands {sorted(COMMANDS)}"
    assert {c.split()[0] for c in documented} == set(SUBCOMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_and_choice_is_documented_in_the_command_section(command):
    section = _sections()["" if command == "" else command]
    if command == "":
        section = section.split("## Global options", 1)[1].split("\n## ", 1)[0]
    missing = []
    for action in COMMANDS[command]._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        names = action.option_strings or [action.dest]
        missing += [f"`{n}" for n in names if not re.search(rf"`{re.escape(n)}(?![\w-])", section)]
        missing += [f"choice {c!r} of {names[-1]}" for c in action.choices or () if f"`{c}`" not in section and f",{c}" not in section]
    assert not missing, f"docs/cli.md, section `ldtkit {command}`: not documented: {missing}"


@pytest.mark.parametrize("command", sorted(c for c in COMMANDS if c))
def test_the_command_section_names_no_option_the_command_lacks(command):
    known = {s for a in COMMANDS[command]._actions for s in a.option_strings}
    named = set(re.findall(r"`(--?[a-z][a-z-]*)", _sections()[command]))
    assert named <= known, f"docs/cli.md, section `ldtkit {command}`: options that do not exist: {sorted(named - known)}"


def test_the_exit_codes_are_documented():
    intro = _sections()[""]
    for code in ("`0`", "`1`", "`2`", "`3`", "`130`"):
        assert f"| {code} |" in intro
    assert "ldtkit: error: <message>" in intro
    assert "ldtkit: unexpected error: <type>: <message> (run again with\n--verbose for the traceback)" in intro
