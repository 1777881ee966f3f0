"""Zones from a CORINE Land Cover raster (e.g. Ghent): residents and jobs by land-cover class."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ldtkit._validate import finite_nonnegative
from ldtkit.errors import EmptyStudyAreaError, InvalidValueError, MissingFieldError, require_file
from ldtkit.model.zones.cells import aggregate_to_cells, area_polygon, rescale_to_total, rescale_zones

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
        if len(v) != 2:
            raise InvalidValueError(f"CORINE density for class {k}: expected [residents_ha, jobs_ha] >= 0, got {v}")
        res_ha, jobs_ha = finite_nonnegative(v, name=f"CORINE density for class {k}", where="zones", ids=["residents_ha", "jobs_ha"])
        dens[int(k)] = (float(res_ha), float(jobs_ha))
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
    rescale_zones(zones, population_total, jobs_total)
    zones.attrs["source"] = f"CORINE {raster.name}"
    return zones
