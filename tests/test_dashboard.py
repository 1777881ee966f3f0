"""Dashboard helpers: URL whitelist, indicator table, the scenario widget, the Voila command."""

from __future__ import annotations

import json
import re
from html import escape as html_escape
from pathlib import Path
from types import SimpleNamespace as NS

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString

from ldtkit.errors import InvalidValueError
from ldtkit.model.receptors import receptors_grid
from ldtkit.viz import dashboard
from ldtkit.viz.dashboard import ScenarioDashboard, ScenarioView, scenario_from_query

ALLOWED = ["baseline", "closed_both", "closed_inbound"]


# ----------------------------------------------------------------------------- URL whitelist
@pytest.mark.parametrize(
    "query, expected, has_notice",
    [
        ("", "closed_both", False),
        (None, "closed_both", False),
        ("scenario=closed_inbound", "closed_inbound", False),
        ("scenario=closed%5Finbound", "closed_inbound", False),  # percent-encoded, still whitelisted
        ("scenario=CLOSED_INBOUND", "closed_both", True),  # exact match only
        ("scenario=closed_inbound%20", "closed_both", True),
        ("scenario=__import__('os').system('touch%20/tmp/pwned')", "closed_both", True),
        ("scenario=../../etc/passwd", "closed_both", True),
        ("scenario=<script>alert(1)</script>", "closed_both", True),
        ("scenario=", "closed_both", True),
        ("scenario=closed_inbound&scenario=baseline", "closed_both", True),
        ("template=lab&scenario=closed_inbound", "closed_inbound", True),  # unknown key ignored, noted
        ("&".join(f"k{i}=v" for i in range(50)), "closed_both", True),
    ],
)
def test_scenario_from_query_accepts_only_the_whitelist(query, expected, has_notice, tmp_path):
    name, notice = scenario_from_query(query, allowed=ALLOWED, default="closed_both")
    assert name == expected and name in ALLOWED
    assert (notice is not None) == has_notice
    if notice:
        assert len(notice) < 400


def test_query_notice_is_escaped_in_the_page():
    _, notice = scenario_from_query("scenario=<img src=x onerror=alert(1)>", allowed=ALLOWED, default="baseline")
    html = dashboard.notice_html(notice)
    assert "<img" not in html and "&lt;img" in html
    assert "Available: baseline, closed_both, closed_inbound" in notice


def test_scenario_from_query_rejects_a_default_outside_the_whitelist():
    with pytest.raises(InvalidValueError, match="default"):
        scenario_from_query("", allowed=ALLOWED, default="nope")


def test_current_query_string_reads_voilas_environment(monkeypatch):
    monkeypatch.setenv("QUERY_STRING", "scenario=closed_inbound")
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    assert dashboard.current_query_string() == "scenario=closed_inbound"


# ----------------------------------------------------------------------------- indicators
@pytest.fixture()
def indicators() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "baseline": [250_000.0, 6_000.0, 2.5, 1200.0, 35.0],
            "closed_both": [262_500.0, 6_900.0, 3.1, 1180.0, 36.5],
            "closed_inbound": [255_000.0, 6_300.0, 2.7, 1250.0, 35.4],
        },
        index=["vehicle_km", "vehicle_hours", "mean_delay_min", "people Lden 55-59", "CO2 t/day"],
    )


def test_indicator_differences_and_table(indicators):
    from ldtkit.study.indicators import indicator

    d = dashboard.indicator_differences(indicators, baseline="baseline")
    assert d.at["vehicle_km", "Δ closed_both"] == pytest.approx(12_500.0)
    assert d.at["vehicle_km", "Δ% closed_both"] == pytest.approx(5.0)
    assert d.at["people Lden 55-59", "Δ closed_both"] == pytest.approx(-20.0)
    # scenarios as rows works too
    d2 = dashboard.indicator_differences(indicators.T, baseline="baseline")
    pd.testing.assert_frame_equal(d, d2)
    html = dashboard.indicator_table_html(indicators, baseline="baseline", scenarios=["closed_both"])
    assert html.count("<tr>") == 1 + len(indicators)
    assert "+12,500" in html and "+5.0%" in html
    assert "closed_inbound" not in html
    # labels from the indicator registry; a name it does not know is still readable
    for name in ("vehicle_km", "vehicle_hours", "people Lden 55-59", "CO2 t/day"):
        assert f">{html_escape(indicator(name).label)}</td>" in html
    assert ">Mean delay (min)</td>" in html  # a name the registry does not know
    # colours from Indicator.better: less is better -> an increase is red
    assert "color:#b2182b'>+900" in html and "color:#b2182b'>+1.5<" in html  # CO₂ 35.0 → 36.5: the row's decimals
    # neutral (vehicle-km, people moving between noise bands) and unknown names: no colour
    plain = "<td style='text-align:right;padding:3px 8px'>"
    # people are whole: -20, not -20.0
    assert f"{plain}+12,500</td>" in html and f"{plain}-20</td>" in html and f"{plain}+0.60</td>" in html
    fig = dashboard.plot_indicator_changes(indicators, baseline="baseline", labels={"closed_both": "Closed both ways"})
    both, inbound = fig.axes
    assert both.get_title() == "Closed both ways" and inbound.get_title() == "closed_inbound"  # a panel per scenario
    widths = sorted(p.get_width() for p in both.patches)
    assert widths[-1] == pytest.approx(24.0)  # mean delay 2.5 → 3.1 min under full closure
    assert len(both.patches) == len(inbound.patches) == len(indicators)
    assert both.get_xlim() == inbound.get_xlim()  # one scale: bars compare across scenarios
    # bars coloured as the table colours the change, each with its value
    bars = dict(zip(indicators.index, [matplotlib.colors.to_hex(p.get_facecolor()) for p in both.patches]))
    assert bars["vehicle_hours"] == dashboard.indicator_table.DETERIORATION_COLOUR  # 6,000 → 6,900: worse
    assert bars["people Lden 55-59"] == dashboard.indicator_table.NEUTRAL_BAR_COLOUR  # neither on its own
    assert [t.get_text() for t in both.texts] == ["+5.0%", "+15.0%", "+24.0%", "-1.7%", "+4.3%"]
    matplotlib.pyplot.close(fig)


def test_delta_colour_follows_the_direction_of_improvement(monkeypatch):
    from ldtkit.study.indicators import Indicator
    from ldtkit.viz.dashboard import indicator_table

    assert dashboard.delta_colour("vehicle_hours", 5.0) == indicator_table.DETERIORATION_COLOUR
    assert dashboard.delta_colour("vehicle_hours", -5.0) == indicator_table.IMPROVEMENT_COLOUR
    assert dashboard.delta_colour("vehicle_hours", 0.0) == indicator_table.NO_CHANGE_COLOUR
    assert dashboard.delta_colour("vehicle_km", 5.0) is None  # neutral
    assert dashboard.delta_colour("no_such_indicator", 5.0) is None  # unknown: no claim either way
    assert dashboard.delta_colour("vehicle_hours", float("nan")) is None
    # "more is better" reverses the colours
    more = Indicator("cycle_km", "Cycle-kilometres per day", "km/day", "more", "traffic")
    monkeypatch.setattr(indicator_table, "indicator", lambda name: more)
    assert dashboard.delta_colour("cycle_km", 5.0) == indicator_table.IMPROVEMENT_COLOUR
    assert dashboard.delta_colour("cycle_km", -5.0) == indicator_table.DETERIORATION_COLOUR


def test_indicator_labels_come_from_the_registry():
    from ldtkit.study.indicators import INDICATORS

    for name, ind in INDICATORS.items():
        assert dashboard.indicator_label(name) == ind.label
    assert dashboard.indicator_label("flow_vph: R40 bridge") == "Flow on R40 bridge (veh/h)"
    assert dashboard.indicator_label("no2_ugm3") == "No2 (µg/m³)"  # unknown: a readable fallback
    assert not hasattr(dashboard, "INDICATOR_LABELS")


# ----------------------------------------------------------------------------- the widget
def _views() -> dict[str, ScenarioView]:
    x0, y0 = 104_500.0, 194_000.0
    geoms = [LineString([(x0 + i * 100, y0), (x0 + (i + 1) * 100, y0)]) for i in range(6)]
    base_flow = np.array([100.0, 200.0, 300.0, 400.0, 500.0, 600.0])
    r = receptors_grid((x0, y0 - 200, x0 + 600, y0 + 200), crs="EPSG:31370", cell_m=20.0)
    views = {}
    for name, factor, db in (("baseline", 1.0, 0.0), ("closed_both", 0.0, -3.0), ("closed_inbound", 0.5, -1.0)):
        flow = base_flow if name == "baseline" else base_flow * np.array([factor, factor, 1, 1, 1.5, 1.5])
        links = gpd.GeoDataFrame({"source_id": [f"s{i}" for i in range(6)], "flow_vph": flow}, geometry=geoms, crs="EPSG:31370")
        noise = r.to_geodataframe(lden_db=60.0 + db - np.abs(r.y - y0) / 20.0)
        air = r.to_geodataframe(no2_ugm3=30.0 + db - np.abs(r.y - y0) / 50.0)
        views[name] = ScenarioView(name, name.replace("_", " ").title(), links, noise, air)
    return views


def test_scenario_dashboard_switches_scenario_and_layer(indicators):
    import ipyleaflet

    views = _views()
    name, notice = scenario_from_query("scenario=evil()", allowed=list(views), default="closed_both")
    dash = ScenarioDashboard(
        views,
        baseline="baseline",
        indicators=indicators,
        default=name,
        notice=notice,
        center=(51.05, 3.72),
        basemap=None,
        title="Bridge closure",
        classes=None,
    )
    assert dash.scenario == "closed_both" and dash.notice.layout.display == "block"
    assert [o[1] for o in dash.dropdown.options] == ["closed_both", "closed_inbound"]

    def flows(layer, column="flow_vph"):
        return sorted(f["properties"][column] for f in layer.data["features"] if f["properties"][column] is not None)

    def merged_parts(layer):
        return [len(f["geometry"]["coordinates"]) for f in layer.data["features"] if f["geometry"]["type"] == "MultiLineString"]

    assert flows(dash._links_left) == [100.0, 200.0, 300.0, 400.0, 500.0, 600.0]
    assert flows(dash._links_right) == [300.0, 400.0, 750.0, 900.0]
    assert merged_parts(dash._links_right) == []  # the two closed roads are left out: the street network draws them
    # every road, once, in one grey path under both halves; it comes after the page drew the data
    assert dash.network_layer.data["features"] == [] and dash.network_layer in dash.cmap.map.layers and not dash.context_shown
    layers_before = dash.cmap.map.layers
    dash.cmap.map.set_trait("bounds", ((51.04, 3.70), (51.06, 3.74)))  # as the page reports it once drawn
    assert merged_parts(dash.network_layer) == [6] and dash.context_shown
    assert dash.cmap.map.layers == layers_before  # filled in place: the map's layers (and so the halves) stay
    assert "Closed Both" in dash.table.value and "Closed Inbound" not in dash.table.value
    dash.dropdown.value = "closed_inbound"
    assert flows(dash._links_right) == [50.0, 100.0, 300.0, 400.0, 750.0, 900.0]
    assert "Closed Inbound" in dash.table.value
    assert dash.chart.value[:8] == b"\x89PNG\r\n\x1a\n"
    dash.select("closed_both", "from the link")
    assert dash.scenario == "closed_both" and "from the link" in dash.notice.value
    with pytest.raises(InvalidValueError):
        dash.select("baseline")
    dash.select("closed_inbound")
    assert dash.notice.layout.display == "none"
    # change in flow: right side shows scenario − baseline, left keeps baseline flows
    dash.layer_switch.value = "diff"
    assert flows(dash._links_right, "d_flow_vph") == [-100.0, -50.0, 250.0, 300.0]
    assert merged_parts(dash._links_right) == []  # unchanged roads: only in the street network
    assert "Change in flow" in dash.legend.widget.value and ">more traffic<" in dash.legend.widget.value
    assert not dash._grid_right.visible
    # noise: both grids visible, different images (the scenario is quieter)
    dash.layer_switch.value = "lden"
    assert dash._grid_left.visible and dash._grid_right.visible
    assert dash._grid_left.url != dash._grid_right.url
    assert "70–75" in dash.legend.widget.value
    assert len(dash._links_right.data["features"]) == 1 and merged_parts(dash._links_right) == [6]  # grey streets
    split = [c for c in dash.cmap.map.controls if isinstance(c, ipyleaflet.SplitMapControl)]
    assert len(split) == 1 and dash._links_right in split[0].right_layer and dash._grid_left in split[0].left_layer
    # change in Lden and NO2: scenario − baseline on one symmetric scale across scenarios, the baseline on the left
    left_lden = dash._grid_left.url
    assert (dash.scales["dlden"].vmin, dash.scales["dlden"].vmax) == (-3.0, 3.0)  # closed_both is 3 dB quieter
    assert (dash.scales["dno2"].vmin, dash.scales["dno2"].vmax) == (-3.0, 3.0)
    dash.layer_switch.value = "dlden"
    assert dash._grid_left.url == left_lden and dash._grid_right.visible and dash._grid_right.url != left_lden
    assert "Change in Lden (dB)" in dash.legend.widget.value and "Baseline: Noise Lden (dB)" in dash.legend_left.widget.value
    assert ">quieter<" in dash.legend.widget.value
    inbound = dash._grid_right.url
    dash.dropdown.value = "closed_both"
    assert dash._grid_right.url != inbound  # −3 dB against −1 dB, same scale
    dash.layer_switch.value = "dno2"
    assert "Change in NO₂ (µg/m³)" in dash.legend.widget.value and "Baseline: NO₂" in dash.legend_left.widget.value
    assert [o[1] for o in dash.layer_switch.options] == ["flow", "diff", "lden", "no2", "dlden", "dno2"]
    dash.layer_switch.value = "lden"
    dash.dropdown.value = "closed_inbound"
    # a scenario without noise hides the right grid
    dash.views["closed_inbound"].noise = None
    dash._image_cache.clear()
    dash.dropdown.value = "closed_both"
    dash.dropdown.value = "closed_inbound"
    assert dash._grid_left.visible and not dash._grid_right.visible
    # a failing update shows a plain message instead of raising into the page
    dash.views["closed_both"].links = dash.views["closed_both"].links.drop(columns="flow_vph")
    dash._geojson_cache.clear()
    dash.layer_switch.value = "flow"
    dash.dropdown.value = "closed_both"
    assert dash.notice.layout.display == "block" and "Could not update the view" in dash.notice.value
    assert "Traceback" not in dash.notice.value


def test_scenario_dashboard_draws_classes_as_few_paths(indicators):
    views = _views()
    dash = ScenarioDashboard(views, baseline="baseline", indicators=indicators, center=(51.05, 3.72), basemap=None, classes=4)
    feats = dash._links_left.data["features"]
    assert len(feats) <= 4 and all(f["geometry"]["type"] == "MultiLineString" for f in feats)
    assert sum(len(f["geometry"]["coordinates"]) for f in feats) == 6  # every road drawn once
    scale = dash.scales["flow"]
    step = (scale.vmax - scale.vmin) / 4
    for f in feats:  # the class colour is the scale's colour at the class midpoint
        assert f["properties"]["style"]["color"] == scale.hex([f["properties"]["flow_vph"]])[0]
        assert (f["properties"]["flow_vph"] - scale.vmin) / step % 1 == pytest.approx(0.5)


def test_voila_command_is_locked_down(tmp_path):
    argv, env = dashboard.voila_command("notebooks/bridge_closure.ipynb", port=9123)
    assert "--port=9123" in argv and "--Voila.ip=127.0.0.1" in argv and "--no-browser" in argv
    for opt in ("--strip_sources=True", "--show_tracebacks=False", "--VoilaConfiguration.allow_template_override=NO"):
        assert opt in argv
    cfg = json.loads((dashboard.TEMPLATES_DIR / "voila.json").read_text())["VoilaConfiguration"]
    assert cfg["allow_template_override"] == "NO" and cfg["strip_sources"] is True and cfg["show_tracebacks"] is False
    assert (dashboard.TEMPLATES_DIR / "voila" / "templates" / "ldtkit" / "index.html.j2").exists()
    assert str(dashboard.TEMPLATES_DIR) in env["JUPYTER_PATH"]


def test_view_from_result_sums_directions_and_drops_connectors():
    from types import SimpleNamespace as NS

    from ldtkit.model.network import conform_links
    from ldtkit.model.traffic import LinkTraffic

    x0, y0 = 104_500.0, 194_000.0
    a, b, c = (x0, y0), (x0 + 100, y0), (x0 + 100, y0 + 100)
    links = conform_links(
        pd.DataFrame(
            {
                "link_id": [1, 2, 3, 4],
                "from_node": [1, 2, 2, 9],
                "to_node": [2, 1, 3, 1],
                "length_m": 100.0,
                "capacity_vph": 1000.0,
                "free_speed_kmh": 50.0,
                "source_id": ["s1", "s1", "s2", None],
                "road_class": ["local", "local", "local", "connector"],
                "car_allowed": [True, True, False, True],
                "geometry": [LineString([a, b]), LineString([b, a]), LineString([b, c]), LineString([(x0 - 50, y0), a])],
            }
        ),
        source="test",
        crs="EPSG:31370",
    )
    traffic = {
        "day": LinkTraffic(np.array([1, 2, 3, 4]), np.array([100.0, 50.0, 0.0, 30.0]), np.array([10.0, 0.0, 0.0, 0.0]), np.full(4, 30.0))
    }
    res = NS(network=NS(links=links), traffic=traffic, assignment=NS(unassigned=pd.DataFrame({"trips": [12.4]})), noise=None, air=None)
    view = dashboard.view_from_result("closed", res, label="Closed")
    assert view.links["source_id"].tolist() == ["s1"]  # directions summed; closed link and connector left out
    assert view.links["flow_vph"].tolist() == [160.0]
    assert view.noise is None and view.label == "Closed"
    assert dashboard.unassigned_summary({"closed": res}, labels={"closed": "Closed"}).startswith("Closed: 12 vehicle trips per hour")


# ----------------------------------------------------------------------------- the use-case steps
def _case(indicators):
    from ldtkit.viz.use_case import UseCase

    views = _views()
    labels = {n: v.label for n, v in views.items() if n != "baseline"}
    return UseCase(city=None, results={}, indicators=indicators, views=views, labels=labels, default="closed_both", title="Bridge")


def test_build_dashboard_reads_the_url_after_building(indicators, monkeypatch):
    from ldtkit.viz import use_case

    built = []
    real = use_case.ScenarioDashboard

    def spy(*args, **kwargs):
        built.append(real(*args, **kwargs))
        return built[-1]

    def query():
        # a preheated Voila kernel waits here for the page's request: the slow work must be done
        assert built, "the URL was read before the dashboard was built"
        return "scenario=closed_inbound"

    monkeypatch.setattr(use_case, "ScenarioDashboard", spy)
    monkeypatch.setattr(use_case, "current_query_string", query)
    board = use_case.build_dashboard(_case(indicators), center=(51.05, 3.72))
    assert board is built[0] and board.scenario == "closed_inbound" and board.notice.layout.display == "none"
    monkeypatch.setattr(use_case, "current_query_string", lambda: "scenario=../etc")
    board = use_case.build_dashboard(_case(indicators), center=(51.05, 3.72))
    assert board.scenario == "closed_both" and "Unknown scenario" in board.notice.value


def test_show_use_case_shows_the_report_when_not_interactive(indicators, monkeypatch):
    import IPython.display

    from ldtkit.viz import use_case

    shown, reports = [], []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    monkeypatch.setattr(use_case, "static_report", lambda *a, **k: reports.append((a, k)))
    case = _case(indicators)
    use_case.show_use_case(case, interactive=False, show_3d=True)
    assert len(reports) == 1 and reports[0][1] == {"baseline": "baseline", "title": "Bridge", "noise_note": None}
    assert shown == []  # no note (every trip assigned), no widget, no 3D view in a report
    monkeypatch.setattr(use_case, "build_dashboard", lambda case, **kw: NS(widget="the widget"))
    case.results = {"closed_both": NS(assignment=NS(unassigned=pd.DataFrame({"trips": [40.0]})))}
    use_case.show_use_case(case, interactive=True)
    assert [type(o).__name__ for o in shown] == ["Markdown", "str"] and shown[1] == "the widget"
    assert "Closed Both: 40 vehicle trips per hour" in shown[0].data
    # where the people of the noise indicators are counted: under the dashboard (which opens on the results),
    # in the report under its indicators' heading
    shown.clear()
    case.noise_note = "Noise: open-field propagation: no building data; people counted at grid receptors."
    use_case.show_use_case(case, interactive=True)
    assert [getattr(o, "data", o) for o in shown][1:] == ["the widget", case.noise_note]
    use_case.show_use_case(case, interactive=False)
    assert reports[-1][1]["noise_note"] == case.noise_note


def test_run_use_case_runs_the_baseline_and_the_scenarios(monkeypatch, tmp_path):
    from ldtkit.study.scenario import Scenario
    from ldtkit.viz import use_case

    calls = {}
    scenarios = [Scenario.from_dict({"name": n, "measures": []}) for n in ("a", "b")]
    watch = {"Bridge": {"street": "Rooigemlaan", "bridge": True}}
    city = NS(section=lambda key: {"bbox": [3.7, 51.0, 3.8, 51.1]}, config=NS(compare=NS(watch=watch)))
    monkeypatch.setattr(use_case, "load_city", lambda name: city if name == "ghent" else None)
    monkeypatch.setattr(use_case, "run", lambda city, scen, **kw: calls.update(kw, scenarios=[s.name for s in scen]) or {"baseline": 0})
    # the table reports the watched links of city.toml
    table = pd.DataFrame({"baseline": [1.0]}, index=["flow_vph: Bridge"])
    monkeypatch.setattr(use_case, "study_table", lambda results, watch: table if list(watch) == ["Bridge"] else None)
    # ... with each watched road's two directions summed (tested with a network below)
    both = table.rename(index={"flow_vph: Bridge": "flow_vph: Bridge, both directions"})
    monkeypatch.setattr(use_case, "watched_both_directions", lambda t, results, w: both if (t.equals(table) and w is watch) else None)
    monkeypatch.setattr(use_case, "views_from_results", lambda results, city, labels, cache_dir: {"labels": labels, "cache": cache_dir})
    case = use_case.run_use_case("ghent", scenarios, labels={"b": "Bee"}, models=["traffic"], cache_dir=tmp_path, progress=True)
    assert calls == {
        "scenarios": ["a", "b"],
        "models": ("traffic",),
        "demand_scale": 1.0,
        "cache_dir": tmp_path,
        "on_disconnected": "drop",  # trips left without a route are dropped and reported by default
        "progress": True,
    }
    assert case.city is city and case.labels == {"a": "a", "b": "Bee"} and case.default == "a"
    pd.testing.assert_frame_equal(case.indicators, both)
    assert case.views == {"labels": {"a": "a", "b": "Bee"}, "cache": tmp_path}  # the select-link view reads the paths there
    with pytest.raises(InvalidValueError, match="default scenario 'c'"):
        use_case.run_use_case("ghent", scenarios, default="c")
    with pytest.raises(InvalidValueError, match="no scenarios"):
        use_case.run_use_case("ghent", [])


def test_run_use_case_keeps_no_result_in_memory_when_they_are_cached(monkeypatch, tmp_path):
    from ldtkit.study.cache import CachedResults, ResultCache
    from ldtkit.study.scenario import Scenario
    from ldtkit.viz import use_case

    cache = ResultCache(tmp_path)
    cache.put("kb", {"flow_vph": np.ones(2)})
    cache.put("ka", {"flow_vph": np.zeros(2)})
    computed = {"baseline": NS(key="kb"), "a": NS(key="ka")}
    city = NS(config=NS(compare=NS(watch={})))
    monkeypatch.setattr(use_case, "load_city", lambda name: city)
    monkeypatch.setattr(use_case, "run", lambda city, scen, **kw: dict(computed))
    monkeypatch.setattr(use_case, "study_table", lambda results, watch: pd.DataFrame({"baseline": [1.0]}))
    monkeypatch.setattr(use_case, "with_convergence_notes", lambda table, results: table)
    monkeypatch.setattr(use_case, "watched_both_directions", lambda t, results, w: t)
    seen = {}
    monkeypatch.setattr(use_case, "views_from_results", lambda results, **kw: seen.update(results) or {})
    scenarios = [Scenario.from_dict({"name": "a", "measures": []})]
    case = use_case.run_use_case("ghent", scenarios, cache_dir=tmp_path)
    assert seen == computed, "the views are built from the results themselves"
    assert isinstance(case.results, CachedResults) and list(case.results) == ["baseline", "a"]
    np.testing.assert_array_equal(case.results["baseline"]["flow_vph"], [1.0, 1.0])  # read from the cache when asked for
    # a result missing from the cache (or a run without a cache) keeps the results in memory
    cache.clear()
    assert use_case.run_use_case("ghent", scenarios, cache_dir=tmp_path).results == computed
    assert use_case.run_use_case("ghent", scenarios, cache_dir=None).results == computed


def test_run_use_case_in_voila_writes_its_stage_for_the_waiting_page(monkeypatch, tmp_path):
    from ldtkit.study.scenario import Scenario
    from ldtkit.viz import use_case
    from ldtkit.viz.dashboard.progress import PROGRESS_FILE

    status = tmp_path / PROGRESS_FILE
    seen = []

    def stage_now(*_args, **_kw):
        seen.append(json.loads(status.read_text()) if status.exists() else None)
        return {"baseline": 0}

    scenarios = [Scenario.from_dict({"name": n, "measures": []}) for n in ("a", "b")]
    city = NS(name="ghent", section=lambda key: {}, config=NS(compare=NS(watch={})))
    monkeypatch.chdir(tmp_path)  # Voila runs the kernel in the notebook's folder
    monkeypatch.setattr(use_case, "in_voila", lambda: True)
    monkeypatch.setattr(use_case, "load_city", lambda name: city)
    monkeypatch.setattr(use_case, "run", stage_now)
    monkeypatch.setattr(use_case, "study_table", lambda results, watch: pd.DataFrame())
    monkeypatch.setattr(use_case, "with_convergence_notes", lambda table, results: stage_now() and table)
    monkeypatch.setattr(use_case, "views_from_results", lambda results, city, labels, cache_dir: stage_now() and {})
    use_case.run_use_case("ghent", scenarios, labels={"b": "Bee"}, title="Bridge", models=["traffic"], cache_dir=None)
    # while the models run, the page reads what runs and for which scenarios
    assert (
        seen[0]["text"] == "Bridge: Running the traffic models, or reading them from the results cache (baseline and 2 scenarios: a, Bee)"
    )
    assert [s["stage"] for s in seen[1:]] == ["Computing the indicators", "Preparing the maps"]
    assert json.loads(status.read_text())["stage"] == "Drawing the dashboard"
    assert [p.name for p in status.parent.iterdir()] == ["status.json"]  # written atomically, no leftovers
    # outside Voila nothing is written
    status.unlink()
    monkeypatch.setattr(use_case, "in_voila", lambda: False)
    seen.clear()
    use_case.run_use_case("ghent", scenarios, models=["traffic"], cache_dir=None)
    assert seen == [None, None, None] and not status.exists()


def test_static_report_page_loads_nothing_from_the_internet():
    """The report's HTML chrome (styles, scripts, MathJax) is inlined: no http(s) asset, so it works offline."""
    import re

    import nbformat

    from ldtkit.viz.report import notebook_to_html

    nb = nbformat.v4.new_notebook()
    table = '<table class="ldtkit-indicators"><tr><td>1</td></tr></table>'
    cell = nbformat.v4.new_code_cell("show()")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": table, "text/plain": "table"}),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "figure"}),
        nbformat.v4.new_output("display_data", data={"text/latex": "$L_{den}$", "text/plain": "Lden"}),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# Corridor\n\nNoise $L_{den} \\geq 55$ dB."), cell]
    html = notebook_to_html(nb, title="Corridor")
    assert "ldtkit-indicators" in html and "data:image/png;base64,iVBORw0KGgo=" in html
    assets = re.findall(
        r"""<(?:script|img|iframe|source|link|embed)\b[^>]*?\b(?:src|href)\s*=\s*["']?(https?://[^"'\s>]+)"""
        r"""|url\(\s*["']?(https?://[^"')\s]+)|@import\s+["'](https?://[^"']+)""",
        html,
        re.IGNORECASE,
    )
    assert assets == []


# ----------------------------------------------------------------------------- where and what
def _marked_views() -> dict[str, ScenarioView]:
    from ldtkit.viz.maps.measures import measure_marks

    views = _views()
    network_links = views["baseline"].links.assign(link_id=np.arange(6))
    closed = ScenarioView(**{**views["closed_both"].__dict__})
    closed.links = closed.links.assign(name=[f"Street {i}" for i in range(6)])
    measure = NS(action="close", select={"street": "Street 0", "bridge": True}, direction="both", values={})
    closed.marks = measure_marks(network_links, {"1:close": [0, 1]}, [measure])
    views["closed_both"] = closed
    views["baseline"].links = views["baseline"].links.assign(name=[f"Street {i}" for i in range(6)])
    return views


def test_measure_marks_label_the_touched_links():
    views = _marked_views()
    (mark,) = views["closed_both"].marks
    assert mark.label == "Street 0 bridge: closed both ways"
    assert mark.link_ids == (0, 1)
    assert mark.geometry.length == pytest.approx(200.0)
    assert mark.geometry.distance(mark.anchor) < 1e-6  # the pin sits on the touched road


def test_dashboard_marks_the_measure_frames_the_change_and_has_two_legends(indicators):
    import ipyleaflet

    views = _marked_views()
    dash = ScenarioDashboard(views, baseline="baseline", indicators=indicators, default="closed_both", center=(51.05, 3.72), basemap=None)
    markers = [layer for layer in dash.cmap.map.layers if isinstance(layer, ipyleaflet.Marker)]
    assert len(markers) == 1 and "Street 0 bridge: closed both ways" in markers[0].icon.html
    # the view opens on the changing roads (all six change here), not on the configured centre
    lat, lon = dash.cmap.map.center
    box = gpd.GeoSeries([LineString([(104_500.0, 194_000.0), (105_100.0, 194_000.0)])], crs="EPSG:31370").to_crs(4326).total_bounds
    assert box[0] - 0.001 <= lon <= box[2] + 0.001 and box[1] - 0.001 <= lat <= box[3] + 0.001
    assert dash.cmap.map.zoom == 16  # 700 m of road across a 900 px map, not the configured zoom 13
    # one legend per half, titled by what each half shows
    dash.layer_switch.value = "diff"
    assert "Baseline: Traffic flow" in dash.legend_left.widget.value
    assert "Closed Both: Change in flow" in dash.legend.widget.value
    # each in its half's top corner, under the caption (added after it), so it shows with the top of the map;
    # the zoom buttons leave the top left to them
    controls = list(dash.cmap.map.controls)
    assert (dash.legend_left.position, dash.legend.position) == ("topleft", "topright")
    captions = dash.cmap._title_controls
    assert controls.index(captions["left"]) < controls.index(dash.legend_left) and controls.index(captions["right"]) < controls.index(
        dash.legend
    )
    assert [c.position for c in controls if isinstance(c, ipyleaflet.ZoomControl)] == ["bottomright"]
    # switching scenario moves the marks: the inbound closure has no measures in this set
    dash.dropdown.value = "closed_inbound"
    assert not [layer for layer in dash.cmap.map.layers if isinstance(layer, ipyleaflet.Marker)]
    assert markers[0].comm is None and markers[0].icon.comm is None  # the replaced pin is closed, not left in the kernel
    # the headline (what changes) sits above the map, the first thing under the scenario's controls; the table below it
    children = list(dash.widget.children)
    assert children.index(dash.headline) < children.index(dash.map_box) < children.index(dash.table)
    assert "ldtkit-headline" in dash.headline.value and "ldtkit-indicators" in dash.table.value


def test_the_terms_are_explained_in_plain_words_beside_the_headline_and_in_the_report(indicators, monkeypatch):
    import matplotlib.pyplot as plt

    from ldtkit.model.limits import END_LDEN_THRESHOLD_DB, END_LNIGHT_THRESHOLD_DB, NO2_LIMITS_UGM3
    from ldtkit.viz.dashboard.indicator_table import terms, terms_html
    from ldtkit.viz.dashboard.static_report import static_report

    words = terms()
    # every term the headline and the table use, with its numbers from the one home of the limits
    assert {"Lden", "Lnight", "END threshold", "NO₂", "veh/h"} <= set(words)
    assert f"Lden {END_LDEN_THRESHOLD_DB} dB, Lnight {END_LNIGHT_THRESHOLD_DB} dB" in words["END threshold"]
    assert all(f"{v:g} µg/m³" in words["NO₂"] for v in NO2_LIMITS_UGM3.values())
    # the dashboard: folded under the headline, above the map
    dash = ScenarioDashboard(_views(), baseline="baseline", indicators=indicators, center=(51.05, 3.72), basemap=None)
    assert "What the terms mean" in dash.headline.value and "<details" in dash.headline.value and " open>" not in dash.headline.value
    # the report: unfolded under the table
    shown = []
    monkeypatch.setattr(plt, "show", lambda: None)
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    static_report(_views(), indicators, baseline="baseline")
    html = "".join(getattr(o, "data", "") or "" for o in shown)
    assert terms_html(open_=True) in html and html.index("ldtkit-indicators") < html.index("What the terms mean")


def test_headline_says_better_or_worse_in_words_with_the_change_in_per_cent():
    from ldtkit.study.indicators import (
        CO2_T_PER_DAY,
        PEOPLE_ABOVE_NO2_2030,
        PEOPLE_ABOVE_NO2_LIMIT,
        POPULATION_WEIGHTED_NO2,
        VEHICLE_HOURS,
        indicator,
        watch_indicator,
    )

    bridge = watch_indicator("Bridge").name
    t = pd.DataFrame(
        {"baseline": [76_162.0, 883.0, 2986.0, 27.5], "closed": [77_524.0, 880.0, 0.0, 27.504]},
        index=[VEHICLE_HOURS, CO2_T_PER_DAY, bridge, POPULATION_WEIGHTED_NO2],
    )
    head = dashboard.headline_html(t, baseline="baseline", scenario="closed")
    items = {
        re.sub("<[^>]+>", "", m.group(1)): re.sub("<[^>]+>", "", m.group(2))
        for m in re.finditer(r"<div style='font-size:11px;color:#555'>(.*?)</div><div style='font-size:15px'>(.*?)</div></div>", head)
    }
    assert items[indicator(VEHICLE_HOURS).label] == "76,162 → 77,524 +1,362 (+1.8%) worse"
    assert items[indicator(CO2_T_PER_DAY).label] == "883.0 → 880.0 -3.0 (-0.3%) better"  # the change has the row's decimals
    assert items["Flow on Bridge (veh/h)"] == "2,986 → 0 -2,986 (-100.0%)"  # neither better nor worse on its own
    no_change = dashboard.headline_html(
        pd.DataFrame({"baseline": [111_833.0], "closed": [111_833.2]}, index=[PEOPLE_ABOVE_NO2_2030]),
        baseline="baseline",
        scenario="closed",
    )
    assert "111,833 → 111,833 <span style='color:#333'>no change</span>" in no_change  # +0.2 people: too small to show
    # the per cent is the table's, of the values before rounding (104,000.4 → 109,191.3 people: +4.99%, not +4.98%)
    many = pd.DataFrame({"baseline": [104_000.4], "closed": [109_191.3]}, index=[PEOPLE_ABOVE_NO2_LIMIT])
    people = dashboard.headline_html(many, baseline="baseline", scenario="closed")
    assert "+5,191 (+5.0%)" in people and "+5.0%" in dashboard.indicator_table_html(many, baseline="baseline")
    # the table names the columns in words, says how to read its colours, and a change too small to show is not red
    table = dashboard.indicator_table_html(t, baseline="baseline")
    assert "<th style='text-align:right;padding:3px 8px;border-bottom:1px solid #999'>Change %</th>" in table
    assert dashboard.COLOUR_KEY in table
    row = table[table.index(html_escape(indicator(POPULATION_WEIGHTED_NO2).label)) :]
    assert ">+0.00</td>" not in row and "color:#b2182b'>" not in row.split("</tr>")[0]


def test_a_change_from_a_small_base_reads_from_to_instead_of_in_per_cent():
    """60 people above the NO₂ limit becoming 191 is "from 60 to 191", not "+216.7%", in the headline, table and chart."""
    import matplotlib.pyplot as plt

    from ldtkit.study.indicators import PEOPLE_ABOVE_NO2_LIMIT, PEOPLE_LDEN_ABOVE_END, VEHICLE_HOURS, indicator
    from ldtkit.viz.dashboard.indicator_table import LARGE_CHANGE_PCT, SMALL_BASE_PEOPLE, change_in_per_cent, per_cent_misleads

    # the rule: people below 1,000 in the baseline, or a change beyond ±100 %, or a baseline of 0
    assert (SMALL_BASE_PEOPLE, LARGE_CHANGE_PCT) == (1_000, 100.0)
    assert per_cent_misleads(PEOPLE_ABOVE_NO2_LIMIT, 60.4, 191.3) and per_cent_misleads(PEOPLE_ABOVE_NO2_LIMIT, 999.0, 1_010.0)
    assert not per_cent_misleads(PEOPLE_ABOVE_NO2_LIMIT, 1_000.0, 1_010.0)
    assert per_cent_misleads(VEHICLE_HOURS, 100.0, 201.0) and per_cent_misleads(VEHICLE_HOURS, 100.0, -1.0)
    assert not per_cent_misleads(VEHICLE_HOURS, 100.0, 200.0) and not per_cent_misleads(VEHICLE_HOURS, 100.0, 0.0)  # ±100 % stays
    assert not per_cent_misleads(VEHICLE_HOURS, 0.0, 0.0) and not per_cent_misleads(VEHICLE_HOURS, float("nan"), 1.0)
    # a change that reads as none in the table (684 people and 684.3) reads "0.0%", not "from 684 to 684"
    assert not per_cent_misleads(PEOPLE_ABOVE_NO2_LIMIT, 684.0, 684.3) and per_cent_misleads(PEOPLE_ABOVE_NO2_LIMIT, 684.0, 684.6)
    assert change_in_per_cent(PEOPLE_ABOVE_NO2_LIMIT, 684.0, 684.3, 0.044) == "0.0%"
    t = pd.DataFrame(
        {"baseline": [60.4, 103_545.0, 76_162.0], "closed": [191.3, 100_718.0, 77_524.0]},
        index=[PEOPLE_ABOVE_NO2_LIMIT, PEOPLE_LDEN_ABOVE_END, VEHICLE_HOURS],
    )
    head = dashboard.headline_html(t, baseline="baseline", scenario="closed")
    items = {
        re.sub("<[^>]+>", "", m.group(1)): re.sub("<[^>]+>", "", m.group(2))
        for m in re.finditer(r"<div style='font-size:11px;color:#555'>(.*?)</div><div style='font-size:15px'>(.*?)</div></div>", head)
    }
    assert items[html_escape(indicator(PEOPLE_ABOVE_NO2_LIMIT).label)] == "60 → 191 +131 worse"  # the numbers say it; no per cent
    assert items[html_escape(indicator(PEOPLE_LDEN_ABOVE_END).label)] == "103,545 → 100,718 -2,827 (-2.7%) better"
    table = dashboard.indicator_table_html(t, baseline="baseline")
    assert "216" not in table and "color:#b2182b'>from 60 to 191</td>" in table  # in the Change % column, coloured as the change
    assert ">-2.7%</td>" in table and ">+1.8%</td>" in table
    # the chart: no bar for it (it does not set the scale), its values instead
    fig = dashboard.plot_indicator_changes(t, baseline="baseline")
    ax = fig.axes[0]
    assert [p.get_width() for p in ax.patches][0] == 0.0 and [x.get_text() for x in ax.texts] == ["from 60 to 191", "-2.7%", "+1.8%"]
    assert ax.get_xlim()[1] < 10.0
    plt.close(fig)


def _mid_latlon(x: float, y: float = 194_000.0) -> list[float]:
    """``[lat, lon]`` of a point of the test roads (EPSG:31370), as the map sends a mouse position."""
    p = gpd.GeoSeries(gpd.points_from_xy([x], [y]), crs="EPSG:31370").to_crs(4326).iloc[0]
    return [p.y, p.x]


def test_hovering_any_road_shows_its_flow_before_and_after(indicators):
    views = _marked_views()
    dash = ScenarioDashboard(views, baseline="baseline", indicators=indicators, default="closed_both", center=(51.05, 3.72), basemap=None)
    dash.cmap.map.zoom = 17
    box = dash.cmap.hover_box
    assert box is not None and "Hover over a road" in box.value
    # a road that changes: Street 0 (x 104,500-104,600) closes
    dash.cmap._on_mouse(type="mousemove", coordinates=_mid_latlon(104_550.0, 194_003.0))
    assert "<b>Street 0</b>" in box.value and "Before (veh/h)" in box.value and ">100<" in box.value and ">-100<" in box.value
    assert dash.cmap.hover_layer.data["features"][0]["properties"]["name"] == "Street 0"  # outlined
    # a road that does not change reports too (Street 2: 300 before and after, change 0)
    dash.cmap._on_mouse(type="mousemove", coordinates=_mid_latlon(104_750.0, 193_998.0))
    assert "<b>Street 2</b>" in box.value and box.value.count(">300<") == 2 and ">0<" in box.value
    # clicking works the same; far from every road (80 m at zoom 17 is ~ 70 px) the box keeps the last road
    dash.cmap._on_mouse(type="click", coordinates=_mid_latlon(104_950.0))
    assert "<b>Street 4</b>" in box.value
    dash.cmap._on_mouse(type="mousemove", coordinates=_mid_latlon(104_950.0, 194_080.0))
    assert "<b>Street 4</b>" in box.value
    # zoomed out, the same 80 m lie within a few pixels: the road is picked
    dash.cmap.map.zoom = 13
    dash.cmap._on_mouse(type="mousemove", coordinates=_mid_latlon(104_550.0, 194_080.0))
    assert "<b>Street 0</b>" in box.value
    # every road of the baseline and the scenario can be picked, not only those that change
    assert len(dash.cmap.hover_picker) == 6


def test_link_picker_finds_the_nearest_road_within_the_pixel_tolerance():
    from ldtkit.viz.maps.hover import LinkPicker, pick_tolerance_m

    roads = _views()["baseline"].links.assign(name=[f"Street {i}" for i in range(6)])
    picker = LinkPicker(roads, fields={"flow_vph": "Flow (veh/h)", "missing": "left out"})
    assert picker.fields == {"flow_vph": "Flow (veh/h)"}
    # 8 px at zoom 16 are 19.1 Web Mercator metres, about 12 m on the ground at 51° N
    assert pick_tolerance_m(16) == pytest.approx(8 * 156_543.03392804097 / 2**16)
    assert picker.pick(*_mid_latlon(104_650.0, 194_010.0), zoom=16)["properties"] == {"name": "Street 1", "flow_vph": 200.0}
    assert picker.pick(*_mid_latlon(104_650.0, 194_020.0), zoom=16) is None
    assert picker.nearest(*_mid_latlon(104_650.0, 194_020.0), zoom=15) == 1
    with pytest.raises(InvalidValueError, match="no CRS"):
        LinkPicker(roads.set_crs(None, allow_override=True), fields={})


def test_plot_difference_scales_to_the_largest_change():
    from ldtkit.viz import maps

    d = gpd.GeoDataFrame(
        {"d_flow_vph": np.r_[np.full(99, 5.0), -720.0]},
        geometry=[LineString([(i, 0), (i + 1, 0)]) for i in range(100)],
        crs="EPSG:31370",
    )
    ax = maps.plot_difference(d, "d_flow_vph", colorbar=False)
    colours = np.asarray(ax.collections[-1].get_colors())
    rdbu = matplotlib.colormaps["RdBu_r"]
    # symmetric ±720: the largest decrease is the darkest blue, +5 stays near white (not saturated at ±50)
    np.testing.assert_allclose(colours[-1], rdbu(0.0), atol=1e-6)
    np.testing.assert_allclose(colours[0], rdbu(0.5 + 5.0 / 1440.0), atol=0.02)
    matplotlib.pyplot.close(ax.figure)


def test_static_report_marks_the_measure_on_the_maps_and_frames_the_change(indicators, monkeypatch):
    import matplotlib.pyplot as plt

    from ldtkit.viz.dashboard.static_report import static_report

    figures, shown = [], []
    monkeypatch.setattr(plt, "show", lambda: figures.append(plt.gcf()))
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    views = _marked_views()
    # a second scenario acts on the same bridge: one direction only
    from ldtkit.viz.maps.measures import measure_marks

    network_links = views["baseline"].links.assign(link_id=np.arange(6))
    north = NS(action="close", select={"street": "Street 0", "bridge": True}, direction="northbound", values={})
    views["closed_inbound"].marks = measure_marks(network_links, {"1:close": [0]}, [north])
    static_report(views, indicators, baseline="baseline")
    charts = [f for f in figures if f.axes[0].get_xlabel().startswith("change against")]
    assert len(charts) == 1 and [ax.get_title() for ax in charts[0].axes] == ["Closed Both", "Closed Inbound"]
    texts = [[t.get_text() for ax in f.axes for t in ax.texts] for f in figures if f not in charts]
    maps = [t for t in texts if t]
    # the baseline's maps name the place once (nothing is closed today); each scenario's change maps say what it does
    assert len(maps) == 3
    assert set(maps[0]) == {"Street 0 bridge"}
    assert set(maps[1]) == {"Street 0 bridge: closed both ways"} and set(maps[2]) == {"Street 0 bridge: closed northbound"}
    # the change maps' colour bars say what each end means, as the dashboard's legends do
    ends = [(ax.get_xlabel(), ax.get_title()) for f in figures for ax in f.axes if ax.get_title() in ("more traffic", "louder", "more NO₂")]
    assert ends[:3] == [("less traffic", "more traffic"), ("quieter", "louder"), ("less NO₂", "more NO₂")]
    html = "".join(getattr(o, "data", "") or "" for o in shown)
    assert "ldtkit-headline" in html and "drag" not in html.lower()


# ----------------------------------------------------------------------------- threshold indicators
def _threshold_result(lden_shift: float, no2: list[float], dropped: list[float]) -> NS:
    bands = {"Lden 55-59": 100.0 + lden_shift, "Lden 60-64": 50.0, "Lden >=75": 1.0, "Lnight 50-54": 30.0, "Lnight >=70": 2.0}
    unassigned = pd.DataFrame({"origin": range(len(dropped)), "destination": 0, "class": "light", "trips": dropped})
    return NS(
        period_assignments={"day": NS(unassigned=unassigned)},
        assignment=None,
        noise=NS(exposure=lambda: bands),
        air=NS(population=np.array([10.0, 20.0, 30.0, 40.0]), no2_ugm3=np.array(no2)),
    )


def test_threshold_indicators_count_people_above_the_end_and_no2_values():
    from ldtkit.study.compare import threshold_indicators
    from ldtkit.study.indicators import indicator

    got = threshold_indicators(_threshold_result(0.0, [15.0, 20.0, 25.0, 45.0], [500.0, 222.6]))
    assert got["people Lden >=55"] == 151.0 and got["people Lnight >=50"] == 32.0
    assert got["people NO2 > 20 ug/m3"] == 70.0  # strictly above: 25 and 45 µg/m³
    assert got["trips_without_route_vph"] == pytest.approx(722.6)
    # every row is in the registry and fewer is better
    assert {indicator(k).better for k in got} == {"less"}
    # in plain words, with the level and its technical name in brackets; the directive's name only in the terms
    assert [indicator(k).label for k in ("people Lden >=55", "people Lnight >=50")] == [
        "People exposed to road noise ≥ 55 dB (24-hour level, Lden)",
        "People exposed to road noise ≥ 50 dB at night (Lnight)",
    ]
    assert not any("END" in indicator(k).label for k in got)


def test_study_table_adds_the_threshold_rows_after_the_pinned_ones(monkeypatch):
    from ldtkit.study import compare
    from ldtkit.study.indicators import TRIPS_WITHOUT_ROUTE_VPH, indicator

    results = {
        "baseline": _threshold_result(0.0, [15.0, 20.0, 25.0, 45.0], []),
        "closed": _threshold_result(-20.0, [15, 20, 21, 19], [50.0]),
    }
    pinned = pd.DataFrame({"baseline": [10.0], "closed": [12.0], "closed Δ": [2.0]}, index=["vehicle_hours"])
    monkeypatch.setattr(compare, "indicators_table", lambda results, watch=None: pinned)
    t = compare.study_table(results)
    assert list(t.index[:1]) == ["vehicle_hours"] and list(t.columns) == list(pinned.columns)
    assert t.at["people Lden >=55", "closed Δ"] == -20.0
    assert t.at["people NO2 > 20 ug/m3", "closed"] == 30.0 and t.at["trips_without_route_vph", "closed Δ"] == 50.0
    html = dashboard.headline_html(t, baseline="baseline", scenario="closed")
    assert indicator(TRIPS_WITHOUT_ROUTE_VPH).label in html and "151 → 131" in html


def test_side_by_side_maps_move_together_and_each_has_its_legend(indicators):
    import ipyleaflet

    views = _marked_views()
    dash = ScenarioDashboard(views, baseline="baseline", indicators=indicators, default="closed_both", center=(51.05, 3.72), basemap=None)
    assert dash.pair is None and dash.map_box.children == (dash.cmap.map,)  # the split map first, the pair built on demand
    dash.layer_switch.value = "diff"
    dash.map_view.value = "side"
    pair = dash.pair
    assert pair is not None and dash.map_box.children == (pair.widget,)
    assert isinstance(pair.left, ipyleaflet.Map) and isinstance(pair.right, ipyleaflet.Map) and pair.left is not pair.right
    # they open where the split map was, and moving either moves the other
    assert pair.left.center == dash.cmap.map.center and pair.right.zoom == dash.cmap.map.zoom
    pair.right.center = [51.07, 3.75]
    pair.right.zoom = 12
    assert (pair.left.center, pair.left.zoom) == ([51.07, 3.75], 12)
    pair.left.center = [51.04, 3.70]
    assert pair.right.center == [51.04, 3.70]
    # each map has its own legend, titled by what it shows, and the same data as the split halves
    assert "Baseline: Traffic flow" in pair.legends["left"].value
    assert "Closed Both: Change in flow" in pair.legends["right"].value
    # under each map's caption, as on the split map
    for side, corner in (("left", "topleft"), ("right", "topright")):
        legend = [c for c in pair.map(side).controls if getattr(c, "widget", None) is pair.legends[side]]
        assert [c.position for c in legend] == [corner]
    left_links, right_links = dash._pair_layers["left"][1], dash._pair_layers["right"][1]
    assert left_links.data == dash._links_data("baseline", "flow") and right_links.data == dash._links_data("closed_both", "diff")
    assert left_links in pair.left.layers and right_links in pair.right.layers
    # the measure's pin and label on both maps
    for m in (pair.left, pair.right):
        (pin,) = [layer for layer in m.layers if isinstance(layer, ipyleaflet.Marker)]
        assert "Street 0 bridge: closed both ways" in pin.icon.html
    # hovering a road on either map shows its flow before and after on both, and outlines it on both
    pair.right.zoom = pair.left.zoom = 17
    pair._on_mouse(pair.right, type="mousemove", coordinates=_mid_latlon(104_550.0))
    for side, box in pair.hover_boxes.items():
        assert "Street 0" in box.value and ">100<" in box.value and ">-100<" in box.value
        assert pair.hover_layers[side].data["features"][0]["properties"]["flow_base_vph"] == 100.0
    # switching scenario and layer updates both maps; switching back shows the split map again
    dash.dropdown.value = "closed_inbound"
    dash.layer_switch.value = "lden"
    assert "Closed Inbound: Noise Lden" in pair.legends["right"].value and "Baseline: Noise Lden" in pair.legends["left"].value
    assert dash._pair_layers["right"][0].visible and dash._pair_layers["right"][0].url.startswith("data:image/png")
    assert not [layer for layer in pair.right.layers if isinstance(layer, ipyleaflet.Marker)]
    dash.map_view.value = "split"
    assert dash.map_box.children == (dash.cmap.map,) and "Closed Inbound: Noise Lden" in dash.legend.widget.value


def test_show_editor_shows_the_editor_in_jupyterlab_only(monkeypatch):
    """The analyst notebook's editor cell: an editor in JupyterLab; nothing in reports or (unless allowed) in Voila."""
    import IPython.display

    from ldtkit.viz import editor as editor_module
    from ldtkit.viz import use_case

    shown, made = [], []

    class Recorder:
        def __init__(self, city, **kw):
            made.append(kw)
            self.widget = ("editor", city)

    monkeypatch.setattr(editor_module, "ScenarioEditor", Recorder)
    monkeypatch.setattr(IPython.display, "display", shown.append)
    case = use_case.UseCase(city="ghent", results={"baseline": "base"}, indicators=pd.DataFrame(), views={}, labels={}, default="a")
    monkeypatch.setattr(use_case, "in_voila", lambda: False)
    assert use_case.show_editor(case, interactive=False) is None and not shown  # a report: no editor
    editor = use_case.show_editor(case, models=["traffic"], cache_dir="c")
    assert isinstance(editor, Recorder) and shown == [("editor", "ghent")]
    assert made == [{"baseline": "base", "models": ("traffic",), "cache_dir": "c", "allow_in_voila": False}]
    monkeypatch.setattr(use_case, "in_voila", lambda: True)
    assert use_case.show_editor(case) is None and len(shown) == 1  # a published dashboard stays read-only
    assert use_case.show_editor(case, allow_in_voila=True) is not None and made[-1]["allow_in_voila"] is True
    with pytest.raises(InvalidValueError, match="no 'baseline' result"):
        use_case.show_editor(use_case.UseCase("ghent", {}, pd.DataFrame(), {}, {}, "a"), allow_in_voila=True)


def test_who_used_it_view_draws_the_select_link_flows_and_zones_and_nothing_without_measures(indicators):
    from shapely.geometry import Point

    views = _marked_views()
    dash = ScenarioDashboard(views, baseline="baseline", indicators=indicators, default="closed_both", center=(51.05, 3.72), basemap=None)
    assert "select" not in [key for _, key in dash.layer_switch.options]  # no select-link flows: no such view
    roads = (
        views["baseline"]
        .links.iloc[:4][["source_id", "geometry"]]
        .assign(select_link_vph=[100.0, 100.0, 60.0, 40.0], flow_vph=[100.0, 200.0, 300.0, 400.0])
    )
    zones = gpd.GeoDataFrame(
        {"zone": [1, 2], "origin_vph": [100.0, 0.0], "destination_vph": [60.0, 40.0]},
        geometry=[Point(104_500.0, 194_050.0), Point(104_900.0, 194_050.0)],
        crs="EPSG:31370",
    )
    views["closed_both"].select_link = dashboard.SelectLinkView((0, 1), gpd.GeoDataFrame(roads, crs="EPSG:31370"), zones, 100.0)
    dash = ScenarioDashboard(views, baseline="baseline", indicators=indicators, default="closed_both", center=(51.05, 3.72), basemap=None)
    dash.layer_switch.value = "select"
    drawn = sorted(f["properties"]["select_link_vph"] for f in dash._links_right.data["features"])
    assert drawn == [40.0, 60.0, 100.0, 100.0]  # every road the selection's traffic used, with its flow
    assert dash._links_left.data == dash._links_data("baseline", "flow")  # the baseline's flow on the left
    circles = [(f["properties"]["zone"], f["properties"]["kind"]) for f in dash._zones_right.data["features"]]
    assert circles == [(1, "origin"), (1, "destination"), (2, "destination")]  # no circle for a zone with no trips
    origin = dash._zones_right.data["features"][0]
    assert origin["properties"]["origin_vph"] == 100.0 and origin["properties"]["style"]["radius"] == pytest.approx(3.0 + 0.6 * 10.0)
    assert "Who used Street 0 bridge: closed both ways: 100 veh/h in the baseline, one direction" in dash.legend.widget.value
    # hovering (or clicking) a circle names the zone and its trips from and to it, on either map view
    zone1_to = dash._zones_right.data["features"][1]
    assert zone1_to["properties"]["name"] == "Zone 1" and zone1_to["properties"]["destination_vph"] == 60.0
    dash._zones_right._handle_custom_msg({"event": "mouseover", "feature": zone1_to}, [])  # as the page sends it
    box = dash.cmap.hover_box
    assert box is not None and "<b>Zone 1</b>" in box.value
    # the road under the circle does not take the box over while the mouse is on the circle
    dash.cmap.map.zoom = 17
    dash.cmap._on_mouse(type="mousemove", coordinates=_mid_latlon(104_550.0, 194_002.0))
    assert "<b>Zone 1</b>" in box.value
    assert "Trips from here (veh/h)</td><td style='text-align:right;padding-left:8px'>100<" in box.value
    assert "Trips to here (veh/h)</td><td style='text-align:right;padding-left:8px'>60<" in box.value
    dash._zones_right._handle_custom_msg({"event": "mouseout", "feature": zone1_to}, [])
    dash.cmap._on_mouse(type="mousemove", coordinates=_mid_latlon(104_550.0, 194_003.0))
    assert "<b>Street 0</b>" in box.value
    dash._zones_right._handle_custom_msg({"event": "mouseover", "feature": zone1_to}, [])
    dash.map_view.value = "side"
    assert dash.pair is not None and dash._pair_zones.data == dash._zones_right.data
    dash._pair_zones._handle_mouse_events(None, {"event": "click", "feature": dash._pair_zones.data["features"][2]}, [])
    for text in [dash.cmap.hover_box.value, *(b.value for b in dash.pair.hover_boxes.values())]:
        assert "<b>Zone 2</b>" in text and ">40<" in text and ">0<" in text
    dash.map_view.value = "split"
    # a scenario without measures has nobody to show; other layers hide the circles
    dash.dropdown.value = "closed_inbound"
    assert dash._links_right.data["features"] == [] and dash._zones_right.data["features"] == []
    dash.dropdown.value = "closed_both"
    dash.layer_switch.value = "flow"
    assert dash._zones_right.data["features"] == []


def test_side_by_side_maps_name_the_same_major_streets_as_the_split_map(indicators):
    import ipyleaflet

    from ldtkit.viz.maps.context import context_attribution, context_layers

    folder = Path(__file__).resolve().parents[1] / "data" / "ghent" / "context"
    layers, credit = context_layers(folder), context_attribution(folder)
    assert "© OpenStreetMap contributors (ODbL)" in credit  # the waterways' licence asks for it
    views = _marked_views()
    views["baseline"].links = views["baseline"].links.assign(name=["Ringlaan"] * 4 + ["Street 4", "Street 5"])
    dash = ScenarioDashboard(
        views,
        baseline="baseline",
        indicators=indicators,
        default="closed_both",
        center=(51.05, 3.72),
        basemap=None,
        context=layers,
        attribution=credit,
    )
    names = dash.street_labels["name"].tolist()
    assert names == ["Ringlaan"]  # the one street long enough to name (400 m)
    # the context comes once the page has drawn the data (the map then reports its bounds), not before
    context_layers_drawn = [layer for layer in dash.cmap.map.layers if layer.name.startswith("context: ")]
    assert not dash.context_shown and len(context_layers_drawn) == 3 and all(not g.data["features"] for g in context_layers_drawn)
    dash.cmap.map.set_trait("bounds", ((51.04, 3.70), (51.06, 3.74)))  # as the page sends it
    assert dash.context_shown and all(g.data["features"] for g in context_layers_drawn)

    def drawn(m):
        (group,) = [layer for layer in m.layers if isinstance(layer, ipyleaflet.LayerGroup) and layer.name == "street names"]
        context = [layer.name for layer in m.layers if layer.name.startswith("context: ")]
        (credit_line,) = [c.widget.value for c in m.controls if "ldtkit-attribution" in str(getattr(c, "widget", None) and c.widget.value)]
        return [marker.title for marker in group.layers], context, credit_line

    split = drawn(dash.cmap.map)
    assert split[0] == names and split[1] == ["context: parks", "context: waterways", "context: boundary"]
    assert "© OpenStreetMap contributors (ODbL)" in split[2]
    dash.map_view.value = "side"
    assert drawn(dash.pair.left) == split and drawn(dash.pair.right) == split


def test_static_report_maps_who_used_the_measure_roads(indicators, monkeypatch):
    import matplotlib.pyplot as plt
    from shapely.geometry import Point

    from ldtkit.viz.dashboard.static_report import static_report

    figures, shown = [], []
    monkeypatch.setattr(plt, "show", lambda: figures.append(plt.gcf()))
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    views = _marked_views()
    roads = views["baseline"].links.iloc[:3][["source_id", "geometry"]].assign(select_link_vph=[100.0, 60.0, 40.0], flow_vph=100.0)
    zones = gpd.GeoDataFrame(
        {"zone": [1, 2, 3], "origin_vph": [100.0, 0.0, 0.0], "destination_vph": [60.0, 40.0, 0.0]},
        geometry=[Point(104_500.0, 194_050.0), Point(104_900.0, 194_050.0), Point(120_000.0, 200_000.0)],
        crs="EPSG:31370",
    )
    views["closed_both"].select_link = dashboard.SelectLinkView(
        (0, 1), gpd.GeoDataFrame(roads, crs="EPSG:31370"), zones, 100.0, both_directions=True
    )
    views["closed_both"].marks = views["closed_both"].marks * 2  # the same measure twice is named once
    static_report(views, indicators, baseline="baseline")
    notes = [o.data for o in shown if "Who used" in str(getattr(o, "data", ""))]
    assert notes == [
        "### Who used Street 0 bridge: closed both ways\n\n100 vehicles per hour used these roads in Baseline "
        "(day period, both directions summed), coming from the filled circles and going to the rings."
    ]
    (ax,) = [a for f in figures for a in f.axes if a.get_legend() and "origins of" in a.get_legend().get_texts()[0].get_text()]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "origins of these trips (area: trips)",
        "destinations of these trips (area: trips)",
    ]
    origins, destinations = ax.collections[-2:]
    assert origins.get_sizes().tolist() == [420.0] and destinations.get_sizes().tolist() == [260.0, 180.0]  # area ∝ trips
    assert origins.get_offsets().tolist() == [[104_500.0, 194_050.0]]  # the zone with no trips has no circle
    assert {t.get_text() for t in ax.texts} == {"Street 0 bridge: closed both ways"}  # the measure marked
    assert ax.get_title() == "Baseline: trips using the measures' roads (veh/h)"
    x0, x1 = ax.get_xlim()
    assert x0 < 104_500.0 and 104_900.0 < x1 < 110_000.0  # framed on the roads and zones shown


def test_voila_settings_preheat_one_kernel_and_cull_idle_ones(tmp_path):
    """templates/voila.json as Voila reads it: one preheated kernel per notebook, idle kernels culled."""
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from traitlets import Unicode
    from traitlets.config import Configurable
    from traitlets.config.loader import JSONFileConfigLoader
    from voila.configuration import VoilaConfiguration
    from voila.voila_kernel_manager import voila_kernel_manager_factory

    class App(Configurable):  # what the kernel manager reads of Voila's app; an empty folder: no kernel starts
        root_dir = Unicode(str(tmp_path))
        notebook_path = None

    cfg = JSONFileConfigLoader("voila.json", path=str(dashboard.TEMPLATES_DIR)).load_config()
    voila_cfg = VoilaConfiguration(config=cfg)
    assert voila_cfg.preheat_kernel is True and voila_cfg.show_tracebacks is False and voila_cfg.strip_sources is True
    manager_class = voila_kernel_manager_factory(AsyncMappingKernelManager, preheat_kernel=True, default_pool_size=1)
    km = manager_class(config=cfg, parent=App())
    # one kernel in the pool: no second kernel computes the same results (the cache lock covers the rest)
    assert km.kernel_pools_config["default"]["pool_size"] == 1
    assert 0 < km.cull_idle_timeout <= 3600 and 0 < km.cull_interval <= km.cull_idle_timeout  # idle kernels end


def test_table_shows_watched_flows_and_trips_with_no_route_in_whole_vehicles_as_the_headline_does():
    from ldtkit.study.indicators import TRIPS_WITHOUT_ROUTE_VPH, watch_indicator

    bridge = watch_indicator("Bridge").name
    t = pd.DataFrame({"baseline": [487.8, 0.0], "closed": [0.0, 723.4]}, index=[bridge, TRIPS_WITHOUT_ROUTE_VPH])
    html = dashboard.indicator_table_html(t, baseline="baseline")
    cells = re.findall(r"<td style='text-align:right;padding:3px 8px[^']*'>([^<]*)</td>", html)
    assert cells == ["488", "0", "-488", "-100.0%", "0", "723", "+723", "from 0 to 723"]  # no per cent of 0
    head = dashboard.headline_html(t, baseline="baseline", scenario="closed")
    assert "488 → 0" in head and "0 → 723" in head


def test_watched_bridge_flow_sums_both_directions_like_who_used_it():
    """The headline's watched bridge counts both directions, as the map, its hover box and "who used it" do."""
    from ldtkit.model.network import RoadNetwork, conform_links, conform_nodes
    from ldtkit.viz.dashboard.views import watched_both_directions

    pts = {1: (0, 0), 2: (100, 0), 3: (200, 0)}
    rows = []
    for lid, (frm, to, bridge) in enumerate([(1, 2, False), (2, 1, False), (2, 3, True), (3, 2, True)], start=1):
        rows.append(
            dict(link_id=lid, from_node=frm, to_node=to, length_m=100.0, capacity_vph=1000.0, free_speed_kmh=50.0,
                 name="Main St", bridge=bridge, source_id=f"seg{(lid + 1) // 2}", geometry=LineString([pts[frm], pts[to]]))
        )  # fmt: skip
    links = conform_links(gpd.GeoDataFrame(rows, crs="EPSG:31370"), source="toy")
    nodes = conform_nodes(
        gpd.GeoDataFrame({"node_id": list(pts)}, geometry=gpd.points_from_xy([0, 100, 200], [0, 0, 0]), crs="EPSG:31370"), source="toy"
    )
    net = RoadNetwork(links, nodes, name="toy")

    def result(bridge_east, bridge_west):
        return NS(network=net, traffic={"day": NS(total_vph=np.array([10.0, 20.0, bridge_east, bridge_west]))})

    results = {"baseline": result(1524.4, 1466.4), "closed": result(0.0, 0.0), "north": result(1524.4, 0.0)}
    watch = {
        "Main bridge": {"street": "Main St", "bridge": True},
        "Main bridge east": {"street": "Main St", "bridge": True, "direction": "forward"},
    }
    # what the study's table holds: the busiest directed link (one direction)
    table = pd.DataFrame(
        {"baseline": [1524.4, 1524.4, 7.0], "closed": [0.0, 0.0, 8.0], "closed Δ": [-1524.4, -1524.4, 1.0], "north": [1524.4, 1524.4, 7.0]},
        index=["flow_vph: Main bridge", "flow_vph: Main bridge east", "vehicle_hours"],
    )
    table.attrs["notes"] = ["closed, day: gap 1e-3"]
    out = watched_both_directions(table, results, watch)
    row = "flow_vph: Main bridge, both directions"
    assert list(out.index) == [row, "flow_vph: Main bridge east", "vehicle_hours"]
    assert (
        out.at[row, "baseline"] == pytest.approx(2990.8) and out.at[row, "closed"] == 0.0 and out.at[row, "north"] == pytest.approx(1524.4)
    )
    assert out.at[row, "closed Δ"] == pytest.approx(-2990.8)
    assert out.at["flow_vph: Main bridge east", "baseline"] == 1524.4  # a watch with a direction keeps its one direction
    assert out.attrs["notes"] == ["closed, day: gap 1e-3"] and table.index[0] == "flow_vph: Main bridge"  # the input is kept
    html = dashboard.headline_html(out, baseline="baseline", scenario="closed")
    assert "Flow on Main bridge, both directions (veh/h)" in html and "2,991 → 0" in html
