"""Measured NO2 and PM at the central Athens monitoring stations, and their comparison with a model run.

Examples
--------
>>> [s["name"] for s in ATHENS_STATIONS]
['Athinas', 'Patision', 'Aristotelous', 'Geoponiki']
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ldtkit.errors import InvalidValueError, MissingFieldError, require_file
from ldtkit.model.air.concentrations import AirMap

#: Approximate locations of the central Athens monitoring stations (Hellenic Ministry of
#: Environment and Energy network) whose daily data are in
#: ``../shared/data/athens/air_quality_ypen`` (tests only; not shipped). Positions are
#: approximate (street-level, +- 100-200 m), placed from the stations' published street
#: addresses/names: Athinas (Athinas St near the City Hall / Kotzia Sq., traffic), Patision
#: (Patision Ave near Kodrigktonos, traffic), Aristotelous (Aristotelous St near Vathis Sq.,
#: traffic), Geoponiki (Agricultural University, Iera Odos, suburban background/traffic).
ATHENS_STATIONS: tuple[dict[str, Any], ...] = (
    {"name": "Athinas", "lon": 23.7265, "lat": 37.9785, "type": "traffic", "note": "Athinas St, Kotzia Sq. (approx.)"},
    {"name": "Patision", "lon": 23.7325, "lat": 37.9998, "type": "traffic", "note": "Patision Ave (approx.)"},
    {"name": "Aristotelous", "lon": 23.7262, "lat": 37.9880, "type": "traffic", "note": "Aristotelous St, Vathis Sq. (approx.)"},
    {"name": "Geoponiki", "lon": 23.7055, "lat": 37.9835, "type": "background", "note": "Agricultural University, Iera Odos (approx.)"},
)


def athens_station_means(folder: str | Path, *, years: Sequence[int] = (2018, 2019)) -> pd.DataFrame:
    """Mean NO2, PM10 and PM2.5 per Athens station over ``years`` from the daily CSV files.

    Parameters
    ----------
    folder
        The ``air_quality_ypen`` folder (``<Station>_daily_2018_2021.csv``, dates like ``1-Jan-18``).
    years
        Calendar years to average (2018-2019: before the COVID-19 lockdowns).

    Returns
    -------
    DataFrame
        One row per station: ``name, lon, lat, no2_ugm3, pm10_ugm3, pm25_ugm3, n_days``.

    Examples
    --------
    >>> athens_station_means("../shared/data/athens/air_quality_ypen")  # doctest: +SKIP
    """
    folder = require_file(folder, what="Athens station data folder")
    rows = []
    for st in ATHENS_STATIONS:
        path = folder / f"{st['name']}_daily_2018_2021.csv"
        if not path.exists():
            continue
        df = pd.read_csv(path, encoding="utf-8-sig")
        if "DAY" not in df.columns:
            raise MissingFieldError(path, "DAY", expected="a date column like 1-Jan-18")
        day = pd.to_datetime(df["DAY"], format="%d-%b-%y", errors="coerce")
        sel = df[day.dt.year.isin(list(years))]
        rec = {"name": st["name"], "lon": st["lon"], "lat": st["lat"], "n_days": int(len(sel))}
        for col, out in (("NO2", "no2_ugm3"), ("PM10", "pm10_ugm3"), ("PM25", "pm25_ugm3")):
            rec[out] = float(pd.to_numeric(sel[col], errors="coerce").mean()) if col in sel.columns else float("nan")
        rows.append(rec)
    if not rows:
        raise InvalidValueError(
            f"{folder}: no station files named <Station>_daily_2018_2021.csv for {[s['name'] for s in ATHENS_STATIONS]}"
        )
    return pd.DataFrame(rows)


def compare_stations(air_map: AirMap, measured: pd.DataFrame, *, id_column: str = "name") -> pd.DataFrame:
    """Join an :class:`AirMap` computed at station points (``receptors.ids`` = station names) with measured means.

    Returns one row per station with ``no2_modelled_ugm3``, ``no2_measured_ugm3`` and their
    difference (and PM where measured).

    Examples
    --------
    >>> compare_stations(amap, athens_station_means(folder))  # doctest: +SKIP
    """
    if air_map.receptors.ids is None:
        raise InvalidValueError(
            "compare_stations: the AirMap's receptors carry no ids (build them with receptors_from_points(..., id_column=...))"
        )
    mod = air_map.to_dataframe().set_index("id")
    out = measured.set_index(id_column).join(mod[["no2_ugm3", "pm10_ugm3", "pm25_ugm3"]].add_suffix("_modelled"), how="inner")
    for p in ("no2", "pm10", "pm25"):
        if f"{p}_ugm3" in out.columns:
            out = out.rename(columns={f"{p}_ugm3": f"{p}_measured_ugm3"})
            out[f"{p}_modelled_ugm3"] = out.pop(f"{p}_ugm3_modelled")
            out[f"{p}_diff_ugm3"] = out[f"{p}_modelled_ugm3"] - out[f"{p}_measured_ugm3"]
    return out.reset_index()
