"""The conda environment files carry the requirements of pyproject.toml, with its lower bounds.

``environment.yml`` (development) carries the package's requirements and those of its ``test``
extra, which takes in the ``dashboard``, ``notebooks`` and ``maps`` extras. ``binder/environment.yml``
carries the same but the lint and type-check tools that no test runs. A requirement listed twice in
pyproject.toml (``setuptools``: the package's and the tests') is expected with its highest lower bound.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
#: Requirements that conda-forge names otherwise: the requirement as pyproject.toml writes it -> conda-forge packages.
CONDA_NAMES = {"osmium": ("pyosmium",), "dask[distributed]": ("dask", "distributed")}
#: Requirements that conda-forge does not have: the files list them under `pip:`.
PIP_ONLY = {"openmatrix", "playwright", "pyrosm"}
#: What the files list beside pyproject's requirements: the interpreter, pip, and numba.pycc's compiler.
CONDA_ONLY = {"python", "pip", "c-compiler"}
#: Each file: the extras it carries and the requirements of those extras it leaves out.
ENVIRONMENTS = {
    "environment.yml": (("test",), set()),
    "binder/environment.yml": (("test",), {"ruff", "mypy", "pandas-stubs"}),
}
ENTRY = re.compile(r"(?P<name>[A-Za-z0-9_.\-]+)\s*(?:>=\s*(?P<bound>[^\s,;]+))?")


def _key(requirement: Requirement) -> str:
    """The requirement as CONDA_NAMES keys it: its name, with its extras if it has any."""
    return requirement.name + (f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else "")


def _lower_bound(requirement: Requirement) -> Version | None:
    bounds = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    return max(bounds) if bounds else None


def _requirements(extras: tuple[str, ...]) -> list[Requirement]:
    """The package's requirements and those of `extras`, following the extras that name ldtkit itself."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in project["optional-dependencies"][extra]:
            requirement = Requirement(text)
            if requirement.name == project["name"]:
                todo.extend(requirement.extras)
            else:
                found.append(requirement)
    return found


def _expected(extras: tuple[str, ...], left_out: set[str]) -> dict[str, tuple[Version | None, str]]:
    """Conda package -> (lower bound, section: 'conda' or 'pip') that a file carrying `extras` must list."""
    expected: dict[str, tuple[Version | None, str]] = {}
    for requirement in _requirements(extras):
        if requirement.name in left_out:
            continue
        section = "pip" if requirement.name in PIP_ONLY else "conda"
        bound = _lower_bound(requirement)
        for name in CONDA_NAMES.get(_key(requirement), (requirement.name,)):
            earlier = expected.get(name, (None, section))[0]
            if earlier is not None and (bound is None or earlier > bound):
                bound = earlier
            expected[name] = (bound, section)
    return expected


def _listed(path: Path) -> dict[str, tuple[Version | None, str]]:
    """Package -> (lower bound, section) as the environment file lists it (pip options such as `-e .` aside)."""
    listed: dict[str, tuple[Version | None, str]] = {}
    for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["dependencies"]:
        section, texts = ("pip", entry["pip"]) if isinstance(entry, dict) else ("conda", [entry])
        for text in texts:
            if text.startswith("-"):
                continue
            match = ENTRY.match(text)
            assert match, f"{path.relative_to(ROOT)}: cannot read the entry {text!r}"
            bound = match["bound"]
            listed[match["name"].lower()] = (Version(bound) if bound else None, section)
    return listed


def _describe(bound: Version | None, section: str) -> str:
    return ("unbounded" if bound is None else f">={bound}") + (" under `pip:`" if section == "pip" else "")


@pytest.mark.parametrize("name", sorted(ENVIRONMENTS))
def test_environment_file_lists_pyproject_requirements_with_their_lower_bounds(name: str) -> None:
    extras, left_out = ENVIRONMENTS[name]
    expected = _expected(extras, left_out)
    listed = _listed(ROOT / name)
    problems = []
    for package, (bound, section) in sorted(expected.items()):
        if package not in listed:
            problems.append(f"{name}: {package} is missing; expected {_describe(bound, section)}")
        elif listed[package] != (bound, section):
            problems.append(f"{name}: {package} is {_describe(*listed[package])}; expected {_describe(bound, section)}")
    for package in sorted(set(listed) - set(expected) - CONDA_ONLY):
        why = "left out of this file" if package in left_out else f"no requirement of pyproject.toml with extras {', '.join(extras)}"
        problems.append(f"{name}: {package} is listed but is {why}")
    assert not problems, "\n".join(problems)
