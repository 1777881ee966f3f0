"""Static user-equilibrium traffic assignment.

:func:`assign` loads OD demand (one or more vehicle classes with PCU factors) onto a
:class:`~ldtkit.model.network.RoadNetwork` until the relative gap ``(TSTT - SPTT) / TSTT`` is
below ``gap``. Link cost is the BPR function of the total PCU flow,
``t0 * (1 + b * (x / capacity) ** power)``, plus an optional fixed generalized-cost term
(``cost_fixed_min`` column or ``fixed_cost_min=``), e.g. Chicago-Sketch's tolls and
distance.

Methods
-------
``"path"`` (default)
    Origin-based gradient projection on path sets (numba): shortest-path trees of all
    origins in parallel, then Newton flow shifts from costlier paths to the cheapest one
    per OD pair with immediate link-cost updates, plus cheap inner re-equilibration passes.
    Converges to relative gaps of 1e-8 and below; deterministic at any thread count.
``"bfw"``
    Bi-conjugate Frank–Wolfe (Mitradjieva & Lindberg 2013), the classic link-based
    fallback; fine to 1e-4, slow beyond.
``"fw"``
    Plain Frank–Wolfe (for comparison only).

Rules
-----
- Classes come from ``demand.trips``; class ``c`` may use link ``a`` only if the link's
  permission column (:data:`ldtkit.model.traffic.CLASS_PERMISSION`: ``light`` → ``car_allowed``,
  ``heavy`` → ``hgv_allowed``; other classes → ``car_allowed``) is true and its capacity
  is > 0 (zero-capacity links are treated as closed). Barred links keep their row, with
  zero flow.
- Zone nodes are not passed through unless ``network.zone_through`` (TNTP
  first-through-node rule).
- OD pairs without a path are listed in ``result.unassigned`` (origin, destination, class,
  trips); ``on_disconnected="raise"`` (default) raises
  :class:`~ldtkit.errors.DisconnectedDemandError`, ``"drop"`` warns and assigns the rest.
- Intrazonal trips (origin == destination) do not use the network and are not assigned.

Modules
-------
- :mod:`~ldtkit.model.assignment.api`: :func:`assign`, on a network and a demand;
- :mod:`~ldtkit.model.assignment.problem`: network and demand -> :class:`AssignmentProblem` arrays;
- :mod:`~ldtkit.model.assignment.arrays`: the kernels' argument groups (graph, OD pairs, link
  flows, path pool, ...);
- :mod:`~ldtkit.model.assignment.solver`: the equilibrium loop (:func:`solve`), with the
  iterations of :mod:`~ldtkit.model.assignment.path_based` and
  :mod:`~ldtkit.model.assignment.link_based`;
- :mod:`~ldtkit.model.assignment.engine`: JIT or ahead-of-time compiled kernels;
- :mod:`~ldtkit.model.assignment.warm_start`: an earlier solution as a starting point;
- :mod:`~ldtkit.model.assignment.results`: :class:`Solution`, :class:`PathSet`, :class:`AssignmentResult`.

The loops over links, nodes and paths are numba kernels in :mod:`ldtkit.model.kernels.assignment`.

Examples
--------
>>> import numpy as np
>>> pb = build_problem(
...     node_ids=np.array([1, 2, 3]), from_node=np.array([1, 1, 2]), to_node=np.array([2, 3, 3]),
...     free_flow_time_min=np.array([1.0, 3.0, 1.0]), capacity_vph=np.full(3, 1000.0), b=np.full(3, 0.15),
...     power=np.full(3, 4.0), fixed_cost_min=np.zeros(3), allowed=np.ones((1, 3), bool),
...     no_through_nodes=[], zone_ids=np.array([1, 3]), trips={"light": np.array([[0.0, 3000.0], [0.0, 0.0]])},
...     pcu={"light": 1.0},
... )
>>> sol = solve(pb, SolverOptions(gap=1e-10))
>>> sol.converged, sol.flow_pcu.round(1).tolist()
(True, [1677.6, 1322.4, 1677.6])
"""

from __future__ import annotations

from ldtkit.model.assignment.api import assign
from ldtkit.model.assignment.arrays import Graph, LinkCostParams, LinkFlows, OdPairs, PathPool
from ldtkit.model.assignment.engine import AssignmentKernels, Engine, aot_engine, choose_engine, jit_engine
from ldtkit.model.assignment.path_based import TOL_FACTOR
from ldtkit.model.assignment.problem import AssignmentProblem, build_problem, problem_from_network
from ldtkit.model.assignment.results import AssignmentResult, PathSet, Solution
from ldtkit.model.assignment.solver import METHODS, TREE_MEMORY_BYTES, SolverOptions, relative_gap, solve, tree_batches
from ldtkit.model.assignment.warm_start import WarmStart, warm_start_from

__all__ = [
    "METHODS",
    "TOL_FACTOR",
    "TREE_MEMORY_BYTES",
    "AssignmentKernels",
    "AssignmentProblem",
    "AssignmentResult",
    "Engine",
    "Graph",
    "LinkCostParams",
    "LinkFlows",
    "OdPairs",
    "PathPool",
    "PathSet",
    "Solution",
    "SolverOptions",
    "WarmStart",
    "aot_engine",
    "choose_engine",
    "assign",
    "build_problem",
    "jit_engine",
    "problem_from_network",
    "relative_gap",
    "solve",
    "tree_batches",
    "warm_start_from",
]
