"""The hourly profile of motor traffic and the END periods' demand relative to the day's mean hour."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ldtkit._validate import finite_nonnegative
from ldtkit.errors import InvalidValueError

#: Default 24-hour profile of motor traffic (share of the daily total in each hour 00-01 ... 23-24).
#: An assumed weekday profile for urban roads with a morning (08h) and an evening (17h) peak. Its
#: day (07-19) / evening (19-23) / night (23-07) hourly shares are 6.6 % / 3.4 % / 0.9 % of the daily
#: total (79 % / 14 % / 7 % of the day's traffic), inside the range of the default hourly shares that Dutch road-noise computations use for
#: urban roads (Reken- en meetvoorschrift geluid 2012: roughly 6.5-7 % per day hour, 3-4 % per
#: evening hour, 0.8-1.1 % per night hour). Override with ``[demand] hourly_profile`` in city.toml.
DEFAULT_HOURLY_PROFILE: tuple[float, ...] = (
    0.006, 0.004, 0.003, 0.003, 0.004, 0.010,  # 00-06
    0.030, 0.066, 0.074, 0.062, 0.059, 0.061,  # 06-12
    0.063, 0.062, 0.063, 0.067, 0.074, 0.076,  # 12-18
    0.066, 0.047, 0.036, 0.030, 0.023, 0.011,  # 18-24
)  # fmt: skip

#: Hours of the END periods (start hour inclusive, hours in order).
PERIOD_HOURS: dict[str, tuple[int, ...]] = {
    "day": tuple(range(7, 19)),
    "evening": tuple(range(19, 23)),
    "night": (23, 0, 1, 2, 3, 4, 5, 6),
}


def period_factors_from_profile(profile: Sequence[float] = DEFAULT_HOURLY_PROFILE) -> dict[str, float]:
    """Mean hourly demand of the evening and night periods relative to the day's mean hour.

    Parameters
    ----------
    profile
        24 non-negative hourly shares (or counts) of daily traffic, hour 0 = 00:00-01:00.

    Returns
    -------
    dict
        ``{"day": 1.0, "evening": e, "night": n}``: the factors :class:`~ldtkit.model.demand.Demand`
        multiplies the day-hour matrices with.

    Examples
    --------
    >>> f = period_factors_from_profile([1.0] * 24)
    >>> f == {"day": 1.0, "evening": 1.0, "night": 1.0}
    True
    >>> {k: round(v, 3) for k, v in period_factors_from_profile().items()}
    {'day': 1.0, 'evening': 0.515, 'night': 0.134}
    """
    p = np.asarray(profile, dtype=np.float64)
    if p.shape != (24,):
        raise InvalidValueError(f"hourly profile: expected 24 hourly values, got {p.size}")
    finite_nonnegative(p, name="share (id = hour 0-23)", where="hourly profile", ids=np.arange(24))
    means = {k: float(p[list(h)].mean()) for k, h in PERIOD_HOURS.items()}
    if means["day"] <= 0:
        raise InvalidValueError("hourly profile: no traffic between 07 and 19 (day period)")
    return {k: means[k] / means["day"] for k in ("day", "evening", "night")}
