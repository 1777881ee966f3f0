"""The sections of ``city.toml`` as frozen dataclasses: every key, its type, default, unit and range.

One class per table: :class:`CityConfig` (top level) holds :class:`NetworkConfig`,
:class:`FocusConfig`, :class:`DemandConfig` (with its sub-tables), :class:`NoiseConfig`,
:class:`~ldtkit.model.air.AirConfig` and :class:`CompareConfig`. Each field's metadata
documents the key (see :func:`~ldtkit.study.config.schema.setting`); ``docs/city-config.md``
is rendered from it.

Defaults that the model functions also define (the network loaders, zoning, connectors, gravity
model, noise propagation) are the same values; ``tests/test_city_config.py`` checks them
against the functions' signatures.

Examples
--------
>>> NoiseConfig().cutoff_m
3000.0
>>> ConnectorsConfig().n_connectors
2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ldtkit.model.air import AirConfig
from ldtkit.model.buildings import ATHENS_BLOCK_HEIGHT_M
from ldtkit.model.demand import DEFAULT_HOURLY_PROFILE, DEFAULT_TRIP_ENDS
from ldtkit.model.zones import OSM_BUILDING_DEFAULTS
from ldtkit.study.config.schema import setting

NetworkSource = Literal["osm", "segments", "shapefiles", "tntp"]
Zoning = Literal["corine", "blocks", "osm_buildings", "grid"]
ExternalSource = Literal["gateways", "network_zones", "none"]
BuildingsSource = Literal["auto", "osm", "blocks", "none"]

#: The network sources and the loader each one uses.
NETWORK_SOURCES: tuple[NetworkSource, ...] = ("osm", "segments", "shapefiles", "tntp")
#: Node snapping tolerance (m) by network source when ``snap_tolerance_m`` is not given.
SNAP_TOLERANCE_M_BY_SOURCE = {"segments": 0.5, "shapefiles": 1.0}
#: Aggregation cell (m) by zoning when ``[demand] cell_m`` is not given.
CELL_M_BY_ZONING: dict[str, float] = {"corine": 1000.0, "blocks": 400.0, "osm_buildings": 500.0, "grid": 500.0}
#: The keys of ``[network.mapping]`` (segments): link field -> column of the segment file.
SEGMENT_MAPPING_KEYS = (
    "id", "name", "road_class", "direction", "direction_codes", "bridge", "tunnel", "lanes", "speed_kmh", "capacity_vph", "route",
)  # fmt: skip
#: The meanings of ``[network.mapping.direction_codes]``.
DIRECTION_MEANINGS = ("both", "forward", "backward", "none")

_SEG, _SHP, _OSM, _TNTP = ("segments",), ("shapefiles",), ("osm",), ("tntp",)


@dataclass(frozen=True)
class NetworkAttributesConfig:
    """``[network] attributes``: per-segment values from a CSV table keyed by segment id (segments).

    The values override the road-class defaults (and a mapped `speed_kmh` column) of the segments
    the table lists; the others keep their defaults. A missing file or column, a duplicate id, an id
    that is not a segment of the network (counted, with examples) or a speed that is not > 0 is an
    error naming the file. Ghent's table holds OpenStreetMap speed limits matched onto its segments
    by `tools/conflate_osm_speeds.py` (see `data/README.md`).
    """

    path: str = setting(doc="The CSV file (e.g. speed limits matched from OpenStreetMap).", path=True)
    id: str = setting(doc="Its column of segment ids (values of the `[network.mapping]` `id` column).")
    speed_kmh: str = setting(doc="Its column of speeds, overriding the road-class default speed of the segments listed.")


@dataclass(frozen=True)
class NetworkConfig:
    """``[network]``: where the road network comes from and how to read it."""

    source: NetworkSource = setting(
        doc="Loader: `osm` (OpenStreetMap extract), `segments` (road-segment file with a column mapping), "
        "`shapefiles` (links and nodes files), `tntp` (TNTP folder)."
    )
    path: str | None = setting(
        None, doc="The OSM extract, segment file or TNTP folder (required for those sources).", path=True, applies=(*_OSM, *_SEG, *_TNTP)
    )
    links: str | None = setting(None, doc="Links file (LineStrings; required).", path=True, applies=_SHP)
    nodes: str | None = setting(None, doc="Nodes file (Points; required).", path=True, applies=_SHP)
    layer: str | None = setting(None, doc="Layer to read from a multi-layer segment file.", applies=_SEG)
    mapping: dict[str, Any] | None = setting(
        None,
        doc="Which column of the segment file holds what (required): "
        + ", ".join(f"`{k}`" for k in SEGMENT_MAPPING_KEYS)
        + "; see `ldtkit.model.loaders.segments`.",
        applies=_SEG,
    )
    columns: dict[str, str] | None = setting(
        None, doc="Column names by link field, overriding `ldtkit.model.loaders.shapefiles.DEFAULT_COLUMNS`.", applies=_SHP
    )
    zone_ids: tuple[int, ...] | None = setting(None, doc="Node ids of zone centroids in the files.", applies=_SHP)
    capacity_is_per_lane: bool = setting(False, doc="The capacity column is per lane (multiplied by the lanes).", applies=_SHP)
    snap_tolerance_m: float | None = setting(
        None,
        doc="End points closer than this become one node.",
        unit="m",
        low=0.0,
        default_text="0.5 (segments), 1.0 (shapefiles)",
        applies=(*_SEG, *_SHP),
    )
    default_direction: Literal["both", "forward", "backward", "none"] = setting(
        "both", doc="Direction of segments with an empty direction code.", applies=_SEG
    )
    split_at_junctions: bool = setting(True, doc="Split segments where another one's end touches their interior.", applies=_SEG)
    include_service: bool = setting(True, doc="Load `highway=service` ways except driveways and parking aisles.", applies=_OSM)
    keep_non_car: bool = setting(True, doc="Keep ways without car access as walk links.", applies=(*_OSM, *_SEG, *_SHP))
    cleanup: bool = setting(True, doc="Keep only the largest strongly connected car component.", applies=(*_OSM, *_SEG, *_SHP))
    road_class_defaults: dict[str, dict[str, Any]] | None = setting(
        None,
        doc="Per road class: `speed_kmh`, `lanes` (per direction), `capacity_per_lane_vph`, `car`, optional `hgv`, "
        "`walk`, `label`; default: the loader's table.",
        applies=(*_OSM, *_SEG),
    )
    attributes: NetworkAttributesConfig | None = setting(
        None,
        doc="Per-segment values overriding the road-class defaults: `{ path, id, speed_kmh }`, a CSV keyed by segment id "
        "(segments it does not list keep their defaults; missing columns, duplicate ids or ids that are not segments of "
        "the network are errors), see `[network.attributes]`. Ghent: OpenStreetMap speed limits, see `data/README.md`.",
        applies=_SEG,
    )
    toll_weight: float | None = setting(
        None, doc="Minutes per toll unit in the generalized cost (default: from the folder's README).", low=0.0, applies=_TNTP
    )
    distance_weight: float | None = setting(
        None, doc="Minutes per length unit in the generalized cost (default: from the folder's README).", low=0.0, applies=_TNTP
    )


@dataclass(frozen=True)
class FocusConfig:
    """``[focus]``: the area that maps, receptor grids and dashboards show."""

    bbox: tuple[float, float, float, float] | None = setting(
        None, doc="`[lon_min, lat_min, lon_max, lat_max]` in WGS84 (default: the whole network).", unit="degrees"
    )
    boundary: str | None = setting(None, doc="A polygon file of the focus area, for reference.", path=True)


@dataclass(frozen=True)
class CorineConfig:
    """``[demand.corine]``: zones from a CORINE Land Cover raster (``zoning = "corine"``)."""

    raster: str = setting(doc="The CORINE GeoTIFF.", path=True)
    legend: str | None = setting(None, doc="CSV with columns `code` and `value` when the raster holds legend values.", path=True)
    density: dict[str, tuple[float, float]] | None = setting(
        None,
        doc="`[residents_ha, jobs_ha]` by CLC code, overriding `ldtkit.model.zones.CORINE_DENSITY_DEFAULTS`.",
        unit="per ha",
        low=0.0,
    )


@dataclass(frozen=True)
class BlocksConfig:
    """``[demand.blocks]``: zones from block polygons (``zoning = "blocks"``)."""

    path: str = setting(doc="The block polygons file.", path=True)
    residents_per_ha: float | None = setting(None, doc="Residents per hectare of block area.", unit="1/ha", low=0.0)
    population_total_of_file: float | None = setting(
        None, doc="Residents of the whole file, spread by block area (instead of `residents_per_ha`).", low=0.0
    )
    jobs_per_resident: float = setting(1.0, doc="Jobs (and visits) per resident.", low=0.0)
    max_block_area_m2: float | None = setting(None, doc="Larger blocks are open space (no residents).", unit="m²", low=0.0, low_open=True)


_OSMB = OSM_BUILDING_DEFAULTS


@dataclass(frozen=True)
class OsmBuildingsConfig:
    """``[demand.osm]``: zones from OSM building footprints (``zoning = "osm_buildings"``)."""

    path: str | None = setting(None, doc="The OSM extract (default: `[network] path`).", path=True)
    m2_per_resident: float = setting(
        float(_OSMB["m2_per_resident"]), doc="Residential floor area per resident.", unit="m²", low=0.0, low_open=True
    )
    m2_per_job: float = setting(float(_OSMB["m2_per_job"]), doc="Other floor area per job or visit.", unit="m²", low=0.0, low_open=True)
    default_levels: float = setting(
        float(_OSMB["default_levels"]), doc="Storeys of buildings without `building:levels`.", low=0.0, low_open=True
    )
    residential_share_untagged: float = setting(
        float(_OSMB["residential_share_untagged"]), doc="Residential share of `building=yes` floor area.", low=0.0, high=1.0
    )
    residential_types: tuple[str, ...] = setting(tuple(_OSMB["residential_types"]), doc="`building` values that are homes.")
    ignore_types: tuple[str, ...] = setting(tuple(_OSMB["ignore_types"]), doc="`building` values that host nobody.")


@dataclass(frozen=True)
class GridConfig:
    """``[demand.grid]``: zones from street length on a grid (``zoning = "grid"``)."""

    local_classes: tuple[str, ...] | None = setting(None, doc="Road classes counted for residents (default: every car link).")


@dataclass(frozen=True)
class ExternalConfig:
    """``[demand.external]``: external zones where traffic enters and leaves the study area."""

    source: ExternalSource | None = setting(
        None,
        doc="`gateways` (major roads crossing the boundary), `network_zones` (the network's own zone nodes) or `none`.",
        default_text="`gateways` when external_share or through_share > 0, else `none`",
    )
    road_classes: tuple[str, ...] | None = setting(None, doc="Classes of the major roads (required for `gateways`).")
    boundary: str | None = setting(None, doc="Boundary polygon file (default: the demand area).", path=True)
    boundary_buffer_m: float | dict[str, float] = setting(
        300.0, doc="How far from the boundary a road end counts as a gateway; one value or one per road class.", unit="m", low=0.0
    )
    cluster_m: float = setting(150.0, doc="Road ends closer than this form one external zone.", unit="m", low=0.0)
    include_nodes: tuple[int, ...] = setting((), doc="Gateway nodes added by hand.")
    exclude_nodes: tuple[int, ...] = setting((), doc="Gateway nodes removed by hand.")


@dataclass(frozen=True)
class ConnectorsConfig:
    """``[demand.connectors]``: how zone centroids join the network."""

    n_connectors: int = setting(2, doc="Connectors per internal zone.", low=1)
    speed_kmh: float = setting(30.0, doc="Connector speed.", unit="km/h", low=0.0, low_open=True)
    capacity_vph: float = setting(100_000.0, doc="Connector capacity.", unit="veh/h", low=0.0, low_open=True)
    exclude_road_classes: tuple[str, ...] = setting((), doc="Road classes zones may not connect to (e.g. motorways).")
    max_distance_m: float = setting(2000.0, doc="Farthest node a zone connects to.", unit="m", low=0.0, low_open=True)
    on_unconnected: Literal["error", "drop", "extend"] = setting(
        "extend", doc="A zone with no node in reach: `extend` its connector to the nearest car node, `drop` the zone, or `error`."
    )
    reattach_max_walk_m: float = setting(
        500.0, doc="A measure closing a connector's street moves it to the nearest open road within this distance.", unit="m", low=0.0
    )


@dataclass(frozen=True)
class TripEndWeights:
    """Trips produced or attracted per resident and per job (relative weights)."""

    population: float = setting(doc="Weight per resident.", low=0.0)
    jobs: float = setting(doc="Weight per job.", low=0.0)


_TE = DEFAULT_TRIP_ENDS


@dataclass(frozen=True)
class TripEndsConfig:
    """``[demand.trip_ends]``: how residents and jobs produce and attract trips."""

    production: TripEndWeights = setting(
        factory=lambda: TripEndWeights(**_TE["production"]), doc="Production weights.", default_text="population 1.0, jobs 0.6"
    )
    attraction: TripEndWeights = setting(
        factory=lambda: TripEndWeights(**_TE["attraction"]), doc="Attraction weights.", default_text="population 0.6, jobs 1.0"
    )

    def as_dict(self) -> dict[str, dict[str, float]]:
        """The ``trip_ends`` argument of :func:`ldtkit.model.demand.generate_demand`."""
        return {
            k: {"population": w.population, "jobs": w.jobs} for k, w in (("production", self.production), ("attraction", self.attraction))
        }


@dataclass(frozen=True)
class DemandConfig:
    """``[demand]``: zones, connectors and the baseline OD demand (a mean hour of the day period 07-19)."""

    zoning: Zoning = setting(
        doc="Where residents and jobs come from: `corine`, `blocks`, `osm_buildings` or `grid` (see the sub-table of the same name)."
    )
    total_vph: float = setting(doc="Vehicle trips in a mean day hour.", unit="veh/h", low=0.0, low_open=True)
    heavy_share: float = setting(doc="Share of heavy vehicles among all trips.", low=0.0, high=1.0, high_open=True)
    mean_trip_km: float | None = setting(
        None, doc="Target mean network length of internal trips (give this or `mean_trip_min`).", unit="km", low=0.0, low_open=True
    )
    mean_trip_min: float | None = setting(None, doc="Target mean free-flow time of internal trips.", unit="min", low=0.0, low_open=True)
    area: str = setting("network", doc="Study area: `network` (the network's convex hull) or a polygon file.", path=True)
    area_buffer_m: float = setting(0.0, doc="Buffer around the study area.", unit="m", low=0.0)
    cell_m: float | None = setting(
        None,
        doc="Zones aggregate land use, blocks or buildings to square cells of this size.",
        unit="m",
        low=0.0,
        low_open=True,
        default_text="1000 (corine), 400 (blocks), 500 (osm_buildings, grid)",
    )
    min_activity: float = setting(1.0, doc="Cells with fewer residents plus jobs are dropped.", low=0.0)
    population_total: float | None = setting(None, doc="Residents of the study area (zones are rescaled to it).", low=0.0)
    jobs_total: float | None = setting(None, doc="Jobs of the study area (zones are rescaled to it).", low=0.0)
    external_share: float = setting(0.0, doc="Share of trips with one external end.", low=0.0, high=1.0, high_open=True)
    through_share: float = setting(0.0, doc="Share of trips crossing the study area.", low=0.0, high=1.0, high_open=True)
    heavy_external_factor: float = setting(1.0, doc="How many times more frequent heavy vehicles are on external trips.", low=0.0)
    on_disconnected: Literal["drop", "raise"] = setting(
        "drop", doc="Trips a measure leaves without a route: `drop` (assign the rest, report them) or `raise` (stop with an error)."
    )
    hourly_profile: tuple[float, ...] = setting(
        DEFAULT_HOURLY_PROFILE, doc="Share of daily traffic in each hour 00-01 ... 23-24 (24 values).", low=0.0
    )
    pcu: dict[str, float] = setting(
        factory=lambda: {"light": 1.0, "heavy": 2.0}, doc="Passenger-car units per vehicle class.", low=0.0, low_open=True
    )
    trip_ends: TripEndsConfig = setting(factory=TripEndsConfig, doc="See `[demand.trip_ends]`.")
    corine: CorineConfig | None = setting(None, doc="See `[demand.corine]`.")
    blocks: BlocksConfig | None = setting(None, doc="See `[demand.blocks]`.")
    osm: OsmBuildingsConfig = setting(factory=OsmBuildingsConfig, doc="See `[demand.osm]`.")
    grid: GridConfig = setting(factory=GridConfig, doc="See `[demand.grid]`.")
    external: ExternalConfig = setting(factory=ExternalConfig, doc="See `[demand.external]`.")
    connectors: ConnectorsConfig = setting(factory=ConnectorsConfig, doc="See `[demand.connectors]`.")
    od_matrix: str | None = setting(
        None,
        doc=(
            "An OpenMatrix file (e.g. `calibrated/trips.omx`, written by `ldtkit calibrate CITY`) whose trips replace the "
            "synthesised OD matrix in every run and scenario; zones and connectors still come from the keys above, and its "
            "zones must be theirs."
        ),
        path=True,
    )
    counts: str | None = setting(
        None,
        doc=(
            "Traffic counts (CSV, Telraam JSON or NGSI-LD `TrafficFlowObserved`, see docs/observations.md): the reports "
            "show the baseline's validation table and 1:1 plot against them."
        ),
        path=True,
    )
    sources: str | tuple[str, ...] = setting("", doc="Where the figures come from (free text, not read by the models).")
    notes: str = setting("", doc="Free text, not read by the models.")


@dataclass(frozen=True)
class NoiseConfig:
    """``[noise]``: CNOSSOS-EU settings of the noise maps (see :func:`ldtkit.model.noise.noise_propagation`)."""

    cutoff_m: float = setting(3000.0, doc="Point sources farther than this are ignored.", unit="m", low=0.0, low_open=True)
    ground_g: float = setting(0.5, doc="Ground factor G of the propagation area (0 hard ... 1 porous).", low=0.0, high=1.0)
    p_favourable: float = setting(0.5, doc="Occurrence of favourable (downward-refracting) conditions.", low=0.0, high=1.0)
    temperature_c: float = setting(15.0, doc="Air temperature (absorption and road emission).", unit="°C")
    humidity_pct: float = setting(70.0, doc="Relative humidity (ISO 9613-1 absorption).", unit="%", low=0.0, high=100.0)
    method: Literal["table", "exact"] = setting("table", doc="`table` (interpolated ground and air terms) or `exact`.")
    coefficients: Literal["2021", "2015"] = setting("2021", doc="CNOSSOS-EU road emission coefficient set.")
    surface: str = setting("DEF", doc="Road surface of Table F-4 (`DEF`: the reference surface).")
    buildings: BuildingsSource = setting(
        "auto",
        doc="Buildings that screen the noise paths (receptors inside them are masked): `osm` (the `building=*` areas of the "
        "network's OpenStreetMap extract), `blocks` (the `[demand.blocks]` polygons, each at `block_height_m`), `none` (open "
        "field); `auto`: `osm` for an OpenStreetMap network, `blocks` for block zoning, else `none`.",
    )
    block_height_m: float = setting(
        ATHENS_BLOCK_HEIGHT_M, doc='Assumed height of every block with `buildings = "blocks"`.', unit="m", low=0.0, low_open=True
    )
    terrain: str | None = setting(
        None,
        doc=(
            "A DEM raster (GeoTIFF, relative to the city folder) of ground elevations in m, in the city's `crs`: the ground "
            "and diffraction terms of every path are evaluated over the mean plane of the terrain under it, sources and "
            "receptors at their heights above the local ground (default: flat ground). It must cover the receptors and the "
            "roads within `cutoff_m` of them. Buildings then screen the paths over the terrain, without reflections."
        ),
        path=True,
    )


@dataclass(frozen=True)
class CompareConfig:
    """``[compare]``: what the indicator tables report besides the fixed indicators."""

    watch: dict[str, dict[str, Any]] = setting(
        factory=dict,
        doc="Links whose day flow is reported: label -> scenario selector (`street`, `bridge`, `ids`, ... and `direction`).",
    )


@dataclass(frozen=True)
class CityConfig:
    """Top-level keys of ``city.toml`` and one table per stage."""

    name: str = setting(doc="Short city name, e.g. `ghent` (names results and output folders).")
    crs: str = setting(doc="Metric CRS used inside the models, e.g. `EPSG:31370`.")
    network: NetworkConfig | None = setting(None, doc="See `[network]`; needed to load the network.")
    focus: FocusConfig = setting(factory=FocusConfig, doc="See `[focus]`.")
    demand: DemandConfig | None = setting(None, doc="See `[demand]`; needed to run scenarios.")
    noise: NoiseConfig = setting(factory=NoiseConfig, doc="See `[noise]`.")
    air: AirConfig = setting(factory=AirConfig, doc="See `[air]`.")
    compare: CompareConfig = setting(factory=CompareConfig, doc="See `[compare]`.")
