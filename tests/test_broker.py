"""The NGSI-LD upsert client against a local HTTP server that applies the NGSI-LD API's rules.

No context broker runs here: the server below answers ``POST /ngsi-ld/v1/entityOperations/upsert``
as ETSI GS CIM 009 describes it (JSON-LD content type, a non-empty JSON array of entities with a URI
``id``, a ``type`` and an ``@context`` each, no id twice in a batch; 201 when all are stored, 207 with
a BatchOperationResult when some are rejected, 400 for a malformed request) and can fail on purpose.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ldtkit.errors import InvalidValueError
from ldtkit.study.standards.broker import UPSERT_PATH, BrokerError, BrokerRejectedError, upsert
from ldtkit.study.standards.smart_data_models import CORE_CONTEXT, ENVIRONMENT_CONTEXT

URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")


class Broker(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.store: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.reject: set[str] = set()  # ids the broker refuses (e.g. a type it does not accept)
        self.fail_next = 0  # answer 503 this many times
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Broker

    def log_message(self, *args) -> None:  # quiet
        pass

    def _answer(self, status: int, body: object | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _bad(self, detail: str) -> None:
        self._answer(400, {"type": "https://uri.etsi.org/ngsi-ld/errors/BadRequestData", "title": "Bad request", "detail": detail})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        srv = self.server
        with srv.lock:
            srv.requests.append({"path": self.path, "tenant": self.headers.get("NGSILD-Tenant"), "size": len(raw)})
            if srv.fail_next:
                srv.fail_next -= 1
                return self._answer(503, {"type": "https://uri.etsi.org/ngsi-ld/errors/InternalError", "title": "busy"})
        if self.path != UPSERT_PATH:
            return self._answer(404, {"type": "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound", "title": self.path})
        if self.headers.get("Content-Type") != "application/ld+json":
            return self._answer(
                415, {"type": "https://uri.etsi.org/ngsi-ld/errors/UnsupportedMediaType", "title": "expected application/ld+json"}
            )
        try:
            batch = json.loads(raw)
        except json.JSONDecodeError:
            return self._bad("body is not JSON")
        if not isinstance(batch, list) or not batch:
            return self._bad("an upsert body is a non-empty array of entities")
        ids = [e.get("id") if isinstance(e, dict) else None for e in batch]
        if len(set(map(str, ids))) != len(ids):
            return self._bad("an entity id appears twice in the batch")
        success, errors = [], []
        for e, eid in zip(batch, ids):
            problem = None
            if not isinstance(eid, str) or not URI.match(eid):
                problem = f"id {eid!r} is not a URI"
            elif not e.get("type"):
                problem = "no type"
            elif "@context" not in e:
                problem = "application/ld+json entity without @context"
            elif eid in srv.reject:
                problem = "entity type not accepted by this broker"
            if problem:
                errors.append({"entityId": eid, "error": {"type": "https://uri.etsi.org/ngsi-ld/errors/BadRequestData", "title": problem}})
            else:
                with srv.lock:
                    srv.store.setdefault(self.headers.get("NGSILD-Tenant", ""), {})[eid] = e
                success.append(eid)
        if errors:
            return self._answer(207, {"success": success, "errors": errors})
        return self._answer(201, success)


@pytest.fixture
def broker():
    srv = Broker()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _entities(n: int) -> list[dict]:
    return [
        {
            "id": f"urn:ngsi-ld:AirQualityObserved:test:{i}",
            "type": "AirQualityObserved",
            "no2": {"type": "Property", "value": 20.0 + i},
            "@context": [CORE_CONTEXT, ENVIRONMENT_CONTEXT],
        }
        for i in range(n)
    ]


def test_entities_are_posted_in_batches_with_the_json_ld_content_type(broker):
    report = upsert(_entities(250), broker.url, batch_size=100, tenant="bridge-closed")
    assert (report.posted, report.accepted, report.requests, report.retries) == (250, 250, 3, 0)
    assert len(broker.store["bridge-closed"]) == 250
    assert broker.store["bridge-closed"]["urn:ngsi-ld:AirQualityObserved:test:7"]["no2"]["value"] == 27.0
    assert all(r["path"] == UPSERT_PATH and r["tenant"] == "bridge-closed" for r in broker.requests)
    again = upsert(_entities(250), broker.url + "/", batch_size=100, tenant="bridge-closed")  # upsert: same ids again
    assert again.accepted == 250 and len(broker.store["bridge-closed"]) == 250


def test_every_rejected_entity_is_named_with_the_brokers_reason(broker):
    ents = _entities(30)
    broker.reject = {ents[3]["id"], ents[17]["id"]}
    ents[25] = {**ents[25], "id": "not a uri"}
    with pytest.raises(BrokerRejectedError) as info:
        upsert(ents, broker.url, batch_size=10)
    err = info.value
    assert set(err.rejected) == {ents[3]["id"], ents[17]["id"], "not a uri"}
    assert "rejected 3 of 30 entities" in str(err)
    assert f"{ents[17]['id']}: https://uri.etsi.org/ngsi-ld/errors/BadRequestData - entity type not accepted" in str(err)
    assert len(broker.store[""]) == 27
    report = upsert(ents, broker.url, batch_size=10, raise_on_rejected=False)
    assert report.accepted == 27 and len(report.rejected) == 3


def test_a_refused_batch_names_each_of_its_entities(broker):
    ents = _entities(4)
    ents[2] = dict(ents[1])  # the same id twice: the broker refuses the whole batch
    with pytest.raises(BrokerRejectedError, match=r"batch refused \(400\): .*twice") as info:
        upsert(ents, broker.url, batch_size=4)
    assert set(info.value.rejected) == {e["id"] for e in ents}


def test_a_busy_broker_is_retried(broker):
    broker.fail_next = 2
    report = upsert(_entities(5), broker.url, backoff_s=0.01)
    assert (report.accepted, report.requests, report.retries) == (5, 3, 2)
    broker.fail_next = 5
    with pytest.raises(BrokerError, match="answered 503 after 3 attempts"):
        upsert(_entities(5), broker.url, retries=2, backoff_s=0.0)


def test_an_unreachable_broker_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    with pytest.raises(BrokerError, match=rf"127\.0\.0\.1:{port}{UPSERT_PATH}: cannot reach the broker after 2 attempts"):
        upsert(_entities(1), f"http://127.0.0.1:{port}", retries=1, backoff_s=0.0, timeout_s=2)
    with pytest.raises(InvalidValueError, match="batch_size"):
        upsert(_entities(1), f"http://127.0.0.1:{port}", batch_size=0)
