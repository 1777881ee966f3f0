"""``ldtkit calibrate``: origin–destination matrix estimation to traffic counts.

Examples
--------
::

    ldtkit calibrate --tntp TransportationNetworks/SiouxFalls --counts counts.csv --out out/siouxfalls
    ldtkit calibrate ghent --counts counts.csv      # writes data/ghent/calibrated/

Writes ``OUTDIR/trips.tntp`` and ``OUTDIR/trips.omx`` (the calibrated matrix), ``OUTDIR/flows.csv``
(``init_node, term_node, flow, cost``, as ``ldtkit assign`` writes it), ``OUTDIR/validation.csv``
(GEH per site, prior and calibrated) and ``OUTDIR/convergence.txt``; prints the convergence report
and the validation statistics. Bad counts stop the command before any file is written. For a city
the default OUTDIR is ``calibrated/`` in the city folder, and the line to add to its ``city.toml``
(``[demand] od_matrix``) so that every run and scenario uses the matrix is printed.
"""

from __future__ import annotations

import argparse

from ldtkit.cli.args import positive, writable_dir


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "calibrate",
        help="estimate the OD matrix that reproduces traffic counts at equilibrium",
        description="Calibrate a TNTP network's or a city's OD matrix to traffic counts, with the equilibrium assignment in the loop.",
    )
    p.add_argument("city", nargs="?", help="a shipped city name or a city folder (or give --tntp)")
    p.add_argument("--tntp", metavar="DIR", help="TNTP folder (or its *_net.tntp file) instead of a city")
    p.add_argument("--counts", required=True, metavar="FILE", help="counts: CSV, Telraam report JSON or NGSI-LD TrafficFlowObserved")
    p.add_argument("--out", metavar="OUTDIR", help="output folder (default: calibrated/ in the city folder; required with --tntp)")
    p.add_argument(
        "--period", choices=["day", "evening", "night"], default="day", help="period of a city's counts and demand (default day)"
    )
    p.add_argument("--damping", type=positive(float), default=0.05, help="weight of the pull towards the prior matrix (default 0.05)")
    p.add_argument("--max-iter", type=positive(int), default=12, help="outer iterations, one assignment each (default 12)")
    p.add_argument("--gap", type=positive(float), default=1e-4, help="relative gap of each assignment (default 1e-4)")
    p.add_argument(
        "--no-scale",
        action="store_true",
        help="fit the cell factors only (default: first one global scale of the prior, counted over modelled vehicles)",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Calibrate, write the files, print the reports; exit code 0."""

    from ldtkit.errors import InvalidValueError
    from ldtkit.study.observations import calibrate_city, calibrate_tntp, read_counts, write_calibration

    if (args.tntp is None) == (args.city is None):
        raise InvalidValueError("ldtkit calibrate: give either a CITY or --tntp DIR")
    if args.tntp is not None and args.out is None:
        raise InvalidValueError("ldtkit calibrate --tntp: --out OUTDIR is required")
    options = {"damping": args.damping, "max_iter": args.max_iter, "gap": args.gap, "fit_scale": not args.no_scale}
    counts = read_counts(args.counts)
    if args.tntp is not None:
        out = writable_dir(args.out)
        result = calibrate_tntp(args.tntp, counts, **options)
    else:
        from ldtkit.study.city import load_city

        city = load_city(args.city)
        out = writable_dir(args.out or city.root / "calibrated")
        result = calibrate_city(city, counts, period=args.period, **options)
    files = write_calibration(result, out)
    print(result.result.report())
    print(f"sites       {result.matches.summary()}")
    print(f"GEH<5       {result.before.geh_below_5_share:.3f} prior -> {result.after.geh_below_5_share:.3f} calibrated")
    print(f"R2, slope   {result.after.r2:.4f}, {result.after.slope:.4f}")
    print(f"seconds     {result.result.seconds:.2f}")
    for f in files:
        print(f"wrote       {f}")
    if args.tntp is None:
        omx = files[0].resolve()
        rel = omx.relative_to(city.root.resolve()).as_posix() if omx.is_relative_to(city.root.resolve()) else omx.as_posix()
        print(f'every run uses it with, in {city.config_path}:  [demand] od_matrix = "{rel}"')
    return 0
