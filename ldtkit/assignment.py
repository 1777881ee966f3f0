"""Static user-equilibrium traffic assignment.

(Contract fixed here; the algorithm is filled in by the assignment work.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class AssignmentResult:
    """Equilibrium link flows and times.

    All arrays align with ``link_id`` (the network's links in order).
    """

    link_id: np.ndarray
    flow_vph: dict[str, np.ndarray]  # vehicles/h per class
    flow_pcu: np.ndarray  # total PCU/h
    time_min: np.ndarray  # congested travel time
    speed_kmh: np.ndarray  # length / congested time
    gap_history: np.ndarray  # relative gap per iteration, (TSTT - SPTT) / TSTT
    objective: float  # Beckmann objective
    iterations: int
    wall_time_s: float
    unassigned: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["origin", "destination", "class", "trips"]))
    method: str = ""

    @property
    def gap(self) -> float:
        return float(self.gap_history[-1]) if len(self.gap_history) else float("nan")
