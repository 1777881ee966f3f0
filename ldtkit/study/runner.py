"""Run a city's baseline and scenarios: traffic, noise and air, cached and in parallel.

``run(city, scenarios)`` prepares the city once (network, zones, demand, receptors),
solves the baseline, then every scenario warm-started from the baseline's
equilibrium, in parallel through dask: the local threaded scheduler by default, or
any ``dask.distributed.Client`` (a laptop ``LocalCluster`` or a real cluster).

Results are cached on disk under a content hash of (city inputs, scenario measures,
model parameters, ldtkit's version and model code), written atomically as each finishes
(JSON, npz and Parquet: ``docs/cache.md``), so a rerun is instant, an interrupted run resumes,
an edited scenario recomputes only itself, results of other code are never served, two
concurrent runs compute a result once and the cache stays under its size limit.

Examples
--------
>>> from ldtkit import run, load_scenarios
>>> results = run("ghent", load_scenarios("data/ghent/scenarios"))  # doctest: +SKIP
>>> results["bridge-closed-both"].assignment.gap  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ldtkit.errors import LdtkitError
from ldtkit.model.network import RoadNetwork
from ldtkit.model.traffic import PERIODS, LinkTraffic
from ldtkit.study.cache import ResultCache, RunKeys, content_hash, model_fingerprint
from ldtkit.study.city import City, load_city
from ldtkit.study.convergence import ConvergenceWarning, unconverged
from ldtkit.study.facades import facades_for, with_facades
from ldtkit.study.inputs import focus_bounds, focus_receptors, on_disconnected_for, reattach_connectors, reattach_walk_m, zone_population
from ldtkit.study.memory import fewer_malloc_arenas
from ldtkit.study.options import MODELS, ModelOptions
from ldtkit.study.periods import assign_periods
from ldtkit.study.scenario import Scenario
from ldtkit.study.scenario import baseline as baseline_scenario
from ldtkit.study.shared import air_transfer_cached, worker_copies

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

    from ldtkit.model.air import AirMap, AirTransfer
    from ldtkit.model.assignment import AssignmentResult
    from ldtkit.model.buildings import Buildings
    from ldtkit.model.demand import Demand
    from ldtkit.model.noise import BuildingExposure, NoiseBaseline, NoiseMap, NoisePropagation
    from ldtkit.model.noise.terrain import Terrain
    from ldtkit.model.receptors import Receptors
    from ldtkit.study.facades import FacadeReceptors

__all__ = [
    "DEFAULT_CACHE",
    "MODELS",
    "CityInputs",
    "ModelOptions",
    "ResultCache",
    "ScenarioResult",
    "focus_bounds",
    "focus_receptors",
    "model_fingerprint",
    "noise_maps",
    "prepare_city",
    "run",
    "run_scenario",
    "run_scenario_cached",
    "zone_population",
]

DEFAULT_CACHE = Path(os.environ.get("LDTKIT_CACHE", ".ldtkit-cache"))
#: Scenarios computed at once by the local threaded scheduler. One: the assignment and noise kernels
#: already use every core, and each scenario in flight holds its path pool (Ghent: about 150 MB).
LOCAL_SCENARIO_WORKERS = 1
#: Periods of a scenario assigned at once by the runner: one, as its memory is bounded for many scenarios
#: (a second period in flight holds its path sets too: Ghent, about 140 MB more at the peak).
RUNNER_PERIOD_WORKERS = 1


class ProgressBar(Protocol):
    """What the runner needs of a progress bar (tqdm's)."""

    def update(self, n: float | None = 1) -> bool | None: ...

    def close(self) -> None: ...


@dataclass
class CityInputs:
    """What every scenario of a city shares: the connected baseline network, demand, receptors.

    ``air_transfer`` and ``noise_propagation`` are the traffic-independent parts of the air and
    noise maps on the baseline network's geometry: computed once (the noise propagation by the
    first map), reused by every scenario; ``noise_baseline``, what every scenario's noise update
    reuses of the baseline's map (prepared by the first update); ``facades``, ``facade_propagation``: :mod:`ldtkit.study.facades`.
    """

    city: City
    network: RoadNetwork
    demand: Demand
    noise_receptors: Receptors | None = None
    noise_buildings: Buildings | None = None
    noise_terrain: Terrain | None = None
    air_receptors: Receptors | None = None
    air_transfer: AirTransfer | None = None
    zones: pd.DataFrame | None = None
    key: str = ""
    noise_propagation: NoisePropagation | None = field(default=None, repr=False)
    noise_baseline: NoiseBaseline | None = field(default=None, repr=False)
    facades: FacadeReceptors | None = None
    facade_propagation: NoisePropagation | None = field(default=None, repr=False)


@dataclass
class ScenarioResult:
    """Everything computed for one scenario.

    Attributes
    ----------
    scenario
        The scenario that was applied.
    network
        The scenario's network (connectors included; closed links barred, ids unchanged).
    assignment
        The day-period :class:`~ldtkit.model.assignment.AssignmentResult`.
    traffic
        ``{period: LinkTraffic}`` for ``"day"``, ``"evening"`` and ``"night"``.
    noise, air
        :class:`~ldtkit.model.noise.NoiseMap` and :class:`~ldtkit.model.air.AirMap`, or ``None`` when not requested.
    noise_facades, facades
        A city with buildings: the façade map and the exposure per building that the people per noise band count.

    Examples
    --------
    >>> import ldtkit
    >>> results = ldtkit.run("ghent", models=("traffic",))  # doctest: +SKIP
    >>> base = results["baseline"]  # doctest: +SKIP
    >>> base.scenario.name, list(base.traffic)  # doctest: +SKIP
    ('baseline', ['day', 'evening', 'night'])
    >>> base.links_geodataframe().nlargest(5, "flow_vph")[["name", "flow_vph", "speed_kmh"]]  # doctest: +SKIP
    """

    scenario: Scenario
    network: RoadNetwork
    assignment: AssignmentResult
    traffic: dict[str, LinkTraffic]
    noise: NoiseMap | None = None
    air: AirMap | None = None
    noise_facades: NoiseMap | None = None
    facades: BuildingExposure | None = None
    key: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    period_assignments: dict[str, AssignmentResult] = field(default_factory=dict, repr=False)

    @property
    def convergence_warnings(self) -> list[ConvergenceWarning]:
        """Periods stopped at the iteration cap before the gap target (from their ``meta``: cached results say it too)."""
        return unconverged(self, scenario=self.scenario.name)

    def links_geodataframe(self) -> gpd.GeoDataFrame:
        """The scenario's links with day flows, speeds and daily vehicle-km."""
        gdf = self.network.links[
            ["link_id", "name", "road_class", "length_m", "capacity_vph", "bridge", "car_allowed", "hgv_allowed", "geometry"]
        ].copy()
        day = self.traffic["day"]
        gdf["light_vph"] = day.light_vph
        gdf["heavy_vph"] = day.heavy_vph
        gdf["flow_vph"] = day.total_vph
        gdf["flow_pcu"] = self.assignment.flow_pcu
        gdf["speed_kmh"] = day.speed_kmh
        gdf["voc"] = np.divide(
            self.assignment.flow_pcu, gdf["capacity_vph"].to_numpy(), out=np.zeros(len(gdf)), where=gdf["capacity_vph"].to_numpy() > 0
        )
        gdf["vehicles_per_day"] = sum(self.traffic[p].total_vph * h for p, h in PERIODS.items())
        return gdf


# ------------------------------------------------------------------ preparation
def prepare_city(
    city: City | str | Path, *, options: ModelOptions = ModelOptions(), progress: bool = True, key: str | None = None
) -> CityInputs:
    """Load the network, build zones and demand, and set up receptors for ``city``.

    ``key`` is the content hash of the city and options when the caller has it already.
    """
    from ldtkit.model.receptors import population_out_of_buildings
    from ldtkit.study.inputs import demand_for_city, noise_buildings, noise_terrain

    city = city if isinstance(city, City) else load_city(city)
    network = city.load_network()
    network, demand = demand_for_city(city, network, progress=progress)
    if options.demand_scale != 1.0:
        demand = demand.scaled(options.demand_scale)
    inputs = CityInputs(city=city, network=network, demand=demand, zones=demand.meta.get("zones"))
    if "noise" in options.models:
        inputs.noise_receptors = focus_receptors(city, network, cell_m=options.noise_cell_m, zones=inputs.zones, height_m=4.0)
        inputs.noise_buildings = noise_buildings(city)
        inputs.noise_terrain = noise_terrain(city)
        if inputs.noise_buildings is not None:  # no level inside buildings: their residents count at the nearest point outside
            r = inputs.noise_receptors
            inputs.noise_receptors = population_out_of_buildings(r, inputs.noise_buildings.inside(r.x, r.y))
            inputs.facades = facades_for(city, network, inputs.noise_buildings, inputs.zones, spacing_m=options.facade_spacing_m)
    if "air" in options.models:
        inputs.air_receptors = focus_receptors(city, network, cell_m=options.air_cell_m, zones=inputs.zones, height_m=1.5)
    inputs.key = key or content_hash(city.fingerprint(), options.key(), model_fingerprint())
    return inputs


# ------------------------------------------------------------------ one scenario
def run_scenario(
    inputs: CityInputs,
    scenario: Scenario,
    *,
    options: ModelOptions = ModelOptions(),
    warm_start: ScenarioResult | None = None,
    noise: bool = True,
    period_workers: int | None = None,
) -> ScenarioResult:
    """Apply ``scenario`` and compute traffic (all periods), noise and air. Pure: no I/O.

    ``warm_start`` is the baseline's result: its equilibrium starts the assignment and its
    traffic places the far-field noise sources (so a scenario's map differs from the
    baseline's through the traffic alone; its noise map is updated, with an error budget). ``noise=False`` leaves the noise map
    to the caller (the runner computes the maps once the traffic of every scenario is known, with
    :func:`noise_maps`, within the same tolerance of a full map). ``period_workers``: periods assigned at
    once (:func:`~ldtkit.study.periods.assign_periods`; default two where numba allows it).
    """
    t0 = time.perf_counter()
    network = (
        reattach_connectors(scenario.apply(inputs.network), max_walk_m=reattach_walk_m(inputs.city))
        if scenario.measures
        else inputs.network
    )
    seconds: dict[str, float] = {}
    period_results, traffic = assign_periods(
        network, inputs.demand, gap=options.gap, max_iter=options.max_iter, scenario=scenario.name,
        on_disconnected=on_disconnected_for(inputs.city, options.on_disconnected),
        warm_start=warm_start.period_assignments if warm_start is not None else None, workers=period_workers,
    )  # fmt: skip
    seconds["traffic"] = time.perf_counter() - t0
    noise_map: NoiseMap | None = None
    air_map: AirMap | None = None
    if noise and "noise" in options.models and inputs.noise_receptors is not None:
        t1 = time.perf_counter()
        reference, base_map = (warm_start.traffic, warm_start.noise) if warm_start is not None else (traffic, None)
        noise_map = noise_maps(inputs, {scenario.name: traffic}, reference, baseline_map=base_map, error_budget=True)[scenario.name]
        seconds["noise"] = time.perf_counter() - t1
    if "air" in options.models and inputs.air_receptors is not None:
        from ldtkit.model.air import compute_air

        t1 = time.perf_counter()
        air_map = compute_air(network, traffic, inputs.air_receptors, transfer=inputs.air_transfer, config=inputs.city.config.air)
        seconds["air"] = time.perf_counter() - t1
    result = ScenarioResult(
        scenario, network, period_results["day"], traffic, noise_map, air_map, seconds=seconds, period_assignments=period_results
    )
    return with_facades(inputs, result, warm_start=warm_start) if noise_map is not None else result


def noise_maps(
    inputs: CityInputs, traffics: Mapping[str, Mapping[str, LinkTraffic]], reference: Mapping[str, LinkTraffic], *,
    baseline_map: NoiseMap | None = None, error_budget: bool = False,
) -> dict[str, NoiseMap]:  # fmt: skip
    """Noise maps of several scenarios in one pass, on the city network's source geometry
    (scenarios keep its links) with the baseline's traffic placing the far-field sources,
    with the city's ``[noise]`` settings; one scenario is updated from ``baseline_map`` (``error_budget``: see ``update_noise``)."""
    from ldtkit.model.noise import compute_noise_many, noise_baseline
    from ldtkit.study.inputs import city_noise_propagation

    if inputs.noise_receptors is None:
        raise LdtkitError(f"{inputs.city.name}: no noise receptors; prepare the city with 'noise' in ModelOptions.models")
    cfg = inputs.city.config.noise
    if inputs.noise_propagation is None:  # the geometry of every map of the city: prepared once
        inputs.noise_propagation = city_noise_propagation(
            inputs.city, inputs.network, inputs.noise_receptors, buildings=inputs.noise_buildings, terrain=inputs.noise_terrain
        )
    held = inputs.noise_baseline
    if baseline_map is not None and (held is None or held.map is not baseline_map or held.traffic is not reference):
        held = inputs.noise_baseline = noise_baseline(inputs.network, baseline_map, reference, propagation=inputs.noise_propagation)
    return compute_noise_many(
        inputs.network, traffics, inputs.noise_receptors, reference_traffic=reference, coefficients=cfg.coefficients,
        surface=cfg.surface, propagation=inputs.noise_propagation, baseline_map=baseline_map, error_budget=error_budget,
        baseline=held if baseline_map is not None else None,
    )  # fmt: skip


# ------------------------------------------------------------------ the runner
def run(
    city: City | str | Path,
    scenarios: Iterable[Scenario] = (),
    *,
    client: Any = None,
    options: ModelOptions | None = None,
    cache_dir: str | Path | None = DEFAULT_CACHE,
    cache_max_mb: float | None = None,
    progress: bool = True,
    **option_overrides: Any,
) -> dict[str, ScenarioResult]:
    """Baseline first, then every scenario warm-started from it, in parallel.

    Parameters
    ----------
    city
        A :class:`~ldtkit.study.city.City`, a shipped city name or a city folder.
    scenarios
        The scenarios to compare with the baseline (the baseline is always run).
    client
        A ``dask.distributed.Client``; ``None`` uses dask's local threaded scheduler.
    options
        :class:`ModelOptions`; keyword overrides (e.g. ``models=("traffic",)``) also work.
    cache_dir
        Where results are cached (``None`` disables the cache). Concurrent runs on one cache
        compute each result once: the second waits for the first (a lock beside each entry).
    cache_max_mb
        Size limit of the cache in MB; the least recently used entries are evicted beyond it
        (default: ``$LDTKIT_CACHE_MAX_MB``, else 2048). See ``docs/cache.md``.
    progress
        Show a tqdm progress bar.

    Returns
    -------
    dict
        ``{"baseline": ScenarioResult, name: ScenarioResult, ...}`` in input order.

    Examples
    --------
    >>> import ldtkit
    >>> city = ldtkit.load_city("ghent")  # doctest: +SKIP
    >>> res = ldtkit.run(city, ldtkit.load_scenarios(city.root / "scenarios" / "01_bridge_closed_both.toml"),
    ...                  models=("traffic",))  # doctest: +SKIP
    """
    fewer_malloc_arenas()  # before the scenario threads start (Ghent: 60 MB less at the peak)
    options = replace(options or ModelOptions(), **option_overrides)
    if isinstance(options.models, list):
        options = replace(options, models=tuple(options.models))
    scenarios = list(scenarios)
    names = [s.name for s in scenarios]
    if "baseline" in names or len(set(names)) != len(names):
        raise LdtkitError(f"scenario names must be unique and not 'baseline': {names}")
    city = city if isinstance(city, City) else load_city(city)
    cache = ResultCache(cache_dir, max_mb=cache_max_mb) if cache_dir is not None else None
    fingerprint = city.fingerprint()  # hashes every input file: once per run
    city_key = content_hash(fingerprint, options.key(), model_fingerprint())
    base = baseline_scenario()
    base_key = content_hash(city_key, base.fingerprint())
    keys = {s.name: content_hash(city_key, base_key, s.fingerprint()) for s in scenarios}
    inputs_key = content_hash("inputs", fingerprint, options.inputs_key(), model_fingerprint())
    warm_key = content_hash("warm", base_key)
    air_key = content_hash("air-transfer", inputs_key)
    with contextlib.ExitStack() as held:
        results = _run_locked(
            city, scenarios, options, cache, held, client=client, progress=progress,
            keys=RunKeys(city=city_key, inputs=inputs_key, baseline=base_key, warm=warm_key, scenarios=keys, air=air_key),
        )  # fmt: skip
    if cache:
        cache.prune()  # the entries this run held are evictable now
    return {"baseline": results["baseline"], **{s.name: results[s.name] for s in scenarios}}


def _run_locked(
    city: City,
    scenarios: list[Scenario],
    options: ModelOptions,
    cache: ResultCache | None,
    held: contextlib.ExitStack,
    *,
    client: Any,
    progress: bool,
    keys: RunKeys,
) -> dict[str, ScenarioResult]:
    """The body of :func:`run`: cached results, then the missing ones under the cache locks (kept in ``held``)."""
    from tqdm.auto import tqdm

    results: dict[str, ScenarioResult] = {}
    bar: ProgressBar = tqdm(total=1 + len(scenarios), desc=f"{city.name} scenarios", disable=not progress)
    held.callback(bar.close)  # also on Ctrl-C, so the bar ends its line before the message
    cached: dict[str, ScenarioResult | None] = (
        {n: cache.get(k) for n, k in [("baseline", keys.baseline), *keys.scenarios.items()]} if cache else {}
    )
    missing = [s for s in scenarios if cached.get(s.name) is None]
    if cache and (cached.get("baseline") is None or missing):
        # Lock what this run computes (workers lock their scenarios), reread what others stored meanwhile.
        todo = [keys.inputs, keys.air, keys.warm, keys.baseline, *([] if client is not None else [keys.scenarios[s.name] for s in missing])]
        held.enter_context(cache.lock(todo, what=f"{city.name} results"))
        cached.update({n: cache.get(k) for n, k in [("baseline", keys.baseline), *keys.scenarios.items()] if cached.get(n) is None})
        missing = [s for s in scenarios if cached.get(s.name) is None]
    # On a cluster with a cache the workers read the inputs, air transfer and warm start from it themselves.
    workers_read_cache = client is not None and cache is not None and bool(missing)
    inputs: CityInputs | None = None
    if cached.get("baseline") is None or missing:
        # Network, zones, demand and receptors depend only on the city and the options: cached, so editing one
        # scenario recomputes that scenario alone.
        inputs = cache.get(keys.inputs) if cache else None
        if inputs is None:
            inputs = prepare_city(city, options=options, progress=progress, key=keys.city)
            if cache:
                cache.put(keys.inputs, inputs, kind="inputs", label=city.name)
        if "air" in options.models and inputs.air_receptors is not None and inputs.air_transfer is None:
            needed_here = cached.get("baseline") is None or not workers_read_cache
            inputs.air_transfer = air_transfer_cached(inputs, cache, keys.air, load=needed_here)
    # Locally, the noise maps are computed here once the traffic is known (not in the scenarios'
    # threads): the baseline's, then each scenario's updated from it for the roads whose power
    # changed, one at a time. Stacking the scenarios into one pass over the source-receiver geometry
    # is a little quicker but needs memory for every scenario at once (Ghent: 350 MB for three).
    batch_noise = client is None and inputs is not None and "noise" in options.models and inputs.noise_receptors is not None
    cached_base = cached.get("baseline")
    if cached_base is not None:
        results["baseline"] = cached_base
        warm = cache.get(keys.warm) if (cache and missing and not workers_read_cache) else None
        base_for_warm = replace(cached_base, period_assignments=warm) if warm else cached_base
    else:
        assert inputs is not None  # prepared above whenever the baseline is not cached
        base_for_warm = _keyed(
            run_scenario(inputs, baseline_scenario(), options=options, noise=not batch_noise, period_workers=RUNNER_PERIOD_WORKERS),
            keys.baseline,
        )
        if cache:
            # The path sets that warm-start scenarios are large: keep them in their own entry,
            # read only when a scenario has to be computed (run_scenario already dropped their link ids).
            cache.put(keys.warm, dict(base_for_warm.period_assignments), kind="warm-start", label=f"{city.name}/baseline")
        if batch_noise:
            # The baseline's noise map alone now, so it is cached before the scenarios run (Ctrl-C keeps it).
            t0 = time.perf_counter()
            base_noise = noise_maps(inputs, {"baseline": base_for_warm.traffic}, base_for_warm.traffic)["baseline"]
            base_for_warm = replace(base_for_warm, noise=base_noise, seconds={**base_for_warm.seconds, "noise": time.perf_counter() - t0})
            base_for_warm = with_facades(inputs, base_for_warm)
        results["baseline"] = _keyed(_without_path_state(base_for_warm), keys.baseline)
        if cache:
            cache.put(keys.baseline, results["baseline"], kind="result", label=f"{city.name}/baseline")
    bar.update(1)
    for s in scenarios:
        hit = cached.get(s.name)
        if hit is not None:
            results[s.name] = hit
            bar.update(1)
    computed: dict[str, ScenarioResult] = {}
    if missing:
        assert inputs is not None  # prepared above whenever a scenario is not cached
        computed = _run_many(
            inputs, missing, base_for_warm, options, client, bar, noise=not batch_noise, cache=cache, keys=keys,
            workers_read_cache=workers_read_cache,
        )  # fmt: skip
        base_for_warm = _without_path_state(base_for_warm)  # done warm-starting: the noise maps need no path sets
    if batch_noise and inputs is not None and computed:
        for n, r in computed.items():  # loop over scenarios only
            t0 = time.perf_counter()
            m = noise_maps(inputs, {n: r.traffic}, base_for_warm.traffic, baseline_map=base_for_warm.noise)[n]
            r = replace(r, noise=m, seconds={**r.seconds, "noise": time.perf_counter() - t0})
            computed[n] = with_facades(inputs, r, warm_start=base_for_warm)
    for s in missing:
        results[s.name] = _keyed(_without_path_state(computed[s.name]), keys.scenarios[s.name])
        if cache:
            cache.put(keys.scenarios[s.name], results[s.name], kind="result", label=f"{city.name}/{s.name}")
    bar.close()
    return results


def _without_path_state(result: ScenarioResult) -> ScenarioResult:
    """A copy whose assignments drop their path sets (only needed to warm-start other runs)."""
    light = {p: replace(a, path_state=None) for p, a in result.period_assignments.items()}
    return replace(result, period_assignments=light, assignment=light.get("day", result.assignment))


def _run_without_paths(
    inputs: CityInputs, scenario: Scenario, *, options: ModelOptions, warm_start: ScenarioResult, noise: bool
) -> ScenarioResult:
    """:func:`run_scenario` without the path sets in its result: a scenario warm-starts no other, and
    the scenarios computed together would otherwise hold theirs until the last is done (Ghent: 80 MB a period)."""
    return _without_path_state(
        run_scenario(inputs, scenario, options=options, warm_start=warm_start, noise=noise, period_workers=RUNNER_PERIOD_WORKERS)
    )


def _keyed(result: ScenarioResult, key: str) -> ScenarioResult:
    result.key = key
    return result


def _run_many(
    inputs: CityInputs,
    scenarios: list[Scenario],
    base: ScenarioResult,
    options: ModelOptions,
    client: Any,
    bar: ProgressBar,
    *,
    noise: bool = True,
    cache: ResultCache | None = None,
    keys: RunKeys | None = None,
    workers_read_cache: bool = False,
) -> dict[str, ScenarioResult]:
    """Scenarios in parallel: on ``client`` if given, else dask's threaded scheduler
    (``noise=False``: without their noise maps, which the caller computes afterwards).

    On a cluster each task takes its scenario's cache lock and stores its result itself; each
    worker holds a copy of the inputs and the baseline (:func:`~ldtkit.study.shared.worker_copies`)."""
    if client is None:
        from dask.base import compute
        from dask.delayed import delayed

        tasks = [delayed(_run_without_paths)(inputs, s, options=options, warm_start=base, noise=noise) for s in scenarios]
        done: tuple[ScenarioResult, ...] = compute(*tasks, scheduler="threads", num_workers=LOCAL_SCENARIO_WORKERS)  # type: ignore[no-untyped-call]  # dask leaves it unannotated
        bar.update(len(scenarios))
        return {s.name: r for s, r in zip(scenarios, done)}
    from ldtkit.study.cluster import submit_as_workers_free

    run_id = content_hash(inputs.key, base.key, *(s.fingerprint() for s in scenarios))[:12]
    air = "air" in options.models and inputs.air_receptors is not None
    inputs_on, base_on = worker_copies(client, inputs, base, run_id=run_id, cache=cache if workers_read_cache else None, keys=keys, air=air)
    # Longest first, while the inputs travel: the last scenario of the queue runs alone, so it should be a short one.
    day_vph = base.traffic["day"].total_vph
    scenarios = sorted(scenarios, key=lambda s: -s.touched_vph(inputs.network, day_vph))
    root, max_mb = (str(cache.root), cache.max_mb) if cache is not None else (None, None)

    def submit(s: Scenario, worker: str) -> Any:
        return client.submit(
            run_scenario_cached, inputs_on(worker), s, options=options, warm_start=base_on(worker), cache_dir=root,
            cache_max_mb=max_mb, key_=keys.scenarios.get(s.name, "") if keys else "", key=f"ldtkit-{s.name}-{s.fingerprint()[:12]}",
            retries=2,
            workers=[worker], allow_other_workers=True,
        )  # fmt: skip

    out: dict[str, ScenarioResult] = {}
    for s, result in submit_as_workers_free(client, scenarios, submit):
        out[s.name] = result
        bar.update(1)
    return out


def run_scenario_cached(
    inputs: CityInputs,
    scenario: Scenario,
    *,
    options: ModelOptions,
    warm_start: ScenarioResult | None,
    cache_dir: str | None,
    cache_max_mb: float | None = None,
    key_: str = "",
) -> ScenarioResult:
    """:func:`run_scenario` under the cache protocol, for a dask worker: take the entry's lock,
    serve it if another run stored it, else compute and store it (without its path sets).

    ``key_`` is the entry's cache key (dask reserves ``key``); ``cache_dir=None`` only computes.
    """
    if cache_dir is None or not key_:
        return run_scenario(inputs, scenario, options=options, warm_start=warm_start, period_workers=RUNNER_PERIOD_WORKERS)
    cache = ResultCache(cache_dir, max_mb=cache_max_mb)
    with cache.lock([key_], what=f"scenario {scenario.name!r}"):
        hit: ScenarioResult | None = cache.get(key_)
        if hit is not None:
            return hit
        result = run_scenario(inputs, scenario, options=options, warm_start=warm_start, period_workers=RUNNER_PERIOD_WORKERS)
        result = _keyed(_without_path_state(result), key_)
        cache.put(key_, result, kind="result", label=f"{inputs.city.name}/{scenario.name}")
        return result
