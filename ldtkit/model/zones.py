"""Zones of a study area, their population and activity proxies, and their connection to the network.

A zones table is a GeoDataFrame in the network's metric CRS with one row per zone:

``zone`` (str label), ``kind`` (``"internal"`` or ``"external"``), ``population``, ``jobs``,
``x``, ``y`` (where the centroid node goes), geometry (cell polygon; a point for external zones).
External zones also carry ``nodes_out`` / ``nodes_in`` (network node ids their connectors
leave to / come from) and ``weight`` (capacity of the road that crosses the boundary, PCU/h).

Builders, one per kind of open data a city may have:

- :func:`zones_from_corine` — CORINE Land Cover raster (e.g. Ghent);
- :func:`zones_from_blocks` — city-block polygons (e.g. Athens' statistical blocks);
- :func:`zones_from_osm_buildings` — OSM building footprints × levels (e.g. Porto, any OSM city);
- :func:`zones_from_network_grid` — a regular grid weighted by road length (fallback);
- :func:`external_zones` — where major roads cross the study-area boundary.

Each builder aggregates its source to a regular grid of ``cell_m`` cells clipped to the
study area; the centroid of a zone is the activity-weighted mean of its source points.
:func:`connect_zones` then adds zone centroid nodes and connector links to a
:class:`~ldtkit.model.network.RoadNetwork`.

Assumptions (densities, floor area per resident or job) are module-level tables below with
their sources; a city overrides them in ``[demand]`` of its ``city.toml``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ldtkit.errors import ConfigError, EmptyStudyAreaError, InvalidValueError, MissingFieldError, UnreadableFormatError, require_file
from ldtkit.model.network import CONNECTOR_CLASS, RoadNetwork, conform_links, conform_nodes

ZONE_COLUMNS = ["zone", "kind", "population", "jobs", "x", "y"]

#: Residents and jobs per hectare for each CORINE Land Cover 2018 class (code -> (residents_ha, jobs_ha)).
#: Assumed typical densities for Western-European cities, used as *relative* weights: when a city
#: gives ``population_total`` / ``jobs_total`` the zone values are rescaled to those totals.
#: Orders of magnitude: continuous urban fabric (dense centre, 3-5 storey terraces) 60-120 residents/ha;
#: discontinuous urban fabric (suburban houses with gardens) 20-40 residents/ha (EEA, "Urban sprawl in
#: Europe", 2016, uses ~ 30 inh/ha as the threshold of compact settlement); industrial/commercial units
#: and ports host jobs, not residents; green urban areas and sport facilities attract visits (counted as jobs).
CORINE_DENSITY_DEFAULTS: dict[int, tuple[float, float]] = {
    111: (90.0, 60.0),  # continuous urban fabric
    112: (30.0, 8.0),  # discontinuous urban fabric
    121: (1.0, 40.0),  # industrial or commercial units
    122: (0.0, 0.0),  # road and rail networks
    123: (0.0, 15.0),  # port areas
    124: (0.0, 10.0),  # airports
    131: (0.0, 1.0),  # mineral extraction
    132: (0.0, 0.5),  # dump sites
    133: (0.0, 1.0),  # construction sites
    141: (0.0, 2.0),  # green urban areas (visits)
    142: (0.5, 4.0),  # sport and leisure facilities (visits)
    211: (0.5, 0.1), 212: (0.5, 0.1), 213: (0.5, 0.1), 221: (0.5, 0.1), 222: (0.5, 0.1),
    223: (0.5, 0.1), 231: (0.5, 0.1), 241: (0.5, 0.1), 242: (1.5, 0.2), 243: (1.0, 0.2), 244: (0.5, 0.1),
}  # fmt: skip  # other classes (forest, wetlands, water): 0

#: Floor area per resident / per job and default storeys for OSM buildings.
#: - 40 m² gross residential floor area per resident: Portugal's dwellings average ~ 100-110 m² for
#:   ~ 2.5 persons per household (INE Census 2021), i.e. ~ 40 m²/person; similar in most EU cities.
#: - 30 m² gross floor area per job: office planning norms are 15-25 m² net per workplace; shops,
#:   schools, hospitals and storage use more, so 30 m² gross is a blended assumption.
#: - Untagged (``building=yes``) buildings in a city centre are mostly mixed: 70 % residential.
#: - Storeys when ``building:levels`` is missing: 3 (median of tagged central buildings is 3-4).
OSM_BUILDING_DEFAULTS: dict[str, Any] = {
    "m2_per_resident": 40.0,
    "m2_per_job": 30.0,
    "default_levels": 3.0,
    "residential_share_untagged": 0.7,
    "residential_types": [
        "residential", "apartments", "house", "detached", "semidetached_house", "terrace", "dormitory", "bungalow",
    ],
    "ignore_types": [
        "roof", "collapsed", "ruins", "garage", "garages", "shed", "hut", "kiosk", "construction", "carport",
        "bunker", "service", "transformer_tower", "toilets",
    ],
}  # fmt: skip
#: everything else (commercial, office, retail, public, school, hospital, church, industrial, ...) hosts jobs/visits.


# ---------------------------------------------------------------------------
def area_polygon(area: Any, crs: str) -> shapely.Geometry:
    """A single (multi)polygon in ``crs`` from a GeoDataFrame/GeoSeries/geometry/path."""
    if isinstance(area, (str, Path)):
        area = gpd.read_file(require_file(area, what="study-area boundary"))
    if isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if area.crs is None:
            raise InvalidValueError("study area: the boundary has no CRS")
        return shapely.union_all(area.to_crs(crs).geometry.values)
    if isinstance(area, shapely.Geometry):
        return area
    raise InvalidValueError(f"study area: expected a path, GeoDataFrame or shapely geometry, got {type(area).__name__}")


def network_area(network: RoadNetwork, *, buffer_m: float = 0.0) -> shapely.Geometry:
    """The convex hull of the network's car nodes (zone nodes excluded), buffered."""
    pts = _car_node_points(network)
    hull = shapely.convex_hull(shapely.multipoints(pts))
    return hull.buffer(buffer_m) if buffer_m else hull


def _car_node_points(network: RoadNetwork) -> np.ndarray:
    links = network.links[network.links["car_allowed"]]
    used = np.unique(np.concatenate([links["from_node"].to_numpy(np.int64), links["to_node"].to_numpy(np.int64)]))
    nodes = network.nodes[network.nodes["node_id"].isin(used) & ~network.nodes["is_zone"]]
    if nodes.geometry.isna().all():
        raise InvalidValueError(f"network {network.name!r}: nodes have no coordinates; zones need geometry")
    return np.column_stack([nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy()])


def aggregate_to_cells(
    x: np.ndarray,
    y: np.ndarray,
    population: np.ndarray,
    jobs: np.ndarray,
    *,
    area: shapely.Geometry,
    cell_m: float,
    crs: str,
    min_activity: float = 1.0,
    label: str = "z",
) -> gpd.GeoDataFrame:
    """Aggregate point activity to square zones of ``cell_m`` over ``area``.

    Points outside ``area`` are ignored. A zone's ``x, y`` is the activity-weighted
    mean of its points; zones with ``population + jobs < min_activity`` are dropped.
    Zones are ordered south to north, then west to east, and labelled ``f"{label}{row}_{col}"``.

    Examples
    --------
    >>> sq = shapely.box(0, 0, 2000, 1000)
    >>> z = aggregate_to_cells(np.array([100., 150., 1500.]), np.array([100., 900., 500.]),
    ...                        np.array([10., 30., 0.]), np.array([0., 0., 5.]),
    ...                        area=sq, cell_m=1000, crs="EPSG:3035")
    >>> z[["zone", "population", "jobs", "x", "y"]].values.tolist()
    [['z0_0', 40.0, 0.0, 137.5, 700.0], ['z0_1', 0.0, 5.0, 1500.0, 500.0]]
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    pop = np.asarray(population, dtype=np.float64)
    job = np.asarray(jobs, dtype=np.float64)
    for name, v in (("population", pop), ("jobs", job)):
        if not np.isfinite(v).all() or (v < 0).any():
            raise InvalidValueError(f"zones: NaN or negative {name} at {int((~np.isfinite(v) | (v < 0)).sum())} source points")
    inside = shapely.contains_xy(area, x, y)
    x, y, pop, job = x[inside], y[inside], pop[inside], job[inside]
    if len(x) == 0:
        raise EmptyStudyAreaError("zones: no source points (buildings, blocks, land-cover cells) inside the study area")
    x0, y0, _, _ = area.bounds
    col = np.floor((x - x0) / cell_m).astype(np.int64)
    row = np.floor((y - y0) / cell_m).astype(np.int64)
    df = pd.DataFrame({"row": row, "col": col, "pop": pop, "job": job, "w": pop + job, "x": x, "y": y})
    df["wx"] = df["x"] * df["w"]
    df["wy"] = df["y"] * df["w"]
    g = df.groupby(["row", "col"], sort=True).agg(
        population=("pop", "sum"), jobs=("job", "sum"), w=("w", "sum"), wx=("wx", "sum"), wy=("wy", "sum"),
        mx=("x", "mean"), my=("y", "mean"),
    ).reset_index()  # fmt: skip
    g = g[g["population"] + g["jobs"] >= min_activity].reset_index(drop=True)
    if g.empty:
        raise EmptyStudyAreaError(f"zones: no cell of {cell_m:g} m has at least {min_activity:g} residents + jobs")
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = np.where(g["w"] > 0, g["wx"] / g["w"], g["mx"])
        cy = np.where(g["w"] > 0, g["wy"] / g["w"], g["my"])
    boxes = shapely.box(x0 + g["col"] * cell_m, y0 + g["row"] * cell_m, x0 + (g["col"] + 1) * cell_m, y0 + (g["row"] + 1) * cell_m)
    geom = shapely.intersection(boxes, area)
    # a weighted mean can fall outside a concave zone: use a point inside the zone then
    out = ~shapely.contains_xy(geom, cx, cy)
    if out.any():
        pos = shapely.point_on_surface(geom[out])
        cx[out], cy[out] = shapely.get_x(pos), shapely.get_y(pos)
    return gpd.GeoDataFrame(
        {
            "zone": [f"{label}{r}_{c}" for r, c in zip(g["row"], g["col"])],
            "kind": "internal",
            "population": g["population"].to_numpy(),
            "jobs": g["jobs"].to_numpy(),
            "x": cx,
            "y": cy,
        },
        geometry=geom,
        crs=crs,
    )


def rescale_to_total(values: np.ndarray, total: float | None, *, what: str) -> np.ndarray:
    if total is None:
        return values
    s = values.sum()
    if s <= 0:
        raise EmptyStudyAreaError(f"zones: no {what} in the study area to scale to a total of {total:g}")
    return values * (float(total) / s)


def _rescale_zones(zones: gpd.GeoDataFrame, population_total: float | None, jobs_total: float | None) -> None:
    """Rescale zone totals in place (cells dropped by ``min_activity`` or the clip lose a little)."""
    zones["population"] = rescale_to_total(zones["population"].to_numpy(), population_total, what="residents")
    zones["jobs"] = rescale_to_total(zones["jobs"].to_numpy(), jobs_total, what="jobs")


# --------------------------------------------------------------------- CORINE
def zones_from_corine(
    raster: str | Path,
    legend: str | Path | None,
    boundary: Any,
    *,
    crs: str,
    cell_m: float = 1000.0,
    density: Mapping[int | str, Sequence[float]] | None = None,
    population_total: float | None = None,
    jobs_total: float | None = None,
    min_activity: float = 1.0,
) -> gpd.GeoDataFrame:
    """Zones from a CORINE Land Cover raster clipped to a boundary.

    Every raster cell inside ``boundary`` contributes ``residents_ha × cell area`` residents and
    ``jobs_ha × cell area`` jobs by its land-cover class (:data:`CORINE_DENSITY_DEFAULTS`,
    overridden by ``density``); the totals are then rescaled to ``population_total`` /
    ``jobs_total`` when given.

    Parameters
    ----------
    raster
        CORINE GeoTIFF (any CRS); cell values are either CLC codes (111...) or the
        legend's ``value`` column (1...44), translated through ``legend``.
    legend
        CSV with columns ``code`` and ``value`` (the EEA legend), or ``None`` when cells hold codes.
    boundary
        Study area: a path to a vector file, a GeoDataFrame or a geometry in ``crs``.

    Examples
    --------
    >>> z = zones_from_corine("data/ghent/CLC2018_V2020_20u1_flanders.tif",
    ...                       "data/ghent/CLC2018_V2018_legend_grouped.csv",
    ...                       "data/ghent/gent.geojson", crs="EPSG:31370",
    ...                       population_total=265000)  # doctest: +SKIP
    """
    import rasterio
    import rasterio.mask
    from pyproj import Transformer

    raster = require_file(raster, what="CORINE raster")
    poly = area_polygon(boundary, crs)
    with rasterio.open(raster) as src:
        poly_src = gpd.GeoSeries([poly], crs=crs).to_crs(src.crs).iloc[0]
        try:
            data, transform = rasterio.mask.mask(src, [poly_src], crop=True, filled=False)
        except ValueError as exc:
            raise EmptyStudyAreaError(f"{raster}: the study area does not overlap the raster ({exc})") from exc
        cell_ha = abs(src.res[0] * src.res[1]) / 1e4
        src_crs = src.crs
    band = data[0]
    valid = ~np.ma.getmaskarray(band)
    vals = np.asarray(band.data, dtype=np.int64)
    if legend is not None:
        leg = pd.read_csv(require_file(legend, what="CORINE legend"))
        for col in ("code", "value"):
            if col not in leg.columns:
                raise MissingFieldError(legend, col, expected="a column of the CORINE legend csv")
        lut = dict(zip(leg["value"].astype(int), leg["code"].astype(int)))
        codes = np.vectorize(lambda v: lut.get(int(v), 0), otypes=[np.int64])(vals) if vals.size else vals
    else:
        codes = vals
    dens = {int(k): (float(v[0]), float(v[1])) for k, v in CORINE_DENSITY_DEFAULTS.items()}
    for k, v in (density or {}).items():
        if len(v) != 2 or min(float(v[0]), float(v[1])) < 0:
            raise InvalidValueError(f"CORINE density for class {k}: expected [residents_ha, jobs_ha] >= 0, got {v}")
        dens[int(k)] = (float(v[0]), float(v[1]))
    ucodes = np.unique(codes[valid])
    res_lut = {c: dens.get(int(c), (0.0, 0.0))[0] for c in ucodes}
    job_lut = {c: dens.get(int(c), (0.0, 0.0))[1] for c in ucodes}
    r, c = np.nonzero(valid)
    cc = codes[r, c]
    pop = np.array([res_lut[v] for v in ucodes])[np.searchsorted(ucodes, cc)] * cell_ha
    job = np.array([job_lut[v] for v in ucodes])[np.searchsorted(ucodes, cc)] * cell_ha
    xs, ys = rasterio.transform.xy(transform, r, c, offset="center")
    tx, ty = Transformer.from_crs(src_crs, crs, always_xy=True).transform(np.asarray(xs), np.asarray(ys))
    pop = rescale_to_total(pop, population_total, what="residents")
    job = rescale_to_total(job, jobs_total, what="jobs")
    zones = aggregate_to_cells(tx, ty, pop, job, area=poly, cell_m=cell_m, crs=crs, min_activity=min_activity, label="clc")
    _rescale_zones(zones, population_total, jobs_total)
    zones.attrs["source"] = f"CORINE {raster.name}"
    return zones


# --------------------------------------------------------------------- blocks
def zones_from_blocks(
    blocks: str | Path | gpd.GeoDataFrame,
    area: Any,
    *,
    crs: str,
    cell_m: float = 400.0,
    residents_per_ha: float | None = None,
    population_total: float | None = None,
    jobs_per_resident: float = 1.0,
    max_block_area_m2: float | None = None,
    min_activity: float = 1.0,
) -> gpd.GeoDataFrame:
    """Zones from city-block polygons: residents proportional to built block area.

    Parameters
    ----------
    blocks
        Polygons of the city's blocks (e.g. the 6,816 statistical blocks of the municipality of Athens).
    area
        The study area (blocks whose centroid lies outside are ignored).
    residents_per_ha
        Residents per hectare of block area; or give ``population_total`` for the *whole*
        blocks file (e.g. the municipality's census population), spread by block area.
    jobs_per_resident
        Jobs (and visits) per resident in the study area (> 1 in a central business district).
    max_block_area_m2
        Blocks larger than this are open space (parks, hills, archaeological sites) with no residents.
    """
    if isinstance(blocks, (str, Path)):
        path = require_file(blocks, what="city blocks file")
        try:
            blocks = gpd.read_file(path)
        except Exception as exc:
            raise UnreadableFormatError(path, expected="a vector file of block polygons", detail=str(exc)) from exc
    b = blocks.to_crs(crs)
    a_m2 = b.geometry.area.to_numpy()
    if max_block_area_m2 is not None:
        a_m2 = np.where(a_m2 > max_block_area_m2, 0.0, a_m2)
    if residents_per_ha is None:
        if population_total is None:
            raise ConfigError("zones_from_blocks: give residents_per_ha or population_total")
        residents_per_ha = float(population_total) / (a_m2.sum() / 1e4)
    pop = a_m2 / 1e4 * residents_per_ha
    job = pop * float(jobs_per_resident)
    pts = b.geometry.representative_point()
    zones = aggregate_to_cells(
        pts.x.to_numpy(), pts.y.to_numpy(), pop, job, area=area_polygon(area, crs), cell_m=cell_m, crs=crs,
        min_activity=min_activity, label="blk",
    )  # fmt: skip
    zones.attrs["source"] = "city blocks"
    zones.attrs["residents_per_ha"] = residents_per_ha
    return zones


# -------------------------------------------------------------- OSM buildings
def read_osm_buildings(path: str | Path, *, crs: str) -> gpd.GeoDataFrame:
    """Building footprints from an OSM extract: ``building``, ``levels`` (NaN if untagged), area, centroid.

    Uses the ``osmium`` package (closed ways and multipolygon relations tagged ``building``).
    """
    import osmium

    path = require_file(path, what="OSM extract")
    fab = osmium.geom.WKBFactory()
    kinds, levels, wkbs = [], [], []
    try:
        fp = (
            osmium.FileProcessor(str(path)).with_areas(osmium.filter.KeyFilter("building")).with_filter(osmium.filter.KeyFilter("building"))
        )
        for obj in fp:
            if not obj.is_area():
                continue
            try:
                wkb = fab.create_multipolygon(obj)
            except RuntimeError:  # broken ring in the source data
                continue
            kinds.append(obj.tags.get("building", "yes"))
            lv = obj.tags.get("building:levels")
            try:
                levels.append(float(lv.split(";")[0]) if lv else np.nan)
            except ValueError:
                levels.append(np.nan)
            wkbs.append(bytes.fromhex(wkb) if isinstance(wkb, str) else wkb)
    except RuntimeError as exc:
        raise UnreadableFormatError(path, expected="OSM PBF/XML", detail=str(exc)) from exc
    geom = shapely.from_wkb(wkbs) if wkbs else np.array([], dtype=object)
    gdf = gpd.GeoDataFrame({"building": kinds, "levels": np.asarray(levels, dtype=np.float64)}, geometry=geom, crs=4326)
    return gdf.to_crs(crs)


def zones_from_osm_buildings(
    buildings: str | Path | gpd.GeoDataFrame,
    area: Any,
    *,
    crs: str,
    cell_m: float = 500.0,
    options: Mapping[str, Any] | None = None,
    population_total: float | None = None,
    jobs_total: float | None = None,
    min_activity: float = 1.0,
) -> gpd.GeoDataFrame:
    """Zones from OSM buildings: footprint × storeys → floor area → residents and jobs.

    Residential floor area / ``m2_per_resident`` gives residents; other floor area /
    ``m2_per_job`` gives jobs (and visits); see :data:`OSM_BUILDING_DEFAULTS` for the
    assumptions and their sources, overridden by ``options``.

    Examples
    --------
    >>> z = zones_from_osm_buildings("data/porto/porto.osm.pbf", area, crs="EPSG:32629")  # doctest: +SKIP
    """
    opt = {**OSM_BUILDING_DEFAULTS, **dict(options or {})}
    unknown = sorted(set(opt) - set(OSM_BUILDING_DEFAULTS))
    if unknown:
        raise ConfigError(f"OSM building options: unknown keys {unknown}; expected {sorted(OSM_BUILDING_DEFAULTS)}")
    b = read_osm_buildings(buildings, crs=crs) if isinstance(buildings, (str, Path)) else buildings.to_crs(crs)
    kind = b["building"].astype(str).to_numpy()
    b = b[~np.isin(kind, list(opt["ignore_types"]))]
    kind = b["building"].astype(str).to_numpy()
    floor = b.geometry.area.to_numpy() * np.where(
        np.isfinite(b["levels"].to_numpy()), np.maximum(b["levels"].to_numpy(), 1.0), float(opt["default_levels"])
    )
    res_share = np.where(
        np.isin(kind, list(opt["residential_types"])), 1.0, np.where(kind == "yes", float(opt["residential_share_untagged"]), 0.0)
    )
    pop = floor * res_share / float(opt["m2_per_resident"])
    job = floor * (1.0 - res_share) / float(opt["m2_per_job"])
    pop = rescale_to_total(pop, population_total, what="residents")
    job = rescale_to_total(job, jobs_total, what="jobs")
    pts = b.geometry.representative_point()
    zones = aggregate_to_cells(
        pts.x.to_numpy(), pts.y.to_numpy(), pop, job, area=area_polygon(area, crs), cell_m=cell_m, crs=crs,
        min_activity=min_activity, label="osm",
    )  # fmt: skip
    _rescale_zones(zones, population_total, jobs_total)
    zones.attrs["source"] = "OSM buildings"
    zones.attrs["buildings"] = int(len(b))
    return zones


# ----------------------------------------------------------------------- grid
def zones_from_network_grid(
    network: RoadNetwork,
    area: Any = None,
    *,
    cell_m: float = 500.0,
    population_total: float,
    jobs_total: float,
    local_classes: Sequence[str] | None = None,
    min_activity: float = 1.0,
) -> gpd.GeoDataFrame:
    """Fallback zoning: a regular grid, residents ∝ length of local streets, jobs ∝ all car-road length.

    A city with no land-use data still gets zones: where there are streets there are people.
    ``local_classes`` are the road classes counted for residents (default: all car links).
    """
    links = network.links[network.links["car_allowed"] & (network.links["road_class"] != CONNECTOR_CLASS)]
    if links.geometry.isna().all():
        raise InvalidValueError(f"network {network.name!r}: links have no geometry; a grid needs coordinates")
    mid = links.geometry.interpolate(0.5, normalized=True)
    L = links["length_m"].to_numpy(np.float64)
    local = np.ones(len(links), bool) if local_classes is None else links["road_class"].astype(str).isin(list(local_classes)).to_numpy()
    poly = network_area(network) if area is None else area_polygon(area, str(network.crs))
    pop = rescale_to_total(L * local, population_total, what="local street length")
    job = rescale_to_total(L, jobs_total, what="street length")
    zones = aggregate_to_cells(
        mid.x.to_numpy(),
        mid.y.to_numpy(),
        pop,
        job,
        area=poly,
        cell_m=cell_m,
        crs=str(network.crs),
        min_activity=min_activity,
        label="grid",
    )
    _rescale_zones(zones, population_total, jobs_total)
    zones.attrs["source"] = "network grid"
    return zones


# ------------------------------------------------------------ external zones
def _car_graph(network: RoadNetwork, *, include_zones: bool = True):
    from scipy.sparse import coo_matrix

    links = network.links
    ok = links["car_allowed"].to_numpy(bool) & (links["capacity_vph"].to_numpy(np.float64) > 0)
    node_ids = np.sort(network.nodes["node_id"].to_numpy(np.int64))
    f = np.searchsorted(node_ids, links["from_node"].to_numpy(np.int64))
    t = np.searchsorted(node_ids, links["to_node"].to_numpy(np.int64))
    if not include_zones:
        zone = np.isin(node_ids, network.zone_ids)
        ok &= ~zone[f] & ~zone[t]
    n = len(node_ids)
    g = coo_matrix((np.ones(int(ok.sum())), (f[ok], t[ok])), shape=(n, n)).tocsr()
    return node_ids, g, ok, f, t


def _main_component(network: RoadNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(node_ids, in_main, reaches_main, reached_from_main) over sorted node ids of the car graph without zones."""
    from scipy.sparse import csr_matrix, hstack, vstack
    from scipy.sparse.csgraph import breadth_first_order, connected_components

    node_ids, g, ok, f, t = _car_graph(network, include_zones=False)
    n = len(node_ids)
    _, lab = connected_components(g, directed=True, connection="strong")
    used = np.unique(np.concatenate([f[ok], t[ok]]))
    if len(used) == 0:
        raise EmptyStudyAreaError(f"network {network.name!r}: no car links")
    main_label = np.bincount(lab[used]).argmax()
    in_main = lab == main_label

    def reach(graph) -> np.ndarray:
        # BFS from a virtual node joined to every main-component node
        col = np.flatnonzero(in_main)
        row_v = csr_matrix((np.ones(len(col)), (np.zeros(len(col), int), col)), shape=(1, n + 1))
        big = vstack([hstack([graph, csr_matrix((n, 1))]), row_v]).tocsr()
        order = breadth_first_order(big, n, directed=True, return_predecessors=False)
        r = np.zeros(n + 1, bool)
        r[order] = True
        return r[:n]

    reached_from_main = reach(g)
    reaches_main = reach(g.T.tocsr())
    return node_ids, in_main, reaches_main, reached_from_main


def external_zones(
    network: RoadNetwork,
    area: Any = None,
    *,
    road_classes: Sequence[str],
    boundary_buffer_m: float | Mapping[str, float] = 300.0,
    cluster_m: float = 150.0,
    include_nodes: Sequence[int] = (),
    exclude_nodes: Sequence[int] = (),
) -> gpd.GeoDataFrame:
    """External zones where major roads leave the study area.

    A major road (one of ``road_classes``) leaves the study area at one of its *ends*: a node
    with a single neighbouring node on the sub-network of those classes, lying within
    ``boundary_buffer_m`` (one value, or one per road class: a cleaned network may have lost
    the last few hundred metres of a dual carriageway) of the study-area boundary (``area``,
    default the network's convex hull), and closer to the boundary than its neighbour (the road
    heads out) — or within 50 m of it. Ends closer than ``cluster_m`` (the two carriageways of a
    dual road) form one external zone. ``include_nodes`` / ``exclude_nodes`` add or remove
    gateway nodes by hand.

    Returns
    -------
    GeoDataFrame with the zone columns plus ``nodes_out`` (gateway nodes with car links into
    the network: trips enter there), ``nodes_in`` (gateway nodes with car links arriving) and
    ``weight`` (mean capacity of the major links at the gateway, PCU/h), ordered clockwise from north.

    Examples
    --------
    >>> ext = external_zones(net, "data/ghent/gent.geojson", road_classes=["0", "1", "2"])  # doctest: +SKIP
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    crs = str(network.crs)
    poly = network_area(network) if area is None else area_polygon(area, crs)
    links = network.links
    zone_nodes = set(network.zone_ids.tolist())
    car = links[
        links["car_allowed"] & (links["capacity_vph"] > 0) & ~links["from_node"].isin(zone_nodes) & ~links["to_node"].isin(zone_nodes)
    ]
    classes = [str(c) for c in road_classes]
    major = car[car["road_class"].astype(str).isin(classes)]
    pairs = pd.DataFrame(
        {"a": np.concatenate([major["from_node"], major["to_node"]]), "b": np.concatenate([major["to_node"], major["from_node"]])}
    ).drop_duplicates()
    degree = pairs.groupby("a").size()
    ends = np.asarray(degree.index[degree.to_numpy() == 1], dtype=np.int64)
    nodes = network.nodes.set_index("node_id")
    boundary = poly.boundary
    dist = lambda ids: shapely.distance(boundary, nodes.loc[ids].geometry.values) if len(ids) else np.zeros(0)
    d_end = dist(ends)
    nb = pairs[pairs["a"].isin(ends)].drop_duplicates("a").set_index("a")["b"].reindex(ends).to_numpy()
    d_nb = dist(nb)
    # road class at each end (the major link touching it)
    cls_at = pd.concat(
        [major[["from_node", "road_class"]].set_axis(["n", "c"], axis=1), major[["to_node", "road_class"]].set_axis(["n", "c"], axis=1)]
    )
    cls_at = cls_at.drop_duplicates("n").set_index("n")["c"].astype(str).reindex(ends).to_numpy()
    if isinstance(boundary_buffer_m, Mapping):
        buf = np.array([float(boundary_buffer_m.get(c, 0.0)) for c in cls_at])
    else:
        buf = np.full(len(ends), float(boundary_buffer_m))
    keep = (d_end <= np.minimum(buf, 50.0)) | ((d_end <= buf) & (d_end < d_nb))
    keep &= ~np.isin(ends, np.asarray(exclude_nodes, dtype=np.int64))
    cand_ids = np.union1d(ends[keep], np.asarray(include_nodes, dtype=np.int64))
    missing = sorted({int(i) for i in cand_ids} - set(nodes.index.tolist()))
    if missing:
        raise InvalidValueError(f"external zones: include_nodes {missing} are not nodes of network {network.name!r}")
    cols = ZONE_COLUMNS + ["nodes_out", "nodes_in", "weight", "geometry"]
    if len(cand_ids) == 0:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry="geometry", crs=crs)
    xy = np.column_stack([nodes.loc[cand_ids].geometry.x.to_numpy(), nodes.loc[cand_ids].geometry.y.to_numpy()])
    pairs_c = cKDTree(xy).query_pairs(cluster_m, output_type="ndarray")
    g = coo_matrix((np.ones(len(pairs_c)), (pairs_c[:, 0], pairs_c[:, 1])), shape=(len(xy), len(xy)))
    _, lab = connected_components(g, directed=False)
    out_cap = car.groupby("from_node")["capacity_vph"].sum()
    in_cap = car.groupby("to_node")["capacity_vph"].sum()
    cx, cy = poly.centroid.x, poly.centroid.y
    rows = []
    for k in np.unique(lab):
        ids = cand_ids[lab == k]
        p = xy[lab == k].mean(axis=0)
        n_out = [int(i) for i in ids if i in out_cap.index]
        n_in = [int(i) for i in ids if i in in_cap.index]
        w = float(out_cap.reindex(n_out).fillna(0).sum() + in_cap.reindex(n_in).fillna(0).sum()) / 2.0
        bearing = float(np.degrees(np.arctan2(p[0] - cx, p[1] - cy)) % 360.0)
        rows.append({"bearing": bearing, "x": p[0], "y": p[1], "nodes_out": n_out, "nodes_in": n_in, "weight": w})
    df = pd.DataFrame(rows).sort_values(["bearing", "x", "y"]).reset_index(drop=True)
    df["zone"] = [f"ext{i + 1}" for i in range(len(df))]
    df["kind"] = "external"
    df["population"] = 0.0
    df["jobs"] = 0.0
    return gpd.GeoDataFrame(df[cols[:-1]], geometry=shapely.points(df[["x", "y"]].to_numpy()), crs=crs)


def network_external_zones(network: RoadNetwork) -> gpd.GeoDataFrame:
    """The network's own zone nodes (e.g. Athens' 9 boundary zones) as external zones.

    Their weight is the capacity of the links leaving and entering them.
    """
    zids = network.zone_ids
    links = network.links[network.links["car_allowed"]]
    out_cap = links.groupby("from_node")["capacity_vph"].sum().reindex(zids).fillna(0.0)
    in_cap = links.groupby("to_node")["capacity_vph"].sum().reindex(zids).fillna(0.0)
    nodes = network.nodes.set_index("node_id").loc[zids]
    return gpd.GeoDataFrame(
        {
            "zone": [f"node{z}" for z in zids],
            "kind": "external",
            "population": 0.0,
            "jobs": 0.0,
            "x": nodes.geometry.x.to_numpy(),
            "y": nodes.geometry.y.to_numpy(),
            "nodes_out": [[] for _ in zids],
            "nodes_in": [[] for _ in zids],
            "weight": ((out_cap + in_cap) / 2.0).to_numpy(),
            "node_id": zids,
        },
        geometry=list(nodes.geometry.values),
        crs=network.crs,
    )


# ------------------------------------------------------------ connect zones
def connect_zones(
    network: RoadNetwork,
    zones: gpd.GeoDataFrame,
    *,
    n_connectors: int = 2,
    speed_kmh: float = 30.0,
    capacity_vph: float = 100_000.0,
    exclude_road_classes: Sequence[str] = (),
    max_distance_m: float | None = 2000.0,
    on_unconnected: str = "error",
) -> RoadNetwork:
    """A new network with a centroid node per zone and connector links (both directions).

    Internal zones are joined to their ``n_connectors`` nearest nodes of the main strongly
    connected car component that touch a car link of a class not in
    ``exclude_road_classes`` (e.g. motorways); external zones (rows with ``nodes_out`` /
    ``nodes_in``) to their boundary nodes. Rows that already carry a ``node_id`` (zone nodes of
    the network) are kept as they are.

    New zone node ids follow the largest existing node id, new link ids the largest existing
    link id, in the order of ``zones`` (so the result is deterministic). Connectors have
    ``road_class = "connector"``, length = straight-line distance (at least 10 m), the given
    speed and capacity, and are closed to walking.

    Parameters
    ----------
    on_unconnected
        ``"error"`` (default): raise naming the zones that have no network access (no
        candidate node within ``max_distance_m``, or an external zone whose boundary nodes do
        not reach the main component); ``"drop"``: leave them out and list them in
        ``network.meta["zones_dropped"]``.

    Returns
    -------
    RoadNetwork
        With ``meta["zones"]``: the zones table (without geometry) plus the ``node_id`` of each zone.

    Examples
    --------
    >>> net2 = connect_zones(net, zones, n_connectors=2, exclude_road_classes=["0"])  # doctest: +SKIP
    >>> net2.zone_ids[:3]  # doctest: +SKIP
    """
    from scipy.spatial import cKDTree

    if on_unconnected not in ("error", "drop"):
        raise InvalidValueError(f"connect_zones: on_unconnected must be 'error' or 'drop', got {on_unconnected!r}")
    for col in ("zone", "x", "y"):
        if col not in zones.columns:
            raise MissingFieldError("zones table", col, expected="a zones column (see ldtkit.model.zones)")
    crs = network.crs
    node_ids, in_main, reaches_main, reached_from_main = _main_component(network)
    links = network.links
    car = links[links["car_allowed"] & (links["capacity_vph"] > 0)]
    okc = car[~car["road_class"].astype(str).isin([str(c) for c in exclude_road_classes]) & (car["road_class"] != CONNECTOR_CLASS)]
    touch = np.unique(np.concatenate([okc["from_node"].to_numpy(np.int64), okc["to_node"].to_numpy(np.int64)]))
    touch = touch[in_main[np.searchsorted(node_ids, touch)]]
    touch = touch[~np.isin(touch, network.zone_ids)]
    if len(touch) == 0:
        raise EmptyStudyAreaError(f"network {network.name!r}: no car node to connect zones to")
    nodes_idx = network.nodes.set_index("node_id")
    cxy = np.column_stack([nodes_idx.loc[touch].geometry.x.to_numpy(), nodes_idx.loc[touch].geometry.y.to_numpy()])
    tree = cKDTree(cxy)
    pos = lambda ids: np.searchsorted(node_ids, np.asarray(ids, dtype=np.int64))

    next_node = int(network.nodes["node_id"].max()) + 1
    rows_links: list[dict[str, Any]] = []
    new_nodes: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    dropped: list[str] = []
    problems: list[str] = []
    zxy = zones[["x", "y"]].to_numpy(np.float64)
    k = max(1, min(int(n_connectors), len(touch)))
    dist_all, idx_all = tree.query(zxy, k=k)
    dist_all = np.asarray(dist_all).reshape(len(zones), k)
    idx_all = np.asarray(idx_all).reshape(len(zones), k)
    for r, z in enumerate(zones.itertuples(index=False)):
        zd = z._asdict()
        if "node_id" in zd and pd.notna(zd.get("node_id")):
            kept.append({**zd, "node_id": int(zd["node_id"])})
            continue
        ext_out = list(zd.get("nodes_out") or []) if isinstance(zd.get("nodes_out"), (list, tuple, np.ndarray)) else []
        ext_in = list(zd.get("nodes_in") or []) if isinstance(zd.get("nodes_in"), (list, tuple, np.ndarray)) else []
        if ext_out or ext_in:
            outs = [n for n in ext_out if reaches_main[pos([n])[0]]]
            ins = [n for n in ext_in if reached_from_main[pos([n])[0]]]
            if not outs and not ins:
                problems.append(
                    f"external zone {zd['zone']!r} at ({zd['x']:.0f}, {zd['y']:.0f}): its boundary nodes {ext_out + ext_in} do not reach the main network"
                )
                dropped.append(str(zd["zone"]))
                continue
        else:
            sel = np.isfinite(dist_all[r]) & ((dist_all[r] <= max_distance_m) if max_distance_m is not None else True)
            if not sel.any():
                problems.append(
                    f"zone {zd['zone']!r} at ({zd['x']:.0f}, {zd['y']:.0f}): no car node within {max_distance_m:g} m "
                    f"(nearest {float(dist_all[r][0]):.0f} m)"
                )
                dropped.append(str(zd["zone"]))
                continue
            outs = ins = [int(touch[i]) for i in idx_all[r][sel]]
        zid = next_node
        next_node += 1
        new_nodes.append({"node_id": zid, "is_zone": True, "geometry": shapely.Point(zd["x"], zd["y"])})
        kept.append({**zd, "node_id": zid})
        for n in outs:
            rows_links.append({"from_node": zid, "to_node": int(n), "ax": zd["x"], "ay": zd["y"], "node": int(n), "out": True})
        for n in ins:
            rows_links.append({"from_node": int(n), "to_node": zid, "ax": zd["x"], "ay": zd["y"], "node": int(n), "out": False})
    if problems and on_unconnected == "error":
        raise EmptyStudyAreaError(
            f"connect_zones: {len(problems)} zones have no network access: "
            + "; ".join(problems[:5])
            + (" ..." if len(problems) > 5 else "")
            + " (set on_unconnected='drop' to leave them out)"
        )
    if not rows_links:
        raise EmptyStudyAreaError("connect_zones: no zone could be connected")
    cl = pd.DataFrame(rows_links)
    nx = nodes_idx.loc[cl["node"].to_numpy()].geometry.x.to_numpy()
    ny = nodes_idx.loc[cl["node"].to_numpy()].geometry.y.to_numpy()
    L = np.maximum(np.hypot(nx - cl["ax"].to_numpy(), ny - cl["ay"].to_numpy()), 10.0)
    out = cl["out"].to_numpy()
    geom = shapely.linestrings(
        np.stack(
            [
                np.column_stack([np.where(out, cl["ax"], nx), np.where(out, cl["ay"], ny)]),
                np.column_stack([np.where(out, nx, cl["ax"]), np.where(out, ny, cl["ay"])]),
            ],
            axis=1,
        )
    )
    first_link = int(links["link_id"].max()) + 1 if len(links) else 1
    new_links = pd.DataFrame(
        {
            "link_id": np.arange(first_link, first_link + len(cl), dtype=np.int64),
            "from_node": cl["from_node"].to_numpy(np.int64),
            "to_node": cl["to_node"].to_numpy(np.int64),
            "length_m": L,
            "lanes": 1.0,
            "capacity_vph": float(capacity_vph),
            "free_speed_kmh": float(speed_kmh),
            "free_flow_time_min": L / 1000.0 / float(speed_kmh) * 60.0,
            "b": 0.15,
            "power": 4.0,
            "road_class": CONNECTOR_CLASS,
            "name": "",
            "bridge": False,
            "tunnel": False,
            "car_allowed": True,
            "hgv_allowed": True,
            "walk_allowed": False,
            "source_id": None,
            "reversed": False,
        }
    )
    new_links = gpd.GeoDataFrame(new_links, geometry=geom, crs=crs)
    all_links = pd.concat([links, new_links], ignore_index=True)
    all_links = conform_links(
        gpd.GeoDataFrame(all_links, geometry="geometry", crs=crs), source=f"{network.name} + zone connectors", crs=crs
    )
    nn = gpd.GeoDataFrame(new_nodes, geometry="geometry", crs=crs)
    all_nodes = conform_nodes(
        gpd.GeoDataFrame(pd.concat([network.nodes, nn], ignore_index=True), geometry="geometry", crs=crs), source=network.name, crs=crs
    )
    table = pd.DataFrame(kept).drop(columns=["geometry"], errors="ignore")
    meta = {**network.meta, "zones": table, "zones_dropped": dropped, "zone_connectors": int(len(new_links))}
    return replace(network, links=all_links, nodes=all_nodes, meta=meta)
