"""Traffic air quality: link emissions, Gaussian line-source dispersion, NO2 and PM maps.

The model has four steps, each a pure function:

1. :func:`link_emissions` -- hot-exhaust NOx, primary NO2, exhaust PM and CO2 from
   speed-dependent EMEP/EEA (COPERT) emission factors for a configurable fleet mix, plus
   non-exhaust PM10/PM2.5 (tyre, brake and road wear, EMEP/EEA Tier 2), per link and period.
2. :func:`air_transfer` -- the long-term source-receptor transfer (ug/m3 per ug/m/s) for a
   network geometry and a set of receptors: a Gaussian line-source model with the CALINE3
   dispersion curves and mixing zone, integrated over a wind climatology (direction x speed
   x Pasquill class), sparse with a distance cutoff; plus a street-canyon increment for
   streets lined by buildings. Computed once per geometry, reused by every scenario.
3. :func:`compute_air` -- concentrations: transfer x emissions + canyon increment +
   background, NO2 from NOx with the Dutch SRM1/SRM2 O3-limited relation.
4. :func:`validate_no2` -- modelled against measured NO2 (the scatter plot is
   :func:`ldtkit.viz.air_validation.plot_validation`).

:func:`caline3` exposes the CALINE3 model itself for one meteorological hour (it
reproduces the CALINE3 user-guide test cases, see ``tests/test_air.py``); the map kernel
reproduces CALINE3 averaged over a uniform wind rose within 10 % outside the mixing zone.

Where things are:

- :mod:`~ldtkit.model.air.fleet` -- :class:`Fleet`, the fleet mix and per-segment factors;
- :mod:`~ldtkit.model.air.emission_factors` -- g/km per vehicle: hot exhaust and non-exhaust PM;
- :mod:`~ldtkit.model.air.emissions` -- :class:`LinkEmissions` per link and period;
- :mod:`~ldtkit.model.air.config` -- :class:`AirConfig`, the ``[air]`` table;
- :mod:`~ldtkit.model.air.caline3_hourly` -- :func:`caline3` for one hour;
- :mod:`~ldtkit.model.air.climatology` -- wind-direction density and the G(x) table;
- :mod:`~ldtkit.model.air.transfer` -- :class:`AirTransfer` and its near field;
- :mod:`~ldtkit.model.air.far_field` -- the far field on a coarse grid;
- :mod:`~ldtkit.model.air.canyon` -- street-canyon flags and increment;
- :mod:`~ldtkit.model.air.concentrations` -- :class:`AirMap`, :func:`srm_no2`, :func:`compute_air`;
- :mod:`~ldtkit.model.air.validation` -- :func:`validate_no2`;
- :mod:`~ldtkit.model.air.athens` -- the Athens monitoring stations;
- :mod:`ldtkit.model.kernels.air` -- the numba kernels (CALINE3, transfer pairs, grid index).

Validation (``tests/test_air_validation.py``): Ghent baseline against the 404 CurieuzeNeuzen
2018 part-A NO2 points gives Pearson r ~ 0.67, mean bias ~ 0 (the NO2 background is the one
calibrated global parameter), RMSE ~ 5 ug/m3 (r ~ 0.70 with ``canyon = false``).
Performance (``benchmarks/air.py``, 2 cores): a 25 m grid over Ghent's focus area (40 000
receptors) takes ~6 s for the transfer and < 1 s per scenario.

Sources (see also ``../shared/reference/noise/NOTES.md`` section 3):

- Hot exhaust factors: EMEP/EEA air pollutant emission inventory guidebook 2013 (Sept 2014
  update), 1.A.3.b road transport, Tier 3 average-speed functions, tabulated against speed in
  ``ldtkit/model/data/emission_factors.csv`` (passenger cars Euro 5/6 petrol/diesel 1.4-2.0 l,
  rigid HGV 26-28 t Euro V SCR/VI at 50 % load). The table's published formula and
  coefficients are evaluated directly (linear interpolation of its 10 km/h rows deviates by
  up to ~7 %); speeds outside the guidebook's validity range (``vmin_kmh``-``vmax_kmh``:
  10-130 km/h cars, 5-130 for petrol NOx, 12-86 km/h HGV) are clamped to it.
- Non-exhaust: EMEP/EEA guidebook 2019, 1.A.3.b.vi-vii, Tier 2 (tyre 0.0107, brake 0.0075,
  road 0.0150 g/km TSP for cars, road 0.0760 for HGVs; PM10/PM2.5 mass fractions and speed
  corrections as in NOTES.md).
- Dispersion: CALINE3 (Benson 1979, Caltrans FHWA/CA/TL-79/23) sigma curves and mixing zone.
- NO2: SRM1/SRM2 (Regeling beoordeling luchtkwaliteit 2007; RIVM 2014-0127) with B = 0.6,
  K = 100 ug/m3.
- Street canyon: OSPM-style recirculation (Berkowicz 2000): C = q / (W sigma_wt) with
  sigma_wt = sqrt((0.1 u)^2 + sigma_w0^2), sigma_w0 = 0.3 sqrt(N V S^2 / W) (traffic turbulence).

Examples
--------
>>> from ldtkit.model.air import AirConfig, caline3
>>> c = caline3([30.0], [0.0], [1.8], [[0.0, -5000.0, 0.0, 5000.0]], width_m=[30.0],
...             q_ugms=[0.1726 * 7500 * 30], wind_speed_ms=1.0, wind_from_deg=270.0,
...             stability=6, z0_cm=10.0)
>>> round(float(c[0, 0]) * 0.0245 / 28.0, 1)  # ppm CO, CALINE3 user guide: 4.6
4.6
"""

from ldtkit.model.air.athens import ATHENS_STATIONS, athens_station_means, compare_stations
from ldtkit.model.air.caline3_hourly import caline3
from ldtkit.model.air.concentrations import POLLUTANTS, AirMap, compute_air, srm_no2
from ldtkit.model.air.config import PASQUILL_CLASSES, AirConfig
from ldtkit.model.air.emission_factors import (
    EMISSION_FACTORS_CSV,
    NON_EXHAUST,
    hot_emission_factor,
    load_emission_factors,
    non_exhaust_factor,
)
from ldtkit.model.air.emissions import SPECIES, LinkEmissions, emissions_from_arrays, link_emissions
from ldtkit.model.air.fleet import FLEET_SEGMENTS, Fleet
from ldtkit.model.air.transfer import AirTransfer, air_transfer
from ldtkit.model.air.validation import validate_no2

__all__ = [
    "ATHENS_STATIONS",
    "EMISSION_FACTORS_CSV",
    "FLEET_SEGMENTS",
    "NON_EXHAUST",
    "PASQUILL_CLASSES",
    "POLLUTANTS",
    "SPECIES",
    "AirConfig",
    "AirMap",
    "AirTransfer",
    "Fleet",
    "LinkEmissions",
    "air_transfer",
    "athens_station_means",
    "caline3",
    "compare_stations",
    "compute_air",
    "emissions_from_arrays",
    "hot_emission_factor",
    "link_emissions",
    "load_emission_factors",
    "non_exhaust_factor",
    "srm_no2",
    "validate_no2",
]
