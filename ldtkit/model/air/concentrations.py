"""Concentrations: transfer x emissions + street-canyon increment + background, NO2 by SRM1/SRM2.

Examples
--------
>>> import numpy as np
>>> float(srm_no2(np.array([0.0]), np.array([0.0]), no2_background_ugm3=20.0, o3_background_ugm3=60.0)[0])
20.0
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from ldtkit.errors import ConfigError, InvalidValueError
from ldtkit.model.air.canyon import canyon_increment
from ldtkit.model.air.config import AirConfig
from ldtkit.model.air.emissions import LinkEmissions, link_emissions, period_hours, traffic_periods
from ldtkit.model.air.transfer import AirTransfer, air_transfer
from ldtkit.model.limits import NO2_LIMIT_UGM3
from ldtkit.model.network import RoadNetwork
from ldtkit.model.receptors import Receptors
from ldtkit.model.traffic import LinkTraffic

if TYPE_CHECKING:  # geopandas loads when a GeoDataFrame is asked for
    import geopandas as gpd

FloatArray = npt.NDArray[np.float64]

#: Pollutants of an :class:`AirMap` (concentrations in ug/m3).
POLLUTANTS = ("nox", "no2", "pm10", "pm25")


@dataclass(frozen=True)
class AirMap:
    """Long-term mean concentrations (ug/m3, background included) at the receptors.

    Attributes
    ----------
    receptors
        The :class:`~ldtkit.model.receptors.Receptors`.
    nox_ugm3, no2_ugm3, pm10_ugm3, pm25_ugm3
        Totals per receptor.
    nox_traffic_ugm3, canyon_nox_ugm3
        The modelled road contribution of NOx (all of it, and the canyon part).
    co2_t_per_day
        CO2 emitted by the network's traffic (t/day).
    emissions
        The :class:`~ldtkit.model.air.emissions.LinkEmissions` used.
    meta
        Timings and totals of the run (``seconds``, ``transfer_seconds``, ``vehicle_km_per_day``).

    Examples
    --------
    >>> import ldtkit
    >>> results = ldtkit.run("ghent", models=("traffic", "air"))  # doctest: +SKIP
    >>> air = results["baseline"].air  # doctest: +SKIP
    >>> air.to_dataframe().nlargest(3, "no2_ugm3")  # doctest: +SKIP
    >>> air.co2_t_per_day  # doctest: +SKIP
    """

    receptors: Receptors
    nox_ugm3: FloatArray
    no2_ugm3: FloatArray
    pm10_ugm3: FloatArray
    pm25_ugm3: FloatArray
    nox_traffic_ugm3: FloatArray
    canyon_nox_ugm3: FloatArray
    co2_t_per_day: float
    emissions: LinkEmissions | None = None
    meta: dict[str, float] = field(default_factory=dict, compare=False)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per receptor: x, y, (id), concentrations."""
        data: dict[str, Any] = {}
        if self.receptors.ids is not None:
            data["id"] = self.receptors.ids
        data.update(x=self.receptors.x, y=self.receptors.y)
        data.update(self.concentration_columns())
        return pd.DataFrame(data)

    def concentration_columns(self) -> dict[str, FloatArray]:
        """The concentration arrays by column name, as tables and maps show them."""
        return {
            "nox_ugm3": self.nox_ugm3,
            "no2_ugm3": self.no2_ugm3,
            "pm10_ugm3": self.pm10_ugm3,
            "pm25_ugm3": self.pm25_ugm3,
            "nox_traffic_ugm3": self.nox_traffic_ugm3,
        }

    def to_geodataframe(self, *, to_wgs84: bool = False, geometry: Any = None) -> gpd.GeoDataFrame:
        """Receptor points with the concentration columns, a GeoDataFrame (optionally in EPSG:4326).

        ``geometry``: the receptors' points if already built.
        """
        gdf = self.receptors.to_geodataframe(geometry=geometry, **self.concentration_columns())
        return gdf.to_crs(4326) if to_wgs84 and gdf.crs is not None else gdf

    def exposure(self, *, no2_limit_ugm3: float = NO2_LIMIT_UGM3) -> dict[str, float]:
        """Population above the NO2 limit and population-weighted means (uses receptor population).

        The default limit is the annual-mean limit value in force
        (:data:`ldtkit.model.limits.NO2_LIMIT_UGM3`).
        """
        pop = np.asarray(self.receptors.population, float)
        tot = pop.sum()
        return {
            "people_above_no2_limit": float(pop[self.no2_ugm3 > no2_limit_ugm3].sum()),
            "pop_weighted_no2_ugm3": float((pop * self.no2_ugm3).sum() / tot) if tot > 0 else float("nan"),
            "pop_weighted_pm25_ugm3": float((pop * self.pm25_ugm3).sum() / tot) if tot > 0 else float("nan"),
        }


def srm_no2(
    nox_traffic_ugm3: npt.ArrayLike,
    no2_direct_ugm3: npt.ArrayLike,
    *,
    no2_background_ugm3: float,
    o3_background_ugm3: float,
    b: float = 0.6,
    k_ugm3: float = 100.0,
) -> FloatArray:
    """NO2 (ug/m3) from the traffic NOx increment with the SRM1/SRM2 O3-limited relation.

    ``NO2 = NO2_bg + f NOx_t + B O3_bg NOx_t (1 - f) / (NOx_t (1 - f) + K)`` with
    ``f NOx_t`` = the directly emitted NO2 (``no2_direct_ugm3``).

    Examples
    --------
    >>> float(srm_no2(np.array([100.0]), np.array([20.0]), no2_background_ugm3=20.0, o3_background_ugm3=60.0)[0])
    56.0
    """
    nox_t = np.asarray(nox_traffic_ugm3, float)
    direct = np.minimum(np.asarray(no2_direct_ugm3, float), nox_t)
    rest = nox_t - direct
    no2: FloatArray = no2_background_ugm3 + direct + b * o3_background_ugm3 * rest / (rest + k_ugm3)
    return no2


def compute_air(
    network: RoadNetwork,
    traffic_by_period: LinkTraffic | Mapping[str, LinkTraffic],
    receptors: Receptors,
    *,
    transfer: AirTransfer | None = None,
    config: AirConfig | Mapping[str, Any] | None = None,
    progress: bool = False,
) -> AirMap:
    """Long-term NOx, NO2, PM10 and PM2.5 at ``receptors`` (background included).

    Parameters
    ----------
    network
        The scenario's network (same link ids and geometry as the transfer's).
    traffic_by_period
        ``{period: LinkTraffic}`` (hours 12/4/8) or one LinkTraffic for the whole day.
    receptors
        Grid or points in the network's CRS.
    transfer
        A transfer from :func:`~ldtkit.model.air.transfer.air_transfer` for this geometry and these
        receptors; built when ``None``.
    config
        :class:`~ldtkit.model.air.config.AirConfig` or the city's ``[air]`` table.
    progress
        Show a progress bar while building the transfer.

    Returns
    -------
    AirMap

    Examples
    --------
    >>> tr = air_transfer(net, rec)  # doctest: +SKIP
    >>> base = compute_air(net, traffic, rec, transfer=tr)  # doctest: +SKIP
    >>> base.to_geodataframe().no2_ugm3.describe()  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    cfg = AirConfig.from_dict(config)
    if transfer is None:
        transfer = air_transfer(network, receptors, config=cfg, progress=progress)
    else:
        if transfer.n_receptors != len(receptors):
            raise InvalidValueError(f"compute_air: transfer built for {transfer.n_receptors} receptors, got {len(receptors)}")
        ids = network.links["link_id"].to_numpy()
        if len(ids) != len(transfer.link_ids) or not np.array_equal(ids, transfer.link_ids):
            raise InvalidValueError(
                "compute_air: the network's link ids differ from those the transfer was built for; rebuild it with air_transfer()"
            )
        if transfer.config_key and transfer.config_key != cfg.geometry_key():
            raise ConfigError(
                "compute_air: the transfer was built with other dispersion parameters ([air] wind/stability/cutoff/canyon); rebuild it"
            )
    em = link_emissions(network, traffic_by_period, fleet=cfg.fleet)
    ls = transfer.link_source
    ok = ls >= 0
    n_src = transfer.n_sources
    e_src: dict[str, FloatArray] = {}
    for s in POLLUTANTS:
        e = em.daily_mean_gsm(s) * 1e6  # ug/s/m
        e_src[s] = np.asarray(np.bincount(ls[ok], weights=e[ok], minlength=n_src), dtype=np.float64)  # weighted: float already
    inc = {s: transfer.apply(e) for s, e in e_src.items()}
    canyon = {s: np.zeros(transfer.n_receptors) for s in e_src}
    if cfg.canyon and transfer.source_canyon.any():
        per = traffic_periods(traffic_by_period)
        hours = period_hours(tuple(per))
        q = sum(h * t.total_vph for h, t in zip(hours, per.values())) / hours.sum()
        v = sum(h * t.speed_kmh * t.total_vph for h, t in zip(hours, per.values())) / hours.sum()
        q_src = np.bincount(ls[ok], weights=q[ok], minlength=n_src)
        v_src = np.divide(np.bincount(ls[ok], weights=v[ok], minlength=n_src), q_src, out=np.zeros(n_src), where=q_src > 0) / 3.6
        canyon = canyon_increment(transfer.receptor_canyon, transfer.source_street_width_m, e_src, q_src / 3600.0, v_src, cfg)
    nox_t = inc["nox"] + canyon["nox"]
    direct = inc["no2"] + canyon["no2"]
    no2 = srm_no2(
        nox_t,
        direct,
        no2_background_ugm3=cfg.background_no2_ugm3,
        o3_background_ugm3=cfg.background_o3_ugm3,
        b=cfg.srm_b,
        k_ugm3=cfg.srm_k_ugm3,
    )
    return AirMap(
        receptors=receptors,
        nox_ugm3=cast(float, cfg.background_nox_ugm3) + nox_t,  # never None once AirConfig is built
        no2_ugm3=no2,
        pm10_ugm3=cfg.background_pm10_ugm3 + inc["pm10"] + canyon["pm10"],
        pm25_ugm3=cfg.background_pm25_ugm3 + inc["pm25"] + canyon["pm25"],
        nox_traffic_ugm3=nox_t,
        canyon_nox_ugm3=canyon["nox"],
        co2_t_per_day=em.co2_t_per_day,
        emissions=em,
        meta={"seconds": time.perf_counter() - t0, "transfer_seconds": transfer.seconds, "vehicle_km_per_day": em.vehicle_km_per_day},
    )
