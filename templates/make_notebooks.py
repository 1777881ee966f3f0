"""Generate the use-case notebooks and the new-use-case template with nbformat.

The notebooks are thin on purpose: a ``parameters`` cell (papermill), a few calls into
ldtkit, and outputs. Edit this script, not the .ipynb JSON, then run::

    python templates/make_notebooks.py

Writes ``notebooks/bridge_closure.ipynb``, ``notebooks/pedestrianisation.ipynb`` and
``templates/usecase_template.ipynb`` (outputs cleared).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent


def _params(src: str):
    cell = new_code_cell(src.strip())
    cell.metadata["tags"] = ["parameters"]
    return cell


def _code(src: str):
    return new_code_cell(src.strip())


def _md(src: str):
    return new_markdown_cell(src.strip())


RUN = """
from IPython.display import Markdown

import ldtkit
from ldtkit.viz import dashboard, maps

city_cfg = ldtkit.load_city(city)
results = ldtkit.run(
    city_cfg, scenarios, models=tuple(models), demand_scale=demand_scale,
    cache_dir=cache_dir, on_disconnected=on_disconnected, progress=interactive and not dashboard.in_voila(),
)
indicators = ldtkit.indicators_table(results)
views = dashboard.views_from_results(results, city=city_cfg, labels=labels)
if note := dashboard.unassigned_summary(results, labels=labels):
    display(Markdown(note))
"""

SHOW = """
if interactive:
    board = dashboard.ScenarioDashboard(
        views, baseline="baseline", indicators=indicators, default=default_scenario,
        center=dashboard.focus_center(city_cfg), zoom=zoom, basemap=basemap, title=title,
        prerender_grids=dashboard.in_voila())
    # the page's URL may preselect a scenario, from the whitelist only (anything else: default + notice)
    board.select(*dashboard.scenario_from_query(
        dashboard.current_query_string(), allowed=list(labels), default=default_scenario))
    display(board.widget)
else:
    dashboard.static_report(views, indicators, baseline="baseline", title=title)
"""

DECK = """
if interactive and show_3d:
    display(maps.deck_flows(views[default_scenario].links, "flow_vph", min_abs_value=50.0))
"""


def _metadata(nb, title: str) -> None:
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["title"] = title


def bridge_closure():
    nb = new_notebook()
    title = "Ghent: closing the Rooigemlaan bridge on the R40 ring"
    _metadata(nb, title)
    nb.cells = [
        _md(
            f"""
# {title}

What happens to traffic, noise and air quality in Ghent when the Rooigemlaan bridge on the R40
inner ring is closed to cars and lorries — in both directions, or in one direction only?

In the dashboard, pick a scenario above the map. The **left** half of the map is today's situation (baseline), the
**right** half is the scenario; drag the handle in the middle to compare. The table lists the
city-wide indicators and how much each changes against the baseline (red: more, green: less).
"""
        ),
        _params(
            """
import os

city = "ghent"                 # a shipped city or a city folder
bridge = "Rooigemlaan"         # bridge selector: the street name of the bridge segment(s)
variants = ["both", "southbound", "northbound"]  # which directions are closed, one scenario each
demand_scale = 1.0             # multiply today's traffic demand (e.g. 1.1 for +10 %)
models = ["traffic", "noise", "air"]  # which models to run (traffic always runs)
interactive = True             # False in reports: static figures instead of widgets
basemap = None                 # None works offline; "osm" for OpenStreetMap tiles when online
zoom = 14
show_3d = False                # also show a pydeck 3D view of flows (needs internet for deck.gl)
on_disconnected = "raise"      # "drop": assign the trips that still have a route, report the others
cache_dir = os.environ.get("LDTKIT_CACHE", "../.ldtkit-cache")  # results cache (relative to this notebook)
"""
        ),
        _code(
            """
from ldtkit import Scenario

scenarios = [
    Scenario.from_dict({
        "name": f"bridge-closed-{v}",
        "description": f"{bridge} bridge closed to motor traffic ({v})",
        "measures": [{"action": "close", "street": bridge, "bridge": True, "direction": v}],
    })
    for v in variants
]
labels = {s.name: f"{bridge} closed " + ("both ways" if v == "both" else v) for s, v in zip(scenarios, variants)}
default_scenario = scenarios[0].name
title = f"{bridge} bridge closure"
"""
        ),
        _code(RUN),
        _code(SHOW),
        _code(DECK),
        _md(
            """
*Models*: static user-equilibrium traffic assignment on the Ghent road register (Stad Gent open data),
CNOSSOS-EU road noise (Lden at 4 m) and traffic NO2 (EMEP/EEA emission factors, line-source dispersion,
background added). Figures are model estimates for comparing scenarios, not measurements.
"""
        ),
    ]
    return nb


def pedestrianisation():
    nb = new_notebook()
    title = "Athens: the Great Walk pedestrianisation"
    _metadata(nb, title)
    nb.cells = [
        _md(
            f"""
# {title}

In 2020 Athens closed Vasilissis Olgas avenue to cars and narrowed Panepistimiou to two traffic
lanes (the "Great Walk" between Syntagma, the Acropolis and Omonia). Where does the traffic go,
and what changes for noise and NO2 in the centre?

In the dashboard, the **left** half of the map is the situation before, the **right** half the scenario; drag the
handle to compare. The table lists the indicators and their change against the baseline.
"""
        ),
        _params(
            """
import os

city = "athens"                # a shipped city or a city folder
scenario_files = ["01_great_walk.toml", "02_great_walk_wider.toml"]  # in <city>/scenarios/
demand_scale = 1.0             # multiply today's traffic demand
models = ["traffic", "noise", "air"]
interactive = True             # False in reports: static figures instead of widgets
basemap = None                 # None works offline; "osm" when online
zoom = 15
show_3d = False
on_disconnected = "drop"       # car trips to places left without road access are reported, not assigned
cache_dir = os.environ.get("LDTKIT_CACHE", "../.ldtkit-cache")
"""
        ),
        _code(
            """
from ldtkit import load_city, load_scenarios

scenarios = load_scenarios([load_city(city).root / "scenarios" / f for f in scenario_files])
labels = {s.name: s.name.replace("-", " ").capitalize() for s in scenarios}
default_scenario = scenarios[0].name
title = "Great Walk pedestrianisation"
"""
        ),
        _code(RUN),
        _code(SHOW),
        _code(DECK),
        _md(
            """
*Models*: static user-equilibrium traffic assignment on the downtown Athens network (MIT-licensed
data from panosgjuras/Perceived_safety_choices), CNOSSOS-EU road noise and traffic NO2.
Figures are model estimates for comparing scenarios, not measurements.
"""
        ),
    ]
    return nb


def template():
    nb = new_notebook()
    title = "<City>: <what the scenario changes>"
    _metadata(nb, title)
    nb.cells = [
        _md(
            f"""
# {title}

A new use case in four steps:

1. put the city folder under `data/<city>/` with a `city.toml` (see `data/ghent/city.toml`);
2. write one TOML file per scenario under `data/<city>/scenarios/` (measures: close, pedestrianise,
   bar_heavy, set; selectors by street, bridge, link ids or a line/area);
3. set the parameters below;
4. run `ldtkit report notebooks/<this notebook> --out out/reports`, or open it in Voila.
"""
        ),
        _params(
            """
import os

city = "ghent"
scenario_files = ["01_bridge_closed_both.toml"]
demand_scale = 1.0
models = ["traffic", "noise", "air"]
interactive = True
basemap = None
zoom = 14
show_3d = False
on_disconnected = "raise"
cache_dir = os.environ.get("LDTKIT_CACHE", "../.ldtkit-cache")
"""
        ),
        _code(
            """
from ldtkit import load_city, load_scenarios

scenarios = load_scenarios([load_city(city).root / "scenarios" / f for f in scenario_files])
labels = {s.name: s.name.replace("-", " ").capitalize() for s in scenarios}
default_scenario = scenarios[0].name
title = "My scenario"
"""
        ),
        _code(RUN),
        _code(SHOW),
        _code(DECK),
    ]
    return nb


def main(argv: list[str] | None = None) -> int:
    out = {
        ROOT / "notebooks" / "bridge_closure.ipynb": bridge_closure(),
        ROOT / "notebooks" / "pedestrianisation.ipynb": pedestrianisation(),
        ROOT / "templates" / "usecase_template.ipynb": template(),
    }
    for path, nb in out.items():
        nbformat.validate(nb)
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
