"""The indicator table of a study: differences against the baseline, as HTML and as a bar chart.

Labels and the direction of improvement come from the indicator registry
(:mod:`ldtkit.study.indicators`): a change is green when it is an improvement, red when it is
a deterioration, and uncoloured for indicators that are neither on their own (people moving
between two noise bands). Names the registry does not know are shown readably, uncoloured.

Examples
--------
>>> indicator_label("vehicle_hours"), indicator_label("no2_ugm3")
('Time spent driving (vehicle-hours per day)', 'No2 (µg/m³)')
>>> delta_colour("vehicle_hours", 12.0), delta_colour("people Lden 55-59", 12.0)
('#b2182b', None)
>>> delta_verdict("vehicle_hours", 12.0), delta_verdict("CO2 t/day", -3.0)
('worse', 'better')
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from ldtkit.errors import InvalidValueError, MissingFieldError
from ldtkit.model.limits import END_LDEN_THRESHOLD_DB, END_LNIGHT_THRESHOLD_DB, NO2_LIMITS_UGM3
from ldtkit.model.traffic import PERIODS
from ldtkit.study.indicators import HEADLINE, TRIPS_WITHOUT_ROUTE_VPH, WATCH_PREFIX, Better, indicator

if TYPE_CHECKING:  # matplotlib loads when the chart is drawn
    import matplotlib.figure

#: Colour of a change that is an improvement, and of one that is a deterioration.
IMPROVEMENT_COLOUR = "#1a7837"
DETERIORATION_COLOUR = "#b2182b"
#: Colour of a zero change.
NO_CHANGE_COLOUR = "#333"
#: Colour of a chart's bar for an indicator that is neither better nor worse on its own.
NEUTRAL_BAR_COLOUR = "#9e9e9e"
#: What a change means for the indicator, in the words the headline shows (:func:`delta_verdict`).
Verdict = Literal["better", "worse", "no change"]
_VERDICT_COLOURS: dict[str, str] = {"better": IMPROVEMENT_COLOUR, "worse": DETERIORATION_COLOUR, "no change": NO_CHANGE_COLOUR}
#: How to read the colours of the table and the headline, said under both.
COLOUR_KEY = "Green: better, red: worse; black or grey: neither better nor worse on its own."
#: Unit suffixes of indicator names the registry does not know, and how labels spell them.
_UNIT_SUFFIXES = (
    ("_ugm3", " (µg/m³)"),
    ("_db", " (dB)"),
    ("_vph", " (veh/h)"),
    ("_min", " (min)"),
    ("_km", " (km)"),
    ("_t_day", " (t/day)"),
)


#: Below this many people in the baseline, a change of people is given as "from … to …", not in per cent.
SMALL_BASE_PEOPLE = 1_000
#: Beyond this change (±, in per cent) of any indicator, the change is given as "from … to …", not in per cent.
LARGE_CHANGE_PCT = 100.0


def per_cent_misleads(name: str, base: float, value: float) -> bool:
    """Whether a change of indicator ``name`` from ``base`` to ``value`` misleads in per cent.

    A per cent of a small baseline reads as a large change when few people or vehicles are
    concerned: 60 people above the NO₂ limit becoming 191 is "+217 %". The headline, the table and
    the chart then give the change as "from 60 to 191" instead (:func:`change_in_per_cent`). The rule:

    - the indicator counts people and the baseline is below :data:`SMALL_BASE_PEOPLE` (1,000) people;
    - or the change is more than ±:data:`LARGE_CHANGE_PCT` (100 %) for any indicator: a value that
      more than doubles from its baseline (−100 %, e.g. a closed bridge's flow going to 0, stays
      in per cent);
    - or the baseline is 0 and the value is not: there is no per cent;

    and the change shows in the table (a change that rounds to nothing reads "0.0%").

    Examples
    --------
    >>> per_cent_misleads("people NO2 > 40 ug/m3", 60.0, 191.0)  # +217 % of 60 people
    True
    >>> per_cent_misleads("people NO2 > 40 ug/m3", 600.0, 630.0)  # +5 %, but of 600 people
    True
    >>> per_cent_misleads("people Lden >=55", 103_545.0, 100_718.0), per_cent_misleads("vehicle_hours", 76_162.0, 77_524.0)
    (False, False)
    >>> per_cent_misleads("trips_without_route_vph", 5.0, 131.0), per_cent_misleads("flow_vph: bridge", 2_986.0, 0.0)
    (True, False)
    >>> per_cent_misleads("trips_without_route_vph", 0.0, 131.0), per_cent_misleads("trips_without_route_vph", 0.0, 0.0)
    (True, False)
    >>> per_cent_misleads("people Lnight >=70", 684.0, 684.3)  # reads as no change: "0.0%"
    False
    """
    if not (np.isfinite(base) and np.isfinite(value)) or _shown(value - base, whole=_is_whole(name), like=base) == 0.0:
        return False  # no change as the table reads it ("0.0%", not "from 684 to 684")
    if base == 0:
        return True
    if _is_people(name) and abs(base) < SMALL_BASE_PEOPLE:
        return True
    return abs(value - base) / abs(base) * 100.0 > LARGE_CHANGE_PCT


def change_in_per_cent(name: str, base: float, value: float, pct: float) -> str:
    """The change in per cent as the table's *Change %* shows it, or "from … to …" where a per cent misleads.

    ``pct`` is the per cent change (of the values before rounding, :func:`indicator_differences`);
    :func:`per_cent_misleads` decides, and the values read as in the table's other columns.

    Examples
    --------
    >>> change_in_per_cent("vehicle_hours", 76_162.0, 77_524.0, 1.788), change_in_per_cent("people NO2 > 40 ug/m3", 60.4, 191.3, 216.7)
    ('+1.8%', 'from 60 to 191')
    """
    return change_from_to(name, base, value) if per_cent_misleads(name, base, value) else _pct(pct)


def change_from_to(name: str, base: float, value: float) -> str:
    """A change as "from … to …", the values read as in the table's other columns.

    Examples
    --------
    >>> change_from_to("people NO2 > 40 ug/m3", 60.4, 191.3)
    'from 60 to 191'
    """
    whole = _is_whole(name)
    return f"from {_num(base, whole=whole)} to {_num(value, whole=whole, like=base)}"


def _better(name: str) -> Better:
    try:
        return indicator(name).better
    except InvalidValueError:  # not in the registry: no claim either way
        return "neutral"


def indicator_label(name: str) -> str:
    """The registry's label of an indicator, or a readable form of a name it does not know.

    Examples
    --------
    >>> indicator_label("vehicle_km"), indicator_label("flow_vph: R40 bridge")
    ('Distance driven (vehicle-km per day)', 'Flow on R40 bridge (veh/h)')
    >>> indicator_label("mean_delay_min")
    'Mean delay (min)'
    """
    try:
        return indicator(str(name)).label
    except InvalidValueError:
        pass
    s = str(name)
    for unit, nice in _UNIT_SUFFIXES:
        if s.endswith(unit):
            s = s[: -len(unit)] + nice
            break
    s = s.replace("_", " ")
    return s[:1].upper() + s[1:]


def delta_verdict(name: str, delta: float) -> Verdict | None:
    """Whether a change of indicator ``name`` makes things better or worse, from the registry's ``better``.

    ``better="less"`` makes an increase ``"worse"``; ``"more"`` makes it ``"better"``; a zero change is
    ``"no change"``; ``"neutral"`` (and names the registry does not know) gives ``None``: no claim either way.

    Examples
    --------
    >>> delta_verdict("vehicle_hours", -5.0), delta_verdict("vehicle_hours", 0.0), delta_verdict("vehicle_km", 5.0)
    ('better', 'no change', None)
    """
    better = _better(name)
    if better == "neutral" or not np.isfinite(delta):
        return None
    if delta == 0:
        return "no change"
    worse = delta > 0 if better == "less" else delta < 0
    return "worse" if worse else "better"


def delta_colour(name: str, delta: float) -> str | None:
    """The colour of a change of indicator ``name`` (:func:`delta_verdict`): green better, red worse, ``None`` neutral.

    Examples
    --------
    >>> delta_colour("vehicle_hours", -5.0), delta_colour("vehicle_hours", 0.0)
    ('#1a7837', '#333')
    """
    verdict = delta_verdict(name, delta)
    return None if verdict is None else _VERDICT_COLOURS[verdict]


def indicator_differences(table: pd.DataFrame, *, baseline: str) -> pd.DataFrame:
    """Indicators (rows) × scenarios (columns) with Δ and Δ% columns against ``baseline``.

    Accepts either orientation: scenarios as columns, or scenarios as the index (it is
    transposed). Non-numeric rows are dropped.

    Examples
    --------
    >>> t = pd.DataFrame({"baseline": [100.0, 10.0], "closed": [110.0, 10.0]}, index=["vehicle_km", "vehicle_hours"])
    >>> indicator_differences(t, baseline="baseline").loc["vehicle_km"].tolist()
    [100.0, 110.0, 10.0, 10.0]
    """
    t = table
    if baseline not in t.columns and baseline in t.index:
        t = t.T
    # ldtkit.study.compare.indicators_table adds "<name> Δ" columns: recomputed here
    t = t[[c for c in t.columns if not str(c).endswith(" Δ")]]
    if baseline not in t.columns:
        raise MissingFieldError("indicator table", baseline, expected=f"the baseline as a column or row; have {list(t.columns)}")
    t = t.apply(pd.to_numeric, errors="coerce").dropna(how="all")
    base = t[baseline]
    out = {baseline: base}
    for col in t.columns:
        if col == baseline:
            continue
        out[col] = t[col]
        out[f"Δ {col}"] = t[col] - base
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"Δ% {col}"] = np.where(base.abs() > 0, (t[col] - base) / base.abs() * 100.0, np.nan)
    return pd.DataFrame(out, index=t.index)


def indicator_table_html(
    table: pd.DataFrame,
    *,
    baseline: str,
    scenarios: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    caption: str | None = None,
    notes: Sequence[str] | None = None,
) -> str:
    """An HTML table: one row per indicator, baseline value, then value, Δ and Δ% per scenario.

    Δ and Δ% are coloured by :func:`delta_colour`: green for an improvement, red for a
    deterioration, uncoloured for neutral indicators. Values and labels are HTML-escaped.
    ``notes`` (default: ``table.attrs["notes"]``, e.g. assignments that stopped before their gap
    target) are listed under the table.

    Examples
    --------
    >>> t = pd.DataFrame({"baseline": [100.0], "closed": [90.0]}, index=["vehicle_hours"])
    >>> "color:#1a7837'>-10.0" in indicator_table_html(t, baseline="baseline")
    True
    >>> "<li>closed, evening: gap 1e-3</li>" in indicator_table_html(t, baseline="baseline", notes=["closed, evening: gap 1e-3"])
    True
    """
    d = indicator_differences(table, baseline=baseline)
    cols = [c for c in d.columns if c != baseline and not str(c).startswith("Δ")]
    if scenarios is not None:
        cols = [c for c in cols if c in scenarios]
    labels = dict(labels or {})
    th = "style='text-align:right;padding:3px 8px;border-bottom:1px solid #999'"
    head = f"<th style='text-align:left;padding:3px 8px;border-bottom:1px solid #999'>Indicator</th><th {th}>{html.escape(labels.get(baseline, baseline))}</th>"
    for c in cols:
        name = html.escape(labels.get(c, c))
        head += f"<th {th}>{name}</th><th {th}>Change</th><th {th}>Change %</th>"
    rows = []
    for ind in d.index:
        whole = _is_whole(str(ind))
        base = float(d.at[ind, baseline])
        base_cell = _num(base, whole=whole)
        cells = f"<td style='text-align:left;padding:3px 8px'>{html.escape(indicator_label(str(ind)))}</td><td style='text-align:right;padding:3px 8px'>{base_cell}</td>"
        for c in cols:
            value = float(d.at[ind, c])
            delta = _shown(_whole(value, whole) - _whole(base, whole), whole=whole, like=base)
            pct = float(d.at[ind, f"Δ% {c}"])
            colour = delta_colour(str(ind), delta)
            style = "text-align:right;padding:3px 8px" + (f";color:{colour}" if colour else "")
            cells += (
                f"<td style='text-align:right;padding:3px 8px'>{_num(value, whole=whole, like=base)}</td>"
                f"<td style='{style}'>{_num(delta, signed=True, whole=whole, like=base)}</td>"
                f"<td style='{style}'>{html.escape(change_in_per_cent(str(ind), base, value, pct))}</td>"
            )
        rows.append(f"<tr>{cells}</tr>")
    cap = f"<caption style='text-align:left;font-weight:600;padding:4px 0'>{html.escape(caption)}</caption>" if caption else ""
    notes = list(table.attrs.get("notes", ()) if notes is None else notes)
    key = f"<p class='ldtkit-colour-key' style='font:12px sans-serif;color:#555;margin:4px 0'>{html.escape(COLOUR_KEY)}</p>"
    foot = key + (
        "<ul class='ldtkit-indicator-notes' style='font:12px sans-serif;color:#8a4b00'>"
        + "".join(f"<li>{html.escape(str(n))}</li>" for n in notes)
        + "</ul>"
        if notes
        else ""
    )
    return (
        "<table class='ldtkit-indicators' style='border-collapse:collapse;font:13px sans-serif'>"
        f"{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{foot}"
    )


def _is_people(name: str) -> bool:
    try:
        return indicator(name).unit == "people"
    except InvalidValueError:
        return False


def _is_whole(name: str) -> bool:
    """Shown in whole numbers: people, a watched link's flow and trips with no route (vehicles per hour)."""
    return _is_people(name) or name.startswith(WATCH_PREFIX) or name == TRIPS_WITHOUT_ROUTE_VPH


def _whole(x: float, whole: bool) -> float:
    return float(np.round(x)) if whole and np.isfinite(x) else x


def _num(x: float | None, *, signed: bool = False, whole: bool = False, like: float | None = None) -> str:
    """A table number: whole for people, fewer decimals for larger values, never ``-0``.

    ``like`` (the row's baseline value) sets the decimals when it is larger: a row's values and
    change have the same decimals (``883.0 → 885.9, +2.9``, not ``+2.86``).

    Examples
    --------
    >>> _num(1234.56, whole=True), _num(-0.004, signed=True), _num(-0.4, signed=True, whole=True), _num(5.25)
    ('1,235', '0.00', '0', '5.25')
    >>> _num(2.857, signed=True, like=883.0), _num(830.0, signed=True, like=76_162.0), _num(0.64, signed=True, like=2.46)
    ('+2.9', '+830', '+0.64')
    """
    if x is None or not np.isfinite(x):
        return "–"
    a = abs(x) if like is None or not np.isfinite(like) else max(abs(x), abs(like))
    decimals = 0 if whole or a >= 1000 else (2 if a < 10 else 1)
    text = f"{x:+,.{decimals}f}" if signed else f"{x:,.{decimals}f}"
    if float(text.replace(",", "")) == 0.0:  # "-0.0" and "+0": a change that rounds to nothing
        return f"{0.0:.{decimals}f}"
    return text


def _shown(x: float, *, whole: bool = False, like: float | None = None) -> float:
    """``x``, or 0 when it reads as zero in the table (:func:`_num`): a change too small to show is no change.

    Examples
    --------
    >>> _shown(0.004), _shown(-0.4, whole=True), _shown(2.57), _shown(0.01, like=27.5)
    (0.0, 0.0, 2.57, 0.0)
    """
    return 0.0 if np.isfinite(x) and float(_num(x, whole=whole, like=like).replace(",", "")) == 0.0 else x


def _pct(x: float | None) -> str:
    """A percentage change with one decimal, ``0.0%`` (not ``-0.0%``) when it rounds to nothing.

    Examples
    --------
    >>> _pct(-0.04), _pct(2.345), _pct(float("nan"))
    ('0.0%', '+2.3%', '–')
    """
    if x is None or not np.isfinite(x):
        return "–"
    return "0.0%" if round(x, 1) == 0 else f"{x:+.1f}%"


def headline_html(
    table: pd.DataFrame,
    *,
    baseline: str,
    scenario: str,
    labels: Mapping[str, str] | None = None,
) -> str:
    """A short block of the indicators that matter first: vehicle-hours, people above thresholds,
    CO₂, trips with no route and the watched links' flows, baseline → ``scenario`` with the change,
    in units and in per cent, and whether it is better or worse in words (:func:`delta_verdict`).

    Rows the table does not hold (a model that was not run) are left out; changes are coloured
    like the indicator table.

    Examples
    --------
    >>> t = pd.DataFrame({"baseline": [100.0, 1408.1], "closed": [110.0, 0.0]}, index=["vehicle_hours", "flow_vph: bridge"])
    >>> h = headline_html(t, baseline="baseline", scenario="closed")
    >>> indicator_label("vehicle_hours") in h and "1,408 → 0" in h and "+10.0 (+10.0%)" in h and ">worse</b>" in h
    True
    """
    d = indicator_differences(table, baseline=baseline)
    if scenario not in d.columns:
        raise MissingFieldError("indicator table", scenario, expected=f"a scenario column; have {list(d.columns)}")
    names = [n for n in HEADLINE if n in d.index] + [str(n) for n in d.index if str(n).startswith(WATCH_PREFIX)]
    items = []
    for name in names:
        whole = _is_whole(name)
        b, v = _whole(float(d.at[name, baseline]), whole), _whole(float(d.at[name, scenario]), whole)
        delta = _shown(v - b, whole=whole, like=b) if np.isfinite(v) and np.isfinite(b) else float("nan")
        pct = float(d.at[name, f"Δ% {scenario}"])  # as the table has it: of the values before rounding
        verdict = delta_verdict(name, delta)
        colour = _VERDICT_COLOURS[verdict] if verdict else NO_CHANGE_COLOUR
        # a per cent that misleads (a small baseline, per_cent_misleads) is left out: "60 → 191" says it
        in_pct = np.isfinite(pct) and not per_cent_misleads(name, b, v)
        change = "no change" if delta == 0 else _num(delta, signed=True, whole=whole, like=b) + (f" ({_pct(pct)})" if in_pct else "")
        word = f" <b class='ldtkit-verdict'>{verdict}</b>" if verdict in ("better", "worse") else ""
        items.append(
            "<div class='ldtkit-headline-item' style='padding:4px 10px;border-left:3px solid #ccc'>"
            f"<div style='font-size:11px;color:#555'>{html.escape(indicator_label(name))}</div>"
            f"<div style='font-size:15px'>{_num(b, whole=whole)} → {_num(v, whole=whole, like=b)} "
            f"<span style='color:{colour}'>{change}{word}</span></div></div>"
        )
    title = html.escape((labels or {}).get(scenario, scenario))
    return (
        "<div class='ldtkit-headline' style='font:13px sans-serif;margin:4px 0 8px'>"
        f"<div style='font-weight:600;margin-bottom:4px'>{title}: what changes</div>"
        f"<div style='display:flex;flex-wrap:wrap;gap:6px'>{''.join(items)}</div></div>"
    )


def terms() -> dict[str, str]:
    """The terms of the indicators and maps in plain words, for readers who are not specialists.

    The thresholds and limit values come from :mod:`ldtkit.model.limits`, the night's hours from
    :data:`ldtkit.model.traffic.PERIODS`.

    Examples
    --------
    >>> terms()["END threshold"]
    'the level from which the EU Environmental Noise Directive (END) counts people as exposed to noise: Lden 55 dB, Lnight 50 dB'
    >>> terms()["Per cent"][:60]
    'a change is given as "from … to …" instead of in per cent wh'
    """
    eu_now, eu_2030, who = NO2_LIMITS_UGM3["EU 2008"], NO2_LIMITS_UGM3["EU 2030"], NO2_LIMITS_UGM3["WHO 2021"]
    return {
        "dB": "decibels, how loud a sound is: 10 dB more sounds about twice as loud",
        "Lden": (
            "the 24-hour noise level: the average noise level over the 24 hours of a day, in which evening and night noise count more (dB)"
        ),
        "Lnight": f"the night noise level: the average noise level over the {PERIODS['night']} hours of the night (dB)",
        "END threshold": (
            "the level from which the EU Environmental Noise Directive (END) counts people as exposed to noise: "
            f"Lden {END_LDEN_THRESHOLD_DB} dB, Lnight {END_LNIGHT_THRESHOLD_DB} dB"
        ),
        "NO₂": (
            f"nitrogen dioxide, from traffic and the background, as a yearly average (µg/m³); the EU limit is {eu_now:g} µg/m³, "
            f"{eu_2030:g} µg/m³ from 2030, and the WHO advises {who:g} µg/m³"
        ),
        "veh/h": "vehicles per hour, in an average hour of the day period",
        "Vehicle-hours": "the time all vehicles spend on the roads in a day, added up; the delay is the part of it lost in congestion",
        "Per cent": (
            'a change is given as "from … to …" instead of in per cent where a per cent would exaggerate it: '
            f"fewer than {SMALL_BASE_PEOPLE:,} people to begin with, or a change of more than ±{LARGE_CHANGE_PCT:g} %"
        ),
    }


def terms_html(*, open_: bool = False) -> str:
    """:func:`terms` as a folded list headed "What the terms mean" (``open_``: unfolded, e.g. in a report).

    Examples
    --------
    >>> "<summary" in terms_html() and "<b>Lden</b>" in terms_html()
    True
    """
    items = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in terms().items())
    return (
        f"<details class='ldtkit-terms' style='font:12px sans-serif;color:#333;margin:2px 0 6px'{' open' if open_ else ''}>"
        "<summary style='cursor:pointer;color:#555'>What the terms mean</summary>"
        f"<ul style='margin:4px 0;padding-left:18px'>{items}</ul></details>"
    )


def plot_indicator_changes(
    table: pd.DataFrame,
    *,
    baseline: str,
    scenarios: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> matplotlib.figure.Figure:
    """The % change of each indicator against the baseline: one panel per scenario, a bar per indicator.

    Bars are coloured as the table colours the change (:func:`delta_colour`: green better, red
    worse, grey neither better nor worse on its own) and carry their value; indicators are
    labelled from the registry, panels by the scenarios' ``labels``. A change that misleads in per
    cent (:func:`per_cent_misleads`) has no bar but its values, "from 60 to 191", and does not set
    the scale.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> t = pd.DataFrame({"baseline": [100.0, 50.0], "closed": [110.0, 40.0]}, index=["vehicle_hours", "CO2 t/day"])
    >>> fig = plot_indicator_changes(t, baseline="baseline", labels={"closed": "Bridge closed"})
    >>> ax = fig.axes[0]
    >>> ax.get_title(), [t.get_text() for t in ax.texts]
    ('Bridge closed', ['+10.0%', '-20.0%'])
    >>> [matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches] == [DETERIORATION_COLOUR, IMPROVEMENT_COLOUR]
    True
    """
    import textwrap

    import matplotlib.pyplot as plt

    d = indicator_differences(table, baseline=baseline)
    cols = [c[3:] for c in d.columns if c.startswith("Δ% ")]
    if scenarios is not None:
        cols = [c for c in cols if c in scenarios]
    names = {**{c: c for c in cols}, baseline: baseline, **dict(labels or {})}
    fig, axes = plt.subplots(
        1, max(len(cols), 1), sharey=True, figsize=(4.5 + 3.2 * max(len(cols), 1), 0.3 * len(d) + 1.4), layout="constrained", squeeze=False
    )
    y = np.arange(len(d))
    # a change that misleads in per cent (per_cent_misleads) has no bar, but its values: "from 60 to 191"
    misleads = {
        c: np.array([per_cent_misleads(str(i), float(b), float(v)) for i, b, v in zip(d.index, d[baseline], d[c])], dtype=bool)
        for c in cols
    }
    bars = {c: np.where(misleads[c], np.nan, d[f"Δ% {c}"].to_numpy(float)) for c in cols}
    # one x scale for every panel, so that bars compare across scenarios
    reach = float(np.nanmax(np.abs(np.concatenate([bars[c] for c in cols])), initial=1.0)) if cols else 1.0
    reach = reach if reach > 0 else 1.0
    for ax, c in zip(axes[0], cols):
        pct = bars[c]
        shown = [_shown(float(x), whole=_is_whole(str(i)), like=float(b)) for i, x, b in zip(d.index, d[f"Δ {c}"], d[baseline])]
        colours = [delta_colour(str(i), x) or NEUTRAL_BAR_COLOUR for i, x in zip(d.index, shown)]
        ax.barh(y, np.nan_to_num(pct), height=0.7, color=colours)
        for yi, p, i, b, v, m in zip(y, pct, d.index, d[baseline], d[c], misleads[c]):
            if m:
                text = change_from_to(str(i), float(b), float(v))
                ax.text(0.02 * reach, yi, text, va="center", ha="left", fontsize=7, color=delta_colour(str(i), float(v) - float(b)))
            elif np.isfinite(p):
                ax.text(
                    p + (0.02 * reach if p >= 0 else -0.02 * reach), yi, _pct(p), va="center", ha="left" if p >= 0 else "right", fontsize=7
                )
        ax.set_xlim(-1.35 * reach, 1.35 * reach)
        ax.axvline(0, color="#333", lw=0.8)
        ax.set_title("\n".join(textwrap.wrap(names[c], 34)), fontsize=9)
        ax.set_xlabel(f"change against {names[baseline]} (%)", fontsize=8)
        ax.tick_params(labelsize=8)
    axes[0][0].set_yticks(y, [indicator_label(str(i)) for i in d.index])
    axes[0][0].invert_yaxis()
    return fig


__all__ = [
    "COLOUR_KEY",
    "DETERIORATION_COLOUR",
    "IMPROVEMENT_COLOUR",
    "LARGE_CHANGE_PCT",
    "NO_CHANGE_COLOUR",
    "SMALL_BASE_PEOPLE",
    "change_from_to",
    "change_in_per_cent",
    "delta_colour",
    "delta_verdict",
    "headline_html",
    "indicator_differences",
    "indicator_label",
    "indicator_table_html",
    "per_cent_misleads",
    "plot_indicator_changes",
    "terms",
    "terms_html",
]
