"""Assignment at scale: kernel choice by problem size; memory follows the OD pairs and paths, not zones squared."""

from __future__ import annotations

import types

import numpy as np
import pytest

from ldtkit.errors import InvalidValueError
from ldtkit.model.assignment import SolverOptions, build_problem, choose_engine, jit_engine, solve, tree_batches
from ldtkit.model.assignment.engine import PARALLEL_MIN_WORK, default_threads


def _grid(k: int, destinations_per_zone: int):
    """A k x k grid of two-way links, every node a zone, each zone sending to a few others."""
    ids = np.arange(1, k * k + 1)
    r, c = np.divmod(ids - 1, k)
    right = ids[c < k - 1]
    down = ids[r < k - 1]
    frm = np.concatenate([right, right + 1, down, down + k])
    to = np.concatenate([right + 1, right, down + k, down])
    n = len(frm)
    trips = np.zeros((k * k, k * k))
    z = np.arange(k * k)
    for j in range(1, destinations_per_zone + 1):
        trips[z, (z + j * (k + 1) * 7) % (k * k)] += 40.0
    np.fill_diagonal(trips, 0.0)
    return build_problem(
        node_ids=ids,
        from_node=frm,
        to_node=to,
        free_flow_time_min=np.full(n, 1.0),
        capacity_vph=np.full(n, 300.0),
        b=np.full(n, 0.15),
        power=np.full(n, 4.0),
        fixed_cost_min=np.zeros(n),
        allowed=np.ones((1, n), dtype=bool),
        no_through_nodes=[],
        zone_ids=ids,
        trips={"light": trips},
        pcu={"light": 1.0},
    )


def test_kernels_follow_the_problem_size():
    built = types.ModuleType("built")
    small = choose_engine(built, n_nodes=933, n_subproblems=387)  # Chicago-Sketch
    large = choose_engine(built, n_nodes=13_603, n_subproblems=1_462)  # Austin
    assert small.compiled_ahead and small.n_threads == 1
    assert large.compiled_ahead and large.n_threads == default_threads()
    edge = int(np.sqrt(PARALLEL_MIN_WORK))
    assert choose_engine(built, n_nodes=edge, n_subproblems=edge - 1).n_threads == 1
    assert choose_engine(built, n_nodes=edge, n_subproblems=edge + 1).n_threads == default_threads()
    assert choose_engine(built, n_nodes=10, n_subproblems=10, kernels="jit").n_threads == jit_engine().n_threads
    assert not choose_engine(None, n_nodes=10, n_subproblems=10).compiled_ahead  # nothing built: JIT
    assert choose_engine(built, n_nodes=13_603, n_subproblems=1_462, kernels="aot").compiled_ahead
    with pytest.raises(InvalidValueError, match="kernels='aot' needs the compiled module"):
        choose_engine(None, n_nodes=10, n_subproblems=10, kernels="aot")
    with pytest.raises(InvalidValueError, match="kernels must be 'auto', 'aot' or 'jit', got 'gpu'"):
        choose_engine(built, n_nodes=10, n_subproblems=10, kernels="gpu")


def test_memory_follows_paths_not_zones_squared():
    k = 16  # 256 zones
    pb = _grid(k, destinations_per_zone=2)
    n_zones = k * k
    assert pb.n_od == 2 * n_zones  # only the OD pairs with trips are kept
    budget = 20 * 4 * pb.n_nodes  # shortest-path trees of 20 origins at a time
    assert len(tree_batches(pb, budget)) == -(-n_zones // 20)
    sol = solve(pb, SolverOptions(gap=1e-4, tree_memory_bytes=budget))
    assert sol.converged and sol.gap <= 1e-4
    paths = sol.paths
    assert paths is not None
    assert pb.n_od <= paths.n_paths <= 6 * pb.n_od  # a handful of paths per OD pair with trips
    # every array of the path sets is sized by the paths or their links, none by the zones
    assert {len(a) for a in (paths.orig, paths.dest, paths.flow, paths.cls)} == {paths.n_paths}
    assert len(paths.ptr) == paths.n_paths + 1 and len(paths.link_row) == paths.ptr[-1]
    # a path has at most as many links as the grid has nodes on a monotone route (2k), times a few paths
    assert len(paths.link_row) <= 6 * pb.n_od * 2 * k
