"""What an assignment returns: the solver's raw :class:`Solution`, the path sets it can export
(:class:`PathSet`, for warm starts) and the user-facing :class:`AssignmentResult`.

Examples
--------
>>> import numpy as np
>>> r = AssignmentResult(
...     link_id=np.array([7]), flow_vph={"light": np.array([10.0])}, flow_pcu=np.array([10.0]), time_min=np.array([1.5]),
...     speed_kmh=np.array([40.0]), gap_history=np.array([1e-3, 1e-6]), objective=15.0, iterations=2, wall_time_s=0.01,
... )
>>> r.gap
1e-06
>>> r.to_dataframe().columns.tolist()
['link_id', 'flow_pcu', 'light_vph', 'time_min', 'cost_min', 'speed_kmh']
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ldtkit.model.assignment.arrays import Float, Int, Int32

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def empty_unassigned() -> pd.DataFrame:
    """The ``unassigned`` table without rows: ``origin``, ``destination``, ``class``, ``trips``."""
    import pandas as pd

    return pd.DataFrame(
        {
            "origin": pd.Series(dtype="int64"),
            "destination": pd.Series(dtype="int64"),
            "class": pd.Series(dtype=object),
            "trips": pd.Series(dtype="float64"),
        }
    )


@dataclass(frozen=True, slots=True)
class PathSet:
    """Path sets and flows of a path-based solution, keyed by node ids (for warm starts).

    Path ``q`` of OD pair ``(orig[q], dest[q])`` and class ``cls[q]`` carries ``flow[q]``
    vehicles per hour over link rows ``link_row[ptr[q]:ptr[q + 1]]`` (``link_id``: the same
    links by id, once known).
    """

    cls: npt.NDArray[np.object_]
    orig: Int
    dest: Int
    ptr: Int
    link_row: Int32 | Int
    flow: Float
    link_id: Int | None = None

    @property
    def n_paths(self) -> int:
        return len(self.flow)

    def with_link_ids(self, link_id: Int) -> PathSet:
        """The same paths with ``link_id`` filled from the network's link ids per row."""
        return replace(self, link_id=link_id[self.link_row])


@dataclass(slots=True)
class StageTimes:
    """Seconds spent in the solver's stages, accumulated over the iterations.

    ``setup_s``: before the first iteration (the contracted search graph, the start flows, and
    the first calls of the JIT kernels, which load them from numba's cache); ``shortest_paths_s``:
    the trees; ``update_s``: path-set growth and flow shifts (or the link-based update);
    ``inner_s``: the inner re-equilibration passes.
    """

    shortest_paths_s: float = 0.0
    update_s: float = 0.0
    inner_s: float = 0.0
    setup_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Solution:
    """The solver's output on the problem's arrays (link rows, class positions)."""

    flow_pcu: Float  #: (m,)
    flow_vph: Float  #: (classes, m)
    cost_min: Float  #: (m,) generalized cost, time plus the fixed term
    time_min: Float  #: (m,) congested travel time
    gap_history: Float  #: relative gap after each iteration
    objective: float  #: Beckmann objective
    iterations: int
    converged: bool
    #: OD pairs without a path, columns ``origin``, ``destination``, ``class``, ``trips`` as
    #: arrays (None: all connected); :class:`AssignmentResult` has them as a DataFrame
    unassigned: dict[str, npt.NDArray[Any]] | None
    wall_time_s: float
    times: StageTimes
    threads: int
    paths: PathSet | None = None  #: path sets (method "path" with keep_paths)

    @property
    def gap(self) -> float:
        return float(self.gap_history[-1]) if len(self.gap_history) else float("nan")


@dataclass
class AssignmentResult:
    """Equilibrium link flows and times.

    All arrays align with ``link_id`` (the network's links in order).

    Attributes
    ----------
    flow_vph
        Vehicles per hour per class.
    flow_pcu
        Total flow in PCU per hour.
    time_min
        Congested travel time (BPR), minutes.
    speed_kmh
        Length / congested time (the free speed where the time is 0).
    gap_history
        Relative gap ``(TSTT - SPTT) / TSTT`` measured after each iteration (iteration 1 is the
        all-or-nothing loading at free-flow costs); the last entry is the gap of the returned flows.
    objective
        Beckmann objective (integral of the link cost functions, fixed cost included).
    cost_min
        Generalized link cost (time plus fixed term), minutes.
    path_state
        Path sets and flows (for warm starts with ``method="path"``); ``None`` for link-based methods.
    """

    link_id: Int
    flow_vph: dict[str, Float]  # vehicles/h per class
    flow_pcu: Float  # total PCU/h
    time_min: Float  # congested travel time
    speed_kmh: Float  # length / congested time
    gap_history: Float  # relative gap per iteration, (TSTT - SPTT) / TSTT
    objective: float  # Beckmann objective
    iterations: int
    wall_time_s: float
    unassigned: pd.DataFrame = field(default_factory=empty_unassigned)
    method: str = ""
    cost_min: Float | None = None
    meta: dict[str, Any] = field(default_factory=dict, repr=False)
    path_state: PathSet | None = field(default=None, repr=False)

    @property
    def gap(self) -> float:
        """The relative gap of the returned flows (NaN before any iteration)."""
        return float(self.gap_history[-1]) if len(self.gap_history) else float("nan")

    def to_dataframe(self) -> pd.DataFrame:
        """One row per link: ``link_id``, ``flow_pcu``, ``<class>_vph``, ``time_min``, ``cost_min``, ``speed_kmh``."""
        import pandas as pd

        df = pd.DataFrame({"link_id": self.link_id, "flow_pcu": self.flow_pcu})
        for c, v in self.flow_vph.items():
            df[f"{c}_vph"] = v
        df["time_min"] = self.time_min
        df["cost_min"] = self.cost_min if self.cost_min is not None else self.time_min
        df["speed_kmh"] = self.speed_kmh
        return df
