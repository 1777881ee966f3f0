"""Ghent bridge closure: Lden falls near the closed bridge and rises along the main detour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from ldtkit.model.noise import compute_noise, noise_propagation
from ldtkit.model.receptors import Receptors

ROOT = Path(__file__).resolve().parents[1]


def _beside(links, rows, offset_m):
    """Receptors at 4 m height, ``offset_m`` either side of the midpoint of each link in ``rows``."""
    geoms = links.geometry.to_numpy()[rows]
    mid = shapely.line_interpolate_point(geoms, 0.5, normalized=True)
    a = shapely.line_interpolate_point(geoms, 0.45, normalized=True)
    b = shapely.line_interpolate_point(geoms, 0.55, normalized=True)
    d = shapely.get_coordinates(b) - shapely.get_coordinates(a)
    n = np.column_stack([-d[:, 1], d[:, 0]]) / np.linalg.norm(d, axis=1)[:, None]
    m = shapely.get_coordinates(mid)
    pts = np.vstack([m + offset_m * n, m - offset_m * n])
    return pts


@pytest.fixture(scope="module")
def closure(tmp_path_factory):
    from ldtkit.study.runner import run
    from ldtkit.study.scenario import load_scenarios

    scenarios = [s for s in load_scenarios(ROOT / "data" / "ghent" / "scenarios") if s.name == "bridge-closed-both"]
    assert scenarios, "data/ghent/scenarios must define bridge-closed-both"
    res = run("ghent", scenarios, cache_dir=tmp_path_factory.mktemp("noise-bridge-cache"), models=("traffic",), progress=False)
    return res["baseline"], res["bridge-closed-both"]


def test_lden_falls_near_the_closed_bridge_and_rises_along_the_detour(closure):
    base, closed = closure
    links = base.network.links
    bridge = np.flatnonzero(((links["name"] == "Rooigemlaan") & links["bridge"]).to_numpy())
    gain = closed.traffic["day"].total_vph - base.traffic["day"].total_vph
    real = (links["road_class"] != "connector").to_numpy()
    # the main detour: links gaining more than 300 veh/h in the day period
    detour = np.flatnonzero(real & (gain > 300.0))
    assert len(bridge) >= 1 and len(detour) >= 5
    pts = np.vstack([_beside(links, bridge, 15.0), _beside(links, detour, 10.0)])
    n_bridge = 2 * len(bridge)
    rec = Receptors(pts[:, 0], pts[:, 1], np.full(len(pts), 4.0), np.ones(len(pts)), links.crs, kind="points")
    prop = noise_propagation(base.network, rec)  # geometry shared by both scenarios
    before = compute_noise(base.network, base.traffic, rec, propagation=prop, progress=False)
    after = compute_noise(closed.network, closed.traffic, rec, propagation=prop, progress=False)
    delta = after.lden_db - before.lden_db
    near_bridge, along_detour = delta[:n_bridge], delta[n_bridge:]
    print(
        f"near bridge ΔLden {near_bridge.round(1).tolist()}, detour median {np.median(along_detour):.1f} dB "
        f"over {len(along_detour)} receptors"
    )
    assert np.all(near_bridge < -2.0)
    assert np.median(along_detour) > 1.0
    assert np.mean(along_detour > 0) >= 0.9
