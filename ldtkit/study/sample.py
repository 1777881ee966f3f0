"""Levels at given points: NO2, PM10, PM2.5 and Lden, Lnight where a user asks, not on a map's grid.

:func:`sample_points` takes a city's traffic from the runner (and its result cache) and models air
quality and noise at the points themselves, for the baseline or one scenario, with what ``ldtkit
run`` uses: the city's ``[air]`` settings, its ``[noise]`` settings, buildings and terrain
(:func:`~ldtkit.study.inputs.city_noise_propagation`), the baseline's traffic placing the far-field
noise sources. A point's noise level is therefore the level the façade map of ``ldtkit run`` gives at
that point: screened by the buildings between it and the roads.

A noise map has no level inside a building: a point inside a building footprint of ``[noise]
buildings`` gets no Lden or Lnight (NaN), and a warning names it (:attr:`PointLevels.inside_building`);
its air quality is modelled (the air model does not see buildings). A point on the street or 2 m in
front of a façade gets a level.

Examples
--------
>>> import geopandas as gpd
>>> pts = gpd.GeoDataFrame({"id": ["a"]}, geometry=gpd.points_from_xy([-8.611], [41.141]), crs=4326)
>>> levels = sample_points("porto", pts)  # doctest: +SKIP
>>> levels.to_dataframe()[["id", "no2_ugm3", "lden_db", "inside_building"]]  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from ldtkit.errors import EmptyStudyAreaError, InvalidValueError, MissingFieldError
from ldtkit.study.city import City, load_city
from ldtkit.study.runner import DEFAULT_CACHE

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

    from ldtkit.model.air import AirMap
    from ldtkit.model.noise import NoiseMap
    from ldtkit.model.receptors import Receptors
    from ldtkit.study.runner import ScenarioResult
    from ldtkit.study.scenario import Scenario

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: The models :func:`sample_points` evaluates at the points (traffic always runs).
POINT_MODELS: Final = ("air", "noise")
#: Points a message names at most (the rest are counted).
NAMED_POINTS: Final = 10


class InsideBuildingWarning(UserWarning):
    """Points inside a building footprint get no noise level (:func:`sample_points` names them)."""


@dataclass(frozen=True)
class PointLevels:
    """Modelled levels at points for the baseline or one scenario of a city (:func:`sample_points`).

    Attributes
    ----------
    city, scenario
        The city's name and the scenario's (``"baseline"`` for today's situation).
    ids
        The points' ids, in the order given.
    lon, lat
        The points in WGS84 (degrees).
    outside_network_extent
        Per point: outside the bounding box of the network's links (its levels miss the roads
        beyond the network).
    air
        :class:`~ldtkit.model.air.AirMap` at the points at ``air_height_m``; ``None`` without ``"air"``.
    noise
        :class:`~ldtkit.model.noise.NoiseMap` at the points at ``noise_height_m`` (NaN inside a
        building); ``None`` without ``"noise"``.
    inside_building
        Per point: inside a building footprint of the city's ``[noise] buildings`` (no noise level);
        ``None`` without ``"noise"``.
    air_height_m, noise_height_m
        Receptor heights above ground (m).
    """

    city: str
    scenario: str
    ids: npt.NDArray[Any]
    lon: FloatArray
    lat: FloatArray
    outside_network_extent: BoolArray
    air: AirMap | None = None
    noise: NoiseMap | None = None
    inside_building: BoolArray | None = None
    air_height_m: float = 1.5
    noise_height_m: float = 4.0

    def __len__(self) -> int:
        return len(self.ids)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per point: ``id``, ``lon``, ``lat``, ``no2_ugm3``, ``pm10_ugm3``, ``pm25_ugm3`` (with
        air), ``lden_db``, ``lnight_db`` (with noise), ``outside_network_extent``, ``inside_building``
        (with noise) and ``scenario``; unrounded."""
        import pandas as pd

        data: dict[str, Any] = {"id": self.ids, "lon": self.lon, "lat": self.lat}
        if self.air is not None:
            data.update(no2_ugm3=self.air.no2_ugm3, pm10_ugm3=self.air.pm10_ugm3, pm25_ugm3=self.air.pm25_ugm3)
        if self.noise is not None:
            data.update(lden_db=self.noise.lden_db, lnight_db=self.noise.lnight_db)
        data["outside_network_extent"] = self.outside_network_extent
        if self.inside_building is not None:
            data["inside_building"] = self.inside_building
        data["scenario"] = self.scenario
        return pd.DataFrame(data)


def sample_points(
    city: City | str | Path,
    points: gpd.GeoDataFrame,
    *,
    scenario: Scenario | None = None,
    models: Collection[str] = POINT_MODELS,
    id_column: str | None = "id",
    air_height_m: float = 1.5,
    noise_height_m: float = 4.0,
    cache_dir: str | Path | None = DEFAULT_CACHE,
    where: str = "sample_points",
    first_line: int | None = None,
    progress: bool = False,
) -> PointLevels:
    """Air quality and noise at ``points`` for the baseline or ``scenario``, as ``ldtkit run`` models them.

    The traffic of every period comes from :func:`~ldtkit.study.runner.run` (``models=("traffic",)``,
    served from the result cache when computed before). Air: :func:`~ldtkit.model.air.compute_air`
    with the city's ``[air]``, its transfer on the baseline network (the runner's). Noise: the
    city's ``[noise]`` settings, buildings (:func:`~ldtkit.study.inputs.noise_buildings`) and terrain
    (:func:`~ldtkit.study.inputs.noise_terrain`) through
    :func:`~ldtkit.study.inputs.city_noise_propagation`, on the baseline network with the baseline's
    traffic placing the far-field sources, as the runner's façade map.

    Parameters
    ----------
    city
        A :class:`~ldtkit.study.city.City`, a shipped city name or a city folder.
    points
        Point geometries with a CRS (any; e.g. WGS84 ``lon``/``lat``).
    scenario
        The scenario to sample; ``None``: the baseline.
    models
        Which of ``"air"`` and ``"noise"`` to evaluate.
    id_column
        Column of ``points`` holding their ids; ``None``: 1, 2, ... in the order given.
    air_height_m, noise_height_m
        Receptor heights above ground (m); 4 m is the END's assessment height for noise.
    cache_dir
        The runner's result cache (``None``: compute the traffic without reading or writing it).
    where
        What messages call the points (e.g. the CSV file they come from).
    first_line
        The line of ``where`` holding the first point: messages then name the points' lines too.
    progress
        Show the runner's progress bar.

    Returns
    -------
    PointLevels

    Raises
    ------
    MissingFieldError
        When ``id_column`` is not a column of ``points``.
    InvalidValueError
        On an unknown model, a height that is not a number > 0, points without a CRS, or points
        outside the network's extent that fall inside with lat and lon swapped.
    EmptyStudyAreaError
        When ``points`` is empty or no point lies within the network's extent.

    Warns
    -----
    InsideBuildingWarning
        Naming the points inside a building footprint (no noise level there: NaN).

    Examples
    --------
    >>> import geopandas as gpd
    >>> pts = gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=gpd.points_from_xy([3.72, 3.73], [51.05, 51.04]), crs=4326)
    >>> levels = sample_points("ghent", pts, models=("air",))  # doctest: +SKIP
    >>> levels.air.no2_ugm3  # doctest: +SKIP
    """
    from ldtkit.model.receptors import receptors_from_points
    from ldtkit.study.runner import run

    models = tuple(models)
    unknown = sorted(set(models) - set(POINT_MODELS))
    if unknown or not models:
        raise InvalidValueError(f"{where}: models {list(models)}: expected one or more of {list(POINT_MODELS)}")
    for name, value in (("air_height_m", air_height_m), ("noise_height_m", noise_height_m)):
        if not (np.isfinite(value) and value > 0):
            raise InvalidValueError(f"{where}: {name} = {value}: expected a height above ground in metres, > 0")
    if len(points) == 0:
        raise EmptyStudyAreaError(f"{where}: no points given")
    if points.crs is None:
        raise InvalidValueError(f"{where}: the points have no CRS; expected one set on them (e.g. EPSG:4326 for lon, lat)")
    if id_column is not None and id_column not in points.columns:
        raise MissingFieldError(where, id_column, expected="the points' ids")
    city = city if isinstance(city, City) else load_city(city)
    ids = points[id_column].to_numpy() if id_column is not None else np.arange(1, len(points) + 1)
    wgs84 = points.to_crs(4326)
    lon, lat = wgs84.geometry.x.to_numpy(np.float64), wgs84.geometry.y.to_numpy(np.float64)
    results = run(city, [scenario] if scenario is not None else [], models=("traffic",), cache_dir=cache_dir, progress=progress)
    res = results[scenario.name] if scenario is not None else results["baseline"]
    outside = _outside_extent(city, res, points, lon, lat, ids, where=where, first_line=first_line)
    base = results["baseline"]  # its network carries the sources of every scenario's maps, as in the runner
    air: AirMap | None = None
    noise: NoiseMap | None = None
    inside: BoolArray | None = None
    if "air" in models:
        from ldtkit.model.air import air_transfer, compute_air

        rec = receptors_from_points(points, crs=base.network.crs, height_m=air_height_m, id_column=id_column)
        cfg = city.config.air
        air = compute_air(res.network, res.traffic, rec, transfer=air_transfer(base.network, rec, config=cfg), config=cfg)
    if "noise" in models:
        rec = receptors_from_points(points, crs=base.network.crs, height_m=noise_height_m, id_column=id_column)
        noise, inside = _noise_at(city, base, res, rec)
        if inside.any():
            rows = np.flatnonzero(inside)
            warnings.warn(
                f"{where}: no noise level at the {_points_named(rows, ids, first_line)}: inside a building footprint of "
                f"{city.name}'s [noise] buildings; noise is modelled outside buildings (on the street, or 2 m in front of a façade)",
                InsideBuildingWarning,
                stacklevel=2,
            )
    return PointLevels(
        city.name, res.scenario.name, ids, lon, lat, outside, air=air, noise=noise, inside_building=inside,
        air_height_m=float(air_height_m), noise_height_m=float(noise_height_m),
    )  # fmt: skip


def _noise_at(city: City, base: ScenarioResult, res: ScenarioResult, rec: Receptors) -> tuple[NoiseMap, BoolArray]:
    """The noise map of ``res`` at ``rec`` with the runner's propagation inputs, and which receptors lie inside a building."""
    from ldtkit.model.noise import NoiseMap, compute_noise
    from ldtkit.study.inputs import city_noise_propagation, noise_buildings, noise_terrain

    buildings = noise_buildings(city)
    inside = buildings.inside(rec.x, rec.y) if buildings is not None and len(buildings) else np.zeros(len(rec), dtype=bool)
    if inside.all():  # no path to trace: every level is NaN, as a map's inside a building
        nan = np.full(len(rec), np.nan)
        return NoiseMap(rec, nan, nan.copy(), nan.copy(), nan.copy(), meta={"propagation": "every point inside a building"}), inside
    prop = city_noise_propagation(city, base.network, rec, buildings=buildings, terrain=noise_terrain(city))
    cfg = city.config.noise
    noise = compute_noise(
        base.network, res.traffic, rec, coefficients=cfg.coefficients, surface=cfg.surface, propagation=prop,
        reference_traffic=base.traffic, progress=False,
    )  # fmt: skip
    return noise, inside


def _outside_extent(
    city: City,
    res: ScenarioResult,
    points: gpd.GeoDataFrame,
    lon: FloatArray,
    lat: FloatArray,
    ids: npt.NDArray[Any],
    *,
    where: str,
    first_line: int | None,
) -> BoolArray:
    """Which points lie outside the bounding box of ``res``'s links; an error when some would lie inside
    with lat and lon swapped, or when none lies inside."""
    from ldtkit.study.scenario import swapped_mask

    net = res.network
    minx, miny, maxx, maxy = (float(v) for v in net.links.total_bounds)
    proj = points.to_crs(net.crs)
    x, y = proj.geometry.x.to_numpy(np.float64), proj.geometry.y.to_numpy(np.float64)
    outside: BoolArray = (x < minx) | (x > maxx) | (y < miny) | (y > maxy)
    swapped = outside & swapped_mask(lon, lat, crs=net.crs, bounds=(minx, miny, maxx, maxy))
    if swapped.any():
        raise InvalidValueError(
            f"{where}: the {_points_named(np.flatnonzero(swapped), ids, first_line)} lie outside the {city.name} network's extent, "
            "but with lat and lon swapped they fall inside: did you swap lat and lon? (lon is the longitude, lat the latitude)"
        )
    if outside.all():
        raise EmptyStudyAreaError(f"{where}: no point lies within the {city.name} network's extent")
    return outside


def _points_named(rows: npt.NDArray[np.intp], ids: npt.NDArray[Any], first_line: int | None) -> str:
    """``points with ids [...]`` (and ``on lines [...]`` with ``first_line``) for the first :data:`NAMED_POINTS` ``rows``.

    Examples
    --------
    >>> _points_named(np.array([0, 2]), np.array(["a", "b", "c"]), 2)
    "points with ids ['a', 'c'] on lines [2, 4]"
    >>> _points_named(np.arange(12), np.arange(1, 13), None)
    'points with ids [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] and 2 more'
    """
    shown = rows[:NAMED_POINTS]
    text = f"points with ids {ids[shown].tolist()}"
    if first_line is not None:
        text += f" on lines {(shown + first_line).tolist()}"
    return text + (f" and {len(rows) - len(shown)} more" if len(rows) > len(shown) else "")


__all__ = ["NAMED_POINTS", "POINT_MODELS", "InsideBuildingWarning", "PointLevels", "sample_points"]
