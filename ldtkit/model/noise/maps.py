"""Noise map results: Lden from the period levels, people per END band, the :class:`NoiseMap`.

The END reporting bands and their labels have one home, :mod:`ldtkit.model.limits`.

Examples
--------
>>> from ldtkit.model.limits import LDEN_BANDS_DB
>>> exposure_counts(np.array([56.0, 71.0]), np.array([2.0, 3.0]), LDEN_BANDS_DB, name="Lden")["Lden 70-74"]
3.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ldtkit.errors import InvalidValueError
from ldtkit.model.limits import LDEN_BANDS_DB, LNIGHT_BANDS_DB, band_labels
from ldtkit.model.noise.tables import BANDS_HZ

if TYPE_CHECKING:
    import geopandas as gpd

    from ldtkit.model.receptors import Receptors

FloatArray = npt.NDArray[np.float64]


def lden_db(lday_db: npt.ArrayLike, levening_db: npt.ArrayLike, lnight_db: npt.ArrayLike) -> FloatArray:
    """Lden of Directive 2002/49/EC Annex I: 12 h day, 4 h evening (+5 dB), 8 h night (+10 dB).

    Examples
    --------
    >>> float(lden_db(60.0, 60.0, 60.0).round(2))
    66.4
    """
    d, e, n = (np.asarray(x, dtype=np.float64) for x in (lday_db, levening_db, lnight_db))
    with np.errstate(divide="ignore"):
        out: FloatArray = 10 * np.log10((12 * 10 ** (d / 10) + 4 * 10 ** ((e + 5) / 10) + 8 * 10 ** ((n + 10) / 10)) / 24)
    return out


def exposure_counts(levels_db: npt.ArrayLike, population: npt.ArrayLike, bands: tuple[int, ...], *, name: str) -> dict[str, float]:
    """People per 5-dB END band: ``lo <= L < lo + 5`` for each lower bound, the last open-ended.

    ``bands`` are the lower edges, e.g. :data:`~ldtkit.model.limits.LDEN_BANDS_DB`; the keys are
    :func:`~ldtkit.model.limits.band_labels` of ``name``.

    Examples
    --------
    >>> exposure_counts(np.array([54.9, 55.0, 59.99, 77.0]), np.array([1., 2., 3., 4.]), LDEN_BANDS_DB, name="Lden")
    {'Lden 55-59': 5.0, 'Lden 60-64': 0.0, 'Lden 65-69': 0.0, 'Lden 70-74': 0.0, 'Lden >=75': 4.0}
    """
    lv = np.asarray(levels_db, dtype=np.float64)
    pop = np.asarray(population, dtype=np.float64)
    edges = [float(b) for b in bands] + [np.inf]
    return {label: float(pop[(lv >= lo) & (lv < hi)].sum()) for label, lo, hi in zip(band_labels(name, bands), edges[:-1], edges[1:])}


@dataclass(frozen=True)
class NoiseMap:
    """Long-term A-weighted levels per receptor (dB(A)), from :func:`~ldtkit.model.noise.compute_noise`.

    Attributes
    ----------
    receptors
        The :class:`~ldtkit.model.receptors.Receptors` evaluated.
    lday_db, levening_db, lnight_db, lden_db
        Levels per receptor; ``-inf`` where no source lies within the cutoff.
    bands_db
        ``{period: (n_receptors, 8)}`` unweighted octave-band levels when requested, else ``None``.
    meta
        Settings and counts (cutoff, ground factor, source-point evaluations, seconds).

    Examples
    --------
    Two receptors where 3 and 5 people live:

    >>> from ldtkit.model.receptors import Receptors
    >>> rec = Receptors(np.array([0.0, 10.0]), np.array([0.0, 0.0]), np.full(2, 4.0), np.array([3.0, 5.0]), crs="EPSG:31370")
    >>> m = NoiseMap(rec, lday_db=np.array([58.0, 66.0]), levening_db=np.array([55.0, 62.0]),
    ...              lnight_db=np.array([49.0, 57.0]), lden_db=np.array([59.0, 67.0]))
    >>> people = m.exposure()
    >>> len(m), people["Lden 55-59"], people["Lden 65-69"], people["Lnight 55-59"]
    (2, 3.0, 5.0, 5.0)
    """

    receptors: Receptors
    lday_db: FloatArray
    levening_db: FloatArray
    lnight_db: FloatArray
    lden_db: FloatArray
    bands_db: dict[str, FloatArray] | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def __len__(self) -> int:
        return len(self.lden_db)

    def exposure(self) -> dict[str, float]:
        """People per END band: Lden 55–59 … ≥ 75 and Lnight 50–54 … ≥ 70 (receptor population weights)."""
        pop = self.receptors.population
        return {
            **exposure_counts(self.lden_db, pop, LDEN_BANDS_DB, name="Lden"),
            **exposure_counts(self.lnight_db, pop, LNIGHT_BANDS_DB, name="Lnight"),
        }

    def exposure_table(self) -> pd.DataFrame:
        """:meth:`exposure` as a table with columns ``indicator``, ``band``, ``people``."""
        rows = [(k.split(" ", 1)[0], k.split(" ", 1)[1], v) for k, v in self.exposure().items()]
        return pd.DataFrame(rows, columns=["indicator", "band", "people"])

    def grid(self, name: str = "lden_db") -> FloatArray:
        """A level as a 2-D array ``(ny, nx)`` (south row first) for grid receptors."""
        shape = getattr(self.receptors, "grid_shape", None)
        if shape is None:
            raise InvalidValueError("NoiseMap.grid: the receptors are not a regular grid (grid_shape is None)")
        return np.asarray(getattr(self, name), dtype=np.float64).reshape(shape)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per receptor: x, y, z, population and the four levels (plus bands when computed)."""
        r = self.receptors
        data: dict[str, Any] = {"x": r.x, "y": r.y, "z_m": r.z, "population": r.population}
        data.update(lday_db=self.lday_db, levening_db=self.levening_db, lnight_db=self.lnight_db, lden_db=self.lden_db)
        if self.bands_db is not None:
            for period, arr in self.bands_db.items():
                for b, f in enumerate(BANDS_HZ):
                    data[f"{period}_{f}hz_db"] = arr[:, b]
        return pd.DataFrame(data)

    def to_geodataframe(self, *, to_wgs84: bool = False, geometry: Any = None) -> gpd.GeoDataFrame:
        """Receptor points with the levels, in the receptors' CRS (or EPSG:4326).

        ``geometry``: the receptors' points if already built (e.g. shared by several maps on
        the same receptors; building 250,000 points takes a few tenths of a second).
        """
        import geopandas as gpd  # only here: a map without geometry stays free of geopandas

        df = self.to_dataframe()
        geom = gpd.points_from_xy(df["x"], df["y"]) if geometry is None else geometry
        gdf = gpd.GeoDataFrame(df, geometry=geom, crs=self.receptors.crs)
        return gdf.to_crs(4326) if to_wgs84 else gdf
