"""The :class:`Demand` type: OD matrices between zone centroid nodes, one per vehicle class.

This module defines the data type and its checks only (no file format, no model), so that
readers such as :func:`ldtkit.model.loaders.tntp.demand_from_tntp` can build a
:class:`Demand` without importing the rest of :mod:`ldtkit.model.demand`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ldtkit._validate import finite_nonnegative
from ldtkit.errors import InvalidValueError


def default_pcu(vehicle_class: str) -> float:
    """The PCU factor of a class that a file does not state: 2 for ``"heavy"``, else 1.

    Examples
    --------
    >>> default_pcu("heavy"), default_pcu("light"), default_pcu("vans")
    (2.0, 1.0, 1.0)
    """
    return 2.0 if vehicle_class == "heavy" else 1.0


def check_od_matrix(
    trips: npt.NDArray[np.float64], zone_ids: npt.NDArray[np.int64], *, source: str, vehicle_class: str
) -> npt.NDArray[np.float64]:
    """``trips`` as float64, or :class:`~ldtkit.errors.InvalidValueError` naming the first bad OD pairs.

    Every cell must be finite and >= 0; the message names ``source``, the class, how many
    cells fail and the first of them as ``origin -> destination`` zone ids.

    Examples
    --------
    >>> check_od_matrix(np.array([[0.0, -1.0], [2.0, 0.0]]), np.array([7, 9]), source="od.csv", vehicle_class="light")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: od.csv: class 'light' trips (origin -> destination zone) must be finite and >= 0; 1 of 4 fail, e.g. id 7 -> 9 = -1.0
    """
    name = f"class {vehicle_class!r} trips (origin -> destination zone)"
    try:
        return finite_nonnegative(trips, name=name, where=source)
    except InvalidValueError:
        # name the cells by their zones: the labels cost more than the check, so they are built only now
        ids = np.asarray(zone_ids).astype(str)
        labels = np.char.add(np.char.add(np.repeat(ids, len(ids)), " -> "), np.tile(ids, len(ids)))
        finite_nonnegative(np.ravel(trips), name=name, where=source, ids=labels)
        raise


def check_stated_total(total: float, stated: float, *, source: str, what: str) -> None:
    """Raise :class:`~ldtkit.errors.InvalidValueError` when a file's stated total differs from its cells' sum.

    Examples
    --------
    >>> check_stated_total(10.0, 10.000001, source="m.omx", what="attribute total_vph")
    >>> check_stated_total(10.0, 11.0, source="m.omx", what="attribute total_vph")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: m.omx: attribute total_vph states a total of 11 but the cells sum to 10
    """
    if not math.isclose(total, stated, rel_tol=1e-5, abs_tol=1e-3):
        raise InvalidValueError(f"{source}: {what} states a total of {stated:.6g} but the cells sum to {total:.6g}")


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

    Examples
    --------
    >>> d = Demand(np.array([1, 2]), {"light": np.array([[0.0, 5.0], [3.0, 0.0]])})
    >>> d.total(), d.for_period("night").total()
    (8.0, 1.2)
    """

    zone_ids: npt.NDArray[np.int64]
    trips: dict[str, npt.NDArray[np.float64]]
    pcu: dict[str, float] = field(default_factory=lambda: {"light": 1.0, "heavy": 2.0})
    period_factors: dict[str, float] = field(default_factory=lambda: {"day": 1.0, "evening": 0.55, "night": 0.15})
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        nz = len(self.zone_ids)
        for cls, m in self.trips.items():
            if m.shape != (nz, nz):
                raise InvalidValueError(f"Demand: matrix for class {cls!r} has shape {m.shape}, expected ({nz}, {nz})")
            check_od_matrix(m, self.zone_ids, source="Demand", vehicle_class=cls)
            if cls not in self.pcu:
                raise InvalidValueError(f"Demand: no PCU factor for class {cls!r} (pcu has {sorted(self.pcu)})")

    @property
    def classes(self) -> list[str]:
        """The vehicle classes, in the order of :attr:`trips`."""
        return list(self.trips)

    def total(self) -> float:
        """Total vehicles per hour over all classes."""
        return float(sum(m.sum() for m in self.trips.values()))

    def scaled(self, factor: float | npt.NDArray[np.float64]) -> Demand:
        """Every matrix multiplied by ``factor``: one number, or one factor per OD cell (an ``(nz, nz)`` array).

        Examples
        --------
        >>> d = Demand(np.array([1, 2]), {"light": np.array([[0.0, 5.0], [3.0, 0.0]])})
        >>> d.scaled(2.0).total()
        16.0
        >>> d.scaled(np.array([[1.0, 0.5], [2.0, 1.0]])).trips["light"].tolist()
        [[0.0, 2.5], [6.0, 0.0]]
        """
        if np.ndim(factor) and np.shape(factor) != (len(self.zone_ids),) * 2:
            nz = len(self.zone_ids)
            raise InvalidValueError(f"Demand.scaled: factor has shape {np.shape(factor)}, expected a number or ({nz}, {nz})")
        return replace(self, trips={c: m * factor for c, m in self.trips.items()})

    def to_dataframe(self) -> pd.DataFrame:
        """The non-zero cells in long format: ``origin, destination, class, trips`` (vehicles/h).

        Examples
        --------
        >>> d = Demand(np.array([1, 2]), {"light": np.array([[0.0, 5.0], [3.0, 0.0]])})
        >>> d.to_dataframe().values.tolist()
        [[1, 2, 'light', 5.0], [2, 1, 'light', 3.0]]
        """
        frames = []
        for cls, m in self.trips.items():
            i, j = np.nonzero(m)
            frames.append(pd.DataFrame({"origin": self.zone_ids[i], "destination": self.zone_ids[j], "class": cls, "trips": m[i, j]}))
        if not frames:
            return pd.DataFrame(columns=["origin", "destination", "class", "trips"])
        return pd.concat(frames, ignore_index=True)

    def for_period(self, period: str) -> Demand:
        """The hourly demand of ``period`` (``"day"``, ``"evening"`` or ``"night"``)."""
        if period not in self.period_factors:
            raise InvalidValueError(f"Demand.for_period: unknown period {period!r}; expected one of {sorted(self.period_factors)}")
        return self.scaled(self.period_factors[period])
