"""Travel demand: zones and OD matrices per vehicle class and period.

(Contract fixed here; the generation pipeline is filled in by the demand work.)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .errors import InvalidValueError


@dataclass(frozen=True)
class Demand:
    """OD matrices between zone centroid nodes, one per vehicle class.

    Attributes
    ----------
    zone_ids
        Node ids (in the network) of the zone centroids, int64, length ``nz``; row/column ``i``
        of every matrix is zone ``zone_ids[i]``.
    trips
        ``{class: (nz, nz) float64}`` in vehicles per hour for the *day* period (mean hour 07–19).
        Classes are ``"light"`` and ``"heavy"`` (TNTP files give ``"light"`` only).
    pcu
        PCU factor per class, e.g. ``{"light": 1.0, "heavy": 2.0}``.
    period_factors
        Hourly demand of each period relative to the day's mean hour, e.g.
        ``{"day": 1.0, "evening": 0.55, "night": 0.15}``.
    meta
        Provenance and reported figures (total trips, mean trip length, ...).
    """

    zone_ids: np.ndarray
    trips: dict[str, np.ndarray]
    pcu: dict[str, float] = field(default_factory=lambda: {"light": 1.0, "heavy": 2.0})
    period_factors: dict[str, float] = field(default_factory=lambda: {"day": 1.0, "evening": 0.55, "night": 0.15})
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        nz = len(self.zone_ids)
        for cls, m in self.trips.items():
            if m.shape != (nz, nz):
                raise InvalidValueError(f"Demand: matrix for class {cls!r} has shape {m.shape}, expected ({nz}, {nz})")
            bad = ~np.isfinite(m) | (m < 0)
            if bad.any():
                i, j = np.argwhere(bad)[0]
                raise InvalidValueError(
                    f"Demand: class {cls!r} has {int(bad.sum())} NaN or negative cells, e.g. "
                    f"zone {int(self.zone_ids[i])} -> zone {int(self.zone_ids[j])} = {m[i, j]}"
                )
            if cls not in self.pcu:
                raise InvalidValueError(f"Demand: no PCU factor for class {cls!r} (pcu has {sorted(self.pcu)})")

    @property
    def classes(self) -> list[str]:
        return list(self.trips)

    def total(self) -> float:
        """Total vehicles per hour over all classes."""
        return float(sum(m.sum() for m in self.trips.values()))

    def scaled(self, factor: float) -> "Demand":
        """Every matrix multiplied by ``factor``."""
        return replace(self, trips={c: m * factor for c, m in self.trips.items()})

    def for_period(self, period: str) -> "Demand":
        """The hourly demand of ``period`` (``"day"``, ``"evening"`` or ``"night"``)."""
        if period not in self.period_factors:
            raise InvalidValueError(f"Demand.for_period: unknown period {period!r}; expected one of {sorted(self.period_factors)}")
        return self.scaled(self.period_factors[period])
