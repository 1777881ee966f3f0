"""Observations meet the twin: traffic counts and NO2 / noise measurements in, sites matched to
links, and the validation statistics of modelled against observed.

Modules
-------
- :mod:`~ldtkit.study.observations.counts`: counts from CSV, the Telraam API's JSON and NGSI-LD
  ``TrafficFlowObserved`` (:class:`Counts`);
- :mod:`~ldtkit.study.observations.measurements`: NO2 and noise from CSV, ``AirQualityObserved``
  and ``NoiseLevelObserved`` (:class:`Measurements`);
- :mod:`~ldtkit.study.observations.matching`: sites to links by id, end nodes or position and
  heading (:class:`MatchReport`: matched, ambiguous, unmatched, with distances);
- :mod:`~ldtkit.study.observations.validation`: GEH, share GEH < 5, R², slope, screenlines;
- :mod:`~ldtkit.study.observations.calibrate`: a city's or a TNTP network's demand calibrated to counts.

Examples
--------
>>> import io
>>> c = read_counts_csv(io.StringIO("init_node,term_node,count\\n1,3,4500\\n"))
>>> len(c), c.table["site_id"].tolist()
(1, ['1-3'])
"""

from __future__ import annotations

from ldtkit.study.observations.calibrate import (
    OUTPUT_FILES,
    CalibrationRun,
    calibrate_city,
    calibrate_network,
    calibrate_tntp,
    write_calibration,
)
from ldtkit.study.observations.counts import (
    COMPASS,
    Counts,
    check_counts,
    entity_values,
    period_of_hour,
    read_counts,
    read_counts_csv,
    read_telraam_json,
    read_traffic_flow_observed,
)
from ldtkit.study.observations.matching import MatchReport, match_counts, match_positions
from ldtkit.study.observations.measurements import (
    QUANTITIES,
    Measurements,
    read_air_quality_observed,
    read_measurements_csv,
    read_noise_level_observed,
)
from ldtkit.study.observations.validation import GEH_TARGET_SHARE, ValidationStatistics, validate_counts, validation_statistics

__all__ = [
    "COMPASS",
    "OUTPUT_FILES",
    "CalibrationRun",
    "calibrate_city",
    "calibrate_network",
    "calibrate_tntp",
    "write_calibration",
    "GEH_TARGET_SHARE",
    "QUANTITIES",
    "Counts",
    "MatchReport",
    "Measurements",
    "ValidationStatistics",
    "check_counts",
    "entity_values",
    "match_counts",
    "match_positions",
    "period_of_hour",
    "read_air_quality_observed",
    "read_counts",
    "read_counts_csv",
    "read_measurements_csv",
    "read_noise_level_observed",
    "read_telraam_json",
    "read_traffic_flow_observed",
    "validate_counts",
    "validation_statistics",
]
