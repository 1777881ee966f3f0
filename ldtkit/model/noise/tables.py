"""CNOSSOS-EU road emission tables (Table F-1 vehicle coefficients, F-2 studded tyres,
F-3 junctions, F-4 road surfaces), read from the package data ``ldtkit/model/data/``, and the
octave bands every noise stage shares.

Two coefficient sets are shipped: ``"2021"`` (Delegated Directive (EU) 2021/1226, in force)
and ``"2015"`` (Directive (EU) 2015/996, superseded). Arrays are indexed
``[category, band]`` with categories in :data:`CATEGORIES` order and the eight octave
bands of :data:`BANDS_HZ`.

Examples
--------
>>> t = road_coefficients("2021")
>>> t.AR[0].tolist()[:3]
[83.1, 89.2, 87.7]
>>> surface_correction("NL05", "2021")[0].shape
(5, 8)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt

from ldtkit.errors import InvalidValueError

#: Vehicle categories of Annex II 2.2 (1 light, 2 medium heavy, 3 heavy, 4a mopeds, 4b motorcycles).
CATEGORIES: tuple[str, ...] = ("1", "2", "3", "4a", "4b")
#: Octave-band centre frequencies (Hz).
BANDS_HZ: tuple[int, ...] = (63, 125, 250, 500, 1000, 2000, 4000, 8000)
#: Coefficient-set names accepted by the public API and their key in the CSV files.
COEFF_SETS: dict[str, str] = {"2021": "2021_1226", "2015": "2015_996"}

_COEF_FILE = "cnossos_road_coefficients.csv"
_SURF_FILE = "cnossos_road_surfaces.csv"


@dataclass(frozen=True)
class RoadCoefficients:
    """Table F-1/F-2/F-3 for one coefficient set; arrays of shape (5, 8) or (5,), read-only."""

    coeff_set: str
    AR: npt.NDArray[np.float64]
    BR: npt.NDArray[np.float64]
    AP: npt.NDArray[np.float64]
    BP: npt.NDArray[np.float64]
    a_stud: npt.NDArray[np.float64]  # (8,), category 1 only
    b_stud: npt.NDArray[np.float64]  # (8,)
    CR: npt.NDArray[np.float64]  # (3, 5): junction type k = 0 (none), 1 (crossing with lights), 2 (roundabout)
    CP: npt.NDArray[np.float64]  # (3, 5)
    K_temp: npt.NDArray[np.float64]  # (5,) dB/°C
    v_ref_kmh: float
    T_ref_C: float
    source_height_m: float


def _set_key(coefficients: str) -> str:
    key = COEFF_SETS.get(str(coefficients))
    if key is None:
        raise InvalidValueError(
            f"coefficients={coefficients!r}: expected one of {sorted(COEFF_SETS)} "
            "('2021' = Delegated Directive 2021/1226, '2015' = Directive 2015/996)"
        )
    return key


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("ldtkit.model").joinpath("data", name).open("r", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _read_only(a: npt.ArrayLike) -> npt.NDArray[np.float64]:
    out = np.ascontiguousarray(a, dtype=np.float64)
    out.setflags(write=False)
    return out


#: A-weighting per octave band (dB), for dB(A) totals.
A_WEIGHTING_DB: npt.NDArray[np.float64] = _read_only([-26.2, -16.1, -8.6, -3.2, 0.0, 1.2, 1.0, -1.1])


@cache
def road_coefficients(coefficients: str = "2021") -> RoadCoefficients:
    """Vehicle coefficients of one set (``"2021"`` or ``"2015"``)."""
    key = _set_key(coefficients)
    nc, nb = len(CATEGORIES), len(BANDS_HZ)
    arr = {k: np.zeros((nc, nb)) for k in ("AR", "BR", "AP", "BP")}
    a_stud, b_stud = np.zeros(nb), np.zeros(nb)
    CR, CP, K = np.zeros((3, nc)), np.zeros((3, nc)), np.zeros(nc)
    scal: dict[str, float] = {}
    seen = np.zeros((nc, nb), dtype=bool)
    for r in _rows(_COEF_FILE):
        if r["coeff_set"] != key:
            continue
        c, b = CATEGORIES.index(r["category"]), BANDS_HZ.index(int(r["freq_hz"]))
        seen[c, b] = True
        for k in arr:
            arr[k][c, b] = float(r[k])
        if r["category"] == "1":
            a_stud[b], b_stud[b] = float(r["a_stud"]), float(r["b_stud"])
        CR[1, c], CP[1, c] = float(r["CR_k1_crossing"]), float(r["CP_k1_crossing"])
        CR[2, c], CP[2, c] = float(r["CR_k2_roundabout"]), float(r["CP_k2_roundabout"])
        K[c] = float(r["K_temp_dB_per_degC"])
        scal = {"v": float(r["v_ref_kmh"]), "T": float(r["T_ref_C"]), "h": float(r["source_height_m"])}
    if not seen.all():
        raise InvalidValueError(f"ldtkit/model/data/{_COEF_FILE}: coefficient set {key} is incomplete")
    return RoadCoefficients(
        coeff_set=key,
        AR=_read_only(arr["AR"]),
        BR=_read_only(arr["BR"]),
        AP=_read_only(arr["AP"]),
        BP=_read_only(arr["BP"]),
        a_stud=_read_only(a_stud),
        b_stud=_read_only(b_stud),
        CR=_read_only(CR),
        CP=_read_only(CP),
        K_temp=_read_only(K),
        v_ref_kmh=scal["v"],
        T_ref_C=scal["T"],
        source_height_m=scal["h"],
    )


@cache
def _surfaces(key: str) -> dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    out: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = {}
    for r in _rows(_SURF_FILE):
        if r["coeff_set"] != key:
            continue
        alpha, beta = out.setdefault(r["surface_id"], (np.zeros((5, 8)), np.zeros(5)))
        c, b = CATEGORIES.index(r["category"]), BANDS_HZ.index(int(r["freq_hz"]))
        alpha[c, b] = float(r["alpha_dB"])
        beta[c] = float(r["beta"])
    return {k: (_read_only(a), _read_only(b)) for k, (a, b) in out.items()}


def surface_codes(coefficients: str = "2021") -> list[str]:
    """Table F-4 road-surface codes available in a coefficient set (``"DEF"`` is the reference surface).

    Examples
    --------
    >>> "DEF" in surface_codes("2021")
    True
    """
    return list(_surfaces(_set_key(coefficients)))


def surface_correction(surface: str, coefficients: str = "2021") -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Table F-4 ``(alpha (5, 8), beta (5,))`` of a road surface code such as ``"NL05"``."""
    table = _surfaces(_set_key(coefficients))
    if surface not in table:
        raise InvalidValueError(
            f"surface={surface!r} is not in Table F-4 of coefficient set {coefficients!r}; expected one of {sorted(table)}"
        )
    return table[surface]
