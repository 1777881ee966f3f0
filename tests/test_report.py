"""Reports: papermill run + nbconvert HTML without code, atomic outputs, the CLI sub-command."""

from __future__ import annotations

import re
from html import escape as html_escape
from pathlib import Path

import nbformat
import pytest

from ldtkit import cli
from ldtkit.study.indicators import PEOPLE_LDEN_ABOVE_END, indicator
from ldtkit.viz.report import ReportError, notebook_parameters, parse_parameter, run_report

SECRET_CODE = "unlikely_identifier_in_code_9f3"


def _notebook(path: Path, *, fail: bool = False) -> Path:
    """A small report notebook: a parameters cell, a computed table and a static map."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("scale = 1.0\nlabel = 'baseline'\ninteractive = True")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Synthetic corridor report\n\nFlows on a six-link corridor."),
        params,
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "import geopandas as gpd\nfrom shapely.geometry import LineString\nfrom ldtkit.viz import maps\n"
            f"{SECRET_CODE} = [LineString([(104500 + 100 * i, 194000), (104600 + 100 * i, 194000)]) for i in range(6)]\n"
            f"links = gpd.GeoDataFrame({{'flow_vph': [100.0 * (i + 1) * scale for i in range(6)]}}, geometry={SECRET_CODE}, crs=31370)"
        ),
        nbformat.v4.new_code_cell("print(f'total flow {links.flow_vph.sum():.0f} veh/h for {label}; interactive={interactive}')"),
        nbformat.v4.new_code_cell("import warnings; warnings.warn('a warning readers should not see')"),
        nbformat.v4.new_code_cell("ax = maps.plot_links(links, 'flow_vph', title='Flow'); plt.show()"),
    ]
    if fail:  # fails right after the parameters, before the slow imports
        nb.cells.insert(2, nbformat.v4.new_code_cell("raise ValueError(f'bad scale {scale}')"))
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One run through the CLI (``ldtkit report NB -p scale 2.0 -p label closed --out OUT``)."""
    d = tmp_path_factory.mktemp("report")
    nb = _notebook(d / "corridor.ipynb")
    out = d / "out"
    assert cli.main(["report", str(nb), "-p", "scale", "2.0", "-p", "label", "closed", "--out", str(out)]) == 0
    return nb, out, out / "corridor.ipynb", out / "corridor.html"


def test_parse_parameter_never_evaluates():
    assert parse_parameter("2") == 2 and parse_parameter("2.5") == 2.5
    assert parse_parameter("true") is True and parse_parameter("True") is True
    assert parse_parameter('["both", "inbound"]') == ["both", "inbound"]
    assert parse_parameter("os.system('x')") == "os.system('x')"


def test_report_runs_with_parameters_and_hides_code(report):
    nb, out, ipynb, html = report
    assert ipynb == out / "corridor.ipynb" and html == out / "corridor.html"
    executed = nbformat.read(ipynb, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "scale = 2.0" in injected[0].source and "interactive = False" in injected[0].source
    text = html.read_text()
    # outputs computed with the injected parameters: 100 * (1+…+6) * 2
    assert "total flow 4200 veh/h for closed; interactive=False" in text
    assert SECRET_CODE not in text and "import matplotlib" not in text  # no code
    assert "a warning readers should not see" not in text  # no stderr
    assert "<title>Synthetic corridor report</title>" in text
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)
    assert len([p for p in pngs if len(p) > 5_000]) == 1  # the static map is embedded
    assert "require.js" not in text and "cdn.jsdelivr" not in text  # renders offline
    assert re.search(r"<dt>scale</dt><dd>2.0</dd>", text)  # parameters in the header
    assert '<dt>label</dt><dd>"closed"</dd>' in text
    assert "<dt>interactive</dt>" not in text  # what the report sets for itself is not the reader's concern
    assert not list(out.glob(".*"))  # no temporary files left


def test_failed_report_keeps_previous_outputs(report, tmp_path):
    nb, out, ipynb, html = report
    before = html.read_bytes()
    bad = _notebook(tmp_path / "corridor.ipynb", fail=True)
    with pytest.raises(ReportError, match=r"ValueError: bad scale 3.0") as err:
        run_report(bad, {"scale": 3.0}, out_dir=out)  # the Python API, same outputs as the CLI
    assert "corridor.failed.ipynb" in str(err.value)
    assert html.read_bytes() == before  # the old report is untouched
    assert (out / "corridor.failed.ipynb").exists()
    assert not list(out.glob(".*"))


def test_cli_report_checks_parameters_before_running(report, tmp_path, capsys):
    nb, *_ = report
    assert notebook_parameters(nb) == {"scale": "1.0", "label": "'baseline'", "interactive": "True"}
    out = tmp_path / "cli"
    # a parameter the notebook does not declare is refused before running anything
    assert cli.main(["report", str(nb), "-p", "city", "porto", "--out", str(out)]) == 1
    assert "unknown parameter(s) ['city']" in capsys.readouterr().err
    assert cli.main(["report", str(tmp_path / "missing.ipynb"), "--out", str(out)]) == 1
    assert "report notebook not found" in capsys.readouterr().err
    assert not out.exists()


# ----------------------------------------------------------------------------- the use-case notebooks
ROOT = Path(__file__).resolve().parents[1]


USE_CASES = {
    "bridge_closure": {"city", "bridge", "variants", "demand_scale", "models", "interactive", "basemap", "cache_dir"},
    "pedestrianisation": {"city", "streets", "polygon", "scenario_files", "demand_scale", "models", "interactive", "basemap", "cache_dir"},
}
#: The heading each notebook makes for its default city (ldtkit.study.use_cases).
HEADINGS = {"bridge_closure": "Ghent: closing the Rooigemlaan bridge", "pedestrianisation": "Athens: the Great Walk pedestrianisation"}
#: Where ``make reports`` (``ldtkit report`` on every use-case notebook) writes before the tests run.
REPORTS = ROOT / "out" / "reports"


@pytest.mark.parametrize("name", sorted(USE_CASES))
def test_use_case_notebooks_are_thin_and_parameterised(name):
    path = ROOT / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert USE_CASES[name] <= set(notebook_parameters(path))
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) <= 5 and sum(len(c.source.splitlines()) for c in code) < 50  # thin: calls into ldtkit
    assert all(not c.get("outputs") for c in code)  # committed without outputs
    # the shared steps are library calls, run before show (ldtkit.viz.use_case)
    src = "\n".join(c.source for c in code)
    assert src.index("run_use_case(") < src.index("show_use_case(")
    assert "ldtkit.run(" not in src and "ScenarioDashboard(" not in src


@pytest.mark.parametrize("name", sorted(USE_CASES))
def test_use_case_notebook_renders_as_a_report(name, tmp_path):
    """The report of ``make reports`` when it is newer than the notebook, else a fresh run (uses the results cache)."""
    notebook = ROOT / "notebooks" / f"{name}.ipynb"
    page = REPORTS / f"{name}.html"
    if not (page.exists() and page.stat().st_mtime >= notebook.stat().st_mtime):
        _, page = run_report(notebook, out_dir=tmp_path)
    text = page.read_text(encoding="utf-8")
    heading = HEADINGS[name]
    assert f"<title>{heading}</title>" in text and "<h1" in text
    assert re.search(r"<table class=[\"']ldtkit-indicators", text) and html_escape(indicator("vehicle_km").label) in text
    assert "<h2" in text and "Change against" in text  # the baseline's maps, then each scenario's changes
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)
    assert len([p for p in pngs if len(p) > 5_000]) >= 3  # indicator chart, baseline maps, a scenario's changes
    assert "run_use_case" not in text and "Traceback" not in text  # no code, no error
    assert "drag the handle" not in text and "In the dashboard" not in text  # no instructions for widgets
    assert "ldtkit-headline" in text and html_escape(indicator(PEOPLE_LDEN_ABOVE_END).label) in text  # the headline block
    assert "-0.0%" not in text and "−0.0" not in text  # a change that rounds to nothing reads 0.0%
    visible = re.sub(r"<(style|script)\b.*?</\1>|<[^>]+>", " ", re.sub(r"data:[a-z/]+;base64,[A-Za-z0-9+/=]+", "", text), flags=re.S)
    for word in ("issue", "ticket", "acceptance", "tracker", "papermill", "injected"):  # speaks of the product only
        assert not re.search(rf"\b{word}", visible, re.IGNORECASE), word
    if name == "bridge_closure":  # who used the bridge, per closure
        assert len(re.findall(r"Who used Rooigemlaan bridge: closed \w+", visible)) == 3


def test_reports_drop_dashboard_how_tos_and_parameter_cells():
    from ldtkit.viz.report import notebook_to_html

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Corridor\n\nWhat the study is about."),
        nbformat.v4.new_markdown_cell("Drag the split handle to compare.", metadata={"tags": ["dashboard-only"]}),
        nbformat.v4.new_code_cell("scale = 1.0", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("scale = 2.0", metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("print(scale)"),
    ]
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="declared defaults printed\n")]
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="injected values printed\n")]
    nb.cells[4].outputs = [nbformat.v4.new_output("stream", name="stdout", text="result 2.0\n")]
    text = notebook_to_html(nb, parameters={"scale": 2.0}, title="Corridor")
    assert "What the study is about." in text and "result 2.0" in text
    assert "Drag the split handle" not in text
    assert "declared defaults printed" not in text and "injected values printed" not in text
    assert re.search(r"<dt>scale</dt><dd>2.0</dd>", text)  # listed once, in the header
    assert len(re.findall(r"<div[^>]*class=\"jp-Cell ", text)) == 2  # the introduction and the result


@pytest.mark.parametrize("name", sorted(USE_CASES))
def test_use_case_notebooks_keep_dashboard_instructions_out_of_reports(name):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        mentions = "dashboard" in cell.source.lower() and cell.cell_type == "markdown"
        assert not mentions or "dashboard-only" in cell.metadata.get("tags", []), cell.source[:80]


@pytest.mark.parametrize(
    ("argv", "verbose"),
    [
        (["report", "nb.ipynb"], False),
        (["--verbose", "report", "nb.ipynb"], True),
        (["report", "nb.ipynb", "--verbose"], True),
    ],
)
def test_verbose_shows_the_kernel_log_before_or_after_the_report_command(argv, verbose):
    args = cli.build_parser().parse_args(argv)
    assert args.verbose is verbose
