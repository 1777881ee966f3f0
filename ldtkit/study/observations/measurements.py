"""NO2 and noise measurements in: plain CSV, NGSI-LD ``AirQualityObserved`` and ``NoiseLevelObserved``.

Every reader returns a :class:`Measurements` table with one row per station and quantity:
``site_id``, ``lon``, ``lat`` (WGS84 degrees), ``quantity`` (one of :data:`QUANTITIES`),
``value`` (µg/m³ for concentrations, dB(A) for levels) and ``date`` (text, may be empty).

Examples
--------
>>> import io
>>> m = read_measurements_csv(io.StringIO("site_id,lon,lat,quantity,value\\nG1,3.72,51.05,no2_ugm3,31.5\\n"))
>>> m.table[["site_id", "quantity", "value"]].values.tolist()
[['G1', 'no2_ugm3', 31.5]]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from ldtkit._validate import closest, is_number
from ldtkit.errors import InvalidValueError, MissingFieldError
from ldtkit.study.observations.counts import read_entities, read_observation_csv

#: Quantities a measurement can be, and the NGSI-LD attributes each is read from (the first one
#: an entity has): Smart Data Models names, and ldtkit's own END indicators (``Lden``, ``Lnight``,
#: as :mod:`ldtkit.study.standards.ngsi_ld` exports them).
QUANTITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "no2_ugm3": ("AirQualityObserved", ("no2",)),
    "pm10_ugm3": ("AirQualityObserved", ("pm10",)),
    "pm25_ugm3": ("AirQualityObserved", ("pm25",)),
    "laeq_dba": ("NoiseLevelObserved", ("LAeq",)),
    "laeq_day_dba": ("NoiseLevelObserved", ("LAeq_d",)),
    "lden_dba": ("NoiseLevelObserved", ("Lden",)),
    "lnight_dba": ("NoiseLevelObserved", ("Lnight", "LANight", "Ln")),
}
COLUMNS = ("site_id", "lon", "lat", "quantity", "value", "date")


@dataclass(frozen=True)
class Measurements:
    """Measured concentrations or noise levels (see the module for the columns) and their file."""

    table: pd.DataFrame
    source: str

    def of(self, quantity: str) -> pd.DataFrame:
        """The rows of one quantity."""
        if quantity not in QUANTITIES:
            raise InvalidValueError(f"{self.source}: unknown quantity {quantity!r}; expected one of {list(QUANTITIES)}")
        return self.table[self.table["quantity"] == quantity].reset_index(drop=True)


def _check(table: pd.DataFrame, source: str) -> pd.DataFrame:
    unknown = ~table["quantity"].isin(list(QUANTITIES))
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        q = str(table["quantity"].iloc[i])
        hint = closest([q], list(QUANTITIES))
        raise InvalidValueError(
            f"{source}: site {table['site_id'].iloc[i]}: unknown quantity {q!r}; expected one of {list(QUANTITIES)}"
            + (f" (did you mean {hint[0]!r}?)" if hint else "")
        )
    v = table["value"].to_numpy(np.float64)
    bad = ~np.isfinite(v) | (v < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidValueError(
            f"{source}: site {table['site_id'].iloc[i]}: {table['quantity'].iloc[i]} must be finite and >= 0, got {v[i]}"
        )
    dup = table.duplicated(["site_id", "quantity", "date"], keep=False).to_numpy()
    if dup.any():
        raise InvalidValueError(
            f"{source}: duplicate measurements for site {table.loc[dup, 'site_id'].iloc[0]}: one value per site, quantity and date"
        )
    return table.reset_index(drop=True)


def read_measurements_csv(path: str | Path | IO[str], *, source: str | None = None) -> Measurements:
    """Measurements from a CSV with ``site_id``, ``lon``, ``lat``, ``quantity``, ``value`` (and optional ``date``).

    A wide file with one column per quantity (e.g. ``no2_ugm3``) is read too.

    Examples
    --------
    >>> import io
    >>> m = read_measurements_csv(io.StringIO("site_id,lon,lat,no2_ugm3,lden_dba\\nA,3.7,51.0,28,64.5\\n"))
    >>> m.table[["quantity", "value"]].values.tolist()
    [['no2_ugm3', 28.0], ['lden_dba', 64.5]]
    """
    name = source or (str(path) if isinstance(path, (str, Path)) else "measurements")
    df = read_observation_csv(path, name=name, what="measurements")
    for col in ("site_id", "lon", "lat"):
        if col not in df.columns:
            raise MissingFieldError(name, col, expected="site_id, lon, lat and quantity, value (or one column per quantity)")
    if "quantity" not in df.columns:
        wide = [q for q in QUANTITIES if q in df.columns]
        if not wide:
            raise MissingFieldError(name, "quantity", expected=f"a quantity and value column, or columns among {list(QUANTITIES)}")
        df = df.melt(id_vars=[c for c in df.columns if c not in wide], value_vars=wide, var_name="quantity", value_name="value")
        df = df[df["value"].notna()]
    table = pd.DataFrame(
        {
            "site_id": df["site_id"].astype(str),
            "lon": pd.to_numeric(df["lon"], errors="coerce"),
            "lat": pd.to_numeric(df["lat"], errors="coerce"),
            "quantity": df["quantity"].astype(str).str.strip().str.lower(),
            "value": pd.to_numeric(df["value"], errors="coerce").astype(np.float64),
            "date": df["date"].astype(str) if "date" in df.columns else "",
        }
    )
    return Measurements(_check(table, name), name)


def _entity_rows(path: str | Path, entity_type: str) -> list[dict[str, Any]]:
    src = str(path)
    rows = []
    for e in read_entities(path, entity_type):
        loc = e.get("location")
        if not isinstance(loc, dict) or loc.get("type") != "Point":
            raise InvalidValueError(f"{src}: entity {e['id']}: location must be a GeoJSON Point")
        try:
            lon, lat = (float(x) for x in loc["coordinates"][:2])
        except (TypeError, ValueError, KeyError) as exc:
            raise InvalidValueError(f"{src}: entity {e['id']}: location coordinates must be [lon, lat] numbers") from exc
        date = str(e.get("dateObserved") or e.get("dateObservedFrom") or "")
        for q, (etype, attrs) in QUANTITIES.items():
            attr = next((a for a in attrs if e.get(a) is not None), None)
            if etype != entity_type or attr is None:
                continue
            value = e[attr]
            if not is_number(value):
                raise InvalidValueError(f"{src}: entity {e['id']}: {attr} must be a number, got {value!r}")
            rows.append({"site_id": e["id"], "lon": lon, "lat": lat, "quantity": q, "value": float(value), "date": date})
    return rows


def read_air_quality_observed(path: str | Path) -> Measurements:
    """NO2, PM10 and PM2.5 (µg/m³) from NGSI-LD ``AirQualityObserved`` entities.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "aq.json"
    >>> _ = p.write_text(json.dumps([{"id": "urn:ngsi-ld:AirQualityObserved:g1", "type": "AirQualityObserved",
    ...     "no2": {"type": "Property", "value": 69, "unitCode": "GQ"},
    ...     "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [3.7, 51.0]}}}]))
    >>> read_air_quality_observed(p).table[["quantity", "value"]].values.tolist()
    [['no2_ugm3', 69.0]]
    """
    return Measurements(_check(pd.DataFrame(_entity_rows(path, "AirQualityObserved"), columns=list(COLUMNS)), str(path)), str(path))


def read_noise_level_observed(path: str | Path) -> Measurements:
    """LAeq, LAeq,day, Lden and Lnight (dB(A)) from NGSI-LD ``NoiseLevelObserved`` entities
    (Lnight from ``Lnight``, ``LANight`` or ``Ln``).

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "noise.json"
    >>> _ = p.write_text(json.dumps({"id": "urn:ngsi-ld:NoiseLevelObserved:n1", "type": "NoiseLevelObserved",
    ...     "LAeq": {"type": "Property", "value": 67.8},
    ...     "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-2.698, 42.8491]}}}))
    >>> read_noise_level_observed(p).table[["quantity", "value"]].values.tolist()
    [['laeq_dba', 67.8]]
    """
    return Measurements(_check(pd.DataFrame(_entity_rows(path, "NoiseLevelObserved"), columns=list(COLUMNS)), str(path)), str(path))
