"""Post NGSI-LD entities to a context broker: batch upsert with retries, per-entity errors.

:func:`upsert` sends ``POST {broker}/ngsi-ld/v1/entityOperations/upsert`` with a JSON array of
entities (``Content-Type: application/ld+json``, each entity carrying its ``@context``), in
batches. A broker answers ``201``/``204`` when every entity was created or updated, ``207``
with a ``BatchOperationResult`` (``success``: ids, ``errors``: ``{"entityId", "error"}``) when
some were rejected, ``400`` on a malformed request. Connection failures and ``429``/``5xx``
answers are retried with exponential back-off. Rejected entities are collected; when any
remain, :class:`BrokerRejectedError` names every one with the broker's reason.

Only the standard library is used (``urllib``). No broker runs in ldtkit's test suite: the
tests start a small HTTP server on 127.0.0.1 that applies the NGSI-LD API's rules.

Examples
--------
>>> upsert([], "http://127.0.0.1:1026").posted
0
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ldtkit.errors import InvalidValueError, LdtkitError

__all__ = ["UPSERT_PATH", "BrokerError", "BrokerRejectedError", "UpsertReport", "upsert"]

UPSERT_PATH = "/ngsi-ld/v1/entityOperations/upsert"
_RETRY_STATUS = (429, 500, 502, 503, 504)


class BrokerError(LdtkitError):
    """The broker could not be reached, or refused a whole batch."""


class BrokerRejectedError(BrokerError):
    """Some entities were rejected; ``rejected`` maps each entity id to the broker's reason."""

    def __init__(self, url: str, rejected: Mapping[str, str], *, posted: int) -> None:
        self.rejected = dict(rejected)
        lines = "\n".join(f"  {eid}: {why}" for eid, why in list(self.rejected.items())[:50])
        more = f"\n  ... and {len(self.rejected) - 50} more" if len(self.rejected) > 50 else ""
        super().__init__(f"{url}: the broker rejected {len(self.rejected)} of {posted} entities:\n{lines}{more}")


@dataclass(frozen=True)
class UpsertReport:
    """What :func:`upsert` did: entities posted, accepted, rejected (id -> reason), requests and retries."""

    posted: int
    accepted: int
    rejected: Mapping[str, str] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0


def _reason(error: Any) -> str:
    if isinstance(error, Mapping):
        parts = [str(error[k]) for k in ("type", "title", "detail") if error.get(k)]
        return " - ".join(parts) or json.dumps(error)
    return str(error)


def _post(url: str, body: bytes, headers: Mapping[str, str], *, timeout_s: float) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def upsert(
    entities: Iterable[Mapping[str, Any]],
    broker_url: str,
    *,
    batch_size: int = 100,
    retries: int = 3,
    backoff_s: float = 0.5,
    timeout_s: float = 30.0,
    tenant: str | None = None,
    raise_on_rejected: bool = True,
) -> UpsertReport:
    """Upsert ``entities`` (normalized, each with its ``@context``) into the broker at ``broker_url``.

    Parameters
    ----------
    entities
        NGSI-LD entities, e.g. from :func:`ldtkit.study.standards.smart_data_models.read_entities`.
    broker_url
        The broker's base URL (``http://host:1026``); the upsert path is appended.
    batch_size
        Entities per request.
    retries, backoff_s
        Retries per batch on a connection failure or a 429/5xx answer, waiting
        ``backoff_s * 2**attempt`` seconds.
    timeout_s
        Socket timeout per request.
    tenant
        Sent as ``NGSILD-Tenant`` (e.g. one tenant per scenario: entity ids do not depend on it).
    raise_on_rejected
        Raise :class:`BrokerRejectedError` listing every rejected entity (default), or return them in the report.

    Examples
    --------
    >>> upsert([{"id": "urn:x"}], "http://127.0.0.1:1", batch_size=0)
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: upsert: batch_size must be >= 1, got 0
    """
    if batch_size < 1:
        raise InvalidValueError(f"upsert: batch_size must be >= 1, got {batch_size}")
    if retries < 0 or backoff_s < 0:
        raise InvalidValueError(f"upsert: retries and backoff_s must be >= 0, got {retries}, {backoff_s}")
    url = broker_url.rstrip("/") + UPSERT_PATH
    headers = {"Content-Type": "application/ld+json", "Accept": "application/json"}
    if tenant:
        headers["NGSILD-Tenant"] = tenant
    posted = accepted = requests = n_retries = 0
    rejected: dict[str, str] = {}
    batch: list[Mapping[str, Any]] = []

    def send(chunk: Sequence[Mapping[str, Any]]) -> None:
        nonlocal accepted, requests, n_retries
        ids = [str(e.get("id")) for e in chunk]
        body = json.dumps(list(chunk), ensure_ascii=False).encode("utf-8")
        for attempt in range(retries + 1):
            requests += 1
            try:
                status, payload = _post(url, body, headers, timeout_s=timeout_s)
            except OSError as exc:  # refused, reset, timed out
                if attempt == retries:
                    raise BrokerError(f"{url}: cannot reach the broker after {retries + 1} attempts ({exc})") from exc
            else:
                if status not in _RETRY_STATUS:
                    break
                if attempt == retries:
                    raise BrokerError(f"{url}: the broker answered {status} after {retries + 1} attempts: {payload[:300]!r}")
            n_retries += 1
            time.sleep(backoff_s * 2**attempt)
        if status in (200, 201, 204):
            accepted += len(chunk)
            return
        try:
            result = json.loads(payload) if payload else {}
        except json.JSONDecodeError:
            result = {}
        if status == 207 and isinstance(result, Mapping):
            errors = {str(e.get("entityId")): _reason(e.get("error")) for e in result.get("errors", []) if isinstance(e, Mapping)}
            rejected.update(errors)
            accepted += len([i for i in ids if i not in errors])
            return
        reason = _reason(result) if result else payload[:300].decode("utf-8", "replace")
        rejected.update(dict.fromkeys(ids, f"batch refused ({status}): {reason}"))

    for entity in entities:
        batch.append(entity)
        posted += 1
        if len(batch) == batch_size:
            send(batch)
            batch = []
    if batch:
        send(batch)
    if rejected and raise_on_rejected:
        raise BrokerRejectedError(url, rejected, posted=posted)
    return UpsertReport(posted=posted, accepted=accepted, rejected=rejected, requests=requests, retries=n_retries)
