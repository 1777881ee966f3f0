"""``ldtkit sample CITY [--scenario NAME] --points FILE.csv --out FILE.csv``.

Model NO2, PM10, PM2.5 (ug/m3), Lden and Lnight (dB) at arbitrary points given as
``lon,lat`` (WGS84) with an optional ``id`` column, for the baseline or one scenario.
Traffic comes from the runner (and its on-disk cache); noise and air are computed at the
points themselves (air at ``--air-height``, noise at ``--noise-height``).
"""

from __future__ import annotations

import argparse
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
    import numpy as np

    from ldtkit.errors import EmptyStudyAreaError, InvalidValueError
    from ldtkit.io import write_table
    from ldtkit.model.air import compute_air
    from ldtkit.model.receptors import receptors_from_points
    from ldtkit.study.city import load_city
    from ldtkit.study.runner import DEFAULT_CACHE, run
    from ldtkit.study.scenario import swapped_mask

    pts = read_points(args.points)
    writable_file(args.out)
    city = load_city(args.city)
    scenarios = [] if not args.scenario else [_find_scenario(city, args.scenario)]
    results = run(city, scenarios, models=("traffic",), cache_dir=None if args.no_cache else DEFAULT_CACHE, progress=False)
    res = results[scenarios[0].name] if scenarios else results["baseline"]
    net = res.network
    minx, miny, maxx, maxy = net.links.total_bounds
    proj = pts.to_crs(net.crs)
    outside = (proj.geometry.x < minx) | (proj.geometry.x > maxx) | (proj.geometry.y < miny) | (proj.geometry.y > maxy)
    swapped = outside.to_numpy() & swapped_mask(pts["lon"].to_numpy(), pts["lat"].to_numpy(), crs=net.crs, bounds=(minx, miny, maxx, maxy))
    if swapped.any():
        lines = (np.flatnonzero(swapped)[:10] + 2).tolist()
        raise InvalidValueError(
            f"{args.points}: the points on lines {lines} lie outside the {city.name} network's extent, but with lat and lon "
            "swapped they fall inside: did you swap lat and lon? (column 'lon' is the longitude, 'lat' the latitude)"
        )
    if outside.all():
        raise EmptyStudyAreaError(f"{args.points}: no point lies within the {city.name} network's extent")
    rec_air = receptors_from_points(pts, crs=net.crs, height_m=args.air_height, id_column="id")
    air = compute_air(net, res.traffic, rec_air, config=city.config.air)
    out = pts[["id", "lon", "lat"]].copy()
    out["no2_ugm3"] = np.round(air.no2_ugm3, 2)
    out["pm10_ugm3"] = np.round(air.pm10_ugm3, 2)
    out["pm25_ugm3"] = np.round(air.pm25_ugm3, 2)
    if not args.no_noise:
        from ldtkit.model.noise import compute_noise

        rec_noise = receptors_from_points(pts, crs=net.crs, height_m=args.noise_height, id_column="id")
        nc = city.config.noise
        noise = compute_noise(
            net, res.traffic, rec_noise, progress=False, cutoff_m=nc.cutoff_m, ground_g=nc.ground_g, p_favourable=nc.p_favourable,
            coefficients=nc.coefficients, surface=nc.surface, temperature_c=nc.temperature_c, humidity_pct=nc.humidity_pct,
            method=nc.method,
        )  # fmt: skip
        out["lden_db"] = np.round(noise.lden_db, 1)
        out["lnight_db"] = np.round(noise.lnight_db, 1)
    out["outside_network_extent"] = outside.to_numpy()
    out["scenario"] = res.scenario.name
    write_table(out, args.out)
    print(f"wrote {len(out)} points to {args.out} ({city.name}, {res.scenario.name})")
    return 0
