"""Traffic counts in: plain CSV, the Telraam API's hourly traffic JSON, NGSI-LD ``TrafficFlowObserved``.

Every reader returns a :class:`Counts` table with one row per site, period and vehicle class:

``site_id`` (str), ``link_id`` (int, or -1 when the site is located by position), ``init_node``,
``term_node`` (int, -1 when not given), ``lon``, ``lat`` (WGS84 degrees, NaN when not given),
``heading_deg`` (direction of travel, degrees clockwise from north, NaN: both directions),
``period`` (``day``/``evening``/``night``, :data:`ldtkit.model.traffic.PERIODS`), ``hour``
(0–23, -1 when the row is a period mean), ``vehicle_class`` (``all``, ``light`` or ``heavy``)
and ``count_vph`` (vehicles per hour); a CSV's ``screenline`` column is kept.

Rows are checked on reading: a negative or missing count, an unknown period or direction, or
the same site, period, hour, class and heading twice raise an error naming the file and the site.

Examples
--------
>>> import io
>>> c = read_counts_csv(io.StringIO("site_id,init_node,term_node,count\\nA,1,2,1200\\nB,2,3,800\\n"))
>>> c.table[["site_id", "init_node", "term_node", "period", "count_vph"]].values.tolist()
[['A', 1, 2, 'day', 1200.0], ['B', 2, 3, 'day', 800.0]]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from ldtkit._validate import closest, is_number
from ldtkit.errors import InputFileNotFoundError, InvalidValueError, MissingFieldError, UnreadableFormatError
from ldtkit.model.traffic import PERIODS

COLUMNS = ("site_id", "link_id", "init_node", "term_node", "lon", "lat", "heading_deg", "period", "hour", "vehicle_class", "count_vph")
VEHICLE_CLASSES = ("all", "light", "heavy")
#: Compass directions of travel and their headings (degrees clockwise from north).
COMPASS = {"N": 0.0, "NE": 45.0, "E": 90.0, "SE": 135.0, "S": 180.0, "SW": 225.0, "W": 270.0, "NW": 315.0}


def period_of_hour(hour: np.ndarray) -> np.ndarray:
    """The period (``day`` 07–19, ``evening`` 19–23, ``night`` 23–07) of each hour of the day.

    Examples
    --------
    >>> period_of_hour(np.array([8, 20, 3])).tolist()
    ['day', 'evening', 'night']
    """
    h = np.asarray(hour, dtype=np.int64) % 24
    return np.where((h >= 7) & (h < 19), "day", np.where((h >= 19) & (h < 23), "evening", "night")).astype(object)


@dataclass(frozen=True)
class Counts:
    """Traffic counts (see the module for the columns) and the file they came from."""

    table: pd.DataFrame
    source: str

    def __len__(self) -> int:
        return len(self.table)

    def for_period(self, period: str, *, vehicle_class: str = "all") -> Counts:
        """The counts of one period and class, hourly rows averaged per site (and heading).

        Examples
        --------
        >>> import io
        >>> c = read_counts_csv(io.StringIO("site_id,link_id,hour,count\\nA,7,8,100\\nA,7,9,300\\nA,7,21,50\\n"))
        >>> c.for_period("day").table[["site_id", "hour", "count_vph"]].values.tolist()
        [['A', -1, 200.0]]
        """
        if period not in PERIODS:
            raise InvalidValueError(f"{self.source}: unknown period {period!r}; expected one of {list(PERIODS)}")
        t = self.table[(self.table["period"] == period) & (self.table["vehicle_class"] == vehicle_class)]
        keys = ["site_id", "link_id", "init_node", "term_node", "period", "vehicle_class"]
        cols = list(COLUMNS)
        t = t.assign(heading_key=t["heading_deg"].fillna(-1.0))
        extra = {"screenline": ("screenline", "first")} if "screenline" in t.columns else {}
        agg = t.groupby([*keys, "heading_key"], sort=False, dropna=False).agg(
            lon=("lon", "first"), lat=("lat", "first"), heading_deg=("heading_deg", "first"), count_vph=("count_vph", "mean"), **extra
        )
        out = agg.reset_index().drop(columns="heading_key")
        out["hour"] = -1
        cols += list(extra)
        return Counts(out[cols].reset_index(drop=True), self.source)

    def all_vehicles(self) -> Counts:
        """The counts of every vehicle: the ``all`` rows, plus ``light`` + ``heavy`` summed where a
        site counts both classes in the same hour or period (and no ``all`` row is given).

        Examples
        --------
        >>> import io
        >>> c = read_counts_csv(io.StringIO("site_id,link_id,hour,vehicle_class,count\\nA,7,8,light,90\\nA,7,8,heavy,10\\nB,8,8,light,5\\n"))
        >>> c.all_vehicles().table[["site_id", "vehicle_class", "count_vph"]].values.tolist()
        [['A', 'all', 100.0]]
        """
        t = self.table.assign(heading_key=self.table["heading_deg"].fillna(-1.0))
        keys = ["site_id", "link_id", "init_node", "term_node", "period", "hour", "heading_key"]
        given = t[t["vehicle_class"] == "all"]
        parts = t[t["vehicle_class"].isin(["light", "heavy"])]
        summed = (
            parts.groupby(keys, sort=False, dropna=False)
            .agg(
                lon=("lon", "first"),
                lat=("lat", "first"),
                heading_deg=("heading_deg", "first"),
                count_vph=("count_vph", "sum"),
                n=("vehicle_class", "nunique"),
            )
            .reset_index()
        )
        summed = summed[summed["n"] == 2].assign(vehicle_class="all")
        have = pd.MultiIndex.from_frame(given[keys])
        summed = summed[~pd.MultiIndex.from_frame(summed[keys]).isin(have)]
        cols = [c for c in self.table.columns if c in summed.columns or c in given.columns]
        out = pd.concat([given, summed], ignore_index=True)
        return Counts(out[[c for c in cols if c in out.columns]].reset_index(drop=True), self.source)


def _numbers(
    df: pd.DataFrame, col: str, source: str, *, expected: str, integer: bool = False, low: float = -np.inf, high: float = np.inf
) -> pd.Series:
    """Column ``col`` as numbers, NaN where empty; an error naming the site when a value is not a
    number (an integer with ``integer``) within ``[low, high]``."""
    raw = df[col]
    num = pd.to_numeric(raw, errors="coerce").astype(np.float64)
    given = raw.notna() & (raw.astype(str).str.strip() != "")
    bad = given & (num.isna() | (num < low) | (num > high) | ((num % 1 != 0) if integer else False))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        v = raw.iloc[i]
        shown = repr(v) if isinstance(v, str) else str(v)
        raise InvalidValueError(f"{source}: site {df['site_id'].iloc[i]}: {col} must be {expected}, got {shown}")
    return num.where(given)


def _heading(df: pd.DataFrame, source: str) -> pd.Series:
    if "heading" in df.columns or "heading_deg" in df.columns:
        col = "heading_deg" if "heading_deg" in df.columns else "heading"
        return _numbers(df, col, source, expected="a heading in degrees clockwise from north") % 360.0
    if "direction" in df.columns:
        d = df["direction"].fillna("").astype(str).str.strip().str.upper()
        unknown = sorted(set(d[(d != "") & ~d.isin(list(COMPASS))]))
        if unknown:
            site = df.loc[d == unknown[0], "site_id"].iloc[0]
            raise InvalidValueError(f"{source}: site {site}: unknown direction {unknown[0]!r}; expected one of {list(COMPASS)}")
        return d.map(COMPASS).astype(float)
    return pd.Series(np.nan, index=df.index)


def check_counts(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check a counts table: counts finite and >= 0, known periods and classes, no duplicate rows.

    Examples
    --------
    >>> import io
    >>> read_counts_csv(io.StringIO("site_id,link_id,count\\nA,1,-5\\n"), source="counts.csv")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: counts.csv: site A: count must be finite and >= 0, got -5.0
    """
    c = table["count_vph"].to_numpy(np.float64)
    bad = ~np.isfinite(c) | (c < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        more = f" (and {int(bad.sum()) - 1} more rows)" if bad.sum() > 1 else ""
        raise InvalidValueError(f"{source}: site {table['site_id'].iloc[i]}: count must be finite and >= 0, got {c[i]}{more}")
    for col, allowed in (("period", tuple(PERIODS)), ("vehicle_class", VEHICLE_CLASSES)):
        wrong = ~table[col].isin(allowed)
        if wrong.any():
            i = int(np.flatnonzero(wrong.to_numpy())[0])
            v = str(table[col].iloc[i])
            hint = closest([v], allowed)
            raise InvalidValueError(
                f"{source}: site {table['site_id'].iloc[i]}: unknown {col} {v!r}; expected one of {list(allowed)}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
            )
    key = table[["site_id", "period", "hour", "vehicle_class"]].assign(h=table["heading_deg"].fillna(-1.0))
    dup = key.duplicated(keep=False).to_numpy()
    if dup.any():
        sites = sorted(set(table.loc[dup, "site_id"]))
        raise InvalidValueError(
            f"{source}: duplicate counts for site {sites[0]}"
            + (f" (and sites {sites[1:6]})" if len(sites) > 1 else "")
            + ": one count per site, period or hour, vehicle class and direction"
        )
    return table


def read_observation_csv(path: str | Path | IO[str], *, name: str, what: str) -> pd.DataFrame:
    """A CSV of observations with its column names stripped and in lower case.

    ``name`` is the file's name in messages and ``what`` the kind of observations ("counts").

    Raises
    ------
    InputFileNotFoundError
        ``path`` is a path that does not exist.
    UnreadableFormatError
        The file is not a CSV table.

    Examples
    --------
    >>> import io
    >>> read_observation_csv(io.StringIO(" Site_ID ,Count\\nA,3\\n"), name="c.csv", what="counts").columns.tolist()
    ['site_id', 'count']
    """
    if isinstance(path, (str, Path)) and not Path(path).exists():
        raise InputFileNotFoundError(path, what=f"{what} file")
    try:
        df = pd.read_csv(path)
    except (ValueError, pd.errors.ParserError) as exc:
        raise UnreadableFormatError(name, expected=f"CSV of {what}", detail=str(exc)) from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    return df


def read_counts_csv(path: str | Path | IO[str], *, source: str | None = None) -> Counts:
    """Counts from a CSV file.

    Columns: ``count`` (vehicles per hour), and where the site is: ``link_id``, or
    ``init_node`` and ``term_node``, or ``lon`` and ``lat``. Optional: ``site_id`` (default
    built from the location), ``heading`` (degrees) or ``direction`` (N, NE, ... NW),
    ``period`` or ``hour`` (default ``day``), ``vehicle_class`` (default ``all``).

    Examples
    --------
    >>> import io
    >>> c = read_counts_csv(io.StringIO("site_id,lon,lat,direction,hour,vehicle_class,count\\nS1,3.72,51.05,NE,8,light,640\\n"))
    >>> c.table[["site_id", "heading_deg", "period", "hour", "vehicle_class"]].values.tolist()
    [['S1', 45.0, 'day', 8, 'light']]
    """
    name = source or (str(path) if isinstance(path, (str, Path)) else "counts")
    df = read_observation_csv(path, name=name, what="counts")
    if "count" not in df.columns and "count_vph" in df.columns:
        df = df.rename(columns={"count_vph": "count"})
    if "count" not in df.columns:
        raise MissingFieldError(name, "count", expected="vehicles per hour per site")
    has_link = "link_id" in df.columns
    has_nodes = {"init_node", "term_node"} <= set(df.columns)
    has_pos = {"lon", "lat"} <= set(df.columns)
    if not (has_link or has_nodes or has_pos):
        raise MissingFieldError(name, "link_id", expected="link_id, or init_node and term_node, or lon and lat")
    has_site = "site_id" in df.columns
    rows = pd.Series([f"row {i + 2}" for i in range(len(df))], index=df.index)
    df["site_id"] = df["site_id"].astype(str) if has_site else rows  # in messages until the site ids are built
    node_id = "a node id (an integer >= 0)"
    none = pd.Series(-1, index=df.index)
    link = _numbers(df, "link_id", name, expected="a link id (an integer >= 0)", integer=True, low=0) if has_link else none
    init = _numbers(df, "init_node", name, expected=node_id, integer=True, low=0) if has_nodes else none
    term = _numbers(df, "term_node", name, expected=node_id, integer=True, low=0) if has_nodes else none
    if has_nodes and (init.isna() != term.isna()).any():
        i = int(np.flatnonzero((init.isna() != term.isna()).to_numpy())[0])
        raise InvalidValueError(f"{name}: site {df['site_id'].iloc[i]}: give both init_node and term_node, or neither")
    link, init, term = (x.fillna(-1).astype(np.int64) for x in (link, init, term))
    if not has_site:
        df["site_id"] = np.where(
            init >= 0, init.astype(str) + "-" + term.astype(str), np.where(link >= 0, "link " + link.astype(str), rows)
        )
    site = df["site_id"]
    period = df["period"].astype(str).str.strip().str.lower() if "period" in df.columns else pd.Series("day", index=df.index)
    if "hour" in df.columns:
        hour = _numbers(df, "hour", name, expected="an hour of the day (an integer 0-23)", integer=True, low=0, high=23)
        hour = hour.fillna(-1).astype(np.int64)
        period = pd.Series(period_of_hour(hour.to_numpy()), index=df.index).where(hour >= 0, period)
    else:
        hour = pd.Series(-1, index=df.index)
    table = pd.DataFrame(
        {
            "site_id": site,
            "link_id": link,
            "init_node": init,
            "term_node": term,
            "lon": _numbers(df, "lon", name, expected="a longitude in degrees (WGS84)", low=-180, high=180) if has_pos else np.nan,
            "lat": _numbers(df, "lat", name, expected="a latitude in degrees (WGS84)", low=-90, high=90) if has_pos else np.nan,
            "heading_deg": _heading(df, name),
            "period": period,
            "hour": hour,
            "vehicle_class": df["vehicle_class"].astype(str).str.strip().str.lower() if "vehicle_class" in df.columns else "all",
            "count_vph": pd.to_numeric(df["count"], errors="coerce").astype(np.float64),
        }
    )
    if "screenline" in df.columns:
        table["screenline"] = df["screenline"].where(df["screenline"].notna(), None).astype(object)
    nowhere = (table["link_id"] < 0) & (table["init_node"] < 0) & (table["lon"].isna() | table["lat"].isna())
    if nowhere.any():
        i = int(np.flatnonzero(nowhere.to_numpy())[0])
        raise InvalidValueError(f"{name}: site {site.iloc[i]}: no location; give link_id, or init_node and term_node, or lon and lat")
    return Counts(check_counts(table.reset_index(drop=True), name), name)


def _load_json(path: str | Path, what: str) -> Any:
    p = Path(path)
    if not p.exists():
        raise InputFileNotFoundError(p, what=what)
    try:
        return json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UnreadableFormatError(p, expected=what, detail=str(exc)) from exc


def _telraam_hours(df: pd.DataFrame, path: str | Path) -> np.ndarray:
    """The local hour of each report row: ``date`` (UTC) in the row's ``timezone`` when given, else UTC."""
    t = pd.to_datetime(df["date"], utc=True, errors="coerce")
    if t.isna().any():
        i = int(np.flatnonzero(t.isna().to_numpy())[0])
        raise InvalidValueError(
            f"{path}: segment {df['segment_id'].iloc[i]}: date must be an ISO 8601 date-time, got {df['date'].iloc[i]!r}"
        )
    hour = t.dt.hour.to_numpy(dtype=np.int64, copy=True)
    if "timezone" in df.columns:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        for zone, rows in df.groupby(df["timezone"].fillna("").astype(str), sort=False).groups.items():
            if not zone:
                continue
            try:
                tz = ZoneInfo(str(zone))
            except (ZoneInfoNotFoundError, ValueError) as exc:
                seg = df.loc[rows, "segment_id"].iloc[0]
                raise InvalidValueError(f"{path}: segment {seg}: unknown timezone {zone!r} (expected e.g. 'Europe/Brussels')") from exc
            hour[df.index.get_indexer(rows)] = t[rows].dt.tz_convert(tz).dt.hour.to_numpy()
    return hour


def read_telraam_json(path: str | Path, *, positions: dict[int, tuple[float, float, float]] | None = None) -> Counts:
    """Counts from a Telraam API ``reports/traffic`` answer (``{"report": [...]}``, hourly per segment).

    Each report row gives ``segment_id``, ``date`` (UTC hour start), ``uptime`` and the counts
    ``car`` and ``heavy`` per hour (``car_lft``/``car_rgt``, ``heavy_lft``/``heavy_rgt`` per
    direction, relative to the segment's drawing direction). Rows become ``light`` (car) and
    ``heavy`` counts per direction when the per-direction fields are there, else per segment;
    Telraam counts only a share ``uptime`` of each hour, so counts are divided by it (hours with
    no uptime are left out). The hour (and so the period) is the local hour in the row's
    ``timezone`` (e.g. ``Europe/Brussels``), the UTC hour when a row has none.

    ``positions`` maps a segment id to ``(lon, lat, heading_deg)`` of its drawing direction,
    e.g. from the segment's geometry; without it, sites are located by ``link_id`` = segment id.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "telraam.json"
    >>> _ = p.write_text(json.dumps({"report": [{"segment_id": 9000001234, "date": "2022-03-01T08:00:00.000Z",
    ...     "uptime": 0.5, "car": 100, "heavy": 10, "car_lft": 60, "car_rgt": 40, "heavy_lft": 4, "heavy_rgt": 6}]}))
    >>> t = read_telraam_json(p, positions={9000001234: (3.72, 51.05, 90.0)}).table
    >>> t[["site_id", "heading_deg", "hour", "vehicle_class", "count_vph"]].values.tolist()
    [['9000001234 lft', 270.0, 8, 'light', 120.0], ['9000001234 lft', 270.0, 8, 'heavy', 8.0], ['9000001234 rgt', 90.0, 8, 'light', 80.0], ['9000001234 rgt', 90.0, 8, 'heavy', 12.0]]
    """
    data = _load_json(path, "Telraam traffic report (JSON)")
    rows = data.get("report") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise UnreadableFormatError(path, expected="Telraam traffic report", detail='no "report" list')
    df = pd.DataFrame(rows)
    for col in ("segment_id", "date", "car", "heavy"):
        if col not in df.columns and len(df):
            raise MissingFieldError(path, col, expected="Telraam report fields segment_id, date, car, heavy")
    if not len(df):
        return Counts(pd.DataFrame({c: [] for c in COLUMNS}), str(path))
    uptime = pd.to_numeric(df["uptime"], errors="coerce").fillna(1.0) if "uptime" in df.columns else pd.Series(1.0, index=df.index)
    df = df[uptime > 0].reset_index(drop=True)
    uptime = uptime[uptime > 0].reset_index(drop=True)
    hour = _telraam_hours(df, path)
    seg = df["segment_id"].astype(np.int64)
    split = all(c in df.columns for c in ("car_lft", "car_rgt", "heavy_lft", "heavy_rgt"))
    parts = []
    for side, flip in (("lft", 180.0), ("rgt", 0.0)) if split else (("", 0.0),):
        for cls, col in (("light", "car"), ("heavy", "heavy")):
            field = f"{col}_{side}" if side else col
            pos = [positions.get(int(s), (np.nan, np.nan, np.nan)) if positions else (np.nan, np.nan, np.nan) for s in seg]
            lon, lat, head = (np.array(v, dtype=float) for v in zip(*pos, strict=True)) if pos else (np.zeros(0),) * 3
            parts.append(
                pd.DataFrame(
                    {
                        "site_id": seg.astype(str) + (f" {side}" if side else ""),
                        "link_id": -1 if positions else seg,
                        "init_node": -1,
                        "term_node": -1,
                        "lon": lon,
                        "lat": lat,
                        "heading_deg": (head + flip) % 360.0 if side else np.nan,
                        "period": period_of_hour(hour),
                        "hour": hour,
                        "vehicle_class": cls,
                        "count_vph": pd.to_numeric(df[field], errors="coerce").to_numpy(float) / uptime.to_numpy(float),
                    }
                )
            )
    table = pd.concat(parts, ignore_index=True)
    table = table.sort_values(["site_id", "hour"], kind="stable").reset_index(drop=True)
    return Counts(check_counts(table, str(path)), str(path))


def entity_values(entity: dict[str, Any], source: str) -> dict[str, Any]:
    """The key-value projection of an NGSI-LD entity in normalized or key-value form.

    Examples
    --------
    >>> entity_values({"id": "urn:x", "type": "T", "intensity": {"type": "Property", "value": 5}}, "f.json")
    {'id': 'urn:x', 'type': 'T', 'intensity': 5}
    """
    if not isinstance(entity, dict) or "id" not in entity or "type" not in entity:
        raise UnreadableFormatError(source, expected="NGSI-LD entities", detail=f"an entity without id or type: {str(entity)[:80]}")
    out: dict[str, Any] = {"id": entity["id"], "type": entity["type"]}
    for k, v in entity.items():
        if k in ("id", "type", "@context"):
            continue
        if isinstance(v, dict) and "type" in v and ("value" in v or "object" in v):
            v = v.get("value", v.get("object"))
        if isinstance(v, dict) and "@value" in v:
            v = v["@value"]
        out[k] = v
    return out


def read_entities(path: str | Path, entity_type: str) -> list[dict[str, Any]]:
    """The key-value projections of the entities of ``entity_type`` in a JSON(-LD) file (one entity or a list)."""
    data = _load_json(path, f"NGSI-LD {entity_type} entities (JSON)")
    items = data if isinstance(data, list) else [data]
    ents = [entity_values(e, str(path)) for e in items]
    return [e for e in ents if e["type"] == entity_type]


def _point(e: dict[str, Any], source: str) -> tuple[float, float, float]:
    """``(lon, lat, heading_deg)`` of an entity's GeoJSON location: a point, or the middle of a line."""
    loc = e.get("location")
    if not isinstance(loc, dict) or "coordinates" not in loc:
        return (np.nan, np.nan, np.nan)
    try:
        coords = np.asarray(loc["coordinates"], dtype=float)
    except (TypeError, ValueError):
        coords = np.zeros(0)
    if not (coords.shape == (2,) or (coords.ndim == 2 and coords.shape[1] >= 2)) or not np.isfinite(coords).all():
        raise InvalidValueError(
            f"{source}: entity {e['id']}: location coordinates must be [lon, lat] numbers, got {str(loc['coordinates'])[:80]}"
        )
    if loc.get("type") == "Point":
        return (float(coords[0]), float(coords[1]), np.nan)
    if loc.get("type") == "LineString" and coords.ndim == 2 and len(coords) >= 2:
        i = (len(coords) - 1) // 2
        a, b = coords[i], coords[i + 1]
        mid = (a + b) / 2
        dx = (b[0] - a[0]) * np.cos(np.radians(mid[1]))
        return (float(mid[0]), float(mid[1]), float(np.degrees(np.arctan2(dx, b[1] - a[1])) % 360.0))
    raise InvalidValueError(f"{source}: entity {e['id']}: location must be a GeoJSON Point or LineString, got {loc.get('type')!r}")


def _timestamp(e: dict[str, Any], keys: tuple[str, ...], source: str) -> pd.Timestamp | None:
    """The first of ``keys`` an entity gives, as a time in its own offset (its hour is the local hour); ``None`` without any."""
    for key in keys:
        value = e.get(key)
        if value in (None, ""):
            continue
        try:
            t = pd.Timestamp(str(value))
        except ValueError:
            t = None
        if t is None or pd.isna(t):
            raise InvalidValueError(f"{source}: entity {e['id']}: {key} must be an ISO 8601 date-time, got {value!r}")
        return t
    return None


def read_traffic_flow_observed(path: str | Path) -> Counts:
    """Counts from NGSI-LD ``TrafficFlowObserved`` entities (normalized or key-value form).

    ``intensity`` (vehicles over ``dateObservedFrom``–``dateObservedTo``) becomes vehicles per
    hour; the hour (and so the period) is that of ``dateObservedFrom`` in its own UTC offset
    (``...T08:00:00+02:00`` is hour 8); the site is the entity's ``location`` (a LineString gives
    the direction of travel, reversed when ``reversedLane`` is true) and ``vehicleType``
    (``car``/``lorry``) the class. A count, date or location that cannot be read is an error
    naming the entity.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "tfo.json"
    >>> _ = p.write_text(json.dumps({"id": "urn:ngsi-ld:TrafficFlowObserved:a", "type": "TrafficFlowObserved",
    ...     "intensity": {"type": "Property", "value": 197},
    ...     "dateObservedFrom": {"type": "Property", "value": {"@type": "DateTime", "@value": "2016-12-07T11:10:00Z"}},
    ...     "dateObservedTo": {"type": "Property", "value": {"@type": "DateTime", "@value": "2016-12-07T11:15:00Z"}},
    ...     "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-4.73, 41.65]}}}))
    >>> read_traffic_flow_observed(p).table[["site_id", "hour", "count_vph"]].values.tolist()
    [['urn:ngsi-ld:TrafficFlowObserved:a', 11, 2364.0]]
    """
    src = str(path)
    rows = []
    for e in read_entities(path, "TrafficFlowObserved"):
        if "intensity" not in e:
            raise MissingFieldError(src, "intensity", expected=f"vehicles counted, in entity {e['id']}")
        intensity = e["intensity"]
        if intensity is not None and not is_number(intensity):
            raise InvalidValueError(f"{src}: entity {e['id']}: intensity must be a number of vehicles, got {intensity!r}")
        t0 = _timestamp(e, ("dateObservedFrom", "dateObserved"), src)
        t1 = _timestamp(e, ("dateObservedTo",), src)
        try:
            hours = (t1 - t0).total_seconds() / 3600.0 if t0 is not None and t1 is not None else 1.0
        except TypeError as exc:  # one with a UTC offset, one without
            raise InvalidValueError(
                f"{src}: entity {e['id']}: dateObservedFrom and dateObservedTo must both have a UTC offset or neither"
            ) from exc
        if not hours > 0:
            raise InvalidValueError(f"{src}: entity {e['id']}: dateObservedTo must be after dateObservedFrom")
        lon, lat, head = _point(e, src)
        if e.get("reversedLane") is True and np.isfinite(head):
            head = (head + 180.0) % 360.0
        vt = str(e.get("vehicleType", "")).lower()
        rows.append(
            {
                "site_id": str(e.get("refRoadSegment") or e["id"]) if "laneId" not in e else f"{e['id']}",
                "link_id": -1,
                "init_node": -1,
                "term_node": -1,
                "lon": lon,
                "lat": lat,
                "heading_deg": head,
                "period": period_of_hour(np.array([t0.hour]))[0] if t0 is not None else "day",
                "hour": int(t0.hour) if t0 is not None else -1,
                "vehicle_class": "heavy" if vt in ("lorry", "truck", "heavy") else "light" if vt in ("car", "light") else "all",
                "count_vph": float(intensity) / hours if intensity is not None else np.nan,
            }
        )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return Counts(check_counts(table, src), src)


def read_counts(path: str | Path, **kwargs: Any) -> Counts:
    """Counts from a CSV (``.csv``), Telraam report (JSON with ``report``) or NGSI-LD entities file."""
    p = Path(path)
    if p.suffix.lower() == ".csv":
        return read_counts_csv(p)
    data = _load_json(p, "counts (CSV, Telraam JSON or NGSI-LD)")
    if isinstance(data, dict) and "report" in data:
        return read_telraam_json(p, **kwargs)
    return read_traffic_flow_observed(p)
