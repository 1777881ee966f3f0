"""The top-level API: ``import ldtkit`` stays light, and every name in ``ldtkit.__all__`` resolves to its object."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import ldtkit


def _all_modules() -> list[str]:
    """Every public module of the package (private ones, such as a compiled kernels build, left out)."""
    names = [m.name for m in pkgutil.walk_packages(ldtkit.__path__, "ldtkit.")]
    return sorted(n for n in names if not any(part.startswith("_") for part in n.split(".")[1:]))


@pytest.mark.parametrize("name", ldtkit.__all__)
def test_every_public_name_resolves_to_the_object_of_that_name(name):
    obj = getattr(ldtkit, name)
    assert getattr(obj, "__name__", None) == name
    assert inspect.getmodule(obj).__name__.startswith("ldtkit.")
    assert name in dir(ldtkit)


def test_from_import_works_for_every_public_name():
    namespace: dict[str, object] = {}
    exec("from ldtkit import *", namespace)
    assert set(ldtkit.__all__) <= set(namespace)


def test_no_public_name_is_also_a_top_level_module():
    """A submodule of that name would replace the lazy attribute once imported (``ldtkit.compare``
    the module instead of the function): public names and top-level modules stay apart."""
    modules = {m.name for m in pkgutil.iter_modules(ldtkit.__path__)}
    assert not set(ldtkit.__all__) & modules


def test_compare_is_the_function_even_after_every_module_is_imported():
    import ldtkit.study.compare

    before = {name: getattr(ldtkit, name) for name in ldtkit.__all__}
    for module in _all_modules():
        importlib.import_module(module)
    assert ldtkit.compare is ldtkit.study.compare.compare
    assert callable(ldtkit.compare) and inspect.isfunction(ldtkit.compare)
    assert {name: getattr(ldtkit, name) for name in ldtkit.__all__} == before


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'asign'"):
        ldtkit.asign  # noqa: B018


def test_import_ldtkit_loads_no_heavy_dependency():
    code = "import sys, ldtkit; print(sorted(m for m in ('numba', 'geopandas', 'pandas', 'dask', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
