"""A demand calibrated to counts, for a TNTP network or a city, and the files it is saved to.

:func:`calibrate_tntp` and :func:`calibrate_city` match the counts to links, run
:func:`ldtkit.model.calibration.calibrate_demand` and return a :class:`CalibrationRun`;
:func:`write_calibration` saves it: ``trips.omx`` and ``trips.tntp`` (the calibrated matrix;
for a city, ``trips.omx`` is its mean day hour with the period factors, as ``[demand] od_matrix``
reads it, and ``trips.tntp`` the hourly matrix of the counted period),
``flows.csv`` (``init_node, term_node, flow, cost`` per link: PCU/h and generalized cost in
minutes, as ``ldtkit assign`` writes them),
``validation.csv`` (GEH per site before and after) and ``convergence.txt``. Every check runs
before the first file is written, and each file is written atomically.

Examples
--------
>>> run = calibrate_tntp("../shared/data/tntp/SiouxFalls", read_counts_csv("counts.csv"))  # doctest: +SKIP
>>> write_calibration(run, "out/siouxfalls")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ldtkit.errors import InvalidValueError
from ldtkit.io import atomic_path, write_text_atomic
from ldtkit.model.calibration import CalibrationResult, calibrate_demand
from ldtkit.model.demand import Demand
from ldtkit.study.observations.counts import Counts
from ldtkit.study.observations.matching import MatchReport, match_counts
from ldtkit.study.observations.validation import ValidationStatistics, validate_counts

if TYPE_CHECKING:  # pragma: no cover
    from ldtkit.model.network import RoadNetwork
    from ldtkit.study.city import City

OUTPUT_FILES = ("trips.omx", "trips.tntp", "flows.csv", "validation.csv", "convergence.txt")


@dataclass(frozen=True)
class CalibrationRun:
    """A calibration with its inputs: the network, the counts used, the site matches and the statistics."""

    network: RoadNetwork
    result: CalibrationResult
    counts: Counts
    matches: MatchReport
    before: ValidationStatistics
    after: ValidationStatistics
    saved_demand: Demand | None = None  #: what ``trips.omx`` holds when not the calibrated period's matrix (a city's mean day hour)


def _counted(network: RoadNetwork, counts: Counts, matches: MatchReport) -> tuple[np.ndarray, np.ndarray]:
    """Counted link rows and counts (one per link) from the matched sites."""
    t = counts.table.assign(h=counts.table["heading_deg"].fillna(-1.0))
    m = matches.table.assign(h=matches.table["heading_deg"].fillna(-1.0))
    j = t.drop(columns="link_id").merge(m[["site_id", "h", "status", "link_id"]], on=["site_id", "h"], how="left")
    j = j[j["status"] == "matched"]
    dup = j["link_id"].duplicated(keep=False).to_numpy()
    if dup.any():
        sites = j.loc[dup, "site_id"].tolist()
        raise InvalidValueError(
            f"{counts.source}: sites {sites[:6]} count the same link {int(j.loc[dup, 'link_id'].iloc[0])}; keep one count per link"
        )
    ids = network.links["link_id"].to_numpy(np.int64)
    row = pd.Series(np.arange(len(ids)), index=ids).reindex(j["link_id"].to_numpy()).to_numpy(np.int64)
    return row, j["count_vph"].to_numpy(np.float64)


def calibrate_network(network: RoadNetwork, prior: Demand, counts: Counts, **options: float) -> CalibrationRun:
    """Match ``counts`` (one period, one class: every vehicle) to ``network`` and calibrate ``prior`` to them.

    ``options`` go to :func:`~ldtkit.model.calibration.calibrate_demand` (``damping``,
    ``max_iter``, ``tol``, ``gap``, ...).
    """
    if not len(counts):
        raise InvalidValueError(f"{counts.source}: no counts to calibrate to")
    classes = set(counts.table["vehicle_class"])
    counts = counts.all_vehicles()
    if not len(counts):
        raise InvalidValueError(
            f"{counts.source}: calibration takes counts of every vehicle (vehicle_class 'all', or 'light' and 'heavy' "
            f"of the same site and hour), got only {sorted(classes)}"
        )
    matches = match_counts(network, counts)
    rows, c = _counted(network, counts, matches)
    if not len(rows):
        raise InvalidValueError(f"{counts.source}: no site matched a link ({matches.summary()})")
    result = calibrate_demand(network, prior, counted_rows=rows, count_vph=c, source=counts.source, **options)  # type: ignore[arg-type]
    ids = network.links["link_id"].to_numpy()
    before = validate_counts(counts.table, matches.table, ids, sum(result.prior_assignment.flow_vph.values()))
    after = validate_counts(counts.table, matches.table, ids, sum(result.assignment.flow_vph.values()))
    return CalibrationRun(network=network, result=result, counts=counts, matches=matches, before=before, after=after)


def calibrate_tntp(path: str | Path, counts: Counts, **options: float) -> CalibrationRun:
    """Calibrate a TNTP folder's trips to ``counts`` (sites by ``init_node``/``term_node`` or ``link_id``)."""
    from ldtkit.model.loaders.tntp import demand_from_tntp
    from ldtkit.model.network import network_from_tntp

    return calibrate_network(network_from_tntp(path), demand_from_tntp(path), counts, **options)


def calibrate_city(city: City, counts: Counts, *, period: str = "day", **options: float) -> CalibrationRun:
    """Calibrate ``city``'s demand of ``period`` to the counts of that period (every vehicle: ``all``
    rows, or ``light`` + ``heavy`` where a site counts both, see :meth:`Counts.all_vehicles`).

    Raises an error naming the sites when the city has no demand in the period of the counts.
    """
    from ldtkit.study.inputs import demand_for_city

    sel = counts.all_vehicles().for_period(period)
    if not len(sel):
        have = sorted(set(counts.table["period"]))
        raise InvalidValueError(f"{counts.source}: no counts of every vehicle in period {period!r} (the counts have periods {have})")
    # the synthesised demand is the prior, also when [demand] od_matrix names an earlier calibration
    network, demand = demand_for_city(city, progress=False, od_matrix=False)
    prior = demand.for_period(period)
    if not prior.total() > 0:
        sites = sel.table["site_id"].tolist()
        raise InvalidValueError(f"{counts.source}: sites {sites[:6]} count period {period!r}, in which {city.name} has no traffic demand")
    run = calibrate_network(network, prior, sel, **options)
    # the city's demand is a mean day hour with period factors: the cell factors apply to it alike
    factor = run.result.factor
    base = Demand(
        zone_ids=demand.zone_ids,
        trips={c: m * factor for c, m in demand.trips.items()},
        pcu=dict(demand.pcu),
        period_factors=dict(demand.period_factors),
        meta={"city": city.name, "calibrated": True, "period": period},
    )
    return dataclasses.replace(run, saved_demand=base)


def write_calibration(run: CalibrationRun, out_dir: str | Path) -> list[Path]:
    """Write the calibrated matrix, the link flows and the reports to ``out_dir`` (see the module)."""
    from ldtkit.model.demand import write_omx, write_tntp_trips

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = run.result
    links = run.network.links
    flow = res.assignment.flow_pcu
    cost = res.assignment.cost_min if res.assignment.cost_min is not None else res.assignment.time_min
    val = run.after.sites.merge(
        run.before.sites[["site_id", "modelled_vph", "geh"]].rename(columns={"modelled_vph": "prior_modelled_vph", "geh": "prior_geh"}),
        on="site_id",
        how="left",
        sort=False,
    )
    text = res.report() + "\n\nsites: " + run.matches.summary() + "\n" + run.after.summary().to_string(index=False) + "\n"
    write_omx(run.saved_demand if run.saved_demand is not None else res.demand, out / "trips.omx")
    write_tntp_trips(res.demand, out / "trips.tntp")
    with atomic_path(out / "flows.csv") as tmp:
        with open(tmp, "w") as fh:
            fh.write("init_node,term_node,flow,cost\n")
            cols = [links["from_node"].to_numpy(), links["to_node"].to_numpy(), flow, cost]
            np.savetxt(fh, np.column_stack(cols), fmt=["%d", "%d", "%.10g", "%.10g"], delimiter=",")
    with atomic_path(out / "validation.csv") as tmp:
        val.to_csv(tmp, index=False)
    write_text_atomic(out / "convergence.txt", text)
    return [out / f for f in OUTPUT_FILES]
