"""CNOSSOS-EU road-traffic noise: emission, propagation, Lden maps and exposure.

Emission follows Directive (EU) 2015/996 Annex II 2.2 with Table F-1/F-4 of Delegated
Directive (EU) 2021/1226 by default (``coefficients="2015"`` selects the superseded set).
Propagation follows Annex II 2.5 for the direct path: line sources split into point sources,
geometric divergence, ISO 9613-1 air absorption and the ground effect in homogeneous and
favourable conditions (on a flat mean plane in maps without terrain; over a terrain profile's mean
plane in :func:`path_attenuation` and in maps given ``terrain=``), mixed with the occurrence ``p``
of favourable conditions.
Along one cut profile, :func:`profile_attenuation` adds diffraction over barriers, buildings and
terrain in the vertical plane, lateral paths around vertical edges and reflections with their
absorption (checked against ISO/TR 17534-4 TC01–TC28 by :func:`run_conformity`). Maps given
buildings (``buildings=`` of :func:`compute_noise` / :func:`noise_propagation`) trace every
source–receiver path through the footprint edges and, where roofs rise above the ray, replace the
ground term by the same diffraction over their convex hull (ΔdifH/ΔdifF with Δground(S,O) and
Δground(O,R), on the flat ground of the map); receptors inside a building are masked. On façade
receptors, :func:`facade_exposure` gives each building's most exposed and quiet façade levels and
the people per END band (residents from :func:`building_population`). Maps with buildings also add
the specular reflections on the façades within 50 m of each receptor, its own façade excluded
(:mod:`~ldtkit.model.noise.reflections`), diffracted over the roofs that screen them, first order
by default and second order with ``reflection_order=2``, and leave out screened or reflected paths
from beyond 100 m whose bound is negligible, within 0.1 dB per level (``prune_db`` of
:func:`noise_propagation`). Maps given a :class:`Terrain` (a DEM raster or breaklines,
``terrain=`` of :func:`noise_propagation`) evaluate every source–receptor pair over the mean plane
of the terrain profile under it, with diffraction over the terrain and the roofs where they rise
above the ray. Not yet in maps: retro-diffraction, lateral paths, reflections over terrain.
Without buildings, maps propagate in open field (``NoiseMap.meta["propagation"]`` says which, in
one line).

One module per stage, all public names re-exported here:

- :mod:`~ldtkit.model.noise.tables`: Tables F-1 to F-4, vehicle categories, octave bands, A-weighting.
- :mod:`~ldtkit.model.noise.emission`: :func:`line_emission` / :func:`emission_per_link`, L'_W per
  octave band of one road / many links.
- :mod:`~ldtkit.model.noise.attenuation`: :func:`path_attenuation`, every attenuation term of one
  source–receiver path (ISO/TR 17534-4 TC01–TC05), and ISO 9613-1 air absorption.
- :mod:`~ldtkit.model.noise.diffraction`: :func:`profile_attenuation`, every term of a path with
  obstacles (diffraction, ground on both sides, lateral paths, reflections) from its cut profile.
- :mod:`~ldtkit.model.noise.paths`: :func:`direct_profile`, the cut profile of a direct path
  through buildings, thin walls, ground zones and terrain.
- :mod:`~ldtkit.model.noise.terrain`: :class:`Terrain`, ground elevation from a DEM raster
  (:func:`terrain_from_raster`), a grid (:func:`terrain_from_grid`) or breaklines
  (:func:`terrain_from_breaklines`).
- :mod:`~ldtkit.model.noise.conformity`: :func:`run_conformity`, the ISO/TR 17534-4 test cases.
- :mod:`~ldtkit.model.noise.sources`: :func:`noise_sources`, road centre lines as source segments.
- :mod:`~ldtkit.model.noise.screening`: :func:`building_obstacles`, building edges bucketed for the
  map kernel's path tracing.
- :mod:`~ldtkit.model.noise.reflections`: :func:`facade_reflectors`, the façades that reflect to each
  receptor in maps.
- :mod:`~ldtkit.model.noise.propagation`: :func:`noise_propagation`, the traffic-independent part
  of a map, prepared once for many scenarios.
- :mod:`~ldtkit.model.noise.compute`: :func:`compute_noise` / :func:`compute_noise_many` →
  :class:`NoiseMap`; :func:`update_noise`, a scenario's map from the baseline's (:func:`noise_baseline`
  prepares what several updates from one baseline share).
- :mod:`~ldtkit.model.noise.incremental`: :func:`energy_change`, the energy change at the
  receptors from the sources whose power changed (no source-receiver matrix stored).
- :mod:`~ldtkit.model.noise.maps`: :class:`NoiseMap` (Lday, Levening, Lnight, Lden, exposure per
  END band), :func:`lden_db`, :func:`exposure_counts`.

The numba loops are in :mod:`ldtkit.model.kernels.noise`; the END bands in :mod:`ldtkit.model.limits`.

Examples
--------
>>> from ldtkit.model.noise import line_emission
>>> lw = line_emission({"1": 1000.0, "3": 100.0}, {"1": 50.0, "3": 50.0})
>>> lw.shape
(8,)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ldtkit.model.noise.attenuation import EXACT_BANDS_HZ, PathAttenuation, atmospheric_absorption_db_km, path_attenuation
    from ldtkit.model.noise.compute import (
        PERIOD_ORDER,
        NoiseBaseline,
        compute_noise,
        compute_noise_many,
        line_powers,
        noise_baseline,
        update_noise,
    )
    from ldtkit.model.noise.conformity import ConformityReport, run_conformity
    from ldtkit.model.noise.diffraction import ProfileAttenuation, delta_dif_db, profile_attenuation
    from ldtkit.model.noise.emission import JUNCTION_TYPES, emission_per_link, line_emission
    from ldtkit.model.noise.exposure import BuildingExposure, BuildingPopulation, building_population, facade_exposure, shares_facades
    from ldtkit.model.noise.incremental import TOLERANCE_DB, EnergyChange, changed_lines, energy_change
    from ldtkit.model.noise.maps import NoiseMap, exposure_counts, lden_db
    from ldtkit.model.noise.paths import direct_profile
    from ldtkit.model.noise.propagation import MapArrays, NoisePropagation, noise_propagation
    from ldtkit.model.noise.reflections import facade_reflectors
    from ldtkit.model.noise.screening import building_obstacles
    from ldtkit.model.noise.sources import SOURCE_HEIGHT_M, NoiseSources, noise_sources
    from ldtkit.model.noise.tables import (
        A_WEIGHTING_DB,
        BANDS_HZ,
        CATEGORIES,
        COEFF_SETS,
        RoadCoefficients,
        road_coefficients,
        surface_codes,
        surface_correction,
    )
    from ldtkit.model.noise.terrain import Terrain, terrain_from_breaklines, terrain_from_grid, terrain_from_raster

#: Public name -> the submodule defining it. The submodules load on first use (PEP 562), so that
#: reading a stored :class:`NoiseMap` does not load the numba kernels of the map computation.
_SUBMODULE: dict[str, str] = {
    "EXACT_BANDS_HZ": "attenuation",
    "PathAttenuation": "attenuation",
    "atmospheric_absorption_db_km": "attenuation",
    "path_attenuation": "attenuation",
    "PERIOD_ORDER": "compute",
    "compute_noise": "compute",
    "compute_noise_many": "compute",
    "line_powers": "compute",
    "NoiseBaseline": "compute",
    "noise_baseline": "compute",
    "update_noise": "compute",
    "ConformityReport": "conformity",
    "run_conformity": "conformity",
    "ProfileAttenuation": "diffraction",
    "delta_dif_db": "diffraction",
    "profile_attenuation": "diffraction",
    "JUNCTION_TYPES": "emission",
    "emission_per_link": "emission",
    "line_emission": "emission",
    "BuildingExposure": "exposure",
    "BuildingPopulation": "exposure",
    "building_population": "exposure",
    "facade_exposure": "exposure",
    "shares_facades": "exposure",
    "TOLERANCE_DB": "incremental",
    "EnergyChange": "incremental",
    "changed_lines": "incremental",
    "energy_change": "incremental",
    "NoiseMap": "maps",
    "exposure_counts": "maps",
    "lden_db": "maps",
    "direct_profile": "paths",
    "MapArrays": "propagation",
    "NoisePropagation": "propagation",
    "noise_propagation": "propagation",
    "facade_reflectors": "reflections",
    "building_obstacles": "screening",
    "SOURCE_HEIGHT_M": "sources",
    "NoiseSources": "sources",
    "noise_sources": "sources",
    "A_WEIGHTING_DB": "tables",
    "BANDS_HZ": "tables",
    "CATEGORIES": "tables",
    "COEFF_SETS": "tables",
    "RoadCoefficients": "tables",
    "road_coefficients": "tables",
    "surface_codes": "tables",
    "surface_correction": "tables",
    "Terrain": "terrain",
    "terrain_from_breaklines": "terrain",
    "terrain_from_grid": "terrain",
    "terrain_from_raster": "terrain",
}


def __getattr__(name: str) -> Any:
    module = _SUBMODULE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBMODULE})


__all__ = [
    "A_WEIGHTING_DB",
    "BANDS_HZ",
    "CATEGORIES",
    "COEFF_SETS",
    "EXACT_BANDS_HZ",
    "JUNCTION_TYPES",
    "PERIOD_ORDER",
    "SOURCE_HEIGHT_M",
    "TOLERANCE_DB",
    "BuildingExposure",
    "BuildingPopulation",
    "ConformityReport",
    "EnergyChange",
    "MapArrays",
    "NoiseBaseline",
    "NoiseMap",
    "NoisePropagation",
    "NoiseSources",
    "PathAttenuation",
    "ProfileAttenuation",
    "RoadCoefficients",
    "Terrain",
    "atmospheric_absorption_db_km",
    "building_obstacles",
    "building_population",
    "changed_lines",
    "compute_noise",
    "compute_noise_many",
    "delta_dif_db",
    "direct_profile",
    "emission_per_link",
    "energy_change",
    "exposure_counts",
    "facade_exposure",
    "facade_reflectors",
    "lden_db",
    "line_emission",
    "line_powers",
    "noise_baseline",
    "noise_propagation",
    "noise_sources",
    "path_attenuation",
    "profile_attenuation",
    "road_coefficients",
    "run_conformity",
    "shares_facades",
    "surface_codes",
    "surface_correction",
    "terrain_from_breaklines",
    "terrain_from_grid",
    "terrain_from_raster",
    "update_noise",
]
