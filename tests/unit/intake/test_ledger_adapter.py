"""The ledger adapter and the GeoReport list against a fake ledger on loopback.

The fake serves the agreed read contract (`GET /v1/incidents/{id}` and the filtered, paged
`GET /v1/incidents`), which the real ledger serves once its list endpoint lands. Until then,
this is where the filtered GET requests.json is tested.
"""

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from services.intake.adapters.ledger_client import LedgerClient, LedgerUnavailable
from services.intake.integrators.keys import ANONYMOUS
from services.intake.open311 import handlers as open311

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def summary(n: int, status: str, category: str) -> dict[str, Any]:
    return {
        "incident_id": str(uuid.UUID(int=n)),
        "status": status,
        "category": category,
        "channel": "platform",
        "description": f"case {n}",
        "address": None,
        "location": {"lat": 30.0, "lon": 120.0},
        "household_id": None,
        "grid_id": "G01",
        "assignee_id": "P001",
        "co_handler_ids": [],
        "source_system": None,
        "external_id": None,
        "reported_at": (NOW - timedelta(days=1)).isoformat(),
        "updated_at": NOW.isoformat(),
        "acknowledged_at": None,
        "resolved_at": None,
        "closed_at": None,
        "status_note": None,
        "overdue": False,
        "rework_count": 0,
        "merged_reports": 0,
    }


CASES = [summary(n, "closed" if n % 3 == 0 else "assigned", "clutter") for n in range(1, 8)]


class FakeLedger(BaseHTTPRequestHandler):
    queries: list[dict[str, list[str]]] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path == "/v1/incidents":
            FakeLedger.queries.append(query)
            matching = [c for c in CASES if c["category"] == query.get("category", ["clutter"])[0]]
            start = int(query.get("cursor", ["0"])[0])
            limit = 3  # small pages, so the adapter has to follow the cursor
            page = matching[start : start + limit]
            following = str(start + limit) if start + limit < len(matching) else None
            self._answer(200, {"items": page, "next_cursor": following})
            return
        incident = parts.path.rsplit("/", 1)[-1]
        found = [case for case in CASES if case["incident_id"] == incident]
        if found:
            self._answer(200, {**found[0], "timeline": []})
        else:
            self._answer(404, {"detail": "no such incident in the ledger"})

    def _answer(self, status: int, body: object) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def fake_ledger() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeLedger)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_one_case_is_read_and_an_unknown_one_is_none(fake_ledger: str) -> None:
    async with httpx.AsyncClient(base_url=fake_ledger) as http:
        ledger = LedgerClient(http)
        case = await ledger.incident(uuid.UUID(int=2))
        assert case is not None and case.status == "assigned" and case.grid_id == "G01"
        assert await ledger.incident(uuid.uuid4()) is None


async def test_an_unreachable_ledger_is_unavailable_not_empty() -> None:
    async with httpx.AsyncClient(base_url="http://127.0.0.1:9") as http:
        with pytest.raises(LedgerUnavailable):
            await LedgerClient(http).incident(uuid.uuid4())


async def test_the_georeport_list_follows_the_cursor_and_filters_open_and_closed(
    fake_ledger: str,
) -> None:
    FakeLedger.queries.clear()
    async with httpx.AsyncClient(base_url=fake_ledger) as http:
        deps = open311.Dependencies(sessions=None, ledger=LedgerClient(http), reports=None)  # type: ignore[arg-type]
        query = open311.Query(
            service_code="clutter", status="closed", start_date=NOW - timedelta(days=7)
        )
        closed = await open311.list_requests(query, principal=ANONYMOUS, now=NOW, deps=deps)
        everything = await open311.list_requests(
            open311.Query(), principal=ANONYMOUS, now=NOW, deps=deps
        )
    assert [r.service_request_id for r in closed] == [uuid.UUID(int=3), uuid.UUID(int=6)]
    assert all(r.status == "closed" and r.status_notes == "closed" for r in closed)
    assert len(everything) == len(CASES)
    first = FakeLedger.queries[0]
    assert first["category"] == ["clutter"] and first["from"][0].startswith("2026-04-24")
    assert [q.get("cursor") for q in FakeLedger.queries[:3]] == [None, ["3"], ["6"]]
    default_span = FakeLedger.queries[-1]["from"][0]
    assert default_span.startswith((NOW - timedelta(days=90)).date().isoformat())


async def test_the_georeport_list_by_ids_reads_each_case_once(fake_ledger: str) -> None:
    async with httpx.AsyncClient(base_url=fake_ledger) as http:
        deps = open311.Dependencies(sessions=None, ledger=LedgerClient(http), reports=None)  # type: ignore[arg-type]
        wanted = f"{uuid.UUID(int=1)},{uuid.UUID(int=4)},{uuid.UUID(int=1)}"
        found = await open311.list_requests(
            open311.Query(service_request_id=wanted), principal=ANONYMOUS, now=NOW, deps=deps
        )
    assert [r.service_request_id for r in found] == [uuid.UUID(int=1), uuid.UUID(int=4)]
