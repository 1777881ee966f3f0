"""Build ``data/ghent/osm-speeds-ghent.csv`` and ``data/ghent/osm-oneway-check-ghent.csv`` (run once, offline).

Matches the OpenStreetMap ways of ``/work/shared/data/ghent/osm-roads-gent-2017.geojson.gz``
(ODbL 1.0, (c) OpenStreetMap contributors) onto the Stad Gent road segments that
``data/ghent/city.toml`` reads, with :func:`ldtkit.model.loaders.conflate.conflate_osm`, and
writes the speed limit of every matched car segment (read by ``[network] attributes``) and the
matched segments where OSM and the segment file disagree on one-way against two-way.

Usage::

    python tools/conflate_osm_speeds.py [--osm FILE] [--city data/ghent]
"""

from __future__ import annotations

import argparse
import gzip
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ldtkit.model.loaders.conflate import conflate_osm
from ldtkit.study.city import load_city

DEFAULT_OSM = Path("/work/shared/data/ghent/osm-roads-gent-2017.geojson.gz")
SPEEDS_FILE = "osm-speeds-ghent.csv"
ONEWAY_FILE = "osm-oneway-check-ghent.csv"


def write_csv_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` through a temporary file in the same folder."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        frame.to_csv(tmp, index=False, float_format="%g")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main() -> None:
    """Run the conflation and write both files into the city folder."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--osm", type=Path, default=DEFAULT_OSM)
    ap.add_argument("--city", default="data/ghent")
    args = ap.parse_args()
    city = load_city(args.city)
    net = city.network_config()
    mapping = dict(net.mapping or {})
    seg = gpd.read_file(city.path(str(net.path), field_name="network.path"))
    defaults = {str(k): v for k, v in (net.road_class_defaults or {}).items()}
    cls = seg[mapping["road_class"]].map(lambda v: "" if pd.isna(v) else str(int(v)) if isinstance(v, float) else str(v))
    car_class = cls.map(lambda c: bool(defaults.get(c, {}).get("car", True)))
    codes = {str(v): k for k, v in mapping["direction_codes"].items()}
    direction = seg[mapping["direction"]].map(lambda v: codes.get(str(v), net.default_direction) if pd.notna(v) else net.default_direction)
    seg = seg.assign(_direction=direction)[car_class.to_numpy() & (direction != "none").to_numpy()]
    with gzip.open(args.osm) as fh:
        osm = gpd.read_file(fh)
    result = conflate_osm(seg, osm, id_column=mapping["id"], name_column=mapping["name"], direction_column="_direction", crs=city.crs)
    out = city.root
    write_csv_atomic(result.speeds.rename(columns={"segment_id": mapping["id"]}), out / SPEEDS_FILE)
    write_csv_atomic(result.oneway_disagreements.rename(columns={"segment_id": mapping["id"]}), out / ONEWAY_FILE)
    src = result.speeds["source"].value_counts().to_dict()
    print(
        f"{result.n_segments} car segments inside the OSM extent; {result.n_matched} matched to an OSM way; "
        f"{len(result.speeds)} ({result.share_with_speed:.1%}) got an OSM speed limit {src}; "
        f"{len(result.oneway_disagreements)} one-way disagreements -> {out / SPEEDS_FILE}, {out / ONEWAY_FILE}"
    )


if __name__ == "__main__":
    main()
