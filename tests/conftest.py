"""Shared test settings: where the read-only reference data lives."""

from __future__ import annotations

import os
from pathlib import Path

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
