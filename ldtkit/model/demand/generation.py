"""Trip generation and distribution for a city: OD matrices by a calibrated doubly-constrained gravity model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from ldtkit._validate import finite_nonnegative
from ldtkit.errors import ConfigError, EmptyStudyAreaError, InvalidValueError
from ldtkit.model.demand.gravity import calibrate_gravity, gravity_balanced, mean_cost
from ldtkit.model.demand.gravity import gravity as gravity_strict
from ldtkit.model.demand.matrices import Demand
from ldtkit.model.demand.periods import DEFAULT_HOURLY_PROFILE, period_factors_from_profile
from ldtkit.model.demand.skims import skim_free_flow
from ldtkit.model.road_network import RoadNetwork

#: Default trip-end weights for a mean day hour: a zone *produces* trips by its residents and
#: (less) by its jobs/visits, and *attracts* them the other way round (home-based trips leave home
#: in the morning and return in the evening; over the 07-19 day the two directions nearly balance,
#: so both ends use both proxies). Override with ``[demand.trip_ends]``.
DEFAULT_TRIP_ENDS: dict[str, dict[str, float]] = {
    "production": {"population": 1.0, "jobs": 0.6},
    "attraction": {"population": 0.6, "jobs": 1.0},
}


def generate_demand(
    network: RoadNetwork,
    zones: pd.DataFrame,
    *,
    total_vph: float,
    heavy_share: float,
    mean_trip_km: float | None = None,
    mean_trip_min: float | None = None,
    external_share: float = 0.0,
    through_share: float = 0.0,
    heavy_external_factor: float = 1.0,
    trip_ends: Mapping[str, Mapping[str, float]] | None = None,
    hourly_profile: Sequence[float] = DEFAULT_HOURLY_PROFILE,
    pcu: Mapping[str, float] | None = None,
    relax: bool = False,
) -> Demand:
    """OD matrices (vehicles/h, mean day hour) by a doubly-constrained gravity model.

    The total ``total_vph`` splits into four blocks: internal-internal ``1 - external_share -
    through_share``, internal-external and external-internal ``external_share / 2`` each, and
    external-external (through traffic) ``through_share``. Internal zones produce and attract
    trips by their population and jobs (``trip_ends``, :data:`DEFAULT_TRIP_ENDS`), external zones
    by their ``weight`` (capacity of the crossing road). Each block is balanced by Furness with
    deterrence ``exp(-beta * t)`` on free-flow time ``t``; ``beta`` is calibrated on the internal
    block so that its mean trip length (network km, or minutes) hits the target. Heavy vehicles
    are ``heavy_share`` of all trips, ``heavy_external_factor`` times more frequent on trips with
    an external end than on internal trips.

    Parameters
    ----------
    network
        A network with zone centroids (:func:`ldtkit.model.zones.connect_zones`).
    zones
        Zones table with ``node_id``, ``kind``, ``population``, ``jobs`` and (external) ``weight``
        (``network.meta["zones"]`` after :func:`~ldtkit.model.zones.connect_zones`).
    total_vph
        All trips of the mean day hour (vehicles/h).
    heavy_share
        Share of heavy vehicles in all trips, in ``[0, 1)``.
    mean_trip_km, mean_trip_min
        Target mean length (network km) or free-flow time of internal trips; give exactly one.
    external_share, through_share
        Shares of trips with one external end, and with two (through traffic).
    heavy_external_factor
        How many times more frequent heavy vehicles are on trips with an external end.
    trip_ends
        Overrides of :data:`DEFAULT_TRIP_ENDS`, e.g. ``{"production": {"jobs": 0.4}}``.
    hourly_profile
        24 hourly shares of daily traffic (:data:`~ldtkit.model.demand.DEFAULT_HOURLY_PROFILE`),
        giving the period factors.
    pcu
        PCU factor per class (default light 1, heavy 2).
    relax
        Balance what can be balanced instead of raising: zone pairs without a car path get no
        trips, rows and columns whose totals cannot be met (zones reachable one way only,
        isolated clusters, one zone with most of the trips) are relaxed
        (:func:`~ldtkit.model.demand.gravity.balance`), and a mean trip length out of reach is
        replaced by the closest one possible. What was relaxed is in ``meta["relaxed"]``.

    Returns
    -------
    Demand
        ``meta`` reports ``total_vph``, ``heavy_share``, ``mean_trip_km`` / ``mean_trip_min``
        (internal trips and all trips), ``beta_per_min`` and the block totals.

    Examples
    --------
    >>> net = connect_zones(net, zones)  # doctest: +SKIP
    >>> d = generate_demand(net, net.meta["zones"], total_vph=20000, heavy_share=0.08, mean_trip_km=6)  # doctest: +SKIP
    """
    if (mean_trip_km is None) == (mean_trip_min is None):
        raise ConfigError("generate_demand: give exactly one of mean_trip_km and mean_trip_min")
    figures = {"total_vph": total_vph, "heavy_share": heavy_share, "external_share": external_share, "through_share": through_share}
    finite_nonnegative(list(figures.values()), name=" / ".join(figures), where="generate_demand", ids=list(figures))
    if heavy_share >= 1 or external_share + through_share >= 1:
        raise InvalidValueError(
            f"generate_demand: heavy_share ({heavy_share}) must be < 1 and external_share + through_share "
            f"({external_share} + {through_share}) < 1"
        )
    z = zones.reset_index(drop=True)
    for col in ("node_id", "kind"):
        if col not in z.columns:
            raise ConfigError(f"generate_demand: zones table lacks {col!r} (connect the zones to the network first)")
    internal = (z["kind"] == "internal").to_numpy()
    external = ~internal
    if not internal.any():
        raise EmptyStudyAreaError("generate_demand: no internal zone")
    if external_share + through_share > 0 and not external.any():
        raise ConfigError("generate_demand: external/through shares are set but there are no external zones")
    te = {k: {**DEFAULT_TRIP_ENDS[k], **dict((trip_ends or {}).get(k, {}))} for k in DEFAULT_TRIP_ENDS}
    pop = z["population"].to_numpy(np.float64)
    job = z["jobs"].to_numpy(np.float64)
    prod_w = te["production"]["population"] * pop + te["production"]["jobs"] * job
    attr_w = te["attraction"]["population"] * pop + te["attraction"]["jobs"] * job
    ext_w = z["weight"].fillna(0.0).to_numpy(np.float64) if "weight" in z.columns else np.zeros(len(z))
    zone_ids = z["node_id"].to_numpy(np.int64)
    sk = skim_free_flow(network, zone_ids=zone_ids)
    no_path = ~np.isfinite(sk.time_min)
    np.fill_diagonal(no_path, False)
    if no_path.any() and not relax:
        i, j = np.argwhere(no_path)[0]
        raise InvalidValueError(
            f"generate_demand: {int(no_path.sum())} zone pairs have no car path, e.g. zone {z['zone'].iloc[i]!r} "
            f"(node {zone_ids[i]}) -> zone {z['zone'].iloc[j]!r} (node {zone_ids[j]})"
        )

    T = float(total_vph)
    t_ii = T * (1.0 - external_share - through_share)
    t_ie = t_ei = T * external_share / 2.0
    t_ee = T * through_share
    I = np.flatnonzero(internal)
    E = np.flatnonzero(external)

    def shares(w: npt.NDArray[np.float64], what: str, idx: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
        s = w[idx].sum()
        if s <= 0:
            raise EmptyStudyAreaError(f"generate_demand: {what} weights of the zones sum to 0")
        share: npt.NDArray[np.float64] = w[idx] / s
        return share

    tm = sk.time_min
    # exactly one of the targets is given (checked above)
    target_cost, target = (sk.length_km, float(mean_trip_km)) if mean_trip_km is not None else (tm, float(mean_trip_min or 0.0))
    m_ii, beta = calibrate_gravity(
        tm[np.ix_(I, I)], t_ii * shares(prod_w, "production", I), t_ii * shares(attr_w, "attraction", I),
        target_mean=target, cost_for_target=target_cost[np.ix_(I, I)], relax=relax,
    )  # fmt: skip
    relaxed: dict[str, set[str]] = {"origins": set(), "destinations": set()}
    names = z["zone"].astype(str).to_numpy() if "zone" in z.columns else zone_ids.astype(str)

    def gravity(
        t: npt.NDArray[np.float64], p: npt.NDArray[np.float64], a: npt.NDArray[np.float64], *, beta: float,
        exclude_diagonal: bool = True, rows: npt.NDArray[np.intp], cols: npt.NDArray[np.intp],
    ) -> npt.NDArray[np.float64]:  # fmt: skip
        if not relax:
            return gravity_strict(t, p, a, beta=beta, exclude_diagonal=exclude_diagonal)
        b = gravity_balanced(t, p, a, beta=beta, exclude_diagonal=exclude_diagonal)
        relaxed["origins"].update(names[rows[b.relaxed_rows]].tolist())
        relaxed["destinations"].update(names[cols[b.relaxed_cols]].tolist())
        return b.matrix

    if relax:
        gravity(tm[np.ix_(I, I)], t_ii * shares(prod_w, "production", I), t_ii * shares(attr_w, "attraction", I), beta=beta, rows=I, cols=I)
    total = np.zeros((len(z), len(z)))
    total[np.ix_(I, I)] = m_ii
    if len(E):
        we = shares(ext_w if ext_w[E].sum() > 0 else np.ones(len(z)), "external", E)
        if t_ie > 0:
            total[np.ix_(I, E)] = gravity(
                tm[np.ix_(I, E)], t_ie * shares(prod_w, "production", I), t_ie * we, beta=beta, exclude_diagonal=False, rows=I, cols=E
            )
            total[np.ix_(E, I)] = gravity(
                tm[np.ix_(E, I)], t_ei * we, t_ei * shares(attr_w, "attraction", I), beta=beta, exclude_diagonal=False, rows=E, cols=I
            )
        if t_ee > 0:
            if len(E) < 2:
                raise ConfigError("generate_demand: through traffic needs at least two external zones")
            # through traffic: long trips by nature, so no distance deterrence among gateways
            total[np.ix_(E, E)] = gravity(tm[np.ix_(E, E)], t_ee * we, t_ee * we, beta=0.0, rows=E, cols=E)
    # heavy vehicles: share h_i on internal trips, k * h_i on trips with an external end
    k = float(heavy_external_factor)
    ext_part = T - t_ii
    h_i = heavy_share * T / (t_ii + k * ext_part) if T > 0 else 0.0
    if k * h_i >= 1:
        raise InvalidValueError(f"generate_demand: heavy_external_factor {k} gives a heavy share >= 1 on external trips")
    hmask = np.full(total.shape, k * h_i)
    hmask[np.ix_(I, I)] = h_i
    heavy = total * hmask
    light = total - heavy
    pf = period_factors_from_profile(hourly_profile)

    meta = {
        "total_vph": float(total.sum()),
        "heavy_share": float(heavy.sum() / total.sum()) if total.sum() > 0 else 0.0,
        "mean_trip_km_internal": mean_cost(m_ii, sk.length_km[np.ix_(I, I)]),
        "mean_trip_min_internal": mean_cost(m_ii, tm[np.ix_(I, I)]),
        "mean_trip_km_all": mean_cost(total, sk.length_km),
        "mean_trip_min_all": mean_cost(total, tm),
        "beta_per_min": beta,
        "blocks_vph": {"internal": float(total[np.ix_(I, I)].sum()), "in_out": float(total[np.ix_(I, E)].sum() + total[np.ix_(E, I)].sum()) if len(E) else 0.0, "through": float(total[np.ix_(E, E)].sum()) if len(E) else 0.0},
        "targets": {"total_vph": T, "heavy_share": heavy_share, ("mean_trip_km" if mean_trip_km is not None else "mean_trip_min"): target},
        "zones": z,
        "skim": sk,
        "units": "vehicles/h, mean day hour 07-19",
        "relaxed": {
            "origins": sorted(relaxed["origins"]), "destinations": sorted(relaxed["destinations"]),
            "zone_pairs_without_path": int(no_path.sum()),
        },
    }  # fmt: skip
    return Demand(
        zone_ids=zone_ids,
        trips={"light": light, "heavy": heavy},
        pcu=dict(pcu) if pcu is not None else {"light": 1.0, "heavy": 2.0},
        period_factors=pf,
        meta=meta,
    )
