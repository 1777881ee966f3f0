"""Road-traffic sound power per octave band (CNOSSOS-EU emission, Annex II 2.2).

Rolling and propulsion noise per vehicle category with road-surface, temperature,
studded-tyre, gradient and junction corrections (Directive (EU) 2015/996 Annex II with
Tables F-1 to F-4 of Delegated Directive (EU) 2021/1226 by default). The numbers are in
:mod:`ldtkit.model.noise.tables`, the loop in :func:`ldtkit.model.kernels.noise.emission_links`.

Examples
--------
>>> lw = line_emission({"1": 1000.0, "3": 100.0}, {"1": 50.0, "3": 50.0})
>>> lw.shape
(8,)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from ldtkit._validate import finite_nonnegative
from ldtkit.errors import InvalidValueError
from ldtkit.model.kernels import noise as kernels
from ldtkit.model.noise.tables import CATEGORIES, road_coefficients, surface_correction

#: Junction types of Table F-3: k = 1 crossing with traffic lights, k = 2 roundabout.
JUNCTION_TYPES: dict[str | None, int] = {None: 0, "lights": 1, "roundabout": 2}


def _junction_code(junction: object, where: str = "junction") -> int:
    if isinstance(junction, (int, np.integer)) and int(junction) in (0, 1, 2):
        return int(junction)
    if junction is None or isinstance(junction, str):
        if junction in JUNCTION_TYPES:
            return JUNCTION_TYPES[junction]
    raise InvalidValueError(f"{where}={junction!r}: expected None, 'lights' (k=1) or 'roundabout' (k=2)")


def _category_matrix(values: Mapping[str, npt.ArrayLike], n: int, what: str) -> npt.NDArray[np.float64]:
    """Values per category as an (n, len(CATEGORIES)) matrix, zero for categories not given."""
    out = np.zeros((n, len(CATEGORIES)))
    for key, val in values.items():
        k = str(key)
        if k not in CATEGORIES:
            raise InvalidValueError(f"{what}: unknown vehicle category {key!r}; expected one of {list(CATEGORIES)}")
        arr = np.broadcast_to(np.asarray(val, dtype=np.float64), (n,))
        out[:, CATEGORIES.index(k)] = finite_nonnegative(arr, name=f"{what}[{k!r}]", where="noise emission")
    return out


def _per_link(value: npt.ArrayLike, n: int) -> npt.NDArray[np.float64]:
    return np.ascontiguousarray(np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)))


def emission_per_link(
    flows_vph: Mapping[str, npt.ArrayLike],
    speeds_kmh: Mapping[str, npt.ArrayLike],
    *,
    coefficients: str = "2021",
    surface: str | npt.NDArray[np.object_] = "DEF",
    temperature_c: float | npt.NDArray[np.float64] = 20.0,
    studded_share: float = 0.0,
    studded_months: float = 0.0,
    gradient_pct: float | npt.NDArray[np.float64] = 0.0,
    junction: str | None | npt.NDArray[np.object_] = None,
    junction_distance_m: float | npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]:
    """Line-source sound power per link and octave band, vectorised over many links.

    Parameters
    ----------
    flows_vph, speeds_kmh
        Per category (``"1"``, ``"2"``, ``"3"``, ``"4a"``, ``"4b"``) an array of hourly flows
        (veh/h) and mean speeds (km/h), one value per link (scalars broadcast). Speeds below
        20 km/h are raised to 20 km/h.
    coefficients
        ``"2021"`` (Delegated Directive 2021/1226, default) or ``"2015"`` (Directive 2015/996).
    surface
        A Table F-4 code for all links, or an array of codes, one per link.
    temperature_c, gradient_pct
        Air temperature (°C) and road gradient (%, positive uphill), scalar or per link.
    studded_share, studded_months
        Share of light vehicles with studded tyres and months per year they are used.
    junction, junction_distance_m
        ``None``, ``"lights"`` or ``"roundabout"`` (scalar or per link) and the distance to it (m).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_links, 8)``: L'_W,eq,line in dB re 1 pW per metre; ``-inf`` where no traffic.

    Examples
    --------
    >>> lw = emission_per_link({"1": [1000.0, 500.0]}, {"1": [50.0, 50.0]})
    >>> round(float(lw[0, 4] - lw[1, 4]), 2)
    3.01
    """
    n = 1
    for v in list(flows_vph.values()) + list(speeds_kmh.values()):
        n = max(n, int(np.size(v)))
    flows = _category_matrix(flows_vph, n, "flows_vph")
    speeds = _category_matrix(speeds_kmh, n, "speeds_kmh")
    given = {str(k) for k in speeds_kmh}
    missing = [CATEGORIES[c] for c in range(len(CATEGORIES)) if (flows[:, c] > 0).any() and CATEGORIES[c] not in given]
    if missing:
        raise InvalidValueError(f"speeds_kmh: no speed given for categories {missing} that have a flow")
    coef = road_coefficients(coefficients)
    codes = np.broadcast_to(np.asarray(surface, dtype=object), (n,))
    uniq = list(dict.fromkeys(codes.tolist()))
    lookup = {u: i for i, u in enumerate(uniq)}
    corrections = [surface_correction(str(u), coefficients) for u in uniq]
    surfaces = kernels.SurfaceTable(alpha=np.stack([a for a, _ in corrections]), beta=np.stack([b for _, b in corrections]))
    if not (0.0 <= studded_share <= 1.0):
        raise InvalidValueError(f"studded_share must be within [0, 1], got {studded_share}")
    if not (0.0 <= studded_months <= 12.0):
        raise InvalidValueError(f"studded_months must be within [0, 12], got {studded_months}")
    if isinstance(junction, np.ndarray):
        jk = np.array([_junction_code(j) for j in junction.tolist()], dtype=np.int64)
    else:
        jk = np.full(n, _junction_code(junction), dtype=np.int64)
    if (jk > 0).any() and junction_distance_m is None:
        raise InvalidValueError("junction_distance_m is required when junction is given")
    tables = kernels.EmissionTables(
        AR=coef.AR,
        BR=coef.BR,
        AP=coef.AP,
        BP=coef.BP,
        K_temp=coef.K_temp,
        a_stud=coef.a_stud,
        b_stud=coef.b_stud,
        CR=coef.CR,
        CP=coef.CP,
        v_ref_kmh=coef.v_ref_kmh,
        T_ref_C=coef.T_ref_C,
    )
    links = kernels.LinkConditions(
        surface_idx=np.array([lookup[c] for c in codes], dtype=np.int64),
        temperature_c=_per_link(temperature_c, n),
        p_stud=np.full(n, studded_share * studded_months / 12.0),
        gradient_pct=_per_link(gradient_pct, n),
        junction_k=jk,
        junction_x_m=_per_link(100.0 if junction_distance_m is None else junction_distance_m, n),
    )
    return kernels.emission_links(flows, speeds, tables, surfaces, links)


def line_emission(
    flows_vph: Mapping[str, float],
    speeds_kmh: Mapping[str, float],
    *,
    coefficients: str = "2021",
    surface: str = "DEF",
    temperature_c: float = 20.0,
    studded_share: float = 0.0,
    studded_months: float = 0.0,
    gradient_pct: float = 0.0,
    junction: str | None = None,
    junction_distance_m: float | None = None,
) -> npt.NDArray[np.float64]:
    """CNOSSOS-EU sound power of one road per octave band (dB re 1 pW per metre).

    Rolling and propulsion noise of categories ``"1"``, ``"2"``, ``"3"``, ``"4a"``, ``"4b"``
    (Annex II 2.2.1–2.2.20) with road-surface, temperature, studded-tyre, gradient and
    junction corrections, summed energetically over categories.

    Parameters
    ----------
    flows_vph, speeds_kmh
        Hourly flow (veh/h) and mean speed (km/h) per category; categories without a flow
        may be left out. Speeds below 20 km/h count as 20 km/h.
    coefficients
        ``"2021"`` (Delegated Directive 2021/1226, default) or ``"2015"`` (Directive 2015/996).
    surface
        Table F-4 road-surface code, e.g. ``"NL05"``; ``"DEF"`` is the reference surface.
    temperature_c
        Mean air temperature (°C).
    studded_share, studded_months
        Share of light vehicles with studded tyres (Pm_stud) and months per year they are used (Ts).
    gradient_pct
        Road gradient in % in the driving direction (positive uphill).
    junction, junction_distance_m
        ``None``, ``"lights"`` (k = 1) or ``"roundabout"`` (k = 2), and the distance to it (m).

    Returns
    -------
    numpy.ndarray
        Eight band levels L'_W,eq,line (63 Hz … 8 kHz); ``-inf`` in every band without traffic.

    Examples
    --------
    >>> lw = line_emission({"1": 1000, "3": 100}, {"1": 50, "3": 50}, surface="NL05")
    >>> lw.round(1).tolist()
    [84.7, 78.6, 77.4, 79.0, 80.6, 76.1, 69.6, 62.3]
    """
    for name, d in (("flows_vph", flows_vph), ("speeds_kmh", speeds_kmh)):
        for k, v in d.items():
            if np.ndim(v) != 0:
                raise InvalidValueError(f"{name}[{k!r}] must be a scalar for line_emission (use emission_per_link for arrays)")
    lw: npt.NDArray[np.float64] = emission_per_link(
        flows_vph,
        speeds_kmh,
        coefficients=coefficients,
        surface=surface,
        temperature_c=temperature_c,
        studded_share=studded_share,
        studded_months=studded_months,
        gradient_pct=gradient_pct,
        junction=junction,
        junction_distance_m=junction_distance_m,
    )[0]
    return lw
