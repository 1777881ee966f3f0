"""Buildings for noise propagation: footprints with a height, façade absorption and a spatial index.

Three sources, all checked the same way (:func:`check_buildings`):

- :func:`buildings_from_osm`: ``building=*`` areas of an OpenStreetMap extract (ways and
  multipolygon relations). The height is the ``height`` tag (metres; ``m`` and ``ft`` suffixes
  understood), else ``building:levels`` × :data:`LEVEL_HEIGHT_M` (3 m per storey, the roof not
  counted), else the default for the building type in :data:`HEIGHT_BY_TYPE_M`.
- :func:`buildings_from_file`: any footprint file geopandas reads (GeoPackage, shapefile,
  GeoJSON, e.g. the Flemish GRB "Gbg" layer), with a column mapping (``id``, ``height``,
  ``levels``, ``type``) as road segments have.
- :func:`buildings_from_blocks`: city blocks as one building each, at an assumed height
  (Athens: :data:`ATHENS_BLOCK_HEIGHT_M`).

Bad input raises an error that names the file, the feature id and the field: a building
without a height and without a default for its type, an invalid or empty polygon, a height of
0 m or less or above :data:`MAX_HEIGHT_M` (reported, never used as is).

Examples
--------
>>> import shapely
>>> b = Buildings.from_arrays(["a", "b"], [shapely.box(0, 0, 10, 10), shapely.box(20, 0, 30, 8)], [9.0, 12.0], crs="EPSG:32629")
>>> len(b), b.inside(np.array([5.0, 15.0]), np.array([5.0, 5.0])).tolist()
(2, [True, False])
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from ldtkit._validate import closest
from ldtkit.errors import InvalidValueError, MissingFieldError, UnreadableFormatError, require_file

FloatArray = npt.NDArray[np.float64]

#: Height of one storey (m) for ``building:levels`` and for levels columns of footprint files.
LEVEL_HEIGHT_M = 3.0
#: Highest building accepted (m); a taller value is a data error (units, typo) and is reported.
MAX_HEIGHT_M = 300.0
#: Assumed height of an Athens city block (m): central Athens is built of 5- to 7-storey
#: apartment blocks (polykatoikies) on continuous frontages; 5 storeys of 3 m.
ATHENS_BLOCK_HEIGHT_M = 15.0
#: Façade absorption per octave band (63 Hz–8 kHz) when none is given: a hard, smooth façade
#: (the coefficients of a flow resistivity of 20 000 kPa·s/m², as NoiseModelling uses by default).
DEFAULT_FACADE_ALPHA: tuple[float, ...] = (0.0049, 0.0081, 0.0133, 0.0217, 0.0353, 0.0569, 0.0908, 0.1426)
#: Height (m) by OSM ``building`` type, used when neither ``height`` nor ``building:levels`` is
#: tagged: typical storeys × 3 m (houses 2, urban residential 4–5, offices 5), single-storey
#: sheds and garages 3 m, low remains of ruins 3 m. ``yes`` (type unknown) is 3 storeys.
HEIGHT_BY_TYPE_M: dict[str, float] = {
    "yes": 9.0,
    "residential": 12.0,
    "apartments": 15.0,
    "house": 6.0,
    "detached": 6.0,
    "semidetached_house": 6.0,
    "terrace": 7.5,
    "bungalow": 4.0,
    "farm": 6.0,
    "dormitory": 12.0,
    "hotel": 15.0,
    "commercial": 10.0,
    "retail": 6.0,
    "supermarket": 6.0,
    "kiosk": 3.0,
    "office": 15.0,
    "public": 10.0,
    "civic": 10.0,
    "government": 12.0,
    "association": 9.0,
    "school": 9.0,
    "university": 12.0,
    "college": 12.0,
    "kindergarten": 4.0,
    "hospital": 15.0,
    "train_station": 10.0,
    "transportation": 6.0,
    "church": 15.0,
    "cathedral": 25.0,
    "chapel": 6.0,
    "monastery": 12.0,
    "convent": 12.0,
    "mosque": 12.0,
    "synagogue": 12.0,
    "temple": 9.0,
    "art_gallery": 9.0,
    "museum": 12.0,
    "pavilion": 4.0,
    "sports_hall": 10.0,
    "stadium": 15.0,
    "industrial": 8.0,
    "warehouse": 8.0,
    "manufacture": 8.0,
    "garage": 3.0,
    "garages": 3.0,
    "carport": 3.0,
    "parking": 9.0,
    "shed": 3.0,
    "hut": 3.0,
    "cabin": 3.0,
    "greenhouse": 3.0,
    "barn": 6.0,
    "service": 3.0,
    "transformer_tower": 6.0,
    "tower": 20.0,
    "roof": 4.0,
    "construction": 6.0,
    "ruins": 3.0,
    "collapsed": 3.0,
}


@dataclass(frozen=True)
class Buildings:
    """Building footprints in a metric CRS: ``ids``, ``polygons`` (shapely), ``height_m`` above
    ground, façade absorption ``alpha`` (n, 8), where each height came from (``height_source``:
    ``height``, ``levels``, ``type:<t>``, ``assumed``), the CRS and the source file.

    Build with :meth:`from_arrays` or the ``buildings_from_*`` readers, which check the input.
    """

    ids: tuple[str, ...]
    polygons: npt.NDArray[np.object_]
    height_m: FloatArray
    alpha: FloatArray
    height_source: tuple[str, ...]
    crs: str | None
    source: str = ""
    kinds: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_arrays(
        cls,
        ids: Sequence[Any],
        polygons: Sequence[Any],
        height_m: Sequence[float] | FloatArray,
        *,
        crs: str | None,
        alpha: FloatArray | None = None,
        source: str = "buildings",
        height_source: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
    ) -> Buildings:
        """Checked :class:`Buildings` from parallel sequences (see :func:`check_buildings`)."""
        n = len(ids)
        a = np.broadcast_to(np.asarray(DEFAULT_FACADE_ALPHA if alpha is None else alpha, dtype=np.float64), (n, 8)).copy()
        b = cls(
            tuple(str(i) for i in ids),
            np.asarray(list(polygons), dtype=object),
            np.asarray(height_m, dtype=np.float64),
            a,
            tuple(height_source) if height_source is not None else ("height",) * n,
            crs,
            source,
            tuple(kinds) if kinds is not None else ("",) * n,
        )
        check_buildings(b)
        return b

    @cached_property
    def index(self) -> shapely.STRtree:
        """Spatial index (STR tree) of the footprints."""
        return shapely.STRtree(self.polygons)

    def inside(self, x: FloatArray, y: FloatArray) -> npt.NDArray[np.bool_]:
        """Which points (x, y) lie inside a footprint (e.g. grid receivers to mask)."""
        pts = shapely.points(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        hit = self.index.query(pts, predicate="within")
        out = np.zeros(len(pts), dtype=bool)
        out[hit[0]] = True
        return out

    def near(self, geometry: Any, distance_m: float) -> npt.NDArray[np.int64]:
        """Indices of the buildings within ``distance_m`` of ``geometry`` (a point, a line, ...)."""
        return np.asarray(self.index.query(geometry, predicate="dwithin", distance=distance_m), dtype=np.int64)

    @property
    def footprint_area_m2(self) -> FloatArray:
        """Area of each footprint (m²)."""
        return np.asarray(shapely.area(self.polygons), dtype=np.float64)


def check_buildings(b: Buildings) -> None:
    """Raise :class:`~ldtkit.errors.InvalidValueError` naming the source, the feature id and the field
    for an empty or invalid polygon, a height that is missing, ≤ 0 or above :data:`MAX_HEIGHT_M`,
    or an absorption outside [0, 1).

    Examples
    --------
    >>> import shapely
    >>> Buildings.from_arrays(["w1"], [shapely.box(0, 0, 1, 1)], [450.0], crs=None, source="gbg.gpkg")
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: gbg.gpkg: building w1, field height: 450.0 m is above 300.0 m (a unit or typing error?)
    """
    n = len(b.ids)
    if not (len(b.polygons) == n == len(b.height_m) == len(b.height_source) == len(b.kinds) and b.alpha.shape == (n, 8)):
        raise InvalidValueError(f"{b.source}: ids, polygons, heights and absorptions differ in length")
    geoms = b.polygons
    kinds = shapely.get_type_id(geoms)
    for i in np.flatnonzero(~np.isin(kinds, (3, 6))):  # Polygon, MultiPolygon
        raise InvalidValueError(
            f"{b.source}: building {b.ids[i]}, field geometry: expected a polygon, got {shapely.get_type_id(geoms[i])!r}"
        )
    for i in np.flatnonzero(shapely.is_empty(geoms)):
        raise InvalidValueError(f"{b.source}: building {b.ids[i]}, field geometry: empty polygon")
    for i in np.flatnonzero(~shapely.is_valid(geoms)):
        raise InvalidValueError(f"{b.source}: building {b.ids[i]}, field geometry: invalid polygon ({shapely.is_valid_reason(geoms[i])})")
    for i in np.flatnonzero(shapely.area(geoms) <= 0):
        raise InvalidValueError(f"{b.source}: building {b.ids[i]}, field geometry: polygon without area")
    h = b.height_m
    for i in np.flatnonzero(~np.isfinite(h)):
        raise InvalidValueError(f"{b.source}: building {b.ids[i]}, field height: missing")
    for i in np.flatnonzero(h <= 0):
        raise InvalidValueError(f"{b.source}: building {b.ids[i]}, field height: {h[i]} m; expected > 0 m")
    for i in np.flatnonzero(h > MAX_HEIGHT_M):
        raise InvalidValueError(
            f"{b.source}: building {b.ids[i]}, field height: {h[i]} m is above {MAX_HEIGHT_M} m (a unit or typing error?)"
        )
    bad = ~((b.alpha >= 0) & (b.alpha < 1)).all(axis=1)
    for i in np.flatnonzero(bad):
        raise InvalidValueError(f"{b.source}: building {b.ids[i]}, field alpha: absorption must be within [0, 1) in every band")


_HEIGHT = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*(m|meters?|metres?|ft|feet|')?\s*$", re.I)


def parse_height_m(value: str) -> float:
    """Metres from an OSM ``height`` value (``"12"``, ``"12.5 m"``, ``"40 ft"``); NaN if unreadable.

    Examples
    --------
    >>> parse_height_m("12,5 m"), parse_height_m("40'"), math.isnan(parse_height_m("tall"))
    (12.5, 12.19, True)
    """
    m = _HEIGHT.match(str(value))
    if not m:
        return math.nan
    v = float(m.group(1).replace(",", "."))
    unit = (m.group(2) or "m").lower()
    return round(v * 0.3048, 2) if unit in ("ft", "feet", "'") else v


def building_height_m(
    tags: Mapping[str, str], *, feature: str, source: str, defaults: Mapping[str, float] = HEIGHT_BY_TYPE_M, fallback_m: float | None = None
) -> tuple[float, str]:
    """(height, where it came from) of one OSM building from its tags (see the module docstring).

    Raises :class:`~ldtkit.errors.InvalidValueError` naming the file, the feature and the field when
    a tag is unreadable or no default exists for the building type (and no ``fallback_m``).

    Examples
    --------
    >>> building_height_m({"building": "house", "building:levels": "3"}, feature="w1", source="x.osm")
    (9.0, 'levels')
    >>> building_height_m({"building": "house"}, feature="w2", source="x.osm")
    (6.0, 'type:house')
    """
    if "height" in tags:
        h = parse_height_m(tags["height"])
        if not math.isfinite(h):
            raise InvalidValueError(f"{source}: building {feature}, field height: {tags['height']!r} is not a height in m")
        return h, "height"
    if "building:levels" in tags:
        try:
            levels = float(tags["building:levels"].replace(",", "."))
        except ValueError:
            raise InvalidValueError(
                f"{source}: building {feature}, field building:levels: {tags['building:levels']!r} is not a number"
            ) from None
        return levels * LEVEL_HEIGHT_M, "levels"
    kind = tags.get("building", "yes")
    if kind in defaults:
        return float(defaults[kind]), f"type:{kind}"
    if fallback_m is not None:
        return float(fallback_m), "assumed"
    near = closest([kind], defaults)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise InvalidValueError(
        f"{source}: building {feature}, field height: no height, no building:levels and no default height for building={kind!r}{hint} "
        "(give one in default_heights_m, or a fallback height)"
    )


def buildings_from_osm(
    path: str | Path,
    *,
    crs: str | None = None,
    default_heights_m: Mapping[str, float] = HEIGHT_BY_TYPE_M,
    fallback_height_m: float | None = None,
) -> Buildings:
    """The ``building=*`` areas of an OpenStreetMap extract, in ``crs`` (default: its UTM zone).

    Examples
    --------
    >>> b = buildings_from_osm("data/porto/porto.osm.pbf")  # doctest: +SKIP
    """
    from ldtkit.model.loaders.osm_areas import read_osm_areas
    from ldtkit.model.road_network import utm_crs_for

    file = require_file(path, what="OpenStreetMap extract")
    areas = read_osm_areas(file, keys=("building",), what="an OpenStreetMap extract")
    if areas.broken_ids:
        feature = areas.broken_ids[0]
        raise InvalidValueError(f"{file}: building {feature}, field geometry: the outline does not close into a polygon")
    ids: list[str] = areas.ids
    geoms = areas.wkb
    heights: list[float] = []
    sources: list[str] = []
    kinds: list[str] = []
    for feature, tags in zip(areas.ids, areas.tags, strict=True):
        h, where = building_height_m(tags, feature=feature, source=str(file), defaults=default_heights_m, fallback_m=fallback_height_m)
        heights.append(h)
        sources.append(where)
        kinds.append(tags.get("building", "yes"))
    if not ids:
        raise InvalidValueError(f"{file}: no building=* area in the extract")
    import geopandas as gpd

    polys = gpd.GeoSeries(shapely.from_wkb(np.asarray(geoms, dtype=object)), crs="EPSG:4326")
    c = polys.union_all().centroid
    target = crs or utm_crs_for(float(c.x), float(c.y))
    return Buildings.from_arrays(
        ids, polys.to_crs(target).to_numpy(), heights, crs=str(target), source=str(file), height_source=sources, kinds=kinds
    )


def buildings_from_file(
    path: str | Path, *, columns: Mapping[str, str], crs: str | None = None, layer: str | None = None, default_height_m: float | None = None
) -> Buildings:
    """Footprints from a file geopandas reads, with a column mapping.

    ``columns`` maps ``id`` (required) and any of ``height`` (m), ``levels`` (storeys, ×
    :data:`LEVEL_HEIGHT_M`) and ``type`` (OSM-like building type, for :data:`HEIGHT_BY_TYPE_M`)
    to the file's column names. A building's height is the first of these that it has, else
    ``default_height_m``; without any, the error names the file, the feature and the field.
    ``crs`` reprojects (the file must then declare its own CRS).

    Examples
    --------
    >>> b = buildings_from_file("Gbg.shp", columns={"id": "OIDN", "height": "HOOGTE"})  # doctest: +SKIP
    """
    import geopandas as gpd

    file = require_file(path, what="building footprint file")
    try:
        gdf = gpd.read_file(file, layer=layer) if layer else gpd.read_file(file)
    except Exception as exc:  # fiona/pyogrio raise their own types
        raise UnreadableFormatError(file, expected="a building footprint file", detail=str(exc)) from None
    unknown = set(columns) - {"id", "height", "levels", "type"}
    if unknown:
        raise InvalidValueError(f"{file}: unknown column mapping key(s) {sorted(unknown)}; expected id, height, levels, type")
    if "id" not in columns:
        raise MissingFieldError(file, "id", expected="a column mapping for the feature id")
    for key, col in columns.items():
        if col not in gdf.columns:
            near = closest([col], [str(c) for c in gdf.columns])
            raise MissingFieldError(file, col, expected=f"the {key} column" + (f"; did you mean {', '.join(near)}?" if near else ""))
    if crs is not None:
        if gdf.crs is None:
            raise InvalidValueError(f"{file}: the file declares no CRS, so it cannot be reprojected to {crs}")
        gdf = gdf.to_crs(crs)
    ids = gdf[columns["id"]].astype(str).to_numpy()
    n = len(gdf)
    height = np.full(n, np.nan)
    where = np.array(["assumed"] * n, dtype=object)
    for key, scale in (("type", None), ("levels", LEVEL_HEIGHT_M), ("height", 1.0)):  # later keys take precedence
        if key not in columns:
            continue
        raw = gdf[columns[key]]
        if key == "type":
            vals = np.array([HEIGHT_BY_TYPE_M.get(str(v), np.nan) for v in raw])
        else:
            vals = np.asarray(raw.astype("float64").to_numpy() * float(scale or 1.0))
        ok = np.isfinite(vals)
        height[ok], where[ok] = vals[ok], key
    missing = ~np.isfinite(height)
    if missing.any():
        if default_height_m is None:
            i = int(np.flatnonzero(missing)[0])
            fields = "/".join(columns[k] for k in ("height", "levels", "type") if k in columns) or "height"
            raise InvalidValueError(
                f"{file}: building {ids[i]}, field {fields}: no height, and no default_height_m "
                f"({int(missing.sum())} building(s) without a height)"
            )
        height[missing] = default_height_m
    return Buildings.from_arrays(
        ids, gdf.geometry.to_numpy(), height, crs=str(gdf.crs) if gdf.crs else None, source=str(file), height_source=list(where)
    )


def buildings_from_blocks(
    path: str | Path, *, id_column: str | None = None, height_m: float = ATHENS_BLOCK_HEIGHT_M, crs: str | None = None
) -> Buildings:
    """City blocks as buildings, every block at the assumed ``height_m`` (Athens: 15 m).

    ``id_column`` names the blocks (default: their row number in the file, ``"row <i>"``).

    Examples
    --------
    >>> b = buildings_from_blocks("data/athens/network/extra/Athina_OT_4501000001.shp", id_column="ESYECODE")  # doctest: +SKIP
    """
    if id_column is None:
        import geopandas as gpd

        file = require_file(path, what="block polygons file")
        try:
            gdf = gpd.read_file(file)
        except Exception as exc:  # fiona/pyogrio raise their own types
            raise UnreadableFormatError(file, expected="a block polygons file", detail=str(exc)) from None
        if crs is not None:
            if gdf.crs is None:
                raise InvalidValueError(f"{file}: the file declares no CRS, so it cannot be reprojected to {crs}")
            gdf = gdf.to_crs(crs)
        n = len(gdf)
        return Buildings.from_arrays(
            [f"row {i}" for i in range(n)], gdf.geometry.to_numpy(), np.full(n, float(height_m)),
            crs=str(gdf.crs) if gdf.crs else None, source=str(file), height_source=["assumed"] * n,
        )  # fmt: skip
    b = buildings_from_file(path, columns={"id": id_column}, crs=crs, default_height_m=height_m)
    return Buildings(b.ids, b.polygons, b.height_m, b.alpha, ("assumed",) * len(b), b.crs, b.source, b.kinds)
