"""The page's URL: which scenario a link preselects, from a fixed whitelist only.

A dashboard link may name a scenario (``…/?scenario=closed_both``). The value is only ever
*compared* against the scenarios the dashboard offers (:func:`scenario_from_query`); anything
else falls back to the default and yields a notice for the reader. Nothing from the URL is
evaluated, imported or used as a path.

Examples
--------
>>> scenario_from_query("scenario=closed_both", allowed=["baseline", "closed_both"], default="baseline")
('closed_both', None)
>>> name, notice = scenario_from_query("scenario=__import__('os')", allowed=["baseline"], default="baseline")
>>> name, notice is not None
('baseline', True)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from urllib.parse import parse_qs

from ldtkit.errors import InvalidValueError

#: The query parameter that preselects a scenario.
QUERY_KEY = "scenario"
#: Longest query value echoed back in a notice (the rest is cut).
_MAX_ECHO = 40


def scenario_from_query(
    query_string: str | None,
    *,
    allowed: Iterable[str],
    default: str,
    key: str = QUERY_KEY,
) -> tuple[str, str | None]:
    """Pick the scenario named in a URL query string, from a fixed whitelist only.

    Parameters
    ----------
    query_string
        The raw query string (``"scenario=closed_both"``), e.g. from :func:`current_query_string`.
    allowed
        The scenario names the dashboard offers.
    default
        Shown when the query names no scenario or one outside ``allowed``.
    key
        The query parameter.

    Returns
    -------
    (name, notice)
        ``name`` is always one of ``allowed``; ``notice`` is a plain-text message for the
        user when the query was not honoured (unknown value, repeated key, unknown
        parameters), else ``None``. The value is compared as a string and never evaluated.

    Examples
    --------
    >>> scenario_from_query("", allowed=["a", "b"], default="a")
    ('a', None)
    >>> scenario_from_query("scenario=b&scenario=a", allowed=["a", "b"], default="a")[1]
    "The link asked for more than one scenario; showing the default 'a'."
    """
    allowed = [str(a) for a in allowed]
    if default not in allowed:
        raise InvalidValueError(f"scenario_from_query: default {default!r} is not among the allowed scenarios {allowed}")
    try:
        params = parse_qs(query_string or "", keep_blank_values=True, strict_parsing=False, max_num_fields=20)
    except ValueError:  # too many fields
        return default, f"The link's parameters could not be read; showing the default {default!r}."
    notices: list[str] = []
    unknown = sorted(k for k in params if k != key)
    if unknown:
        notices.append("Ignored link parameter(s): " + ", ".join(repr(_clip(k)) for k in unknown[:5]) + ".")
    values = params.get(key, [])
    name = default
    if len(values) > 1:
        notices.insert(0, f"The link asked for more than one scenario; showing the default {default!r}.")
    elif len(values) == 1:
        v = values[0]
        if v in allowed:
            name = v
        else:
            notices.insert(
                0,
                f"Unknown scenario {_clip(v)!r} in the link; showing the default {default!r}. Available: {', '.join(allowed)}.",
            )
    return name, (" ".join(notices) if notices else None)


def _clip(s: str) -> str:
    s = "".join(ch if ch.isprintable() else "?" for ch in str(s))
    return s if len(s) <= _MAX_ECHO else s[:_MAX_ECHO] + "…"


def current_query_string() -> str:
    """The page's URL query string inside a Voila kernel (``""`` elsewhere).

    Voila passes it in the ``QUERY_STRING`` environment variable; with preheated kernels the
    request arrives later, so this waits for it first (``voila.utils.wait_for_request``).
    """
    if os.environ.get("VOILA_PREHEAT", "False") == "True":  # pragma: no cover - needs a preheated Voila
        from voila.utils import wait_for_request

        wait_for_request()
    return os.environ.get("QUERY_STRING", "")


def in_voila() -> bool:
    """Whether the code runs in a Voila kernel (preheated or not).

    Voila sets ``VOILA_PREHEAT`` / ``VOILA_APP_PORT`` when it starts a pooled kernel, and
    ``VOILA_KERNEL_ID`` / ``SERVER_SOFTWARE`` with the request.
    """
    env = os.environ
    return bool(
        env.get("VOILA_KERNEL_ID")
        or env.get("VOILA_PREHEAT")
        or env.get("VOILA_APP_PORT")
        or "voila" in env.get("SERVER_SOFTWARE", "").lower()
    )


__all__ = ["QUERY_KEY", "current_query_string", "in_voila", "scenario_from_query"]
