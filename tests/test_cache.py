"""The results cache: documented entry format, versions, a full disk, LRU size limit, locks,
Ctrl-C and concurrent runs, and ``ldtkit cache``."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ldtkit.cli import main
from ldtkit.errors import InvalidValueError
from ldtkit.study.cache import CacheWriteError, ResultCache, cache_max_mb
from ldtkit.study.result_store import FORMAT

ROOT = Path(__file__).resolve().parents[1]
#: The models of the 300 MB cache test: traffic (its warm start was the largest entry) and air
#: (its transfer matrix made the inputs entry large); noise maps, the costliest to compute, add
#: about 9 MB per result (docs/cache.md gives the all-model sizes).
CACHE_TEST_MODELS = ("traffic", "air")
LDTKIT = [sys.executable, "-c", "import sys; from ldtkit.cli import main; sys.exit(main())"]


def _entry_value():
    import geopandas as gpd
    import shapely

    from ldtkit.model.traffic import LinkTraffic

    links = gpd.GeoDataFrame(
        {"link_id": [1, 2], "name": ["Rooigemlaan", None], "nodes": [[1, 2], float("nan")], "bridge": [True, False]},
        geometry=[shapely.LineString([(0, 0), (1, 1)]), shapely.LineString([(1, 1), (2, 0)])],
        crs="EPSG:31370",
    )
    traffic = LinkTraffic(np.array([1, 2]), np.array([10.0, 0.5]), np.zeros(2), np.array([50.0, 30.0]))
    return {"links": links, "traffic": traffic, "names": ("a", 1, None), "gap": float("inf"), "meta": {3: "x"}}


@pytest.mark.parametrize("kind", ["result", "inputs"])
def test_an_entry_is_json_npy_or_npz_and_parquet_and_reads_back_identical(tmp_path, kind):
    cache = ResultCache(tmp_path)
    value = _entry_value()
    folder = cache.put("k", value, kind=kind, label="test/baseline")
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["format"] == FORMAT and meta["kind"] == kind and meta["label"] == "test/baseline"
    if kind == "result":  # one uncompressed .npy per array, memory-mapped when read
        assert sorted(p.name for p in folder.iterdir()) == ["arrays", "meta.json", "t1.parquet", "value.json"]
        files = sorted((folder / "arrays").iterdir())
        assert files and all(p.suffix == ".npy" for p in files)
        for p in files:
            np.load(p, allow_pickle=False)  # no pickle anywhere
    else:
        assert sorted(p.name for p in folder.iterdir()) == ["arrays.npz", "meta.json", "t1.parquet", "value.json"]
        with np.load(folder / "arrays.npz", allow_pickle=False) as z:  # no pickle anywhere
            assert z.files
    pd.read_parquet(folder / "t1.parquet")
    back = cache.get("k")
    if kind == "result":
        assert not back["traffic"].light_vph.flags.owndata, "memory-mapped, not copied"
        back["traffic"].light_vph[0] = -1.0  # copy on write: the process's copy changes, not the entry
        assert cache.get("k")["traffic"].light_vph[0] == 10.0
        back = cache.get("k")
    pd.testing.assert_frame_equal(back["links"], value["links"], check_exact=True)
    assert back["links"]["nodes"][0] == [1, 2] and np.isnan(back["links"]["nodes"][1])
    assert back["links"].crs == value["links"].crs
    np.testing.assert_array_equal(back["traffic"].light_vph, value["traffic"].light_vph)
    assert back["names"] == ("a", 1, None) and back["gap"] == float("inf") and back["meta"] == {3: "x"}


def test_an_entry_of_another_format_is_recomputed_with_a_note(tmp_path):
    notes: list[str] = []
    cache = ResultCache(tmp_path, notify=notes.append)
    folder = cache.put("k", {"a": np.ones(2)})
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "format": FORMAT + 1}))
    assert cache.get("k") is None
    assert len(notes) == 1 and "not read, recomputing" in notes[0] and f"format {FORMAT + 1}" in notes[0]
    assert not folder.exists()
    # a stored class this ldtkit no longer has is refused the same way, nothing is imported
    folder = cache.put("k", {"a": np.ones(2)})
    (folder / "value.json").write_text(json.dumps({"$dataclass": "os:system", "fields": {}}))
    assert cache.get("k") is None and "refusing" in notes[-1]


@pytest.mark.parametrize(("kind", "writer"), [("result", "save_npy_files"), ("inputs", "save_arrays")])
def test_a_full_disk_gives_a_clear_error_and_no_partial_entry(tmp_path, monkeypatch, kind, writer):
    import ldtkit.study.result_store as store

    def disk_full(target, arrays):
        if isinstance(target, Path):
            target.mkdir(parents=True)
            (target / "a0.npy").write_bytes(b"\x93NUMPY half")
        else:
            target.write(b"PK\x03\x04 half")
        raise OSError(errno.ENOSPC, "No space left on device")

    cache = ResultCache(tmp_path)
    monkeypatch.setattr(store, writer, disk_full)
    with pytest.raises(CacheWriteError, match=r"cannot write cache entry .*k: No space left on device; free some space"):
        cache.put("k", _entry_value(), kind=kind)
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []
    assert cache.get("k") is None


def test_a_truncated_array_file_is_a_damaged_entry(tmp_path):
    notes: list[str] = []
    cache = ResultCache(tmp_path, notify=notes.append)
    folder = cache.put("k", {"flow_vph": np.arange(1000.0)})
    (npy,) = (folder / "arrays").iterdir()
    npy.write_bytes(npy.read_bytes()[:500])
    assert cache.get("k") is None and "damaged" in notes[0]
    assert not folder.exists(), "removed, to be recomputed"


def test_least_recently_used_entries_are_evicted_beyond_the_limit(tmp_path):
    cache = ResultCache(tmp_path, max_mb=2.5)  # room for two 1 MB entries
    rng = np.random.default_rng(0)
    for key in ("a", "b"):
        cache.put(key, {"x": rng.integers(0, 256, 1_000_000, dtype=np.uint8)})  # 1 MB each: random, not compressible
        time.sleep(0.02)
    cache.get("a")  # "a" used after "b"
    time.sleep(0.02)
    cache.put("c", {"x": rng.integers(0, 256, 1_000_000, dtype=np.uint8)})
    assert {e.key for e in cache.entries()} == {"a", "c"}
    assert cache.size_bytes() <= 2.5e6
    (tmp_path / "old.pkl").write_bytes(b"\x80\x05old")  # older ldtkit's pickles are pruned first
    assert [e.key for e in cache.prune()] == ["old"]
    with cache.lock(["a"]):
        evicted = cache.prune(max_mb=0.5)
    assert [e.key for e in evicted] == ["c"], "a locked entry is not evicted"


def test_cache_limit_from_argument_environment_or_default(monkeypatch):
    monkeypatch.delenv("LDTKIT_CACHE_MAX_MB", raising=False)
    assert cache_max_mb() == 2048.0
    monkeypatch.setenv("LDTKIT_CACHE_MAX_MB", "300")
    assert cache_max_mb() == 300.0 and cache_max_mb(10) == 10.0
    monkeypatch.setenv("LDTKIT_CACHE_MAX_MB", "lots")
    with pytest.raises(InvalidValueError, match="LDTKIT_CACHE_MAX_MB = 'lots'; expected a number of megabytes > 0"):
        cache_max_mb()


def test_a_second_process_waits_for_the_lock_and_says_so(tmp_path):
    cache = ResultCache(tmp_path)
    code = (
        "import sys, time; from ldtkit.study.cache import ResultCache\n"
        f"c = ResultCache({str(tmp_path)!r})\n"
        "print('ready', flush=True)\n"
        "t0 = time.perf_counter()\n"
        "with c.lock(['k'], what='test results'):\n"
        "    print(round(time.perf_counter() - t0, 2), c.get('k'))\n"
    )
    with cache.lock(["k"]):
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"  # its imports done: the wait is the lock's
        time.sleep(1.5)
        cache.put("k", 42.0)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    waited, value = out.split()
    assert float(waited) >= 1.0 and value == "42.0", "waited for the lock, then read what the holder stored"
    assert f"ldtkit: waiting for another run computing test results k in {tmp_path}" in err


def test_cache_command_info_prune_clear(tmp_path, capsys):
    cache = ResultCache(tmp_path)
    random_2mb = np.random.default_rng(0).integers(0, 256, 2_000_000, dtype=np.uint8)  # compression cannot shrink it
    cache.put("a" * 32, {"x": random_2mb}, kind="result", label="ghent/baseline")
    cache.put("b" * 32, {"x": np.zeros(10)}, kind="inputs", label="ghent")
    assert main(["cache", "info", "--cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path}: 2 entries, 2.0 MB of 2048 MB" in out and "ghent/baseline" in out
    assert main(["cache", "info", "--cache", str(tmp_path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert {e["label"] for e in info["entries"]} == {"ghent", "ghent/baseline"}
    assert main(["cache", "prune", "--cache", str(tmp_path), "--max-mb", "1"]) == 0
    assert "removed 1 entries (2.0 MB)" in capsys.readouterr().out
    assert [e.label for e in cache.entries()] == ["ghent"]
    assert main(["cache", "clear", "--cache", str(tmp_path)]) == 0
    assert cache.entries() == []


def _outputs(folder: Path, city: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_csv(folder / city / "indicators.csv"), pd.read_parquet(folder / city / "links.parquet").drop(columns="geometry")


def _labels(cache_dir: Path) -> dict[str, float]:
    """Result entries by label, with the time they were written."""
    out = {}
    for meta in cache_dir.glob("*/meta.json"):
        if meta.parent.name.startswith("."):  # an entry being written: renamed into place when complete
            continue
        m = json.loads(meta.read_text())
        if m["kind"] == "result":
            out[m["label"]] = m["created"]
    return out


def test_ctrl_c_after_the_baseline_keeps_it_and_a_rerun_equals_an_uninterrupted_run(tmp_path):
    """``ldtkit run`` interrupted (SIGINT) once the baseline is stored: one line and exit 130;
    the rerun serves the baseline from the cache and writes what an uninterrupted run writes."""
    cache = tmp_path / "cache"
    env = {**os.environ, "LDTKIT_CACHE": str(cache)}
    args = [*LDTKIT, "run", "athens", "--models", "traffic,air"]
    proc = subprocess.Popen([*args, "--out", str(tmp_path / "a")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while "athens/baseline" not in _labels(cache) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before its baseline was stored"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 130 and "Traceback" not in err
    assert err.rstrip().rsplit("\n", 1)[-1] == "ldtkit: interrupted", "one line, last"
    stored = _labels(cache)
    assert set(stored) == {"athens/baseline"}, "the finished baseline is kept, no unfinished scenario stored"

    rerun = subprocess.run([*args, "--out", str(tmp_path / "b")], env=env, capture_output=True, text=True, timeout=240)
    assert rerun.returncode == 0, rerun.stderr
    after = _labels(cache)
    assert after["athens/baseline"] == stored["athens/baseline"], "the baseline is served from the cache, not recomputed"
    assert len(after) == 3

    fresh = subprocess.run([*args, "--no-cache", "--out", str(tmp_path / "c")], capture_output=True, text=True, timeout=240)
    assert fresh.returncode == 0, fresh.stderr
    for got, want in zip(_outputs(tmp_path / "b", "athens"), _outputs(tmp_path / "c", "athens")):
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=1e-9)


def _cpu_s(proc: subprocess.Popen) -> tuple[int, float]:
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime


def test_two_concurrent_runs_on_one_cache_compute_once(tmp_path):
    """Two ``ldtkit run ghent`` started together on one cache: one computes, the other waits and
    reads; together < 1.3x the CPU time of the one that computed, identical outputs."""
    env = {**os.environ, "LDTKIT_CACHE": str(tmp_path / "cache")}
    args = [*LDTKIT, "run", "ghent", "--models", "traffic"]
    procs = []
    for name in ("a", "b"):
        with open(tmp_path / f"{name}.err", "w") as err:
            procs.append(subprocess.Popen([*args, "--out", str(tmp_path / name)], env=env, stdout=subprocess.DEVNULL, stderr=err))
    done = [_cpu_s(p) for p in procs]
    errs = [(tmp_path / f"{n}.err").read_text() for n in ("a", "b")]
    assert [rc for rc, _ in done] == [0, 0], errs
    waited = [i for i, e in enumerate(errs) if "ldtkit: waiting for another run computing ghent results" in e]
    assert len(waited) == 1, "exactly one run waits for the other"
    computed_s, waiting_s = done[1 - waited[0]][1], done[waited[0]][1]
    print(f"CPU time: computing run {computed_s:.1f} s, waiting run {waiting_s:.1f} s")
    assert computed_s + waiting_s < 1.3 * computed_s
    for got, want in zip(_outputs(tmp_path / "a", "ghent"), _outputs(tmp_path / "b", "ghent")):
        pd.testing.assert_frame_equal(got, want, check_exact=True)


def _ghent_five() -> list:
    """The three shipped bridge closures and two lighter measures on the same bridge."""
    from ldtkit.study.scenario import Scenario, load_scenarios

    shipped = load_scenarios(ROOT / "data" / "ghent" / "scenarios")
    variants = [
        Scenario.from_dict({"name": "bridge-no-lorries", "measures": [{"action": "bar_heavy", "street": "Rooigemlaan", "bridge": True}]}),
        Scenario.from_dict(
            {
                "name": "bridge-half-capacity",
                "measures": [{"action": "set", "street": "Rooigemlaan", "bridge": True, "capacity_factor": 0.5}],
            }
        ),
    ]
    return [*shipped, *variants]


def _assert_same_results(got, want, *, exact: bool = True) -> None:
    """Every period's link traffic and assignment, and the noise and air maps, equal to the last
    bit (``exact=False``: to 1e-12 relative, as the threaded sums of a recomputation allow)."""

    def same(a, b, err_msg=""):
        if exact:
            np.testing.assert_array_equal(a, b, err_msg=err_msg)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9, err_msg=err_msg)

    assert list(got) == list(want)
    for name in want:
        g, w = got[name], want[name]
        for period, t in w.traffic.items():
            for col in ("light_vph", "heavy_vph", "speed_kmh"):
                same(getattr(g.traffic[period], col), getattr(t, col), err_msg=f"{name} {period} {col}")
            same(g.period_assignments[period].flow_pcu, w.period_assignments[period].flow_pcu, err_msg=name)
            same(g.period_assignments[period].gap_history, w.period_assignments[period].gap_history)
        for kind in ("noise", "air"):
            gm, wm = getattr(g, kind), getattr(w, kind)
            assert (gm is None) == (wm is None), f"{name}: {kind}"
            if wm is not None:
                for f in dataclasses.fields(wm):
                    if isinstance(getattr(wm, f.name), np.ndarray) and getattr(wm, f.name).dtype != object:
                        same(getattr(gm, f.name), getattr(wm, f.name), err_msg=f"{name} {kind}.{f.name}")


def test_five_ghent_scenarios_stay_under_a_300_mb_cache_and_every_result_is_correct(tmp_path):
    """With ``cache_max_mb=300`` a Ghent baseline and five scenarios leave every entry in the
    cache (nothing evicted, nothing recomputed) within 300 MB; a rerun reads results equal to
    the computed ones, and a scenario recomputed from the stored warm start equals the one
    warm-started in memory."""
    from ldtkit.study.runner import run

    scenarios = _ghent_five()
    opts = dict(cache_dir=tmp_path, cache_max_mb=300, models=CACHE_TEST_MODELS, progress=False)
    first = run("ghent", scenarios, **opts)
    entries = ResultCache(tmp_path).entries()
    sizes = {e.label if e.kind == "result" else e.kind: round(e.size_bytes / 1e6, 1) for e in entries}
    print(f"cache entries (MB): {sizes}; total {sum(e.size_bytes for e in entries) / 1e6:.1f} MB")
    assert sum(e.size_bytes for e in entries) <= 300e6
    assert sorted(e.kind for e in entries) == ["air-transfer", "inputs", *["result"] * 6, "warm-start"], "nothing evicted"
    assert max(e.size_bytes for e in entries if e.kind == "result") < 60e6, f"no scenario's result dominates the cache: {sizes}"
    assert max(e.size_bytes for e in entries) < 100e6, f"no entry dominates the cache: {sizes}"

    again = run("ghent", scenarios, **opts)  # served from the cache
    _assert_same_results(again, first)
    assert {r.key for r in again.values()} == {r.key for r in first.values()}

    # one scenario recomputed from the stored baseline warm start: the same equilibrium
    ResultCache(tmp_path)._discard(first["bridge-closed-both"].key)
    recomputed = run("ghent", scenarios[:1], **opts)
    _assert_same_results(recomputed, {n: first[n] for n in ("baseline", "bridge-closed-both")}, exact=False)
    assert ResultCache(tmp_path).size_bytes() <= 300e6


def test_cached_results_read_each_result_when_asked_for(tmp_path):
    from ldtkit.study.cache import CachedResults

    cache = ResultCache(tmp_path)
    cache.put("k1", {"flow_vph": np.arange(3.0)})
    cache.put("k2", {"flow_vph": np.ones(2)})
    results = CachedResults(cache, {"baseline": "k1", "closed": "k2"})
    assert list(results) == list(results.keys()) == ["baseline", "closed"] and len(results) == 2
    assert "closed" in results and "other" not in results
    np.testing.assert_array_equal(results["baseline"]["flow_vph"], [0.0, 1.0, 2.0])
    assert results["baseline"] is not results["baseline"], "read again on every lookup, not kept"
    assert {n: float(r["flow_vph"].sum()) for n, r in results.items()} == {"baseline": 3.0, "closed": 2.0}
    cache.clear()
    with pytest.raises(KeyError, match=r"result 'closed' \(cache entry k2\) is no longer in the cache"):
        results["closed"]
