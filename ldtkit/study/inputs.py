"""A city's shared model inputs from its ``city.toml``: zones, connectors and baseline demand.

Examples
--------
>>> from ldtkit.study.city import load_city
>>> city = load_city("ghent")  # doctest: +SKIP
>>> net, demand = demand_for_city(city, city.load_network())  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ldtkit.errors import ConfigError
from ldtkit.model.demand import DEFAULT_HOURLY_PROFILE, Demand, generate_demand
from ldtkit.model.network import RoadNetwork
from ldtkit.study.city import City, load_city

_DEMAND_KEYS = {
    "zoning", "area", "area_buffer_m", "cell_m", "min_activity", "population_total", "jobs_total",
    "total_vph", "heavy_share", "mean_trip_km", "mean_trip_min", "external_share", "through_share",
    "heavy_external_factor", "hourly_profile", "pcu", "corine", "blocks", "osm", "grid", "external",
    "connectors", "trip_ends", "sources", "notes",
}  # fmt: skip


def _sub(cfg: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    v = cfg.get(key, {})
    if not isinstance(v, Mapping):
        raise ConfigError(f"{where}: [demand.{key}] must be a table, got {type(v).__name__}")
    return dict(v)


def zones_for_city(city: City, network: RoadNetwork) -> pd.DataFrame:
    """The internal and external zones of a city from ``[demand]`` of its ``city.toml`` (not yet connected)."""
    import geopandas as gpd

    from ldtkit.model import zones as Z

    cfg = city.section("demand")
    where = str(city.config_path)
    unknown = sorted(set(cfg) - _DEMAND_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown keys in [demand]: {unknown}; expected some of {sorted(_DEMAND_KEYS)}")
    zoning = city.require("demand", "zoning", expected='one of "corine", "blocks", "osm_buildings", "grid"')
    crs = str(network.crs)
    area_cfg = cfg.get("area", "network")
    if area_cfg == "network":
        area = Z.network_area(network, buffer_m=float(cfg.get("area_buffer_m", 0.0)))
    else:
        area = Z.area_polygon(city.path(area_cfg, field_name="demand.area"), crs)
        if cfg.get("area_buffer_m"):
            area = area.buffer(float(cfg["area_buffer_m"]))
    common = {"crs": crs, "min_activity": float(cfg.get("min_activity", 1.0))}
    if "cell_m" in cfg:
        common["cell_m"] = float(cfg["cell_m"])
    pop_t = cfg.get("population_total")
    job_t = cfg.get("jobs_total")
    if zoning == "corine":
        c = _sub(cfg, "corine", where)
        if "raster" not in c:
            raise ConfigError(f"{where}: [demand.corine] needs raster (the CORINE GeoTIFF) and legend")
        zones = Z.zones_from_corine(
            city.path(c["raster"], field_name="demand.corine.raster"),
            city.path(c["legend"], field_name="demand.corine.legend") if c.get("legend") else None,
            area, density=c.get("density"), population_total=pop_t, jobs_total=job_t, **common,
        )  # fmt: skip
    elif zoning == "blocks":
        c = _sub(cfg, "blocks", where)
        if "path" not in c:
            raise ConfigError(f"{where}: [demand.blocks] needs path (the block polygons file)")
        zones = Z.zones_from_blocks(
            city.path(c["path"], field_name="demand.blocks.path"), area,
            residents_per_ha=c.get("residents_per_ha"), population_total=c.get("population_total_of_file"),
            jobs_per_resident=float(c.get("jobs_per_resident", 1.0)), max_block_area_m2=c.get("max_block_area_m2"), **common,
        )  # fmt: skip
        if pop_t is not None or job_t is not None:
            zones["population"] = Z.rescale_to_total(zones["population"].to_numpy(), pop_t, what="residents")
            zones["jobs"] = Z.rescale_to_total(zones["jobs"].to_numpy(), job_t, what="jobs")
    elif zoning == "osm_buildings":
        c = _sub(cfg, "osm", where)
        path = c.get("path") or city.section("network").get("path")
        if not path:
            raise ConfigError(f"{where}: [demand.osm] needs path (an OSM extract) or [network] path")
        opts = {k: v for k, v in c.items() if k != "path"}
        zones = Z.zones_from_osm_buildings(
            city.path(path, field_name="demand.osm.path"), area, options=opts, population_total=pop_t, jobs_total=job_t, **common
        )
    elif zoning == "grid":
        c = _sub(cfg, "grid", where)
        if pop_t is None or job_t is None:
            raise ConfigError(f"{where}: zoning = 'grid' needs population_total and jobs_total in [demand]")
        zones = Z.zones_from_network_grid(
            network, area, population_total=float(pop_t), jobs_total=float(job_t), local_classes=c.get("local_classes"),
            **{k: v for k, v in common.items() if k != "crs"},
        )  # fmt: skip
    else:
        raise ConfigError(f"{where}: demand.zoning = {zoning!r}; expected one of 'corine', 'blocks', 'osm_buildings', 'grid'")

    ext = _sub(cfg, "external", where)
    src = ext.get("source", "gateways" if (cfg.get("external_share", 0) or cfg.get("through_share", 0)) else "none")
    if src == "gateways":
        if "road_classes" not in ext:
            raise ConfigError(f"{where}: [demand.external] needs road_classes (the classes of major roads)")
        e_area = area if "boundary" not in ext else Z.area_polygon(city.path(ext["boundary"], field_name="demand.external.boundary"), crs)
        ez = Z.external_zones(
            network, e_area, road_classes=ext["road_classes"], boundary_buffer_m=ext.get("boundary_buffer_m", 300.0),
            cluster_m=float(ext.get("cluster_m", 150.0)), include_nodes=ext.get("include_nodes", ()),
            exclude_nodes=ext.get("exclude_nodes", ()),
        )  # fmt: skip
    elif src == "network_zones":
        ez = Z.network_external_zones(network)
    elif src == "none":
        ez = None
    else:
        raise ConfigError(f"{where}: demand.external.source = {src!r}; expected 'gateways', 'network_zones' or 'none'")
    if ez is not None and len(ez):
        zones = gpd.GeoDataFrame(pd.concat([zones, ez], ignore_index=True), geometry="geometry", crs=crs)
    return zones


def demand_for_city(city: City | str | Path, network: RoadNetwork | None = None, *, progress: bool = True) -> tuple[RoadNetwork, Demand]:
    """Zones, connectors and a baseline OD demand for a city, from ``[demand]`` of its ``city.toml``.

    Steps: zoning (CORINE, blocks, OSM buildings or grid) → external gateways → zone centroids
    and connectors (:func:`ldtkit.model.zones.connect_zones`) → gravity distribution calibrated to
    the target mean trip length (:func:`generate_demand`).

    Parameters
    ----------
    city
        A :class:`~ldtkit.study.city.City` or a city name/folder.
    network
        The city's network (default: ``city.load_network()``); must not have zone connectors yet.
    progress
        Show a tqdm progress bar over the steps.

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
    if network is None:
        network = city.load_network()
    cfg = city.section("demand")
    where = str(city.config_path)
    if not cfg:
        raise ConfigError(f"{where}: no [demand] table")
    bar = tqdm(total=3, desc=f"demand {city.name}", disable=not progress)
    bar.set_postfix_str("zones")
    zones = zones_for_city(city, network)
    bar.update()
    con = _sub(cfg, "connectors", where)
    bar.set_postfix_str("connectors")
    net = connect_zones(
        network, zones, n_connectors=int(con.get("n_connectors", 2)), speed_kmh=float(con.get("speed_kmh", 30.0)),
        capacity_vph=float(con.get("capacity_vph", 100_000.0)), exclude_road_classes=con.get("exclude_road_classes", ()),
        max_distance_m=con.get("max_distance_m", 2000.0), on_unconnected=con.get("on_unconnected", "error"),
    )  # fmt: skip
    bar.update()
    bar.set_postfix_str("gravity")
    for key in ("total_vph", "heavy_share"):
        city.require("demand", key, expected="a number")
    profile = cfg.get("hourly_profile", DEFAULT_HOURLY_PROFILE)
    demand = generate_demand(
        net, net.meta["zones"], total_vph=float(cfg["total_vph"]), heavy_share=float(cfg["heavy_share"]),
        mean_trip_km=cfg.get("mean_trip_km"), mean_trip_min=cfg.get("mean_trip_min"),
        external_share=float(cfg.get("external_share", 0.0)), through_share=float(cfg.get("through_share", 0.0)),
        heavy_external_factor=float(cfg.get("heavy_external_factor", 1.0)), trip_ends=cfg.get("trip_ends"),
        hourly_profile=profile, pcu=cfg.get("pcu"),
    )  # fmt: skip
    bar.update()
    bar.close()
    demand.meta.update({"city": city.name, "zoning": cfg["zoning"], "zones_dropped": net.meta.get("zones_dropped", [])})
    return net, demand
