"""The steps every use-case notebook shares: run the models, then show the dashboard or the report.

A use-case notebook (``notebooks/bridge_closure.ipynb``, ``notebooks/pedestrianisation.ipynb``)
holds a ``parameters`` cell, a call that turns them into scenarios for the city
(:mod:`ldtkit.study.use_cases`, e.g. ``setup = bridge_closure_scenarios(city, bridge)``), and two calls::

    case = run_use_case(city, setup.scenarios, labels=setup.labels, default=setup.default, title=setup.title,
                        models=models, demand_scale=demand_scale, cache_dir=cache_dir,
                        on_disconnected=on_disconnected, progress=interactive)
    show_use_case(case, interactive=interactive, zoom=zoom, basemap=basemap, show_3d=show_3d)

In Jupyter or Voila (``interactive = True``) :func:`show_use_case` displays the
:class:`~ldtkit.viz.dashboard.ScenarioDashboard`; in an HTML report (``interactive = False``,
set by ``ldtkit report``) it displays the static report instead.

Examples
--------
>>> from ldtkit import load_scenarios
>>> case = run_use_case("ghent", load_scenarios(["bridge.toml"]), title="Bridge closure")  # doctest: +SKIP
>>> show_use_case(case, interactive=False)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ldtkit.errors import InvalidValueError
from ldtkit.study.cache import CachedResults, ResultCache
from ldtkit.study.city import City, load_city
from ldtkit.study.compare import noise_note, study_table
from ldtkit.study.convergence import with_convergence_notes
from ldtkit.study.memory import give_memory_back
from ldtkit.study.result_store import META
from ldtkit.study.runner import DEFAULT_CACHE, ScenarioResult, run
from ldtkit.study.scenario import Scenario
from ldtkit.viz.dashboard import (
    ScenarioDashboard,
    ScenarioView,
    current_query_string,
    focus_center,
    in_voila,
    scenario_from_query,
    static_report,
    unassigned_summary,
    views_from_results,
)
from ldtkit.viz.dashboard.progress import DONE, progress_reporter
from ldtkit.viz.dashboard.views import watched_both_directions
from ldtkit.viz.maps import deck_flows
from ldtkit.viz.maps.osm_context import city_context

if TYPE_CHECKING:  # the editor loads when it is shown
    from ldtkit.viz.editor import ScenarioEditor

#: Name of the baseline in the results of :func:`ldtkit.study.runner.run`.
BASELINE = "baseline"


@dataclass
class UseCase:
    """A use case after its model runs: everything the dashboard and the report show.

    Attributes
    ----------
    city
        The city the models ran on.
    results
        ``{"baseline": ScenarioResult, name: ScenarioResult, ...}`` from :func:`ldtkit.study.runner.run`;
        with a results cache, a :class:`~ldtkit.study.cache.CachedResults` that reads a result from
        the cache when asked for (the dashboard needs only the indicators and the views: a kernel
        does not keep every result in memory).
    indicators
        The indicator table with the threshold rows (:func:`ldtkit.study.compare.study_table`).
    views
        What the maps show per scenario (:func:`ldtkit.viz.dashboard.views_from_results`).
    labels
        Scenario name -> title, for every scenario (not the baseline): the dashboard offers these.
    default
        The scenario shown first.
    title
        Heading of the dashboard.
    cache_dir
        The results cache the models ran with (the maps keep the context layers they extract there).
    noise_note
        How the noise was computed and where its people are counted (at their building's most exposed
        façade, or at grid receptors), shown beside the indicators; ``None`` without noise.
    """

    city: City
    results: Mapping[str, ScenarioResult]
    indicators: pd.DataFrame
    views: dict[str, ScenarioView]
    labels: dict[str, str]
    default: str
    title: str = ""
    cache_dir: str | Path | None = None
    noise_note: str | None = None

    @property
    def unassigned_note(self) -> str | None:
        """A sentence per scenario that left car trips without a route, or ``None``."""
        return unassigned_summary(self.results, labels=self.labels)


def run_use_case(
    city: City | str | Path,
    scenarios: Sequence[Scenario],
    *,
    labels: Mapping[str, str] | None = None,
    default: str | None = None,
    title: str = "",
    models: Sequence[str] = ("traffic", "noise", "air"),
    demand_scale: float = 1.0,
    cache_dir: str | Path | None = DEFAULT_CACHE,
    on_disconnected: str = "drop",
    progress: bool = False,
) -> UseCase:
    """Run the baseline and ``scenarios`` and prepare the indicator table and the maps.

    Parameters
    ----------
    city
        A :class:`~ldtkit.study.city.City`, a shipped city name or a city folder.
    scenarios
        The scenarios to compare with the baseline.
    labels
        Scenario name -> title (default: the names).
    default
        The scenario shown first (default: the first one).
    title
        Heading of the dashboard.
    models, demand_scale, on_disconnected
        Passed to :func:`ldtkit.study.runner.run`; by default trips left without a route are
        dropped and reported (a note above the dashboard or report, a row in the indicator table).
    cache_dir
        Where results are cached (``None`` disables the cache).
    progress
        Show a progress bar while the models run (never in Voila, where it would end up in the page;
        there the stage is written for the waiting page instead, :mod:`ldtkit.viz.dashboard.progress`).

    Raises
    ------
    InvalidValueError
        ``scenarios`` is empty, or ``default`` is not one of them.
    """
    if not scenarios:
        raise InvalidValueError("run_use_case: no scenarios to compare with the baseline")
    names = [s.name for s in scenarios]
    default = names[0] if default is None else default
    if default not in names:
        raise InvalidValueError(f"run_use_case: default scenario {default!r} is not one of {names}")
    labels = {n: dict(labels or {}).get(n, n) for n in names}
    report = progress_reporter(enabled=in_voila(), title=title)
    report("Reading the city", str(city.name if isinstance(city, City) else city))
    city_cfg = city if isinstance(city, City) else load_city(city)
    shown = ", ".join(labels[n] for n in names)
    report(
        f"Running the {', '.join(models)} models, or reading them from the results cache",
        f"baseline and {len(names)} scenario{'s' if len(names) != 1 else ''}: {shown}",
    )
    results = run(
        city_cfg,
        scenarios,
        models=tuple(models),
        demand_scale=demand_scale,
        cache_dir=cache_dir,
        on_disconnected=on_disconnected,
        progress=progress and not in_voila(),
    )
    report("Computing the indicators", f"baseline and {shown}")
    watch = city_cfg.config.compare.watch
    # watched roads both directions summed, as the map, its hover box and "who used it" count them
    indicators = watched_both_directions(with_convergence_notes(study_table(results, watch=watch), results), results, watch)
    report("Preparing the maps", f"baseline and {shown}")
    views = views_from_results(results, city=city_cfg, labels=labels, cache_dir=cache_dir)
    note = noise_note(results[BASELINE])
    report("Drawing the dashboard", labels[default])
    return UseCase(
        city=city_cfg,
        results=_read_when_asked(results, cache_dir),
        indicators=indicators,
        views=views,
        labels=labels,
        default=default,
        title=title,
        cache_dir=cache_dir,
        noise_note=note,
    )


def _read_when_asked(results: dict[str, ScenarioResult], cache_dir: str | Path | None) -> Mapping[str, ScenarioResult]:
    """``results`` as a :class:`~ldtkit.study.cache.CachedResults` when every one is in the cache
    (the memory they took is given back), else as they are."""
    if cache_dir is None:
        return results
    cache = ResultCache(cache_dir)
    keys = {name: getattr(res, "key", "") for name, res in results.items()}
    if not all(key and (cache.path(key) / META).is_file() for key in keys.values()):
        return results
    results.clear()
    give_memory_back()
    return CachedResults(cache, keys)


def build_dashboard(
    case: UseCase,
    *,
    zoom: float = 14,
    basemap: str | None = None,
    center: tuple[float, float] | None = None,
) -> ScenarioDashboard:
    """The dashboard of a use case, showing the scenario the page's URL asks for (whitelisted).

    The URL is read last, once the dashboard is built: a preheated Voila kernel runs the
    notebook before anyone asks for the page and waits in :func:`current_query_string`
    until a request comes, so the slow work is done by then.

    Parameters
    ----------
    case
        From :func:`run_use_case`.
    zoom, basemap
        As for :class:`~ldtkit.viz.maps.CompareMap`.
    center
        ``(lat, lon)`` of the initial view; default: the middle of the city's ``[focus] bbox``.
    """
    context, credit = city_context(case.city, cache_dir=case.cache_dir) if getattr(case.city, "root", None) else ({}, "")
    board = ScenarioDashboard(
        case.views,
        baseline=BASELINE,
        indicators=case.indicators,
        default=case.default,
        center=center or focus_center(case.city),
        zoom=zoom,
        basemap=basemap,
        title=case.title,
        prerender_grids=in_voila(),
        context=context,
        attribution=credit,
    )
    give_memory_back()
    progress_reporter(enabled=in_voila(), title=case.title)(DONE)
    board.select(*scenario_from_query(current_query_string(), allowed=list(case.labels), default=case.default))
    return board


def show_use_case(
    case: UseCase,
    *,
    interactive: bool = True,
    zoom: float = 14,
    basemap: str | None = None,
    show_3d: bool = False,
) -> None:
    """Display a use case: a note on unassigned trips, then the dashboard or the static report, and
    the line saying where the people of the noise indicators are counted (under the dashboard; in the
    report under its indicators' heading).

    Parameters
    ----------
    case
        From :func:`run_use_case`.
    interactive
        ``True``: the dashboard widget (Jupyter, Voila); ``False``: tables and static figures
        (HTML reports, which cannot run widgets offline).
    zoom, basemap
        Of the dashboard's map.
    show_3d
        Also show a pydeck 3D view of the default scenario's flows (interactive only; deck.gl
        comes from a CDN).
    """
    from IPython.display import Markdown, display

    if note := case.unassigned_note:
        display(Markdown(note))
    if interactive:
        display(build_dashboard(case, zoom=zoom, basemap=basemap).widget)
        if case.noise_note:  # under the dashboard's table, beside the people it counts: the page opens on the results
            display(Markdown(case.noise_note))
    else:
        static_report(case.views, case.indicators, baseline=BASELINE, title=case.title, noise_note=case.noise_note)
    if interactive and show_3d:
        display(deck_flows(case.views[case.default].links, "flow_vph", min_abs_value=50.0))
    if BASELINE in case.results:  # the baseline against the city's counts, when [demand] counts names them
        from ldtkit.viz.observations import show_count_validation

        show_count_validation(case.city, case.results[BASELINE])


def show_editor(
    case: UseCase,
    *,
    interactive: bool = True,
    models: Sequence[str] = ("traffic",),
    cache_dir: str | Path | None = DEFAULT_CACHE,
    allow_in_voila: bool = False,
) -> ScenarioEditor | None:
    """Display a scenario editor on the use case's baseline (what if: pick roads, an action, run).

    Nothing is shown in a report (``interactive=False``) nor in a Voila page unless
    ``allow_in_voila`` (published dashboards stay read-only); then ``None`` is returned.

    Parameters
    ----------
    case
        From :func:`run_use_case` (its baseline must be among the results).
    interactive
        ``False`` in reports.
    models, cache_dir
        As for :func:`ldtkit.study.runner.run`: the edited scenario runs these models, warm-started from the cache.
    allow_in_voila
        Show and run the editor in a Voila page too.

    Examples
    --------
    >>> editor = show_editor(case, models=("traffic",), cache_dir=".ldtkit-cache")  # doctest: +SKIP
    >>> editor.select("Rooigemlaan"); editor.set_action("set lanes", value=1); editor.run()  # doctest: +SKIP
    """
    from IPython.display import display

    from ldtkit.viz.editor import ScenarioEditor

    if not interactive or (in_voila() and not allow_in_voila):
        return None
    if BASELINE not in case.results:
        raise InvalidValueError(f"show_editor: the use case has no {BASELINE!r} result (it has {sorted(case.results)})")
    editor = ScenarioEditor(
        case.city, baseline=case.results[BASELINE], models=tuple(models), cache_dir=cache_dir, allow_in_voila=allow_in_voila
    )
    display(editor.widget)
    return editor


__all__ = ["BASELINE", "UseCase", "build_dashboard", "run_use_case", "show_editor", "show_use_case"]
