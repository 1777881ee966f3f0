"""Reports: run a use-case notebook with parameters (papermill) and render it as HTML (nbconvert).

The HTML report hides the code (``exclude_input``) and keeps the outputs: markdown, tables
and the static matplotlib figures, which are embedded as PNG so the page works offline.
Notebooks receive ``interactive = False`` unless the caller sets it, so they draw static
figures instead of widgets (widgets need a live kernel or CDN scripts).

Both outputs are written atomically: a failed run leaves previous reports untouched and
keeps the partly executed notebook as ``<name>.failed.ipynb`` for debugging.

Examples
--------
>>> from ldtkit.viz.report import run_report
>>> nb, page = run_report("notebooks/bridge_closure.ipynb", {"demand_scale": 1.1}, out_dir="out/reports")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ldtkit.errors import LdtkitError, require_file
from ldtkit.io import atomic_path
from ldtkit.resources import templates_dir

if TYPE_CHECKING:  # nbformat loads when a report runs
    from nbformat import NotebookNode


def _all_subclasses(cls: type) -> list[type]:
    subs = cls.__subclasses__()
    return subs + [s for c in subs for s in _all_subclasses(c)]


#: Cells with any of these tags are not in an HTML report.
REMOVED_CELL_TAGS = ("remove-cell", "dashboard-only", "parameters", "injected-parameters")
#: nbconvert template folder shipped in the repository (``templates/nbconvert/templates/ldtkit_report``).
REPORT_TEMPLATE_DIR = templates_dir() / "nbconvert" / "templates"
REPORT_TEMPLATE = "ldtkit_report"
#: Parameters every report sets for itself (static figures instead of widgets): not listed in its header.
REPORT_SET_PARAMETERS = ("interactive",)


class ReportError(LdtkitError):
    """A report notebook failed to run; the message names the cell and the error.

    ``input_error`` is true when the notebook stopped on bad input (an ldtkit error whose
    message names the file, key or name at fault): the kernel's log adds nothing to it.
    """

    input_error: bool = False


#: Exceptions raised in a notebook whose message is shown as is: they name the input at fault.
_LDTKIT_ERRORS = frozenset(c.__name__ for c in (LdtkitError, *_all_subclasses(LdtkitError)))


def parse_parameter(value: str) -> Any:
    """Turn a command-line parameter value into a Python value, without evaluating code.

    JSON is tried first (numbers, ``true``/``false``/``null``, lists, objects, quoted strings),
    then the Python spellings ``True``/``False``/``None``; anything else stays a string.

    Examples
    --------
    >>> parse_parameter("1.5"), parse_parameter('["both", "northbound"]'), parse_parameter("ghent")
    (1.5, ['both', 'northbound'], 'ghent')
    >>> parse_parameter("False"), parse_parameter("None"), parse_parameter("__import__('os')")
    (False, None, "__import__('os')")
    """
    try:
        return json.loads(value)
    except (json.JSONDecodeError, ValueError):
        pass
    return {"True": True, "False": False, "None": None}.get(value, value)


def notebook_parameters(notebook: str | Path) -> dict[str, Any]:
    """The names and default values declared in the notebook's ``parameters`` cell.

    Examples
    --------
    >>> sorted(notebook_parameters("notebooks/bridge_closure.ipynb"))  # doctest: +SKIP
    ['bridges', 'city', 'demand_scale', 'interactive', 'models', 'variants']
    """
    import papermill

    path = require_file(notebook, what="report notebook")
    info = papermill.inspect_notebook(str(path))
    return {k: v.get("default") for k, v in info.items()}


def run_report(
    notebook: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    out_dir: str | Path,
    name: str | None = None,
    timeout_s: float = 900.0,
    kernel_name: str | None = None,
    progress: bool = False,
) -> tuple[Path, Path]:
    """Execute ``notebook`` with ``parameters`` and write ``<name>.ipynb`` and ``<name>.html``.

    Parameters
    ----------
    notebook
        A notebook with a cell tagged ``parameters``.
    parameters
        Values injected after the parameters cell (papermill). ``interactive`` defaults to
        ``False`` so the notebook draws static figures.
    out_dir
        Output folder (created).
    name
        Output file stem; default: the notebook's stem.
    timeout_s
        Per-cell timeout.
    kernel_name
        Jupyter kernel; default: the notebook's own.
    progress
        Show papermill's progress bar.

    Returns
    -------
    (executed_notebook, html)
        Paths of the two outputs.

    Raises
    ------
    InputFileNotFoundError
        ``notebook`` does not exist.
    ReportError
        A cell failed; names the cell, the exception, and where the partial notebook is.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    nb_path = require_file(notebook, what="report notebook").resolve()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = name or nb_path.stem
    params = {"interactive": False, **dict(parameters or {})}
    declared = notebook_parameters(nb_path)
    params = {k: v for k, v in params.items() if k in declared or k != "interactive"}
    t0 = time.perf_counter()
    ipynb = out / f"{stem}.ipynb"
    with atomic_path(ipynb) as tmp:
        try:
            papermill.execute_notebook(
                str(nb_path),
                str(tmp),
                parameters=params,
                cwd=str(nb_path.parent),
                kernel_name=kernel_name,
                progress_bar=progress,
                execution_timeout=timeout_s,
                log_output=False,
            )
        except PapermillExecutionError as exc:
            failed = out / f"{stem}.failed.ipynb"
            if tmp.exists():
                tmp.replace(failed)
            if exc.ename in _LDTKIT_ERRORS:  # the package's own message already names the input and what was expected
                err = ReportError(f"{nb_path.name}: {exc.evalue} (partial notebook: {failed})")
                err.input_error = True
                raise err from None
            raise ReportError(
                f"{nb_path}: cell {exc.exec_count} failed with {exc.ename}: {exc.evalue} (parameters {params}); partial notebook: {failed}"
            ) from None
        executed = nbformat.read(tmp, as_version=4)
    elapsed = time.perf_counter() - t0
    page = out / f"{stem}.html"
    title = _title(executed, stem)
    executed.metadata["title"] = title  # the page's <title>: the heading this run made, not the notebook's generic one
    shown = {k: v for k, v in params.items() if k not in REPORT_SET_PARAMETERS}
    body = notebook_to_html(executed, parameters=shown, title=title, elapsed_s=elapsed)
    with atomic_path(page) as tmp:
        tmp.write_text(body, encoding="utf-8")
    return ipynb, page


def _title(nb: NotebookNode, fallback: str) -> str:
    """The first ``# `` heading of a markdown cell or of markdown a cell displayed (a heading made from the parameters)."""
    for cell in nb.cells:
        texts = [cell.source] if cell.cell_type == "markdown" else []
        texts += [
            str(o.get("data", {}).get("text/markdown", "")) for o in cell.get("outputs", []) if o.get("output_type") == "display_data"
        ]
        for text in texts:
            for line in text.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def notebook_to_html(
    nb: NotebookNode, *, parameters: Mapping[str, Any] | None = None, title: str = "", elapsed_s: float | None = None
) -> str:
    """HTML of an executed notebook without code: the ``ldtkit_report`` template when the
    repository's templates are present, else nbconvert's ``lab`` template.

    Cells tagged ``remove-cell`` or ``dashboard-only`` (how to use the interactive dashboard) are
    dropped, and so are the ``parameters`` cell and the cell papermill injects: the run's
    parameters are listed once, in the report's header.
    """
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = REMOVED_CELL_TAGS
    c.HTMLExporter.exclude_input = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    if (REPORT_TEMPLATE_DIR / REPORT_TEMPLATE).is_dir():
        c.HTMLExporter.extra_template_basedirs = [str(REPORT_TEMPLATE_DIR)]
        c.HTMLExporter.template_name = REPORT_TEMPLATE
    else:  # installed from a wheel without the repository's templates
        c.HTMLExporter.template_name = "lab"
    exporter = HTMLExporter(config=c)
    resources = {
        "metadata": {"name": title},
        "ldtkit": {
            "parameters": {k: json.dumps(v, ensure_ascii=False) for k, v in dict(parameters or {}).items()},
            "elapsed_s": None if elapsed_s is None else round(elapsed_s, 1),
            "generated": time.strftime("%Y-%m-%d %H:%M"),
        },
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


__all__ = [
    "REMOVED_CELL_TAGS",
    "REPORT_SET_PARAMETERS",
    "ReportError",
    "notebook_parameters",
    "notebook_to_html",
    "parse_parameter",
    "run_report",
]
