"""Convergence honesty: which assignments stopped at their iteration cap before the gap target.

Computed from what every result already carries: each period's
:class:`~ldtkit.model.assignment.AssignmentResult` (``meta["converged"]``, ``meta["target_gap"]``,
``gap_history`` and ``iterations``).

Examples
--------
>>> import numpy as np
>>> from types import SimpleNamespace
>>> a = SimpleNamespace(meta={"converged": False, "target_gap": 1e-30}, gap_history=np.array([1e-2, 1.2e-16]), iterations=500)
>>> res = SimpleNamespace(period_assignments={"evening": a})
>>> for w in unconverged(res, scenario="baseline"):
...     print(w)
baseline, evening: assignment stopped after 500 iterations at gap 1.2e-16, target 1e-30 not reached
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class ConvergenceWarning:
    """One assignment that stopped before its gap target.

    Attributes
    ----------
    scenario, period
        Where it happened.
    gap
        The relative gap reached (of the returned flows).
    target_gap
        The relative gap asked for (NaN when the result does not say).
    iterations
        Iterations done (the cap).
    """

    scenario: str
    period: str
    gap: float
    target_gap: float
    iterations: int

    def __str__(self) -> str:
        target = f"target {self.target_gap:.3g}" if math.isfinite(self.target_gap) else "target"
        return (
            f"{self.scenario}, {self.period}: assignment stopped after {self.iterations} iterations "
            f"at gap {self.gap:.3g}, {target} not reached"
        )


def unconverged(result: Any, *, scenario: str) -> list[ConvergenceWarning]:
    """The periods of one scenario result whose assignment did not reach its gap target.

    Parameters
    ----------
    result
        A :class:`~ldtkit.study.runner.ScenarioResult` (anything with ``period_assignments``).
    scenario
        Its name, quoted in the warnings.
    """
    out: list[ConvergenceWarning] = []
    periods: Mapping[str, Any] = getattr(result, "period_assignments", {}) or {}
    for period, a in periods.items():
        meta = getattr(a, "meta", {}) or {}
        if meta.get("converged", True):
            continue
        history: Any = getattr(a, "gap_history", ())
        gap = float(history[-1]) if len(history) else math.nan
        out.append(
            ConvergenceWarning(
                scenario=scenario,
                period=str(period),
                gap=gap,
                target_gap=float(meta.get("target_gap", math.nan)),
                iterations=int(getattr(a, "iterations", len(history))),
            )
        )
    return out


def unconverged_all(results: Mapping[str, Any]) -> list[ConvergenceWarning]:
    """:func:`unconverged` for every scenario of a run (``{name: ScenarioResult}``), in order.

    Examples
    --------
    >>> unconverged_all({})
    []
    """
    return [w for name, res in results.items() for w in unconverged(res, scenario=name)]


def with_convergence_notes(table: pd.DataFrame, results: Mapping[str, Any]) -> pd.DataFrame:
    """``table`` (an indicator table) with ``attrs["notes"]`` listing every assignment of ``results``
    that stopped before its gap target; the HTML indicator table shows them under the rows.

    Examples
    --------
    >>> import pandas as pd
    >>> with_convergence_notes(pd.DataFrame({"baseline": [1.0]}), {}).attrs["notes"]
    []
    """
    out = table.copy()
    out.attrs["notes"] = [str(w) for w in unconverged_all(results)]
    return out
