"""``ldtkit assign``: static user-equilibrium assignment of a TNTP network.

Examples
--------
::

    ldtkit assign --tntp TransportationNetworks/Chicago-Sketch --gap 1e-5 --out flows.csv

Writes ``init_node, term_node, flow, cost`` per link (the TNTP ``_flow`` layout) and prints
iterations, final relative gap, Beckmann objective and seconds. This path imports numpy only
(no pandas/geopandas) and, when built, the ahead-of-time compiled kernels of
:mod:`ldtkit.model.kernels.aot` instead of numba, so the whole process stays short.
"""

from __future__ import annotations

import argparse
import time
import warnings

from ldtkit.cli.args import disconnected_message, positive, writable_file


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "assign",
        help="static user-equilibrium assignment of a TNTP network",
        description="Assign a TNTP network's demand to user equilibrium and write link flows and costs.",
    )
    p.add_argument("--tntp", required=True, metavar="DIR", help="TNTP folder (or its *_net.tntp file)")
    p.add_argument("--gap", type=positive(float), default=1e-5, help="target relative gap (TSTT - SPTT) / TSTT (default 1e-5)")
    p.add_argument("--max-iter", type=positive(int), default=500, help="iteration cap (default 500)")
    p.add_argument("--method", choices=["path", "bfw", "fw"], default="path", help="algorithm (default path)")
    p.add_argument(
        "--strict",
        action="store_true",
        help="stop with an error listing the OD pairs with demand but no path (default: assign the rest and report the dropped pairs)",
    )
    p.add_argument(
        "--drop-disconnected", action="store_true", help="the default (assign the rest and report the dropped pairs); kept for scripts"
    )
    p.add_argument(
        "--kernels",
        choices=["auto", "aot", "jit"],
        default="auto",
        help="auto (default): the ahead-of-time compiled kernels when built (fast start-up; trees on several threads on large networks), "
        "else numba JIT; "
        "aot: require them; jit: numba JIT (parallel)",
    )
    p.add_argument(
        "--allow-unconverged",
        action="store_true",
        help="exit 0 when the iteration cap stops the assignment before the gap target (default: exit 3)",
    )
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.add_argument("--out", required=True, metavar="FLOWS.csv", help="output CSV: init_node, term_node, flow, cost")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Assign, write ``args.out``; exit code 0, or 3 when the gap target is not reached
    (unless ``--allow-unconverged``)."""
    import sys

    import numpy as np

    from ldtkit.errors import DisconnectedDemandError, LdtkitError
    from ldtkit.io import atomic_path
    from ldtkit.model.assignment import SolverOptions, build_problem, choose_engine, solve
    from ldtkit.model.kernels.aot import load_assignment_aot
    from ldtkit.model.loaders.tntp import read_net, read_trips, readme_cost_weights

    t0 = time.perf_counter()
    writable_file(args.out)
    compiled = load_assignment_aot() if args.kernels != "jit" else None
    if compiled is None and args.kernels == "aot":
        raise LdtkitError(
            "ldtkit assign --kernels aot: the compiled kernels are missing or stale; build them with `python -m ldtkit.cli.warmup`"
        )
    net = read_net(args.tntp)
    zones, trips, _ = read_trips(net.path.parent)
    w = readme_cost_weights(net.path.parent)
    c = net.columns
    node_ids = np.union1d(np.union1d(c["init_node"], c["term_node"]), zones)
    no_through = node_ids[node_ids < net.first_thru_node] if net.first_thru_node > 1 else np.zeros(0, np.int64)
    pb = build_problem(
        node_ids=node_ids,
        from_node=c["init_node"],
        to_node=c["term_node"],
        free_flow_time_min=c["free_flow_time"],
        capacity_vph=c["capacity"],
        b=c["b"],
        power=c["power"],
        fixed_cost_min=w["toll_weight"] * c["toll"] + w["distance_weight"] * c["length"],
        allowed=np.ones((1, net.n_links), dtype=bool),
        no_through_nodes=no_through,
        zone_ids=zones,
        trips={"light": trips},
        pcu={"light": 1.0},
        source=str(net.path),
    )
    options = SolverOptions(
        method=args.method,
        gap=args.gap,
        max_iter=args.max_iter,
        on_disconnected="raise" if args.strict else "drop",
        progress=args.progress,
        keep_paths=False,
    )
    t_read = time.perf_counter()
    # numba is imported only when the JIT kernels run
    engine = choose_engine(compiled, n_nodes=pb.n_nodes, n_subproblems=len(pb.od.sub_orig), kernels=args.kernels)
    if args.strict and args.drop_disconnected:
        raise LdtkitError("ldtkit assign: --strict and --drop-disconnected contradict each other; give one")
    try:
        with warnings.catch_warnings():  # the dropped pairs are reported below, in the CLI's words
            warnings.filterwarnings("ignore", message=r".*have no path", category=UserWarning)
            sol = solve(pb, options, engine=engine)
    except DisconnectedDemandError as exc:
        hint = "rerun without --strict to assign the rest and report the dropped pairs"
        raise DisconnectedDemandError(f"{net.path}: {disconnected_message(exc.pairs, hint=hint)}", pairs=exc.pairs) from None
    t_write = time.perf_counter()
    with atomic_path(args.out) as tmp:
        with open(tmp, "w") as fh:
            fh.write("init_node,term_node,flow,cost\n")
            np.savetxt(
                fh,
                np.column_stack([c["init_node"], c["term_node"], sol.flow_pcu, sol.cost_min]),
                fmt=["%d", "%d", "%.10g", "%.10g"],
                delimiter=",",
            )
    elapsed = time.perf_counter() - t0
    print(f"network     {net.path.parent.name}: {pb.n_nodes} nodes, {net.n_links} links, {len(zones)} zones")
    threads = f"{sol.threads} thread{'s' if sol.threads > 1 else ''}"
    kind = f"ahead-of-time compiled kernels, {threads}" if engine.compiled_ahead else f"numba JIT kernels, {threads}"
    print(f"method      {args.method} ({kind})")
    print(f"iterations  {sol.iterations}")
    print(f"gap         {sol.gap:.3e} (target {args.gap:g}{'' if sol.converged else ', target not reached'})")
    print(f"objective   {sol.objective:.10g}")
    print(f"seconds     {elapsed:.3f} (assignment {sol.wall_time_s:.3f})")
    tm = sol.times
    other = sol.wall_time_s - tm.setup_s - tm.shortest_paths_s - tm.update_s - tm.inner_s
    print(
        f"phases      reading {t_read - t0:.2f} s, kernels' start-up {t_write - t_read - sol.wall_time_s + tm.setup_s:.2f} s,"
        f" trees {tm.shortest_paths_s:.2f} s, path updates {tm.update_s:.2f} s, inner passes {tm.inner_s:.2f} s,"
        f" other {other:.2f} s, writing {elapsed - (t_write - t0):.2f} s"
    )
    if sol.unassigned is not None and len(sol.unassigned["trips"]):
        print(f"unassigned  {len(sol.unassigned['trips'])} OD pairs ({float(sol.unassigned['trips'].sum()):.1f} trips) without a path")
    print(f"wrote       {args.out}")
    if sol.unassigned is not None and len(sol.unassigned["trips"]):
        hint = "they are not assigned; --strict makes this an error"
        print(f"ldtkit: warning: {net.path}: {disconnected_message(sol.unassigned, hint=hint)}", file=sys.stderr)
    if not sol.converged:
        print(
            f"ldtkit: warning: target not reached: the iteration cap ({args.max_iter}) stopped the assignment at gap "
            f"{sol.gap:.3g} (target {args.gap:g}); raise --max-iter, loosen --gap, or pass --allow-unconverged",
            file=sys.stderr,
        )
        return 0 if args.allow_unconverged else 3
    return 0
