"""Travel demand: OD matrices between zones per vehicle class and period, and how to build them.

One module per concern:

- :mod:`~ldtkit.model.demand.matrices` — the :class:`Demand` type (OD matrices per class, PCU,
  period factors) and its checks;
- :mod:`~ldtkit.model.demand.periods` — the hourly traffic profile and the END periods' factors;
- :mod:`~ldtkit.model.demand.skims` — free-flow zone-to-zone times and lengths on the network;
- :mod:`~ldtkit.model.demand.gravity` — Furness balancing and the calibrated gravity model;
- :mod:`~ldtkit.model.demand.generation` — :func:`generate_demand`, a city's OD matrices from its zones;
- :mod:`~ldtkit.model.demand.od_files` — OD matrices in OpenMatrix, CSV and TNTP files.

Every public name is re-exported here, e.g. ``from ldtkit.model.demand import Demand, read_od``.

Examples
--------
>>> import numpy as np
>>> from ldtkit.model.demand import Demand
>>> Demand(np.array([1, 2]), {"light": np.array([[0.0, 5.0], [3.0, 0.0]])}).total()
8.0
"""

from __future__ import annotations

from ldtkit.model.demand.generation import DEFAULT_TRIP_ENDS, generate_demand
from ldtkit.model.demand.gravity import calibrate_gravity, furness, gravity, mean_cost
from ldtkit.model.demand.matrices import Demand, check_od_matrix, check_stated_total, default_pcu
from ldtkit.model.demand.od_files import (
    read_od,
    read_od_csv,
    read_omx,
    read_tntp_trips,
    write_od,
    write_od_csv,
    write_omx,
    write_tntp_trips,
)
from ldtkit.model.demand.periods import DEFAULT_HOURLY_PROFILE, PERIOD_HOURS, period_factors_from_profile
from ldtkit.model.demand.skims import Skim, skim_free_flow

__all__ = [
    "DEFAULT_HOURLY_PROFILE",
    "DEFAULT_TRIP_ENDS",
    "PERIOD_HOURS",
    "Demand",
    "Skim",
    "calibrate_gravity",
    "check_od_matrix",
    "check_stated_total",
    "default_pcu",
    "furness",
    "generate_demand",
    "gravity",
    "mean_cost",
    "period_factors_from_profile",
    "read_od",
    "read_od_csv",
    "read_omx",
    "read_tntp_trips",
    "skim_free_flow",
    "write_od",
    "write_od_csv",
    "write_omx",
    "write_tntp_trips",
]
