"""Select-link analysis: where the traffic on chosen links comes from and goes to.

The path-based assignment keeps, for every OD pair and vehicle class, the paths it uses and
the flow on each. The traffic "using the selected links" is the flow of every path that crosses
at least one of them; its OD matrix says where it comes from and goes to, and its link flows
show the whole routes (the select-link flow map). Flows are conserved: on each selected link,
the select-link flow is that link's flow.

Examples
--------
>>> import ldtkit
>>> res = ldtkit.run("ghent", [], models=("traffic",))  # doctest: +SKIP
>>> sl = ldtkit.select_link(res["baseline"], "Rooigemlaan")  # doctest: +SKIP
>>> sl.origins_vph.nlargest(5)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ldtkit.errors import LdtkitError, SelectorError
from ldtkit.model.assignment import PathSet
from ldtkit.study.cache import ResultCache, content_hash
from ldtkit.study.scenario import select_links

if TYPE_CHECKING:  # pragma: no cover
    from ldtkit.study.runner import ScenarioResult

#: What a selection may be: a street name, link ids, or a scenario selector table.
Selection = str | int | Sequence[int] | Mapping[str, Any]


@dataclass(frozen=True)
class SelectLinkResult:
    """The traffic that uses the selected links (day period, vehicles per hour).

    Attributes
    ----------
    link_id
        Ids of the selected links.
    od
        One row per OD pair and class using the selection: ``origin``, ``destination`` (zone
        node ids), ``class`` and ``trips_vph``.
    link_ids
        Every link of the network, in the network's order.
    flow_vph
        Select-link flow on every link (all classes), aligned with ``link_ids``.
    flow_vph_by_class
        The same per vehicle class.
    total_flow_vph
        The links' total day flow (all traffic), aligned with ``link_ids``.
    """

    link_id: npt.NDArray[np.int64]
    od: pd.DataFrame
    link_ids: npt.NDArray[np.int64]
    flow_vph: npt.NDArray[np.float64]
    flow_vph_by_class: dict[str, npt.NDArray[np.float64]]
    total_flow_vph: npt.NDArray[np.float64]

    @property
    def trips_vph(self) -> float:
        """All trips using the selection, vehicles per hour."""
        return float(self.od["trips_vph"].sum())

    @property
    def origins_vph(self) -> pd.Series:
        """Trips using the selection by origin zone node id, vehicles per hour."""
        return self.od.groupby("origin")["trips_vph"].sum().rename("trips_vph")

    @property
    def destinations_vph(self) -> pd.Series:
        """Trips using the selection by destination zone node id, vehicles per hour."""
        return self.od.groupby("destination")["trips_vph"].sum().rename("trips_vph")

    def to_dataframe(self) -> pd.DataFrame:
        """One row per link: ``link_id``, ``select_link_vph``, ``flow_vph`` and ``selected``."""
        return pd.DataFrame(
            {
                "link_id": self.link_ids,
                "select_link_vph": self.flow_vph,
                "flow_vph": self.total_flow_vph,
                "selected": np.isin(self.link_ids, self.link_id),
            }
        )


def parse_selection(text: str) -> Selection:
    """A command-line selection: comma-separated link ids, or a street name.

    Examples
    --------
    >>> parse_selection("12, 13")
    [12, 13]
    >>> parse_selection("Rooigemlaan")
    'Rooigemlaan'
    """
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if parts and all(p.lstrip("-").isdigit() for p in parts):
        return [int(p) for p in parts]
    return text.strip()


def selected_rows(result: ScenarioResult, links: Selection) -> npt.NDArray[np.int64]:
    """Row indices in ``result.network`` of the links a selection names (connectors never match).

    ``links`` is a street name, a link id or list of ids, or a scenario selector such as
    ``{"street": "Rooigemlaan", "bridge": True}``.
    """
    if isinstance(links, str):
        if not links.strip():
            raise SelectorError("select-link: empty selection; give a street name or link ids")
        select: dict[str, Any] = {"street": links.strip()}
    elif isinstance(links, Mapping):
        select = dict(links)
    elif isinstance(links, (int, np.integer)):
        select = {"ids": [int(links)]}
    else:
        ids = [int(i) for i in links]
        if not ids:
            raise SelectorError("select-link: empty selection; give a street name or link ids")
        select = {"ids": ids}
    direction = select.pop("direction", "both")
    return np.asarray(select_links(result.network, select, direction=direction, context="select-link"), dtype=np.int64)


def baseline_paths(result: ScenarioResult, *, cache_dir: str | Path | None = None) -> PathSet:
    """The day-period path sets of ``result``: kept on the result, else read from the result cache.

    Raises
    ------
    LdtkitError
        When the paths are neither on the result nor in ``cache_dir`` (a run without a cache
        keeps no path sets).
    """
    paths = result.assignment.path_state
    if paths is not None:
        return paths
    if cache_dir is not None and result.key:
        warm = ResultCache(cache_dir).get(content_hash("warm", result.key))
        if isinstance(warm, Mapping) and "day" in warm and warm["day"].path_state is not None:
            found: PathSet = warm["day"].path_state
            return found
    raise LdtkitError(
        f"select-link: the path sets of {result.scenario.name!r} are not available; "
        f"run with a result cache (cache_dir, now {str(cache_dir) if cache_dir is not None else 'None'}) "
        "so the baseline's paths are kept"
    )


def select_link(
    result: ScenarioResult,
    links: Selection,
    *,
    paths: PathSet | None = None,
    cache_dir: str | Path | None = None,
) -> SelectLinkResult:
    """The OD matrix and link flows of the traffic using any of the selected links.

    Parameters
    ----------
    result
        A path-based result, normally the baseline of :func:`~ldtkit.study.runner.run`.
    links
        A street name, a link id or list of ids, or a scenario selector table
        (``{"street": "Rooigemlaan", "bridge": True, "direction": "northbound"}``).
        Several links: the traffic that uses any of them.
    paths
        The day-period path sets; default: those kept on ``result`` or, failing that, in the
        result cache ``cache_dir`` (default: the runner's cache folder).
    cache_dir
        Where :func:`~ldtkit.study.runner.run` cached the results.

    Returns
    -------
    SelectLinkResult
        Day-period vehicles per hour, on the same basis as the result's day flows.

    Examples
    --------
    >>> import ldtkit
    >>> res = ldtkit.run("ghent", [], models=("traffic",))  # doctest: +SKIP
    >>> sl = ldtkit.select_link(res["baseline"], {"street": "Rooigemlaan", "bridge": True})  # doctest: +SKIP
    >>> round(sl.trips_vph)  # doctest: +SKIP
    """
    if cache_dir is None:
        from ldtkit.study.runner import DEFAULT_CACHE

        cache_dir = DEFAULT_CACHE
    rows = selected_rows(result, links)
    ps = paths if paths is not None else baseline_paths(result, cache_dir=cache_dir)
    link_ids = result.network.links["link_id"].to_numpy(np.int64)
    if ps.link_id is not None:
        pos = pd.Index(link_ids).get_indexer(np.asarray(ps.link_id, dtype=np.int64))
        if (pos < 0).any():
            missing = np.unique(np.asarray(ps.link_id)[pos < 0])[:10].tolist()
            raise LdtkitError(f"select-link: the path sets use links {missing} that are not in {result.scenario.name!r}'s network")
    else:
        pos = np.asarray(ps.link_row, dtype=np.int64)
    ptr = np.asarray(ps.ptr, dtype=np.int64)
    lens = ptr[1:] - ptr[:-1]
    path_of = np.repeat(np.arange(len(lens)), lens)
    on_sel = np.isin(pos, rows)
    flow = np.asarray(ps.flow, dtype=np.float64)
    # a path kept in its set without flow carries no traffic over the selection
    uses = (np.bincount(path_of[on_sel], minlength=len(lens)) > 0) & (flow > 0)
    classes = np.asarray(ps.cls, dtype=object)
    keep = uses[path_of]
    m = len(link_ids)
    by_class: dict[str, npt.NDArray[np.float64]] = {}
    entry_cls = classes[path_of[keep]] if keep.any() else np.zeros(0, dtype=object)
    entry_w = flow[path_of[keep]]
    entry_pos = pos[keep]
    for c in sorted({str(c) for c in classes}):  # loop over vehicle classes only
        sel = entry_cls == c
        by_class[c] = np.bincount(entry_pos[sel], weights=entry_w[sel], minlength=m).astype(np.float64)
    total = np.zeros(m) if not by_class else np.sum(list(by_class.values()), axis=0)
    od = (
        pd.DataFrame(
            {
                "origin": np.asarray(ps.orig, dtype=np.int64)[uses],
                "destination": np.asarray(ps.dest, dtype=np.int64)[uses],
                "class": classes[uses].astype(str),
                "trips_vph": flow[uses],
            }
        )
        .groupby(["origin", "destination", "class"])["trips_vph"]
        .sum()
        .reset_index()
    )
    day = result.traffic["day"]
    return SelectLinkResult(
        link_id=link_ids[rows],
        od=od,
        link_ids=link_ids,
        flow_vph=np.asarray(total, dtype=np.float64),
        flow_vph_by_class=by_class,
        total_flow_vph=np.asarray(day.total_vph, dtype=np.float64),
    )


def select_link_column(result: ScenarioResult, links: Selection, *, cache_dir: str | Path | None = None) -> pd.Series:
    """``select_link_vph`` per ``link_id`` (connectors included) for the links table of ``ldtkit run``."""
    sl = select_link(result, links, cache_dir=cache_dir)
    return pd.Series(sl.flow_vph, index=pd.Index(sl.link_ids, name="link_id"), name="select_link_vph")
