"""One iteration of the link-based methods: Frank–Wolfe (``"fw"``) and bi-conjugate
Frank–Wolfe (``"bfw"``, Mitradjieva & Lindberg 2013).

The all-or-nothing loading ``target`` at the current costs gives the search direction (for
``"bfw"`` combined with the two previous directions); a line search on the Beckmann
objective gives the step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ldtkit.model.assignment.arrays import Float, LinkCostParams, LinkFlows
from ldtkit.model.assignment.engine import AssignmentKernels


@dataclass(frozen=True, slots=True)
class Directions:
    """The previous two search targets (PCU and per class) and step, for conjugate directions."""

    s1: Float | None = None
    s1c: Float | None = None
    s2: Float | None = None
    s2c: Float | None = None
    tau_prev: float = 1.0
    n_prev: int = 0


@dataclass(frozen=True, slots=True)
class Target:
    """All-or-nothing loading at the current costs: PCU ``(m,)`` and vehicles per class ``(classes, m)``."""

    flow_pcu: Float
    flow_vph: Float

    @classmethod
    def zeros(cls, n_links: int, n_classes: int) -> Target:
        return cls(np.zeros(n_links), np.zeros((n_classes, n_links)))


def link_based_iteration(
    K: AssignmentKernels, vdf: LinkCostParams, flows: LinkFlows, target: Target, directions: Directions, *, method: str
) -> tuple[LinkFlows, Directions]:
    """Move ``flows`` towards ``target`` (``method`` ``"fw"`` or ``"bfw"``); costs updated.

    The first loading (no flow yet) takes the target as it is.
    """
    y, yc = target.flow_pcu, target.flow_vph
    if not flows.flow_pcu.any():
        flows = flows._replace(flow_pcu=y, flow_vph=yc)
        K.link_costs(flows, vdf)
        return flows, directions
    x, xc, d = flows.flow_pcu, flows.flow_vph, directions
    if method == "bfw":
        k = min(d.n_prev, 2)
        s1 = d.s1 if d.s1 is not None else y
        s2 = d.s2 if d.s2 is not None else y
        b0, b1, b2 = K.bfw_direction(x, y, s1, s2, flows.cost_slope, d.tau_prev, k)
    else:
        b0, b1, b2 = 1.0, 0.0, 0.0
    s = b0 * y
    sc = b0 * yc
    if b1:
        assert d.s1 is not None and d.s1c is not None  # b1 > 0 needs a previous direction
        s += b1 * d.s1
        sc += b1 * d.s1c
    if b2:
        assert d.s2 is not None and d.s2c is not None
        s += b2 * d.s2
        sc += b2 * d.s2c
    n_prev = d.n_prev
    tau = K.line_search(x, s, vdf)
    if tau <= 0.0 and (b1 or b2):  # conjugate direction useless: restart with FW
        s, sc = y, yc
        tau = K.line_search(x, s, vdf)
        n_prev = 0
    flows = flows._replace(flow_pcu=x + tau * (s - x), flow_vph=xc + tau * (sc - xc))
    K.link_costs(flows, vdf)
    return flows, Directions(s1=s, s1c=sc, s2=d.s1, s2c=d.s1c, tau_prev=tau, n_prev=n_prev + 1)
