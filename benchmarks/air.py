"""Air-quality model timings on Ghent: baseline NO2/PM map and a further scenario reusing the transfer.

Targets: baseline map <= 20 s warm (transfer + concentrations), each further
scenario <= 3 s (concentrations only, the transfer reused).

Run: ``python benchmarks/air.py [--cell 25]``. Traffic (assignment) time is not counted.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cell", type=float, default=25.0, help="receptor grid spacing over the focus area (m)")
    args = ap.parse_args()

    from ldtkit.model.air import air_transfer, compute_air
    from ldtkit.model.receptors import receptors_grid
    from ldtkit.study.runner import ModelOptions, focus_bounds, prepare_city, run_scenario
    from ldtkit.study.scenario import baseline, load_scenarios

    opts = ModelOptions(models=("traffic",))
    t = time.perf_counter()
    inputs = prepare_city("ghent", options=opts, progress=False)
    base = run_scenario(inputs, baseline(), options=opts)
    scen = load_scenarios(inputs.city.root / "scenarios")[0]
    closed = run_scenario(inputs, scen, options=opts, warm_start=base)
    print(f"traffic (not counted): {time.perf_counter() - t:.1f} s for baseline + {scen.name}")

    cfg = inputs.city.config.air
    net = base.network
    grid = receptors_grid(focus_bounds(inputs.city, net), crs=net.crs, cell_m=args.cell, height_m=1.5)
    # warm-up: numba kernels loaded from cache / compiled on a tiny grid
    small = receptors_grid(focus_bounds(inputs.city, net), crs=net.crs, cell_m=1000.0, height_m=1.5)
    compute_air(net, base.traffic, small, config=cfg)

    t0 = time.perf_counter()
    tr = air_transfer(net, grid, config=cfg)
    t1 = time.perf_counter()
    amap = compute_air(net, base.traffic, grid, transfer=tr, config=cfg)
    t2 = time.perf_counter()
    smap = compute_air(closed.network, closed.traffic, grid, transfer=tr, config=cfg)
    t3 = time.perf_counter()

    d = smap.no2_ugm3 - amap.no2_ugm3
    print(
        f"receptors: {len(grid)} ({args.cell:g} m grid over the focus area), sources: {tr.n_sources}, "
        f"near-field pairs: {tr.nnz}, far-field pairs: {tr.far_matrix.nnz if tr.far_matrix is not None else 0}"
    )
    print(f"baseline NO2+PM map (warm): {t2 - t0:.2f} s  [transfer {t1 - t0:.2f} s + concentrations {t2 - t1:.2f} s]  target <= 20 s")
    print(f"scenario {scen.name} reusing the transfer: {t3 - t2:.2f} s  target <= 3 s")
    print(
        f"baseline NO2 ug/m3: p5 {np.percentile(amap.no2_ugm3, 5):.1f}, median {np.median(amap.no2_ugm3):.1f}, "
        f"p95 {np.percentile(amap.no2_ugm3, 95):.1f}, max {amap.no2_ugm3.max():.1f}; PM10 max {amap.pm10_ugm3.max():.1f}"
    )
    print(
        f"scenario - baseline NO2: min {d.min():+.2f}, max {d.max():+.2f} ug/m3; "
        f"CO2 {amap.co2_t_per_day:.0f} -> {smap.co2_t_per_day:.0f} t/day"
    )


if __name__ == "__main__":
    main()
