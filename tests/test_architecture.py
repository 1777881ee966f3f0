"""The package's structure: layers import one way, no import cycle, no private name crosses a module."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ldtkit"
LAYERS = ("ldtkit.cli", "ldtkit.viz", "ldtkit.study", "ldtkit.model")
#: Modules allowed over the size limit: one cohesive algorithm each (numba kernels).
LONG_MODULES = {"ldtkit/model/kernels/assignment.py", "ldtkit/model/kernels/noise.py"}
MAX_LINES = 600


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_import_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout
    for layer in ("model", "study", "viz"):
        assert f"the {'model layer' if layer == 'model' else 'study layer' if layer == 'study' else 'presentation layer'}" in out.stdout


def test_no_import_cycle_counting_function_level_imports():
    graph = grimp.build_graph("ldtkit", include_external_packages=False)
    modules = sorted(graph.modules)
    index = {m: i for i, m in enumerate(modules)}
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    # Tarjan's strongly connected components, iteratively
    low, num, on_stack, stack, cycles, counter = {}, {}, set(), [], [], [0]
    for root in modules:
        if root in num:
            continue
        work = [(root, iter(edges[root]))]
        num[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in num:
                    num[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(edges[nxt])))
                elif nxt in on_stack:
                    low[node] = min(low[node], num[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == num[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    cycles.append(sorted(comp))
    assert not cycles, f"import cycles: {cycles}"
    assert len(index) > 30  # the graph really holds the package


def _is_module(package: str, name: str) -> bool:
    base = ROOT / Path(*package.split("."))
    return (base / f"{name}.py").exists() or (base / name / "__init__.py").exists() or any(base.glob(f"{name}.*.so"))


def test_no_private_name_is_imported_across_modules():
    offences = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ldtkit"):
                for a in node.names:
                    if _is_module(node.module, a.name):
                        module_aliases[a.asname or a.name] = f"{node.module}.{a.name}"
                    elif a.name.startswith("_") and not a.name.startswith("__"):
                        offences.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}.{a.name}")
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("ldtkit.") and a.asname:
                        module_aliases[a.asname] = a.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in module_aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} uses {module_aliases[node.value.id]}.{node.attr}")
    assert not offences, "\n".join(offences)


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_is_a_package(layer):
    assert (ROOT / Path(*layer.split(".")) / "__init__.py").is_file()


@pytest.mark.parametrize("layer", ["ldtkit.model", "ldtkit.study", "ldtkit.viz"])
def test_each_layer_docstring_names_its_modules_and_the_import_rule(layer):
    import importlib

    folder = ROOT / Path(*layer.split("."))
    doc = importlib.import_module(layer).__doc__ or ""
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"} | {p.parent.name for p in folder.glob("*/__init__.py")}
    named = {m.rsplit(".", 1)[-1] for m in re.findall(rf":mod:`~({re.escape(layer)}\.\w+)`", doc)}
    assert named == modules, f"{layer} docstring: missing {sorted(modules - named)}, stale {sorted(named - modules)}"
    assert "``cli`` → ``viz`` → ``study`` → ``model``" in doc


def test_modules_stay_small():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES and str(p.relative_to(ROOT)) not in LONG_MODULES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"
