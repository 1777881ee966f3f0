"""``ldtkit sample CITY [--scenario NAME] --points FILE.csv --out FILE.csv``.

Model NO2, PM10, PM2.5 (ug/m3), Lden and Lnight (dB) at arbitrary points given as
``lon,lat`` (WGS84) with an optional ``id`` column, for the baseline or one scenario.
Traffic comes from the runner (and its on-disk cache); noise and air are computed at the
points themselves (air at ``--air-height``, noise at ``--noise-height``) by
:func:`ldtkit.study.sample.sample_points`, with the city's buildings and terrain as ``ldtkit run``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ldtkit.cli.args import Subparsers, positive, writable_file

if TYPE_CHECKING:
    import geopandas as gpd

    from ldtkit.study.city import City
    from ldtkit.study.scenario import Scenario


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Register ``ldtkit sample``."""
    p = subparsers.add_parser("sample", help="model NO2, PM and noise levels at points (lon,lat CSV) for the baseline or a scenario")
    p.add_argument("city", help="a shipped city name or a city folder")
    p.add_argument(
        "--scenario",
        metavar="NAME",
        help="scenario name or stem of a TOML file in the city's scenarios/ folder, or a TOML path (default: baseline)",
    )
    p.add_argument("--points", required=True, metavar="FILE.csv", help="CSV with columns lon, lat and optionally id")
    p.add_argument("--out", required=True, metavar="FILE.csv", help="output CSV")
    p.add_argument("--air-height", type=positive(float), default=1.5, help="receptor height for air quality (m, default 1.5)")
    p.add_argument("--noise-height", type=positive(float), default=4.0, help="receptor height for noise (m, default 4, END)")
    p.add_argument("--no-noise", action="store_true", help="skip the noise columns")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    p.set_defaults(func=sample)
    return p


def read_points(path: str | Path) -> gpd.GeoDataFrame:
    """The points CSV as a GeoDataFrame in EPSG:4326 with columns ``id``, ``lon``, ``lat``.

    ``id`` is the file's ``id`` column, else 1, 2, ... Column names are matched case-insensitively.

    Raises
    ------
    EmptyStudyAreaError
        The file has a header but no point.
    MissingFieldError
        Without a ``lon`` or ``lat`` column.
    InvalidValueError
        When a ``lon``/``lat`` is missing or out of range; names the file's line numbers.
    """
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from ldtkit.errors import EmptyStudyAreaError, InvalidValueError, MissingFieldError, UnreadableFormatError, require_file

    p = require_file(path, what="points CSV")
    try:
        df = pd.read_csv(p)
    except pd.errors.EmptyDataError:
        raise EmptyStudyAreaError(f"no points in {p}: the file is empty (expected a header lon,lat and one point per line)") from None
    except Exception as exc:
        raise UnreadableFormatError(p, expected="CSV with columns lon, lat", detail=str(exc)) from exc
    cols = {c.lower().strip(): c for c in df.columns}
    for req in ("lon", "lat"):
        if req not in cols:
            raise MissingFieldError(p, req, expected="WGS84 coordinates in columns 'lon' and 'lat'")
    if df.empty:
        raise EmptyStudyAreaError(f"no points in {p}: it has a header but no lines of lon,lat below it")
    lon = pd.to_numeric(df[cols["lon"]], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(df[cols["lat"]], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(lon) | ~np.isfinite(lat) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        rows = (np.flatnonzero(bad)[:10] + 2).tolist()
        raise InvalidValueError(f"{p}: lon/lat missing or out of range on lines {rows}")
    ids = df[cols["id"]].to_numpy() if "id" in cols else np.arange(1, len(df) + 1)
    return gpd.GeoDataFrame({"id": ids, "lon": lon, "lat": lat}, geometry=gpd.points_from_xy(lon, lat), crs=4326)


def _find_scenario(city: City, name: str) -> Scenario:
    from ldtkit.errors import SelectorError
    from ldtkit.study.scenario import Scenario, load_scenarios

    p = Path(name)
    if p.suffix == ".toml" and p.exists():
        return Scenario.from_toml(p)
    folder = city.root / "scenarios"
    found = []
    if folder.is_dir():
        for f in sorted(folder.glob("*.toml")):
            s = load_scenarios(f)[0]
            found.append(s.name)
            if name in (s.name, f.stem):
                return s
    raise SelectorError(f"{city.config_path}: no scenario named {name!r} in {folder}; available: {found}")


def sample(args: argparse.Namespace) -> int:
    """Model air quality (and noise) at ``args.points``, write ``args.out``; exit code 0."""
    from ldtkit.io import write_table
    from ldtkit.study.city import load_city
    from ldtkit.study.runner import DEFAULT_CACHE
    from ldtkit.study.sample import InsideBuildingWarning, sample_points

    pts = read_points(args.points)
    writable_file(args.out)
    city = load_city(args.city)
    scenario = _find_scenario(city, args.scenario) if args.scenario else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InsideBuildingWarning)
        levels = sample_points(
            city, pts, scenario=scenario, models=("air",) if args.no_noise else ("air", "noise"), air_height_m=args.air_height,
            noise_height_m=args.noise_height, cache_dir=None if args.no_cache else DEFAULT_CACHE, where=str(args.points), first_line=2,
        )  # fmt: skip
    for w in caught:  # the points without a noise level in the command's words, any other warning as Python shows it
        if issubclass(w.category, InsideBuildingWarning):
            print(f"ldtkit: warning: {w.message}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    out = levels.to_dataframe().round({"no2_ugm3": 2, "pm10_ugm3": 2, "pm25_ugm3": 2, "lden_db": 1, "lnight_db": 1})
    write_table(out, args.out)
    print(f"wrote {len(out)} points to {args.out} ({city.name}, {levels.scenario})")
    return 0
