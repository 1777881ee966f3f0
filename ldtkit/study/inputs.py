"""A city's shared model inputs from its ``city.toml``: zones, connectors and baseline demand.

Reads the typed ``[demand]`` of :attr:`City.config <ldtkit.study.city.City.config>`
(:class:`~ldtkit.study.config.DemandConfig`), already checked and with its defaults resolved.

Examples
--------
>>> from ldtkit.study.city import load_city
>>> city = load_city("ghent")  # doctest: +SKIP
>>> net, demand = demand_for_city(city, city.load_network())  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from ldtkit.errors import ConfigError, LdtkitError
from ldtkit.model.demand import Demand, generate_demand
from ldtkit.model.network import RoadNetwork
from ldtkit.model.zones import reattach_connectors
from ldtkit.study.city import City, load_city
from ldtkit.study.config import DemandConfig

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

    from ldtkit.model.buildings import Buildings
    from ldtkit.model.noise import NoisePropagation
    from ldtkit.model.noise.terrain import Terrain
    from ldtkit.model.receptors import Receptors

__all__ = [
    "demand_config",
    "focus_bounds",
    "focus_receptors",
    "demand_for_city",
    "noise_buildings",
    "noise_terrain",
    "demand_from_od_matrix",
    "on_disconnected_for",
    "reattach_connectors",
    "reattach_walk_m",
    "zone_population",
    "zones_for_city",
]


def on_disconnected_for(city: City, requested: str) -> str:
    """What to do with trips a measure leaves without a route: ``"raise"`` when asked for (``--strict``)
    or set by ``[demand] on_disconnected = "raise"``, else ``"drop"`` (assign the rest, report them).

    Examples
    --------
    >>> on_disconnected_for(load_city("athens"), "drop"), on_disconnected_for(load_city("athens"), "raise")
    ('drop', 'raise')
    """
    demand = city.config.demand
    configured = demand.on_disconnected if demand is not None else "drop"
    return "raise" if "raise" in (requested, configured) else "drop"


def reattach_walk_m(city: City) -> float:
    """``[demand.connectors] reattach_max_walk_m``: how far a closed street's connectors may move (m).

    Examples
    --------
    >>> reattach_walk_m(load_city("ghent")), reattach_walk_m(load_city("athens"))
    (500.0, 600.0)
    """
    demand = city.config.demand
    return float(demand.connectors.reattach_max_walk_m) if demand is not None else 500.0


def demand_config(city: City) -> DemandConfig:
    """``[demand]`` of the city, or :class:`ConfigError` when the file has none."""
    if city.config.demand is None:
        raise ConfigError(f"{city.config_path}: no [demand] table")
    return city.config.demand


def zones_for_city(city: City, network: RoadNetwork) -> pd.DataFrame:
    """The internal and external zones of a city from ``[demand]`` of its ``city.toml`` (not yet connected)."""
    import geopandas as gpd

    from ldtkit.model import zones as Z

    cfg = demand_config(city)
    crs = str(network.crs)
    if cfg.area == "network":
        area = Z.network_area(network, buffer_m=cfg.area_buffer_m)
    else:
        area = Z.area_polygon(city.path(cfg.area, field_name="demand.area"), crs)
        if cfg.area_buffer_m:
            area = area.buffer(cfg.area_buffer_m)
    cell_m = float(cfg.cell_m) if cfg.cell_m is not None else None  # resolved per zoning by the parser
    # the parser has checked that the zoning's own table and totals are there
    if cfg.zoning == "corine":
        assert cfg.corine is not None and cell_m is not None
        c = cfg.corine
        # CLC codes are TOML keys, hence strings; the model takes int or str codes
        density = cast("Mapping[int | str, Sequence[float]] | None", c.density)
        zones: pd.DataFrame = Z.zones_from_corine(
            city.path(c.raster, field_name="demand.corine.raster"),
            city.path(c.legend, field_name="demand.corine.legend") if c.legend else None,
            area, crs=crs, cell_m=cell_m, density=density, population_total=cfg.population_total,
            jobs_total=cfg.jobs_total, min_activity=cfg.min_activity,
        )  # fmt: skip
    elif cfg.zoning == "blocks":
        assert cfg.blocks is not None and cell_m is not None
        b = cfg.blocks
        zones = Z.zones_from_blocks(
            city.path(b.path, field_name="demand.blocks.path"), area, crs=crs, cell_m=cell_m,
            residents_per_ha=b.residents_per_ha, population_total=b.population_total_of_file,
            jobs_per_resident=b.jobs_per_resident, max_block_area_m2=b.max_block_area_m2, min_activity=cfg.min_activity,
        )  # fmt: skip
        if cfg.population_total is not None or cfg.jobs_total is not None:
            zones["population"] = Z.rescale_to_total(zones["population"].to_numpy(), cfg.population_total, what="residents")
            zones["jobs"] = Z.rescale_to_total(zones["jobs"].to_numpy(), cfg.jobs_total, what="jobs")
    elif cfg.zoning == "osm_buildings":
        o = cfg.osm
        net_path = city.config.network.path if city.config.network is not None else None
        path = o.path or net_path
        assert path is not None and cell_m is not None
        options = {
            "m2_per_resident": o.m2_per_resident, "m2_per_job": o.m2_per_job, "default_levels": o.default_levels,
            "residential_share_untagged": o.residential_share_untagged, "residential_types": list(o.residential_types),
            "ignore_types": list(o.ignore_types),
        }  # fmt: skip
        zones = Z.zones_from_osm_buildings(
            city.path(path, field_name="demand.osm.path"), area, crs=crs, cell_m=cell_m, options=options,
            population_total=cfg.population_total, jobs_total=cfg.jobs_total, min_activity=cfg.min_activity,
        )  # fmt: skip
    else:  # grid
        assert cfg.population_total is not None and cfg.jobs_total is not None and cell_m is not None
        zones = Z.zones_from_network_grid(
            network, area, cell_m=cell_m, population_total=cfg.population_total, jobs_total=cfg.jobs_total,
            local_classes=cfg.grid.local_classes, min_activity=cfg.min_activity,
        )  # fmt: skip

    ext = cfg.external
    if ext.source == "gateways":
        assert ext.road_classes is not None
        e_area = area if ext.boundary is None else Z.area_polygon(city.path(ext.boundary, field_name="demand.external.boundary"), crs)
        ez = Z.external_zones(
            network, e_area, road_classes=ext.road_classes, boundary_buffer_m=ext.boundary_buffer_m, cluster_m=ext.cluster_m,
            include_nodes=ext.include_nodes, exclude_nodes=ext.exclude_nodes,
        )  # fmt: skip
    elif ext.source == "network_zones":
        ez = Z.network_external_zones(network)
    else:
        ez = None
    if ez is not None and len(ez):
        zones = gpd.GeoDataFrame(pd.concat([zones, ez], ignore_index=True), geometry="geometry", crs=crs)
    return zones


def demand_for_city(
    city: City | str | Path, network: RoadNetwork | None = None, *, progress: bool = True, od_matrix: bool = True
) -> tuple[RoadNetwork, Demand]:
    """Zones, connectors and a baseline OD demand for a city, from ``[demand]`` of its ``city.toml``.

    Steps: zoning (CORINE, blocks, OSM buildings or grid) → external gateways → zone centroids
    and connectors (:func:`ldtkit.model.zones.connect_zones`) → gravity distribution calibrated to
    the target mean trip length (:func:`generate_demand`) → with ``[demand] od_matrix``, the trips
    of that file instead of the gravity model's (:func:`demand_from_od_matrix`).

    Parameters
    ----------
    city
        A :class:`~ldtkit.study.city.City` or a city name/folder.
    network
        The city's network (default: ``city.load_network()``); must not have zone connectors yet.
    progress
        Show a tqdm progress bar over the steps.
    od_matrix
        Use ``[demand] od_matrix`` when the city sets it (``False``: the synthesised demand, the
        prior that ``ldtkit calibrate`` starts from).

    Returns
    -------
    (RoadNetwork, Demand)
        The network with zone centroid nodes and connector links, and the day-hour demand
        (vehicles/h) with ``period_factors`` from the configured hourly profile.

    Examples
    --------
    >>> from ldtkit.study.city import load_city
    >>> city = load_city("ghent")  # doctest: +SKIP
    >>> net, demand = demand_for_city(city, city.load_network())  # doctest: +SKIP
    >>> round(demand.total())  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    from ldtkit.model.zones import connect_zones

    if not isinstance(city, City):
        city = load_city(city)
    cfg = demand_config(city)
    if network is None:
        network = city.load_network()
    bar = tqdm(total=3, desc=f"demand {city.name}", disable=not progress)
    bar.set_postfix_str("zones")
    zones = zones_for_city(city, network)
    bar.update()
    con = cfg.connectors
    bar.set_postfix_str("connectors")
    net = connect_zones(
        network, zones, n_connectors=con.n_connectors, speed_kmh=con.speed_kmh, capacity_vph=con.capacity_vph,
        exclude_road_classes=con.exclude_road_classes, max_distance_m=con.max_distance_m, on_unconnected=con.on_unconnected,
    )  # fmt: skip
    bar.update()
    bar.set_postfix_str("gravity")
    demand = generate_demand(
        net, net.meta["zones"], total_vph=cfg.total_vph, heavy_share=cfg.heavy_share, mean_trip_km=cfg.mean_trip_km,
        mean_trip_min=cfg.mean_trip_min, external_share=cfg.external_share, through_share=cfg.through_share,
        heavy_external_factor=cfg.heavy_external_factor, trip_ends=cfg.trip_ends.as_dict(), hourly_profile=cfg.hourly_profile,
        pcu=cfg.pcu, relax=True,
    )  # fmt: skip
    bar.update()
    bar.close()
    access = net.meta.get("zones_access", {})
    demand.meta.update(
        {"city": city.name, "zoning": cfg.zoning, "zones_dropped": net.meta.get("zones_dropped", []), "zones_access": access}
    )
    for line in demand_warnings(demand.meta, source=str(city.config_path)):
        warnings.warn(line, stacklevel=2)
    if od_matrix and cfg.od_matrix is not None:
        demand = demand_from_od_matrix(demand, city.path(cfg.od_matrix, field_name="demand.od_matrix"), source=str(city.config_path))
    return net, demand


def demand_from_od_matrix(synthesised: Demand, path: Path, *, source: str) -> Demand:
    """The trips of the OpenMatrix file ``path`` on the zones, PCU factors and periods of ``synthesised``.

    The file must hold the same zones (in any order) and vehicle classes, e.g. a matrix
    ``ldtkit calibrate`` wrote for this city; anything else is an error naming both.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from ldtkit.model.demand import write_omx
    >>> d = Demand(np.array([1, 2]), {"light": np.array([[0.0, 10.0], [5.0, 0.0]])})
    >>> f = write_omx(Demand(np.array([2, 1]), {"light": np.array([[0.0, 6.0], [12.0, 0.0]])}), Path(tempfile.mkdtemp()) / "t.omx")
    >>> demand_from_od_matrix(d, f, source="city.toml").trips["light"].tolist()
    [[0.0, 12.0], [6.0, 0.0]]
    """
    import numpy as np

    from ldtkit.model.demand import read_omx

    got = read_omx(path)
    want_z = np.asarray(synthesised.zone_ids, dtype=np.int64)
    have_z = np.asarray(got.zone_ids, dtype=np.int64)
    if sorted(got.trips) != sorted(synthesised.trips) or set(want_z.tolist()) != set(have_z.tolist()) or len(want_z) != len(have_z):
        extra, missing = sorted(set(have_z.tolist()) - set(want_z.tolist())), sorted(set(want_z.tolist()) - set(have_z.tolist()))
        raise ConfigError(
            f"{source}: [demand] od_matrix {path} does not fit the city's zones and classes: classes {sorted(got.trips)}, "
            f"expected {sorted(synthesised.trips)}; zones not in the city {extra[:5]}, city zones missing {missing[:5]} "
            "(zones change with [demand] and [network]: run 'ldtkit calibrate' again)"
        )
    order = np.argsort(have_z)[np.searchsorted(np.sort(have_z), want_z)]
    trips = {c: np.asarray(got.trips[c], dtype=np.float64)[np.ix_(order, order)] for c in synthesised.trips}
    meta = {**synthesised.meta, "od_matrix": str(path), "synthesised_total_vph": synthesised.total()}
    return Demand(zone_ids=want_z, trips=trips, pcu=dict(synthesised.pcu), period_factors=dict(synthesised.period_factors), meta=meta)


def demand_warnings(meta: Mapping[str, Any], *, source: str) -> list[str]:
    """One line per thing the demand model had to relax: zones left out or given long connectors, balancing.

    Examples
    --------
    >>> demand_warnings({"zones_access": {"zones_dropped": 0, "zones_extended": 2, "population_share_extended": 0.013}}, source="x/city.toml")
    ['x/city.toml: 2 zones (1.3 % of residents) have no car node within [demand.connectors] max_distance_m: joined to the nearest one']
    """
    out: list[str] = []
    acc = meta.get("zones_access", {})
    if acc.get("zones_extended"):
        out.append(
            f"{source}: {acc['zones_extended']} zones ({100 * acc['population_share_extended']:.1f} % of residents) have no car node "
            "within [demand.connectors] max_distance_m: joined to the nearest one"
        )
    if acc.get("zones_dropped"):
        out.append(
            f"{source}: {acc['zones_dropped']} zones ({100 * acc['population_share_dropped']:.1f} % of residents) have no network "
            "access and are left out ([demand.connectors] on_unconnected)"
        )
    rel = meta.get("relaxed", {})
    if rel.get("origins") or rel.get("destinations"):
        o, d = rel.get("origins", []), rel.get("destinations", [])
        out.append(
            f"{source}: the gravity model could not meet the trip totals of {len(o)} origin and {len(d)} destination zones "
            f"(e.g. {(o + d)[:5]}): they were relaxed (zones reachable one way only, isolated, or holding most of the activity)"
        )
    targets, got = meta.get("targets", {}), meta.get("mean_trip_km_internal")
    if "mean_trip_km" in targets and got is not None and abs(got - targets["mean_trip_km"]) > 0.01 * targets["mean_trip_km"]:
        out.append(
            f"{source}: [demand] mean_trip_km = {targets['mean_trip_km']:g} is out of reach on this network; "
            f"the closest possible, {got:.2f} km, is used"
        )
    return out


def zone_population(city: City, network: RoadNetwork, zones: pd.DataFrame | None) -> gpd.GeoDataFrame | None:
    """Residents per zone as polygons: the zones' own polygons, else squares of ``[demand] cell_m``
    around the zone centres (zoning aggregates land use, blocks or buildings to such cells)."""
    import geopandas as gpd
    import shapely

    if zones is None or "population" not in getattr(zones, "columns", []):
        return None
    z = zones[zones["population"] > 0]
    if "geometry" in z.columns and isinstance(z, gpd.GeoDataFrame):
        pop = z[["population", "geometry"]].to_crs(network.crs)
        return pop[pop.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if not {"x", "y"} <= set(z.columns):
        return None
    cell_m = city.config.demand.cell_m if city.config.demand is not None else None
    half = float(cell_m if cell_m is not None else 500.0) / 2.0
    x, y = z["x"].to_numpy(float), z["y"].to_numpy(float)
    return gpd.GeoDataFrame(
        {"population": z["population"].to_numpy(float)}, geometry=shapely.box(x - half, y - half, x + half, y + half), crs=network.crs
    )


def noise_buildings(city: City) -> Buildings | None:
    """The buildings that screen the city's noise paths, as ``[noise] buildings`` says (None: open field).

    ``osm``: the ``building=*`` areas of the network's OpenStreetMap extract (a building without a
    height, levels or known type gets :data:`~ldtkit.model.buildings.HEIGHT_BY_TYPE_M` ``["yes"]``);
    ``blocks``: the ``[demand.blocks]`` polygons at ``[noise] block_height_m``; ``auto``: ``osm`` for an
    OpenStreetMap network, ``blocks`` for block zoning, else none.

    Examples
    --------
    >>> b = noise_buildings(load_city("porto"))  # doctest: +SKIP
    """
    from ldtkit.model.buildings import HEIGHT_BY_TYPE_M, buildings_from_blocks, buildings_from_osm

    cfg = city.config
    mode = cfg.noise.buildings
    net, demand = cfg.network, cfg.demand
    if mode == "auto":
        mode = (
            "osm" if net is not None and net.source == "osm" else "blocks" if demand is not None and demand.zoning == "blocks" else "none"
        )
    if mode == "osm":
        if net is None or net.source != "osm" or net.path is None:
            raise ConfigError(f"{city.config_path}: [noise] buildings = 'osm' needs an OpenStreetMap network ([network] source = 'osm')")
        path = city.path(net.path, field_name="network.path")
        return buildings_from_osm(path, crs=cfg.crs, fallback_height_m=HEIGHT_BY_TYPE_M["yes"])
    if mode == "blocks":
        if demand is None or demand.blocks is None:
            raise ConfigError(f"{city.config_path}: [noise] buildings = 'blocks' needs a [demand.blocks] path")
        path = city.path(demand.blocks.path, field_name="demand.blocks.path")
        return buildings_from_blocks(path, height_m=cfg.noise.block_height_m, crs=cfg.crs)
    return None


def noise_terrain(city: City) -> Terrain | None:
    """The ground elevation of the city's noise paths, from the DEM that ``[noise] terrain`` names (None: flat ground).

    A missing file raises :class:`~ldtkit.errors.InputFileNotFoundError`, a file that is not a raster
    or a DEM in another CRS than the city's :class:`~ldtkit.errors.ConfigError`, naming ``city.toml``
    and the field.

    Examples
    --------
    >>> noise_terrain(load_city("ghent")) is None
    True
    """
    from ldtkit.model.noise.terrain import terrain_from_raster

    rel = city.config.noise.terrain
    if rel is None:
        return None
    path = city.path(rel, field_name="noise.terrain")  # a missing file: InputFileNotFoundError naming city.toml and the field
    try:
        return terrain_from_raster(path, crs=city.config.crs)
    except LdtkitError as exc:
        raise ConfigError(f"{city.config_path}: [noise] terrain = {rel!r}: {exc}") from None


def city_noise_propagation(
    city: City, network: RoadNetwork, receptors: Receptors, *, buildings: Buildings | None, terrain: Terrain | None
) -> NoisePropagation:
    """The traffic-independent part of ``city``'s noise maps on ``receptors``, with its ``[noise]``
    settings, buildings and terrain: the grid's and the façades' maps share it.

    Examples
    --------
    >>> prop = city_noise_propagation(city, net, receptors, buildings=None, terrain=None)  # doctest: +SKIP
    """
    from ldtkit.model.noise import noise_propagation

    cfg = city.config.noise
    return noise_propagation(
        network, receptors, cutoff_m=cfg.cutoff_m, ground_g=cfg.ground_g, p_favourable=cfg.p_favourable,
        temperature_c=cfg.temperature_c, humidity_pct=cfg.humidity_pct, method=cfg.method, buildings=buildings, terrain=terrain,
    )  # fmt: skip


def focus_bounds(city: City, network: RoadNetwork) -> tuple[float, float, float, float]:
    """The focus area of ``[focus] bbox`` (WGS84) in the city's CRS; the whole network if absent."""
    import geopandas as gpd
    from shapely.geometry import box

    bbox = city.config.focus.bbox  # four WGS84 numbers, min < max: checked when the city was loaded
    bounds = network.links.total_bounds if bbox is None else gpd.GeoSeries([box(*bbox)], crs=4326).to_crs(network.crs).total_bounds
    x0, y0, x1, y1 = (float(v) for v in bounds)
    return x0, y0, x1, y1


def focus_receptors(
    city: City, network: RoadNetwork, *, cell_m: float, zones: pd.DataFrame | None = None, height_m: float = 4.0
) -> Receptors:
    """A receptor grid over the focus area, population spread from the demand zones."""
    from ldtkit.model.receptors import receptors_grid

    return receptors_grid(
        focus_bounds(city, network), crs=network.crs, cell_m=cell_m, height_m=height_m, population=zone_population(city, network, zones)
    )
