"""Noise maps from link traffic: :func:`compute_noise` (one traffic state) and :func:`compute_noise_many`.

Both check the traffic against the network, turn it into per-metre line powers per period
(:mod:`ldtkit.model.noise.emission`), sum the energies at the receptors
(:meth:`~ldtkit.model.noise.propagation.NoisePropagation.energies`) and wrap the levels in a
:class:`~ldtkit.model.noise.maps.NoiseMap`.

Examples
--------
>>> nmap = compute_noise(net, {"day": t_day, "evening": t_eve, "night": t_night}, receptors)  # doctest: +SKIP
>>> nmap.exposure()["Lden 55-59"]  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ldtkit.errors import InvalidValueError
from ldtkit.model.noise.emission import emission_per_link
from ldtkit.model.noise.incremental import TOLERANCE_DB, block_rows, energy_change
from ldtkit.model.noise.maps import NoiseMap, lden_db
from ldtkit.model.noise.propagation import NoisePropagation, noise_propagation
from ldtkit.model.noise.tables import A_WEIGHTING_DB
from ldtkit.model.traffic import PERIODS, LinkTraffic

if TYPE_CHECKING:
    from ldtkit.model.buildings import Buildings
    from ldtkit.model.network import RoadNetwork
    from ldtkit.model.receptors import Receptors

FloatArray = npt.NDArray[np.float64]
#: A day's traffic: ``{"day": LinkTraffic, "evening": ..., "night": ...}``.
DayTraffic = Mapping[str, LinkTraffic]

#: The periods of a noise map, in the order of its levels (day, evening, night).
PERIOD_ORDER: tuple[str, ...] = tuple(PERIODS)


def compute_noise(
    network: RoadNetwork,
    traffic: DayTraffic,
    receptors: Receptors,
    *,
    cutoff_m: float = 3000.0,
    ground_g: float = 0.5,
    p_favourable: float = 0.5,
    coefficients: str = "2021",
    surface: str = "DEF",
    temperature_c: float = 15.0,
    humidity_pct: float = 70.0,
    method: str = "table",
    bands: bool = False,
    propagation: NoisePropagation | None = None,
    reference_traffic: DayTraffic | None = None,
    progress: bool = True,
    buildings: Buildings | None = None,
) -> NoiseMap:
    """Lday, Levening, Lnight and Lden at every receptor from per-period link traffic (CNOSSOS-EU).

    Light traffic is category 1 and heavy traffic category 3, both at the link's mean speed.
    Links of class ``"connector"``, tunnels and links without traffic do not emit. The two
    directions of a road share one source line (their powers add).

    Parameters
    ----------
    network
        :class:`~ldtkit.model.network.RoadNetwork` with link centre lines in a metric CRS.
    traffic
        ``{"day": LinkTraffic, "evening": ..., "night": ...}`` aligned with ``network.links``.
    receptors
        :class:`~ldtkit.model.receptors.Receptors` (e.g. a 10 m grid at 4 m, or façade points).
    cutoff_m, ground_g, p_favourable, temperature_c, humidity_pct, method
        Propagation settings, see :func:`noise_propagation` (ignored when ``propagation`` is given).
    coefficients, surface
        Emission coefficient set (``"2021"`` or ``"2015"``) and Table F-4 road surface.
    bands
        Also keep unweighted octave-band levels per period (``NoiseMap.bands_db``).
    propagation
        A :class:`NoisePropagation` prepared once for this network geometry and these receptors.
    reference_traffic
        Traffic (same form as ``traffic``) whose day-period power places the far-field point
        sources (power-weighted centroids of distant source cells); default ``traffic`` itself.
        Scenarios compared with a baseline use the baseline's, so that their differences come
        from the traffic alone (the runner does); see also :func:`compute_noise_many`.
    progress
        Show a tqdm progress bar.
    buildings
        :class:`~ldtkit.model.buildings.Buildings` screening the paths (ignored when ``propagation``
        is given: it carries its own); ``None`` propagates in open field. ``meta["propagation"]``
        says which in one line.

    Returns
    -------
    NoiseMap

    Examples
    --------
    >>> nmap = compute_noise(net, {"day": t_day, "evening": t_eve, "night": t_night}, receptors)  # doctest: +SKIP
    >>> nmap.exposure()["Lden 55-59"]  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    _check_traffic(network, traffic, "traffic")
    if reference_traffic is not None:
        _check_traffic(network, reference_traffic, "reference_traffic")
    if propagation is None:
        propagation = noise_propagation(
            network,
            receptors,
            cutoff_m=cutoff_m,
            ground_g=ground_g,
            p_favourable=p_favourable,
            temperature_c=temperature_c,
            humidity_pct=humidity_pct,
            method=method,
            buildings=buildings,
        )
    maps_ = _stacked_maps(
        network,
        {"": traffic},
        receptors,
        reference_traffic=reference_traffic,
        propagation=propagation,
        coefficients=coefficients,
        surface=surface,
        bands=bands,
        progress=progress,
        started=t0,
        caller="compute_noise",
    )
    return maps_[""]


def compute_noise_many(
    network: RoadNetwork,
    traffics: Mapping[str, DayTraffic],
    receptors: Receptors,
    *,
    reference_traffic: DayTraffic,
    coefficients: str = "2021",
    surface: str = "DEF",
    bands: bool = False,
    propagation: NoisePropagation | None = None,
    baseline_map: NoiseMap | None = None,
    error_budget: bool = False,
    baseline: NoiseBaseline | None = None,
    progress: bool = False,
    **propagation_options: Any,
) -> dict[str, NoiseMap]:
    """Noise maps of several traffic states on one network geometry, in one pass.

    The source–receiver geometry (distances, ground and air terms) is evaluated once for all
    of them; only the powers differ. Each map equals ``compute_noise(network, traffics[name],
    receptors, reference_traffic=reference_traffic, ...)`` computed alone, in a fraction of
    the time (on the Ghent focus area three scenario maps take about 1.5 times one map).

    Parameters
    ----------
    network
        The network whose link geometry carries the sources; every traffic state must be
        aligned with its links (scenario networks keep the baseline's links and ids).
    traffics
        ``{name: {"day": LinkTraffic, "evening": ..., "night": ...}}``.
    reference_traffic
        Traffic whose day-period power places the far-field point sources (the baseline's).
    baseline_map
        The map of ``reference_traffic`` (same receptors and settings). With it, a single traffic
        state is computed by :func:`update_noise` (the roads whose power changed, within its
        tolerance of the full map); several states are cheaper per map in one pass.
    error_budget, baseline
        Passed to :func:`update_noise`.
    propagation_options
        Passed to :func:`noise_propagation` when ``propagation`` is not given (e.g. ``buildings=``).

    Examples
    --------
    >>> maps_ = compute_noise_many(base_net, {"closed": t_closed, "one-way": t_oneway}, receptors,
    ...                            reference_traffic=t_base)  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    for name, traffic in traffics.items():
        _check_traffic(network, traffic, f"traffics[{name!r}]")
    _check_traffic(network, reference_traffic, "reference_traffic")
    if not traffics:
        return {}
    if propagation is None:
        propagation = noise_propagation(network, receptors, **propagation_options)
    if baseline_map is not None and len(traffics) == 1 and not bands:
        if (baseline_map.meta.get("coefficients"), baseline_map.meta.get("surface")) != (coefficients, surface):
            raise InvalidValueError(
                f"compute_noise_many: baseline_map has coefficients={baseline_map.meta.get('coefficients')!r}, "
                f"surface={baseline_map.meta.get('surface')!r}; expected {coefficients!r}, {surface!r}"
            )
        return {
            n: update_noise(
                network, baseline_map, reference_traffic, t, propagation=propagation, error_budget=error_budget, baseline=baseline
            )
            for n, t in traffics.items()
        }
    return _stacked_maps(
        network,
        traffics,
        receptors,
        reference_traffic=reference_traffic,
        propagation=propagation,
        coefficients=coefficients,
        surface=surface,
        bands=bands,
        progress=progress,
        started=t0,
        caller="compute_noise_many",
    )


@dataclass(frozen=True)
class NoiseBaseline:
    """A baseline map with what every update from it reuses (:func:`noise_baseline` prepares it once).

    Attributes
    ----------
    map, traffic
        The baseline's :class:`NoiseMap` and the traffic it was computed from.
    line_powers
        Per-metre line powers of ``traffic`` (3 periods, n_lines, 8), linear.
    period_energy
        A-weighted energy per receptor and period, 10^(L/10) (n_receptors, 3).
    """

    map: NoiseMap
    traffic: DayTraffic
    line_powers: FloatArray
    period_energy: FloatArray


def noise_baseline(network: RoadNetwork, base_map: NoiseMap, base_traffic: DayTraffic, *, propagation: NoisePropagation) -> NoiseBaseline:
    """``base_map`` checked against ``propagation`` and ready for :func:`update_noise`: the line powers of
    ``base_traffic`` and the map's period energies, computed once for every scenario updated from it.

    Examples
    --------
    >>> ref = noise_baseline(net, base, t_base, propagation=prop)  # doctest: +SKIP
    >>> closed = update_noise(net, base, t_base, t_closed, propagation=prop, baseline=ref)  # doctest: +SKIP
    """
    _check_traffic(network, base_traffic, "base_traffic")
    meta = base_map.meta
    if len(propagation.sources.line_of_link) != len(network.links):
        raise InvalidValueError("update_noise: propagation was prepared for another network")
    r, pr = base_map.receptors, propagation.receptors
    if r is not pr and not (len(r) == len(pr) and np.array_equal(r.x, pr.x) and np.array_equal(r.y, pr.y) and np.array_equal(r.z, pr.z)):
        raise InvalidValueError("update_noise: base_map and propagation have different receptors")
    for key in ("cutoff_m", "ground_g", "p_favourable", "method"):
        if key not in meta or meta[key] != getattr(propagation, key):
            raise InvalidValueError(
                f"update_noise: base_map meta[{key!r}]={meta.get(key)!r} differs from the propagation's {getattr(propagation, key)!r}"
            )
    w_base = line_powers(base_traffic, propagation, coefficients=str(meta["coefficients"]), surface=str(meta["surface"]))
    levels = np.stack([base_map.lday_db, base_map.levening_db, base_map.lnight_db], axis=1)
    return NoiseBaseline(base_map, base_traffic, w_base, 10.0 ** (levels / 10.0))


def update_noise(
    network: RoadNetwork,
    base_map: NoiseMap,
    base_traffic: DayTraffic,
    traffic: DayTraffic,
    *,
    propagation: NoisePropagation,
    tolerance_db: float = TOLERANCE_DB,
    error_budget: bool = False,
    baseline: NoiseBaseline | None = None,
) -> NoiseMap:
    """A scenario's noise map from the baseline's, recomputing only the sources whose power changed.

    The baseline map ``base_map`` was computed from ``base_traffic`` (which placed its far-field
    sources, the default of :func:`compute_noise`). The scenario's levels are the baseline's
    energies plus the energy change of the source lines whose power (from flow and speed)
    changed by more than ``tolerance_db`` in some period and band, evaluated at the receptors
    they reach (:mod:`ldtkit.model.noise.incremental`). Every level is within ``tolerance_db``
    of ``compute_noise(network, traffic, receptors, reference_traffic=base_traffic)`` (up to
    rounding); a scenario that changes few roads takes a fraction of a full map. A map screened by
    buildings leaves out negligible paths (at most ``prune_db`` of each level, chosen by the
    baseline's levels): where the scenario lowers a level by more than :func:`redo_drop_db`, what
    was left out could weigh more than that, and the receptor's block is mapped in full
    (``meta["receptors_mapped_in_full"]``). Every level is then at most ``prune_db`` +
    2 ``tolerance_db`` below the map without left-out paths and ``tolerance_db`` above it (a full
    map: ``prune_db`` below).

    Parameters
    ----------
    network
        The baseline network (scenario networks keep its links and ids); ``traffic`` and
        ``base_traffic`` are aligned with its links.
    base_map
        The baseline's :class:`NoiseMap` (its coefficient set and road surface are reused).
    base_traffic, traffic
        ``{"day": LinkTraffic, "evening": ..., "night": ...}`` of the baseline and the scenario.
    propagation
        The :class:`NoisePropagation` of the baseline map (same receptors and settings).
    tolerance_db
        Largest difference of a period level from the full map. By default the source lines
        whose power changed by at most this keep their baseline power.
    error_budget
        Share the tolerance between those lines and skipping distant changes within an error
        budget per receptor (:func:`~ldtkit.model.noise.incremental.energy_change`; open-field
        maps with a transfer table, without band levels): fewer evaluations, other rounding of
        the same tolerance.
    baseline
        :func:`noise_baseline` of ``base_map`` and ``base_traffic`` with ``propagation``, prepared
        once for several scenarios (default: prepared here).

    Returns
    -------
    NoiseMap
        With ``meta["changed_lines"]`` (lines recomputed, of ``meta["source_lines"]``) and
        ``meta["tolerance_db"]``.

    Examples
    --------
    >>> prop = noise_propagation(net, receptors)  # doctest: +SKIP
    >>> base = compute_noise(net, t_base, receptors, propagation=prop)  # doctest: +SKIP
    >>> closed = update_noise(net, base, t_base, t_closed, propagation=prop)  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    if baseline is None:
        baseline = noise_baseline(network, base_map, base_traffic, propagation=propagation)
    elif baseline.map is not base_map or baseline.traffic is not base_traffic:
        raise InvalidValueError("update_noise: baseline was prepared for another base_map or base_traffic")
    _check_traffic(network, traffic, "traffic")
    meta = base_map.meta
    coefficients, surface = str(meta["coefficients"]), str(meta["surface"])
    w_new = line_powers(traffic, propagation, coefficients=coefficients, surface=surface)
    t1 = time.perf_counter()
    a_weight = 10.0 ** (A_WEIGHTING_DB / 10.0)
    e_base = baseline.period_energy
    # band levels keep the line tolerance only; period levels may also skip distant changes
    base_energy = e_base if error_budget and base_map.bands_db is None else None
    change = energy_change(propagation, baseline.line_powers, w_new, tolerance_db=tolerance_db, base_energy=base_energy)
    e_new = _floored(e_base + np.einsum("rmb,b->rm", change.energy, a_weight), e_base)
    band_new = None
    if base_map.bands_db is not None:
        eb = np.stack([10.0 ** (base_map.bands_db[p] / 10.0) for p in PERIOD_ORDER], axis=1)
        band_new = _floored(eb + change.energy, eb)
    n_pairs, redone = change.n_pairs, 0
    if propagation.prunes:
        # The baseline map left out negligible paths (within prune_db of its levels): where a level falls far,
        # they may no longer be negligible, and the receptors' blocks are mapped in full.
        redo = _redo_blocks(propagation, e_base, e_new, drop_db=redo_drop_db(propagation.prune_db, tolerance_db))
        if len(redo):
            e_full, n_redo = propagation.energies(w_new, w_reference=baseline.line_powers[0], blocks=redo)
            rows = _block_receptors(propagation, redo)
            e_new[rows] = np.einsum("rmb,b->rm", e_full[rows], a_weight)
            if band_new is not None:
                band_new[rows] = e_full[rows]
            n_pairs, redone = n_pairs + n_redo, len(rows)
    bands_db = None
    if band_new is not None:
        with np.errstate(divide="ignore"):
            band_energy = 10.0 * np.log10(band_new)
        bands_db = {p: band_energy[:, m] for m, p in enumerate(PERIOD_ORDER)}
    with np.errstate(divide="ignore"):
        la = 10.0 * np.log10(e_new)
    t2 = time.perf_counter()
    return NoiseMap(
        receptors=base_map.receptors,
        lday_db=la[:, 0],
        levening_db=la[:, 1],
        lnight_db=la[:, 2],
        lden_db=lden_db(la[:, 0], la[:, 1], la[:, 2]),
        bands_db=bands_db,
        meta={
            **meta,
            "pair_evaluations": n_pairs,
            "receptors_mapped_in_full": redone,
            "source_lines": change.n_lines,
            "changed_lines": change.n_changed_lines,
            "tolerance_db": float(tolerance_db),
            "seconds_prepare": t1 - t0,
            "seconds_compute": t2 - t1,
        },
    )


def redo_drop_db(prune_db: float, tolerance_db: float) -> float:
    """How far (dB) a scenario may lower a level updated from a pruned baseline map before its block is mapped in full.

    The baseline map left out paths worth at most ε = 10^(``prune_db``/10) − 1 of each level's energy.
    Where the scenario lowers a level by D dB, the same paths weigh ε·10^(D/10) of the new level;
    up to this D, leaving them out lowers the level by at most ``prune_db`` + ``tolerance_db``
    (a level that rises keeps them smaller than ``prune_db``).

    Examples
    --------
    >>> round(redo_drop_db(0.1, 0.05), 2)  # the defaults: PRUNE_DB, TOLERANCE_DB
    1.79
    """
    eps = 10.0 ** (prune_db / 10.0) - 1.0
    return float(10.0 * np.log10((10.0 ** ((prune_db + tolerance_db) / 10.0) - 1.0) / eps))


def _redo_blocks(propagation: NoisePropagation, e_base: FloatArray, e_new: FloatArray, *, drop_db: float) -> npt.NDArray[np.int64]:
    """The receptor blocks (increasing) holding a receptor whose period energy fell by more than
    ``drop_db`` from ``e_base`` to ``e_new`` (n_receptors, n_periods), receptors in buildings aside."""
    a = propagation.arrays
    factor = 10.0 ** (drop_db / 10.0)
    eb, en = e_base[a.receptor_order], e_new[a.receptor_order]
    with np.errstate(invalid="ignore"):
        fell = (en * factor < eb).any(axis=1)
    block_of = np.repeat(np.arange(len(a.block_start) - 1), np.diff(a.block_start))
    return np.unique(block_of[fell]).astype(np.int64)


def _block_receptors(propagation: NoisePropagation, blocks: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The receptors (indices into the receptor set) of the given blocks."""
    a = propagation.arrays
    out: npt.NDArray[np.int64] = a.receptor_order[block_rows(a.block_start, blocks)[0]]
    return out


def _floored(energy: FloatArray, base: FloatArray) -> FloatArray:
    """``energy`` with what is within rounding of the baseline ``base`` (≤ 1e-12 of it) set to 0:
    a receptor whose every source went quiet gets no energy, not a rounding residue. No level (NaN, e.g.
    inside a building) stays no level."""
    return np.where(energy > 1e-12 * base, energy, np.where(np.isnan(base), np.nan, 0.0))


def _stacked_maps(
    network: RoadNetwork,
    traffics: Mapping[str, DayTraffic],
    receptors: Receptors,
    *,
    reference_traffic: DayTraffic | None,
    propagation: NoisePropagation,
    coefficients: str,
    surface: str,
    bands: bool,
    progress: bool,
    started: float,
    caller: str,
) -> dict[str, NoiseMap]:
    """The shared body of :func:`compute_noise` and :func:`compute_noise_many`: the periods of
    every (checked) traffic state stacked into one kernel pass, then split into maps."""
    if propagation.receptors is not receptors or len(propagation.sources.line_of_link) != len(network.links):
        raise InvalidValueError(f"{caller}: propagation was prepared for other receptors or another network")
    t1 = time.perf_counter()
    names = list(traffics)
    w_line = np.concatenate([line_powers(traffics[n], propagation, coefficients=coefficients, surface=surface) for n in names])
    w_ref = (
        None if reference_traffic is None else line_powers(reference_traffic, propagation, coefficients=coefficients, surface=surface)[0]
    )
    energy, n_pairs = propagation.energies(w_line, w_reference=w_ref, progress=progress)
    t2 = time.perf_counter()
    npd = len(PERIOD_ORDER)
    return {
        n: _noise_map(
            energy[:, k * npd : (k + 1) * npd],
            receptors,
            propagation,
            coefficients=coefficients,
            surface=surface,
            bands=bands,
            n_pairs=n_pairs,
            seconds=(t1 - started, (t2 - t1) / len(names)),
        )
        for k, n in enumerate(names)
    }


def _check_traffic(network: RoadNetwork, traffic: DayTraffic, what: str) -> None:
    missing = [p for p in PERIOD_ORDER if p not in traffic]
    if missing:
        raise InvalidValueError(f"{what}: missing periods {missing}; expected keys {list(PERIOD_ORDER)}")
    n_links = len(network.links)
    for p in PERIOD_ORDER:
        if len(traffic[p].link_id) != n_links or not np.array_equal(np.asarray(traffic[p].link_id), network.links["link_id"].to_numpy()):
            raise InvalidValueError(f"{what}[{p!r}]: link_id must match network.links['link_id'] in order ({n_links} links)")


def line_powers(traffic: DayTraffic, propagation: NoisePropagation, *, coefficients: str, surface: str) -> FloatArray:
    """Per-metre sound power (linear, W-relative) of every source line, shape (3 periods, n_lines, 8).

    Examples
    --------
    >>> w = line_powers(traffic, prop, coefficients="2021", surface="DEF")  # doctest: +SKIP
    >>> w.shape == (3, prop.sources.n_lines, 8)  # doctest: +SKIP
    True
    """
    src = propagation.sources
    emits = src.line_of_link >= 0
    w_line = np.zeros((len(PERIOD_ORDER), src.n_lines, 8))
    for m, p in enumerate(PERIOD_ORDER):
        t = traffic[p]
        lw = emission_per_link(
            {"1": t.light_vph[emits], "3": t.heavy_vph[emits]},
            {"1": t.speed_kmh[emits], "3": t.speed_kmh[emits]},
            coefficients=coefficients,
            surface=surface,
            temperature_c=propagation.temperature_c,
        )
        np.add.at(w_line[m], src.line_of_link[emits], 10.0 ** (lw / 10.0))
    return w_line


def _noise_map(
    energy: FloatArray,
    receptors: Receptors,
    propagation: NoisePropagation,
    *,
    coefficients: str,
    surface: str,
    bands: bool,
    n_pairs: int,
    seconds: tuple[float, float],
) -> NoiseMap:
    """Levels, Lden and metadata from band energies (n_receptors, 3 periods, 8)."""
    with np.errstate(divide="ignore"):
        # the A-weighted sum over the bands without a copy of the energies (Ghent: 48 MB a map)
        la = 10.0 * np.log10(np.einsum("rpb,b->rp", energy, 10.0 ** (A_WEIGHTING_DB / 10.0)))
        band_db = 10.0 * np.log10(energy) if bands else None
    lden = lden_db(la[:, 0], la[:, 1], la[:, 2])
    return NoiseMap(
        receptors=receptors,
        lday_db=la[:, 0],
        levening_db=la[:, 1],
        lnight_db=la[:, 2],
        lden_db=lden,
        bands_db={p: band_db[:, m] for m, p in enumerate(PERIOD_ORDER)} if band_db is not None else None,
        meta={
            "cutoff_m": propagation.cutoff_m,
            "ground_g": propagation.ground_g,
            "p_favourable": propagation.p_favourable,
            "method": propagation.method,
            "coefficients": coefficients,
            "surface": surface,
            "source_segments": propagation.sources.n_segments,
            "pair_evaluations": n_pairs,
            "far_field": propagation.far_field,
            "propagation": propagation.screening,
            "seconds_prepare": seconds[0],
            "seconds_compute": seconds[1],
        },
    )
