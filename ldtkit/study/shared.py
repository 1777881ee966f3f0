"""What the scenarios of a run share, computed or read once: the air transfer (kept in the results
cache) and, on a cluster, each worker's own copy of the shared inputs and of the baseline, read
from the cache by the worker itself.

Examples
--------
>>> import tempfile
>>> inputs_from_cache(tempfile.mkdtemp(), None, "0" * 32, "")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ldtkit.errors.LdtkitError: cache ...: entry 00000000000000000000000000000000 is missing; the workers read the shared inputs from the cache the run stored them in
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ldtkit.errors import LdtkitError
from ldtkit.study.cache import ResultCache

if TYPE_CHECKING:
    from ldtkit.model.air import AirTransfer
    from ldtkit.study.cache import RunKeys

# The runner's CityInputs and ScenarioResult (typed as Any: the runner imports this module).
CityInputs = Any
ScenarioResult = Any

__all__ = ["air_transfer_cached", "inputs_from_cache", "warm_start_from_cache", "worker_copies"]


def air_transfer_cached(inputs: CityInputs, cache: ResultCache | None, key: str, *, load: bool = True) -> AirTransfer | None:
    """The air transfer on ``inputs``: from the cache, else computed (and stored); ``load=False``
    only makes sure the cache holds it (returns ``None`` when it does)."""
    from ldtkit.model.air import air_transfer

    if inputs.air_receptors is None:
        return None
    if cache is not None and key and cache.has(key):
        return cache.get(key) if load else None
    transfer = air_transfer(inputs.network, inputs.air_receptors, config=inputs.city.config.air)
    if cache is not None and key:
        cache.put(key, transfer, kind="air-transfer", label=inputs.city.name)
    return transfer


def inputs_from_cache(root: str, max_mb: float | None, inputs_key: str, air_key: str) -> CityInputs:
    """A worker's copy of the shared inputs (with the air transfer when ``air_key``), read from the cache."""
    cache = ResultCache(root, max_mb=max_mb)
    inputs: CityInputs | None = cache.get(inputs_key)
    transfer = cache.get(air_key) if air_key else None
    if inputs is None or (air_key and transfer is None):
        missing = inputs_key if inputs is None else air_key
        raise LdtkitError(
            f"cache {root}: entry {missing} is missing; the workers read the shared inputs from the cache the run stored them in"
        )
    inputs.air_transfer = transfer
    return inputs


def warm_start_from_cache(root: str, max_mb: float | None, baseline_key: str, warm_key: str) -> ScenarioResult:
    """A worker's copy of the baseline with the path sets that warm-start the scenarios, read from the cache."""
    cache = ResultCache(root, max_mb=max_mb)
    base: ScenarioResult | None = cache.get(baseline_key)
    warm = cache.get(warm_key)
    if base is None or warm is None:
        missing = baseline_key if base is None else warm_key
        raise LdtkitError(f"cache {root}: entry {missing} is missing; the workers read the baseline from the cache the run stored it in")
    return replace(base, period_assignments=warm)


def worker_copies(
    client: Any, inputs: CityInputs, base: ScenarioResult, *, run_id: str, cache: ResultCache | None, keys: RunKeys | None, air: bool
) -> tuple[Callable[[str], Any], Callable[[str], Any]]:
    """``worker address -> future`` of that worker's copy of the shared inputs and of the baseline
    with its warm start: read from ``cache`` by each worker (which must hold the inputs, the air
    transfer when ``air``, the baseline and its warm start under ``keys``), else sent from here once
    and copied between the workers (``cache=None``)."""
    from ldtkit.study.cluster import load_on_workers, share

    if cache is None or keys is None:
        return share(client, inputs, key=f"inputs-{run_id}"), share(client, base, key=f"baseline-{run_id}")
    root, max_mb = str(cache.root), cache.max_mb
    return (
        load_on_workers(client, inputs_from_cache, root, max_mb, keys.inputs, keys.air if air else "", key=f"inputs-{run_id}"),
        load_on_workers(client, warm_start_from_cache, root, max_mb, keys.baseline, keys.warm, key=f"baseline-{run_id}"),
    )
