"""Offline map context from a city's own OpenStreetMap extract: water and parks, cached.

A city built from an OSM extract (``[network] source = "osm"``, e.g. Porto) carries its context
in the same file: :func:`read_osm_context` reads the water (``natural=water``,
``waterway=riverbank``, rivers and canals) and the parks and green spaces (``leisure=park``,
``landuse=grass``, ``natural=wood``, ...) inside the map's area, and :func:`osm_context_layers`
keeps them as small GeoJSON files in the results cache, keyed by the extract's content and the
area, so a dashboard reads them in milliseconds after the first time. :func:`city_context` picks a
city's context: its shipped ``context/`` folder when it has one (Ghent), else the layers from its
OSM extract, with the ODbL credit line :data:`OSM_ATTRIBUTION`.

Examples
--------
>>> layers = read_osm_context("data/porto/porto.osm.pbf", bbox_wgs84=(-8.625, 41.133, -8.590, 41.150))  # doctest: +SKIP
>>> sorted(layers)  # doctest: +SKIP
['parks', 'waterways']
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ldtkit.errors import InvalidValueError, UnreadableFormatError
from ldtkit.viz.maps.context import context_attribution, context_layers

if TYPE_CHECKING:  # geopandas loads when layers are read
    import geopandas as gpd

    from ldtkit.study.city import City

#: The credit line the ODbL asks for, shown on maps drawing layers from OpenStreetMap.
OSM_ATTRIBUTION: Final = "Water and parks © OpenStreetMap contributors (ODbL)"
#: Tags of areas drawn as water: key -> values.
WATER_AREA_TAGS: Final = {"natural": ("water",), "waterway": ("riverbank", "dock"), "landuse": ("reservoir", "basin")}
#: Waterways drawn as lines (small streams and ditches are left out).
WATER_LINE_TAGS: Final = {"waterway": ("river", "canal")}
#: Tags of areas drawn as parks and green spaces: key -> values.
PARK_AREA_TAGS: Final = {
    "leisure": ("park", "garden", "nature_reserve"),
    "landuse": ("grass", "forest", "recreation_ground", "meadow", "village_green", "cemetery"),
    "natural": ("wood", "scrub", "grassland"),
}
#: Areas smaller than this (m²) are left out: patches of grass and ponds, invisible at city zoom and heavy to draw.
MIN_AREA_M2: Final = 1000.0
#: Version of the cached layers' format (part of the cache key).
_CACHE_FORMAT = 1


def _matches(tags: Any, table: dict[str, tuple[str, ...]]) -> bool:
    return any(tags.get(k) in values for k, values in table.items())


def read_osm_context(path: str | Path, *, bbox_wgs84: Sequence[float], simplify_m: float = 2.0) -> dict[str, gpd.GeoDataFrame]:
    """Water (``waterways``) and green spaces (``parks``) of an OSM extract inside ``bbox_wgs84``.

    ``bbox_wgs84`` is ``(lon_min, lat_min, lon_max, lat_max)``; geometries are clipped to it and
    simplified to within ``simplify_m`` metres (EPSG:4326); areas under :data:`MIN_AREA_M2` are
    left out, and so are layers without any feature.

    Raises
    ------
    UnreadableFormatError
        When ``path`` is not a readable OSM file.
    """
    import geopandas as gpd
    import shapely

    from ldtkit.model.loaders.osm_areas import read_osm_areas

    path = Path(path)
    if not path.is_file():
        raise UnreadableFormatError(path, expected="an OSM extract (.osm.pbf)", detail="no such file")
    if len(bbox_wgs84) != 4:
        raise InvalidValueError(f"read_osm_context: bbox_wgs84 must be [lon_min, lat_min, lon_max, lat_max], got {list(bbox_wgs84)}")
    keys = sorted({*WATER_AREA_TAGS, *WATER_LINE_TAGS, *PARK_AREA_TAGS})
    features = read_osm_areas(path, keys=keys, line_tags=WATER_LINE_TAGS)
    found: dict[str, list[bytes]] = {"waterways": [], "parks": []}
    for tags, wkb, is_area in zip(features.tags, features.wkb, features.is_area, strict=True):
        if not is_area or _matches(tags, WATER_AREA_TAGS):
            found["waterways"].append(wkb)
        elif _matches(tags, PARK_AREA_TAGS):
            found["parks"].append(wkb)
    area = shapely.box(*bbox_wgs84)
    out: dict[str, gpd.GeoDataFrame] = {}
    for name, wkbs in found.items():
        if not wkbs:
            continue
        geom = shapely.from_wkb(wkbs)
        geom = shapely.intersection(geom, area)
        geom = shapely.simplify(geom, simplify_m / 111_320.0)
        geom = geom[~shapely.is_empty(geom)]
        if not len(geom):
            continue
        g = gpd.GeoDataFrame(geometry=geom, crs=4326)
        polygonal = g.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        small = polygonal & (g.to_crs(g.estimate_utm_crs()).area.to_numpy() < MIN_AREA_M2)
        if (~small).any():
            out[name] = g[~small].reset_index(drop=True)
    return out


def _cache_key(path: Path, bbox_wgs84: Sequence[float]) -> str:
    from ldtkit.study.city import file_digest

    h = hashlib.sha256(f"osm-context:{_CACHE_FORMAT}:{[round(float(b), 6) for b in bbox_wgs84]}".encode())
    h.update(file_digest(path).encode())
    return h.hexdigest()[:24]


def osm_context_layers(
    path: str | Path, *, bbox_wgs84: Sequence[float], cache_dir: str | Path | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """:func:`read_osm_context`, kept in ``<cache_dir>/context/<key>/`` (one GeoJSON per layer,
    written atomically) and read from there next time; ``cache_dir=None`` reads the extract each time.

    The key is the extract's content hash and the area, so a new extract or another area is read anew.
    """
    from ldtkit.io import write_text_atomic

    path = Path(path)
    if cache_dir is None:
        return read_osm_context(path, bbox_wgs84=bbox_wgs84)
    folder = Path(cache_dir) / "context" / _cache_key(path, bbox_wgs84)
    done = folder / "layers.json"
    if done.is_file():
        return context_layers(folder)
    layers = read_osm_context(path, bbox_wgs84=bbox_wgs84)
    folder.mkdir(parents=True, exist_ok=True)
    for name, g in layers.items():
        write_text_atomic(folder / f"{name}.geojson", g.to_json(drop_id=True))
    write_text_atomic(done, json.dumps({"source": path.name, "bbox_wgs84": list(bbox_wgs84), "layers": sorted(layers)}))
    return layers


def city_context(city: City, *, cache_dir: str | Path | None = None) -> tuple[dict[str, gpd.GeoDataFrame], str]:
    """A city's offline map context and its credit line.

    The city's ``context/`` folder when it has GeoJSON layers there (e.g. Ghent's, with its
    ``ATTRIBUTION.txt``); else, for a city built from an OSM extract, the water and parks of
    that extract around the ``[focus] bbox`` (cached in ``cache_dir``) credited to
    OpenStreetMap; else no layers (the maps still name the major streets).

    Examples
    --------
    >>> from ldtkit.study.city import load_city
    >>> layers, credit = city_context(load_city("ghent"))
    >>> sorted(layers), "OpenStreetMap" in credit
    (['boundary', 'parks', 'waterways'], True)
    """
    folder = Path(city.root) / "context"
    layers = context_layers(folder)
    if layers:
        return layers, context_attribution(folder)
    net = city.config.network
    bbox = city.config.focus.bbox
    if net is None or net.source != "osm" or not bbox or len(bbox) != 4:
        return {}, ""
    # a margin around the focus area, so that panning a little still shows the context
    dx, dy = 0.25 * (bbox[2] - bbox[0]), 0.25 * (bbox[3] - bbox[1])
    area = (bbox[0] - dx, bbox[1] - dy, bbox[2] + dx, bbox[3] + dy)
    layers = osm_context_layers(city.path(str(net.path), field_name="network.path"), bbox_wgs84=area, cache_dir=cache_dir)
    return layers, OSM_ATTRIBUTION if layers else ""


__all__ = [
    "MIN_AREA_M2",
    "OSM_ATTRIBUTION",
    "PARK_AREA_TAGS",
    "WATER_AREA_TAGS",
    "WATER_LINE_TAGS",
    "city_context",
    "osm_context_layers",
    "read_osm_context",
]
