"""Read-only dashboards for Voila and their report version: scenario picker, split maps, indicator table.

======================================================  =============================================
:mod:`~ldtkit.viz.dashboard.widget`                     :class:`ScenarioDashboard`, the one widget a
                                                        use-case notebook displays
:mod:`~ldtkit.viz.dashboard.views`                      :class:`ScenarioView` per scenario from the
                                                        model results; flow and grid differences
:mod:`~ldtkit.viz.dashboard.indicator_table`            the indicator table (HTML) and chart,
                                                        labelled and coloured from the registry
:mod:`~ldtkit.viz.dashboard.static_report`              :func:`static_report`: tables and static
                                                        maps for HTML reports
:mod:`~ldtkit.viz.dashboard.query`                      :func:`scenario_from_query`: the page URL's
                                                        scenario, from a whitelist only
:mod:`~ldtkit.viz.dashboard.voila`                      :func:`voila_command`: serve a notebook with
                                                        the locked-down Voila settings
======================================================  =============================================

Every public name is importable from here (``from ldtkit.viz import dashboard;
dashboard.ScenarioDashboard``). Use-case notebooks call these through
:mod:`ldtkit.viz.use_case`.

Examples are in :mod:`ldtkit.viz.dashboard.query`, whose doctests run with the tests.
"""

from __future__ import annotations

from ldtkit.viz.dashboard.indicator_table import (
    COLOUR_KEY,
    delta_colour,
    delta_verdict,
    headline_html,
    indicator_differences,
    indicator_label,
    indicator_table_html,
    per_cent_misleads,
    plot_indicator_changes,
)
from ldtkit.viz.dashboard.query import QUERY_KEY, current_query_string, in_voila, scenario_from_query
from ldtkit.viz.dashboard.static_report import static_report
from ldtkit.viz.dashboard.views import (
    ScenarioView,
    SelectLinkView,
    flow_difference,
    focus_center,
    grid_difference,
    select_link_view,
    unassigned_summary,
    view_from_result,
    views_from_results,
)
from ldtkit.viz.dashboard.voila import TEMPLATES_DIR, voila_command
from ldtkit.viz.dashboard.widget import LAYERS, ScenarioDashboard, notice_html

__all__ = [
    "COLOUR_KEY",
    "LAYERS",
    "QUERY_KEY",
    "TEMPLATES_DIR",
    "ScenarioDashboard",
    "ScenarioView",
    "SelectLinkView",
    "current_query_string",
    "delta_colour",
    "delta_verdict",
    "flow_difference",
    "focus_center",
    "grid_difference",
    "headline_html",
    "in_voila",
    "indicator_differences",
    "indicator_label",
    "indicator_table_html",
    "notice_html",
    "per_cent_misleads",
    "plot_indicator_changes",
    "scenario_from_query",
    "select_link_view",
    "static_report",
    "unassigned_summary",
    "view_from_result",
    "views_from_results",
    "voila_command",
]
