"""``ldtkit report NOTEBOOK [-p NAME VALUE ...] [--out DIR]``: papermill run + HTML report.

Examples
--------
::

    ldtkit report notebooks/bridge_closure.ipynb --out out/reports
    ldtkit report notebooks/bridge_closure.ipynb -p demand_scale 1.1 -p variants '["both"]'
    ldtkit report notebooks/bridge_closure.ipynb -p city my_city -p bridge "Ponte Infante Dom Henrique"
    ldtkit report notebooks/pedestrianisation.ipynb -p city my_city -p streets '["Rua de Santa Catarina"]'
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ldtkit.cli.args import Subparsers, positive, writable_dir


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Register ``ldtkit report``."""
    p = subparsers.add_parser(
        "report",
        help="run a use-case notebook with parameters and write the executed notebook and an HTML report",
        description=(
            "Execute NOTEBOOK with papermill (parameters injected after its `parameters` cell) and render "
            "it to HTML without code. Writes OUT/<name>.ipynb and OUT/<name>.html atomically."
        ),
    )
    p.add_argument("notebook", help="notebook with a cell tagged `parameters`")
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        default=[],
        help="parameter value (JSON, e.g. 1.5, true, '[\"both\"]'; otherwise a string); repeatable",
    )
    p.add_argument("--out", default="out/reports", help="output folder (default: out/reports)")
    p.add_argument("--name", default=None, help="output file stem (default: the notebook's name)")
    p.add_argument("--timeout", type=positive(float), default=900.0, help="per-cell timeout in seconds (default 900)")
    p.add_argument("--progress", action="store_true", help="show a progress bar per cell")
    # SUPPRESS: without it the sub-command's default (False) would override `ldtkit --verbose report ...`
    p.add_argument(
        "--verbose", action="store_true", default=argparse.SUPPRESS, help="show the kernel's log messages (hidden unless the run fails)"
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Execute ``args.notebook`` with its parameters and write the notebook and HTML; exit code 0."""
    # jsonschema (via nbformat) imports rfc3987_syntax, which builds a grammar at import time
    # (~2.4 s); its IRI format check is never needed to validate notebooks, so skip it.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    from ldtkit._validate import closest
    from ldtkit.errors import InvalidValueError
    from ldtkit.study.config.params import ON_DISCONNECTED, check_choice, check_demand_scale, check_models
    from ldtkit.viz.report import notebook_parameters, parse_parameter, run_report

    params = {name: parse_parameter(value) for name, value in args.parameter}
    declared = notebook_parameters(args.notebook)
    unknown = sorted(set(params) - set(declared))
    if unknown:
        near = closest(unknown, declared)
        hint = f"; did you mean {', '.join(map(repr, near))}?" if near else ""
        raise InvalidValueError(
            f"{args.notebook}: unknown parameter(s) {unknown}{hint} (the notebook's parameters cell declares {sorted(declared)})"
        )
    # the run parameters every use-case notebook shares, checked before the kernel starts
    if "demand_scale" in params:
        params["demand_scale"] = check_demand_scale(params["demand_scale"], where=f"{args.notebook}: -p demand_scale")
    if "models" in params:
        params["models"] = list(check_models(params["models"], where=f"{args.notebook}: -p models"))
    if "on_disconnected" in params:
        check_choice(params["on_disconnected"], ON_DISCONNECTED, where=f"{args.notebook}: -p on_disconnected", name="on_disconnected")
    if isinstance(params.get("city"), str) and Path(params["city"]).is_dir():
        # the notebook runs in its own folder: a city folder given relative to here is passed absolute
        params["city"] = str(Path(params["city"]).resolve())
    writable_dir(args.out)
    t0 = time.perf_counter()
    with _quiet_kernel(enabled=not args.verbose):
        ipynb, html = run_report(args.notebook, params, out_dir=args.out, name=args.name, timeout_s=args.timeout, progress=args.progress)
    print(f"wrote {html} and {ipynb} in {time.perf_counter() - t0:.1f} s", file=sys.stdout)
    return 0


@contextlib.contextmanager
def _quiet_kernel(*, enabled: bool) -> Iterator[None]:
    """Hold back what the Jupyter kernel writes to stderr (log lines such as the TCP transport
    warning); replay it if the run fails."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException as exc:
            os.dup2(saved, 2)
            if not getattr(exc, "input_error", False):  # bad input is said in one line; other failures show the kernel's log
                held.seek(0)
                sys.stderr.write(held.read().decode("utf-8", errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
