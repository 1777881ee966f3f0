"""Shared test settings: where the read-only reference data lives."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _find_shared() -> Path:
    """../shared next to the repository, else $LDTKIT_SHARED, else /work/shared (CI clones elsewhere)."""
    for cand in (os.environ.get("LDTKIT_SHARED"), ROOT.parent / "shared", "/work/shared"):
        if cand and (Path(cand) / "DESIGN.md").exists():
            return Path(cand)
    return ROOT.parent / "shared"


#: read-only references and data shared by the team
SHARED = _find_shared()
DATA = ROOT / "data"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.exists():
        pytest.skip(f"reference data folder {SHARED} not found")
    return SHARED


#: The Ghent indicator table of the shipped scenarios (``ldtkit run ghent``, gap 1e-4), pinned.
GHENT_PIN = ROOT / "tests" / "fixtures" / "ghent_indicators_pin.csv"
#: How close a run must come to the pin: the assignment stops at a relative gap of 1e-4, and
#: where two machines round a last bit differently (another CPU, another libm) it stops at an
#: equilibrium a little apart: measured up to 1.9e-4 relative (a scenario's delay), 7e-5 for people
#: per noise band, 8e-7 for CO2 (on one machine, runs agree to 1e-9). 1e-3 leaves room for that and
#: still catches a change of a tenth of a per cent in any number.
GHENT_PIN_RTOL = 1e-3


def assert_equals_ghent_pin(got: pd.DataFrame) -> None:
    """Check an indicator table (column ``indicator`` first) against :data:`GHENT_PIN`: the same
    rows and columns, every level within :data:`GHENT_PIN_RTOL` of the pinned one, every change
    (``... Δ``) within that share of its scenario's level (a change carries the error of both levels)."""
    want = pd.read_csv(GHENT_PIN)
    assert list(got.columns) == list(want.columns)
    assert list(got["indicator"]) == list(want["indicator"])
    for col in want.columns[1:]:
        a, b = got[col].to_numpy(np.float64), want[col].to_numpy(np.float64)
        if col.endswith(" Δ"):
            level = np.maximum(np.abs(want["baseline"].to_numpy(np.float64)), np.abs(want[col[: -len(" Δ")]].to_numpy(np.float64)))
            bad = np.abs(a - b) > GHENT_PIN_RTOL * level
        else:
            bad = ~np.isclose(a, b, rtol=GHENT_PIN_RTOL, atol=0)
        rows = list(want["indicator"][bad])
        assert not rows, f"{col}: {rows} differ from the pin: got {list(a[bad])}, pinned {list(b[bad])}"
