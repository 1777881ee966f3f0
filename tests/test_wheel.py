"""ldtkit installed from a wheel works from any folder: the shipped cities and templates travel inside it.

The wheel is built offline from a copy of the checkout (so the build leaves nothing in the
checkout), installed with ``--no-deps`` into a fresh virtual environment, and run from a
temporary folder. That environment sees ldtkit's dependencies through a ``.pth`` file that
lists this interpreter's site-packages folders as plain paths: ``.pth`` files inside them
(such as the editable-install finder that points at the checkout) are not processed, so the
only ldtkit it can import is the installed wheel.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import assert_equals_ghent_pin

from ldtkit.cli import main

ROOT = Path(__file__).resolve().parents[1]
#: What a source tree needs for a build: everything else in the checkout stays out of the copy.
BUILD_SOURCES = ("pyproject.toml", "README.md", "LICENSE", "ldtkit", "data", "templates")
#: Build and run leftovers that never belong in a source copy or a wheel.
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", ".ldtkit-cache", "build", "*.egg-info")
MAX_WHEEL_MB = 10.0
#: Prints where the imported ldtkit, its cities and its templates are, one per line.
WHERE = "import ldtkit, ldtkit.resources as r; print(ldtkit.__file__); print(r.shipped_cities_dir()); print(r.templates_dir())"


def _package_folders() -> set[str]:
    """Dotted names of the folders under ldtkit/ that hold Python modules."""
    folders = {p.parent for p in (ROOT / "ldtkit").rglob("*.py") if "__pycache__" not in p.parts}
    return {".".join(f.relative_to(ROOT).parts) for f in folders}


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout_s: float = 600) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s)
    assert out.returncode == 0, f"{' '.join(cmd)} exited {out.returncode}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


def _new_venv(path: Path) -> Path:
    """A virtual environment without pip (this interpreter's pip installs into it); its python."""
    _run([sys.executable, "-m", "venv", "--without-pip", str(path)], cwd=path.parent)
    return path / "bin" / "python"


def _install(python: Path, *requirement: str) -> None:
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "--quiet", *requirement],
        cwd=python.parent,
    )


def _see_dependencies(python: Path) -> None:
    """Let the environment import ldtkit's dependencies from this interpreter's site-packages."""
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=python.parent).stdout.strip()
    ours = dict.fromkeys([*site.getsitepackages(), sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (Path(purelib) / "ldtkit_test_dependencies.pth").write_text("".join(f"{p}\n" for p in ours if Path(p).is_dir()), encoding="utf-8")


def _seed_kernel_cache(installed: Path) -> None:
    """Copy the checkout's compiled numba kernels next to the installed wheel's modules.

    numba keys its cache on the source file's content, so the installed (identical) kernels load
    them instead of compiling again: minutes of CPU that would only repeat what the checkout did.
    A kernel whose cache is missing or stale still compiles, so this changes the time, not the result.
    """
    for index in (ROOT / "ldtkit").rglob("__pycache__/*.nb[ic]"):
        target = installed / index.relative_to(ROOT / "ldtkit")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(index, target)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "LDTKIT_DATA", "VIRTUAL_ENV")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("source") / "ldtkit-src"
    src.mkdir()
    for name in BUILD_SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=IGNORED)
        else:
            shutil.copy2(ROOT / name, src / name)
    return src


@pytest.fixture(scope="module")
def wheel(source_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "-w",
            str(dist),
            str(source_copy),
        ],
        cwd=dist,
    )
    (found,) = dist.glob("ldtkit-*.whl")
    return found


def test_every_package_folder_is_in_the_build_config():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    missing = sorted(_package_folders() - listed)
    assert not missing, f"pyproject.toml [tool.setuptools] packages must list {missing}, or the wheel leaves them out"
    stale = sorted(p for p in listed if not p.startswith("ldtkit._shipped.") and not (ROOT / Path(*p.split("."))).is_dir())
    assert not stale, f"pyproject.toml [tool.setuptools] packages lists folders that do not exist: {stale}"


def test_the_wheel_holds_the_code_the_cities_and_the_templates_and_nothing_else(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "ldtkit").rglob("*.py") if "__pycache__" not in p.parts}
    assert modules <= names, f"modules missing from the wheel: {sorted(modules - names)}"
    shipped = {
        f"ldtkit/_shipped/data/{p.relative_to(ROOT / 'data').as_posix()}"
        for p in (ROOT / "data").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".ldtkit-cache" not in p.parts
    }
    assert shipped <= names, f"city files missing from the wheel: {sorted(shipped - names)}"
    for required in (
        "ldtkit/_shipped/data/README.md",  # the licences and attributions of the shipped data
        "ldtkit/_shipped/templates/voila.json",
        "ldtkit/_shipped/templates/voila/templates/ldtkit/index.html.j2",
        "ldtkit/_shipped/templates/nbconvert/templates/ldtkit_report/index.html.j2",
        "ldtkit/model/data/cnossos_road_coefficients.csv",
        "ldtkit/model/data/emission_factors.csv",
    ):
        assert required in names
    leftovers = sorted(n for n in names if n.endswith((".pyc", ".so")) or "__pycache__" in n or ".ldtkit-cache" in n)
    assert not leftovers, leftovers
    assert all(n.startswith(("ldtkit/", "ldtkit-")) for n in names), sorted(n for n in names if not n.startswith("ldtkit"))
    assert wheel.stat().st_size < MAX_WHEEL_MB * 1e6, f"{wheel.name}: {wheel.stat().st_size / 1e6:.1f} MB"


@pytest.mark.slow
def test_the_installed_wheel_runs_the_cli_from_any_folder(wheel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    python = _new_venv(tmp_path / "venv")
    _install(python, str(wheel))
    _see_dependencies(python)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = _clean_env(LDTKIT_CACHE=str(tmp_path / "cache"))

    where = _run(
        [str(python), "-c", WHERE],
        cwd=work,
        env=env,
    ).stdout.splitlines()
    venv = (tmp_path / "venv").resolve()
    assert all(Path(p).resolve().is_relative_to(venv) for p in where), where
    _seed_kernel_cache(Path(where[0]).parent)

    ldtkit = str(python.parent / "ldtkit")
    summary = _run([ldtkit, "network", "summary", "ghent"], cwd=work, env=env).stdout
    assert main(["network", "summary", "ghent"]) == 0
    assert summary == capsys.readouterr().out  # the same lines as the checkout prints
    assert summary.startswith("ghent: ")
    (bridges,) = [line for line in summary.splitlines() if line.startswith("bridges: ")]
    assert bridges.startswith("bridges: 20 links: ") and "Rooigemlaan" in bridges

    out = tmp_path / "out"
    printed = _run([ldtkit, "run", "ghent", "--out", str(out)], cwd=work, env=env, timeout_s=900).stdout
    assert f"wrote {out / 'ghent' / 'links.gpkg'}" in printed
    assert (out / "ghent" / "links.gpkg").is_file()
    assert (tmp_path / "cache").is_dir() and not (work / ".ldtkit-cache").exists()

    assert_equals_ghent_pin(pd.read_csv(out / "ghent" / "indicators.csv"))

    columns = pq.read_schema(out / "ghent" / "links.parquet").names
    for col in ("link_id", "name", "bridge", "car_allowed", "flow_vph_baseline", "speed_kmh_baseline", "vehicles_per_day_baseline"):
        assert col in columns
    for scenario in ("bridge-closed-both", "bridge-closed-southbound", "bridge-closed-northbound"):
        assert {f"flow_vph_{scenario}", f"flow_diff_vph_{scenario}", f"car_allowed_{scenario}"} <= set(columns)


def test_an_editable_install_reads_the_checkout_folders(source_copy: Path, tmp_path: Path):
    dist = tmp_path / "dist"
    dist.mkdir()
    build = "import sys, setuptools.build_meta as b; print(b.build_editable(sys.argv[1]))"
    name = _run([sys.executable, "-c", build, str(dist)], cwd=source_copy).stdout.strip().splitlines()[-1]
    python = _new_venv(tmp_path / "venv")
    _install(python, str(dist / name))
    _see_dependencies(python)
    where = _run(
        [str(python), "-c", WHERE],
        cwd=tmp_path,
        env=_clean_env(),
    ).stdout.splitlines()
    assert [Path(p).resolve() for p in where] == [
        (source_copy / "ldtkit" / "__init__.py").resolve(),
        (source_copy / "data").resolve(),
        (source_copy / "templates").resolve(),
    ]
