"""The runner on a real dask cluster: a scheduler and two workers on 127.0.0.1, one killed mid-run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ldtkit.study.runner import run
from ldtkit.study.scenario import Scenario

distributed = pytest.importorskip("distributed")
DASK = str(Path(sys.executable).with_name("dask"))

# Eight variants: half the capacity on one street of Ghent's R40 ring each (no risk of disconnecting zones).
STREETS = [
    "Rooigemlaan",
    "Palinghuizen",
    "Kasteellaan",
    "Heernislaan",
    "Martelaarslaan",
    "Charles de Kerchovelaan",
    "Citadellaan",
    "Keizervest",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _variants(net) -> list[Scenario]:
    names = set(net.links["name"].dropna())
    streets = [s for s in STREETS if s in names]
    assert len(streets) == 8, f"R40 streets missing from the network: {set(STREETS) - names}"
    return [
        Scenario.from_dict(
            {
                "name": f"close-{s.lower().replace(' ', '-')}",
                "measures": [{"action": "set", "street": s, "road_class": ["1", "2"], "capacity_factor": 0.5}],
            }
        )
        for s in streets
    ]


@pytest.mark.slow
def test_eight_scenarios_on_a_cluster_survive_a_killed_worker(tmp_path):
    from ldtkit.study.city import load_city

    city = load_city("ghent")
    scenarios = _variants(city.load_network())
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    procs: list[subprocess.Popen] = []
    worker_ports = [_free_port(), _free_port()]
    try:
        procs.append(
            subprocess.Popen(
                [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        for wp in worker_ports:
            procs.append(
                subprocess.Popen(
                    [
                        DASK,
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--worker-port",
                        str(wp),
                        "--dashboard-address",
                        ":0",
                        "--no-nanny",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        client = distributed.Client(address, timeout=60)
        client.wait_for_workers(2, timeout=60)
        killed: dict[str, str] = {}

        def killer() -> None:
            # kill the first worker seen computing a scenario, once another scenario has finished
            deadline = time.time() + 300
            while time.time() < deadline:
                busy = {w: keys for w, keys in client.processing().items() if any("ldtkit-" in str(k) for k in keys)}
                done = [k for k in client.who_has() if "ldtkit-" in str(k)]
                if busy and done:
                    victim = sorted(busy)[0]
                    wp = int(victim.rsplit(":", 1)[1])
                    proc = procs[1 + worker_ports.index(wp)]
                    proc.send_signal(signal.SIGKILL)
                    killed["worker"] = victim
                    return
                time.sleep(0.05)

        t = threading.Thread(target=killer, daemon=True)
        t.start()
        remote = run(city, scenarios, client=client, cache_dir=None, models=("traffic",), progress=False)
        t.join(timeout=5)
        assert killed, "no worker was killed mid-run (the run finished too fast to test resilience)"
        assert len(client.nthreads()) == 1, "one worker left after the kill"
        client.close()
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    assert set(remote) == {"baseline", *(s.name for s in scenarios)}
    local = run(city, scenarios, cache_dir=None, models=("traffic",), progress=False)
    for name in local:
        a, b = remote[name].traffic["day"].total_vph, local[name].traffic["day"].total_vph
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=name)


def test_noise_maps_on_a_cluster_equal_the_local_batched_ones():
    """Locally the runner evaluates all noise maps of a run in one pass; on a cluster each
    scenario's task updates the baseline's map for the roads whose power changed by more than
    the update tolerance. Both place far-field sources by the baseline's traffic, so the
    baselines agree exactly and the scenarios within that tolerance."""
    from ldtkit.study.scenario import load_scenarios

    scenarios = load_scenarios(Path(__file__).resolve().parents[1] / "data" / "athens" / "scenarios")
    # a grid cell of 30 m and façade points every 50 m (10 m and 5 m by default): whole maps on both
    # sides still, a tenth of the receivers
    opts = dict(
        cache_dir=None, models=("traffic", "noise"), on_disconnected="drop", progress=False, noise_cell_m=30.0, facade_spacing_m=50.0
    )
    with pytest.warns(UserWarning, match="no path"):  # the Great Walk cuts some heavy-vehicle pairs
        local = run("athens", scenarios, **opts)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        with pytest.warns(UserWarning, match="no path"):
            remote = run("athens", scenarios, client=client, **opts)
    assert set(local) == set(remote) and len(local) == 1 + len(scenarios) >= 3
    from ldtkit.model.noise.incremental import TOLERANCE_DB

    for name in local:
        atol = 1e-9 if name == "baseline" else TOLERANCE_DB
        np.testing.assert_allclose(remote[name].noise.lden_db, local[name].noise.lden_db, rtol=0, atol=atol, err_msg=name)
        np.testing.assert_allclose(remote[name].noise.lnight_db, local[name].noise.lnight_db, rtol=0, atol=atol, err_msg=name)
        np.testing.assert_allclose(remote[name].noise_facades.lden_db, local[name].noise_facades.lden_db, rtol=0, atol=1e-9, err_msg=name)
        assert remote[name].facades.exposure() == pytest.approx(local[name].facades.exposure()), name


def test_workers_take_the_cache_lock_and_store_their_scenarios(tmp_path):
    """On a cluster each scenario task locks its cache entry, stores its result, and a rerun
    (or another run) reads it instead of computing it again."""
    import ldtkit.study.runner as runner
    from ldtkit.study.cache import ResultCache
    from ldtkit.study.scenario import load_scenarios

    scenarios = load_scenarios(Path(__file__).resolve().parents[1] / "data" / "athens" / "scenarios")
    opts = dict(cache_dir=tmp_path, models=("traffic",), progress=False)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        first = run("athens", scenarios, client=client, **opts)
        labels = {e.label for e in ResultCache(tmp_path).entries() if e.kind == "result"}
        assert labels == {"athens/baseline", *(f"athens/{s.name}" for s in scenarios)}
        again = run("athens", scenarios, client=client, **opts)
    for s in scenarios:
        hit = runner.run_scenario_cached(
            None, s, options=None, warm_start=None, cache_dir=str(tmp_path), key_=first[s.name].key
        )  # served from the entry: nothing to compute from
        np.testing.assert_array_equal(hit.traffic["day"].total_vph, first[s.name].traffic["day"].total_vph)
        np.testing.assert_array_equal(again[s.name].traffic["day"].total_vph, first[s.name].traffic["day"].total_vph)


def test_a_worker_waits_for_the_lock_another_process_holds(tmp_path):
    """The ensemble's scenario task follows the protocol of a local run: while another process
    holds the entry's lock (here a child process), the worker says so and waits, then serves
    what that process stored instead of computing it."""
    import ldtkit.study.runner as runner
    from ldtkit.study.cache import ResultCache

    key = "f" * 32
    holder = (
        "import sys, time; from ldtkit.study.cache import ResultCache\n"
        f"c = ResultCache({str(tmp_path)!r})\n"
        f"with c.lock([{key!r}]):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(2.0)\n"
        f"    c.put({key!r}, {{'flow_vph': 42.0}})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    scenario = Scenario.from_dict({"name": "s", "measures": [{"action": "close", "ids": [1]}]})
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        t0 = time.perf_counter()
        fut = client.submit(
            runner.run_scenario_cached, None, scenario, options=None, warm_start=None, cache_dir=str(tmp_path), key_=key, pure=False
        )  # inputs None: computing would fail, only serving the stored entry succeeds
        assert fut.result(timeout=120) == {"flow_vph": 42.0}
        waited = time.perf_counter() - t0
    assert proc.wait(timeout=60) == 0
    assert waited >= 1.0, "the worker waited for the lock"
    assert ResultCache(tmp_path).get(key) == {"flow_vph": 42.0}


def _square(x: int) -> int:
    if x < 0:
        raise ValueError(f"negative {x}")
    time.sleep(0.02)
    return x * x


def test_tasks_are_handed_out_as_workers_free_and_every_result_comes_back():
    """At most one task per cluster thread in flight; every item's own result; errors raised."""
    from ldtkit.study.cluster import submit_as_workers_free

    submitted: list[int] = []

    def submit(x: int, worker: str) -> distributed.Future:
        submitted.append(x)
        assert worker in client.nthreads(), worker
        return client.submit(_square, x, pure=False, workers=[worker], allow_other_workers=True)

    got: dict[int, int] = {}
    in_flight: list[int] = []
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        for x, result in submit_as_workers_free(client, list(range(7)), submit):
            in_flight.append(len(submitted) - len(got) - 1)  # submitted, not yet handed back, besides this one
            got[x] = result
        assert got == {x: x * x for x in range(7)} and sorted(submitted) == list(range(7))
        assert max(in_flight) == 2, f"two threads: two tasks in flight at most, saw {in_flight}"
        with pytest.raises(ValueError, match="negative -1"):
            dict(submit_as_workers_free(client, [1, -1, 2], submit))


def _where() -> str:
    return distributed.get_worker().address


def test_every_worker_loads_its_own_copy_and_a_missing_cache_entry_is_named(tmp_path):
    """``load_on_workers`` runs the loader on each worker (nothing travels between them); the
    runner's loader names the cache entry a worker could not read."""
    from ldtkit.errors import LdtkitError
    from ldtkit.study.cluster import load_on_workers
    from ldtkit.study.shared import inputs_from_cache

    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as client:
        on = load_on_workers(client, _where, key="where")
        workers = sorted(client.nthreads())
        assert [on(w).result(timeout=60) for w in workers] == workers
        assert on(workers[0]) is on(workers[0]), "one copy per worker"
        with pytest.raises(LdtkitError, match="entry " + "a" * 32 + " is missing"):
            client.submit(inputs_from_cache, str(tmp_path), None, "a" * 32, "", pure=False).result(timeout=60)
