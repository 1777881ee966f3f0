"""What-if benchmark: a new Ghent scenario (traffic + noise + air) in a running process with the baseline computed.

Run: ``python benchmarks/whatif.py [--scenario N]``

The baseline (all three models) is computed first, not timed, as an analyst's kernel holds it.
Then each scenario of ``data/ghent/scenarios`` is run as a new scenario, warm-started from the
baseline: the traffic from its equilibrium, the noise map updated from the baseline's map for
the roads whose noise power changed (:func:`ldtkit.model.noise.update_noise`), the air map from
the baseline's transfer. Printed per scenario: seconds (total, traffic, noise, air), the roads
recomputed for noise and the largest Lden difference from a full noise recompute, whose time is
printed beside. Target: a new scenario in at most 5 s. The load average is printed: with a load
above 2 the other processes take part of the two cores and every time is longer; the CPU seconds
(all threads of the process) depend less on it: on an idle machine the time is about the CPU
seconds less what the parallel kernels (shortest paths, noise map) run on the second core.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=int, default=None, help="run only scenario N (1-based) of data/ghent/scenarios")
    args = ap.parse_args()

    from ldtkit.model.air import air_transfer
    from ldtkit.model.noise import compute_noise
    from ldtkit.study.runner import ModelOptions, prepare_city, run_scenario
    from ldtkit.study.scenario import baseline, load_scenarios

    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    opts = ModelOptions(models=("traffic", "noise", "air"))
    t0 = time.perf_counter()
    inputs = prepare_city("ghent", options=opts, progress=False)
    inputs.air_transfer = air_transfer(inputs.network, inputs.air_receptors, config=inputs.city.config.air)
    base = run_scenario(inputs, baseline(), options=opts)
    print(
        f"Ghent baseline (not counted): {time.perf_counter() - t0:.1f} s; {inputs.network.n_links} links, "
        f"{len(inputs.noise_receptors or [])} noise receptors"
    )
    scenarios = load_scenarios(inputs.city.root / "scenarios")
    if args.scenario is not None:
        scenarios = [scenarios[args.scenario - 1]]
    cfg = inputs.city.config.noise
    for scen in scenarios:
        load = os.getloadavg()[0]
        t, cpu = time.perf_counter(), time.process_time()
        res = run_scenario(inputs, scen, options=opts, warm_start=base)
        total, cpu = time.perf_counter() - t, time.process_time() - cpu
        assert res.noise is not None
        t = time.perf_counter()
        full = compute_noise(
            inputs.network, res.traffic, inputs.noise_receptors, reference_traffic=base.traffic, cutoff_m=cfg.cutoff_m,
            ground_g=cfg.ground_g, p_favourable=cfg.p_favourable, coefficients=cfg.coefficients, surface=cfg.surface,
            temperature_c=cfg.temperature_c, humidity_pct=cfg.humidity_pct, method=cfg.method, progress=False,
        )  # fmt: skip
        full_s = time.perf_counter() - t
        ok = np.isfinite(full.lden_db)
        diff = float(np.abs(res.noise.lden_db[ok] - full.lden_db[ok]).max())
        sec = res.seconds
        meta = res.noise.meta
        print(
            f"new scenario {scen.name}: {total:.2f} s (target <= 5 s), {cpu:.2f} CPU s [traffic {sec['traffic']:.2f}, noise {sec['noise']:.2f}, "
            f"air {sec.get('air', 0.0):.2f}]; noise: {meta['changed_lines']} of {meta['source_lines']} roads recomputed, "
            f"{meta['pair_evaluations'] / 1e6:.1f} M evaluations; full noise recompute {full_s:.2f} s "
            f"({full.meta['pair_evaluations'] / 1e6:.1f} M); max |Lden difference| {diff:.3f} dB; load {load:.2f}"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB; load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
