"""The read side on the real stack: filters, pages, one case, a household's ledger, exports."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import events
from services.common.events import Channel, GeoPoint
from services.demo.processes import ServiceProcess
from tests.integration.ledger.conftest import Publisher, entry_count, wait_for_entries
from tests.unit.ledger.stories import Story

pytestmark = pytest.mark.stack
JANUARY = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
SUMMARY_FIELDS = {
    "incident_id",
    "status",
    "category",
    "channel",
    "description",
    "address",
    "location",
    "household_id",
    "grid_id",
    "assignee_id",
    "co_handler_ids",
    "source_system",
    "external_id",
    "reported_at",
    "updated_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "status_note",
    "overdue",
    "rework_count",
    "merged_reports",
}
BULK = 600


class Scenario:
    def __init__(self) -> None:
        self.closed = Story(start=JANUARY, household="H1").reported(
            0,
            source_system="city-platform",
            external_id="EXT-1",
            location=GeoPoint(lat=31.2304, lon=121.4737),
            address="3 Garden Road",
        )
        self.closed.assigned(5, acknowledge_within=30, resolve_within=600).accepted(20)
        self.closed.resolved(120, result="boxes moved to the depot").verified(180).closed(200)
        self.overdue = (
            Story(start=JANUARY + timedelta(days=1), household="H1", category="neighbour_dispute")
            .reported(0)
            .assigned(1, "P002", co_handlers=("LAW1",), resolve_within=60)
            .accepted(2)
            .merged(3)
        )
        self.hotline = Story(
            start=JANUARY + timedelta(days=2), household="H2", grid="G02", channel=Channel.HOTLINE
        ).reported(0)
        self.parked = (
            Story(start=JANUARY + timedelta(days=3), household="H3", grid="G02")
            .reported(0)
            .assigned(1, resolve_within=60)
            .parked(2)
        )
        self.paged = [
            Story(
                start=JANUARY + timedelta(days=10 + n), household=f"H3{n:02d}", grid="G03"
            ).reported(0)
            for n in range(10)
        ]

    @property
    def stories(self) -> list[Story]:
        return [self.closed, self.overdue, self.hotline, self.parked, *self.paged]


@pytest.fixture(scope="module")
async def scenario(ledger: ServiceProcess, publish: Publisher, engine: AsyncEngine) -> Scenario:
    scenario = Scenario()
    sent = await publish.stories(*scenario.stories)
    bulk = [
        Story(start=JANUARY + timedelta(days=40, minutes=n), household=None, grid="G09").reported(0)
        for n in range(BULK)
    ]
    sent += await publish.stories(*bulk)
    await wait_for_entries(engine, sent)
    return scenario


def _ids(api: httpx.Client, **params: object) -> list[str]:
    page = api.get("/v1/incidents", params={"limit": 500, **params})
    assert page.status_code == 200, page.text
    return [item["incident_id"] for item in page.json()["items"]]


def test_every_filter_selects_exactly_its_cases(scenario: Scenario, api: httpx.Client) -> None:
    closed, overdue = str(scenario.closed.incident_id), str(scenario.overdue.incident_id)
    hotline, parked = str(scenario.hotline.incident_id), str(scenario.parked.incident_id)
    assert _ids(api, status="closed") == [closed]
    assert _ids(api, category="neighbour_dispute") == [overdue]
    assert _ids(api, channel="hotline") == [hotline]
    assert _ids(api, grid="G02") == [parked, hotline]
    assert _ids(api, member="LAW1") == _ids(api, member="P002") == [overdue]
    assert _ids(api, household="H1") == [overdue, closed]
    assert _ids(api, source_system="city-platform", external_id="EXT-1") == [closed]
    window = {"from": JANUARY.isoformat(), "to": (JANUARY + timedelta(days=2)).isoformat()}
    assert _ids(api, **window) == [overdue, closed]
    assert _ids(api, overdue="true") == [overdue]
    assert parked in _ids(api, overdue="false", grid="G02")
    assert len(_ids(api, updated_since=(datetime.now(UTC) - timedelta(hours=1)).isoformat())) > 10
    assert _ids(api, updated_since=(datetime.now(UTC) + timedelta(hours=1)).isoformat()) == []


def test_pages_walk_every_case_once_newest_first(scenario: Scenario, api: httpx.Client) -> None:
    seen: list[str] = []
    cursor = None
    sizes = []
    while True:
        params = {"grid": "G03", "limit": 4, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/incidents", params=params).json()
        sizes.append(len(page["items"]))
        seen.extend(item["incident_id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sizes == [4, 4, 2]
    assert seen == [str(story.incident_id) for story in reversed(scenario.paged)]


def test_bad_pages_are_refused(scenario: Scenario, api: httpx.Client) -> None:
    refused = api.get("/v1/incidents", params={"cursor": "not-a-cursor"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["query", "cursor"]
    assert api.get("/v1/incidents", params={"limit": 0}).status_code == 422
    assert api.get("/v1/incidents", params={"limit": 501}).status_code == 422
    assert api.get("/v1/incidents", params={"status": "lost"}).status_code == 422


def test_a_summary_has_exactly_the_contract_fields(scenario: Scenario, api: httpx.Client) -> None:
    item = api.get("/v1/incidents", params={"status": "closed"}).json()["items"][0]
    assert set(item) == SUMMARY_FIELDS
    assert item["location"] == {"lat": 31.2304, "lon": 121.4737}
    assert item["status_note"] == "closed after verification"
    assert item["acknowledged_at"] is not None and item["closed_at"] is not None
    overdue = api.get("/v1/incidents", params={"overdue": "true"}).json()["items"][0]
    assert overdue["co_handler_ids"] == ["LAW1"] and overdue["merged_reports"] == 1


def test_one_case_shows_its_timeline_with_the_masked_phone_but_no_token(
    scenario: Scenario, api: httpx.Client
) -> None:
    detail = api.get(f"/v1/incidents/{scenario.closed.incident_id}").json()
    assert SUMMARY_FIELDS <= set(detail)
    assert [entry["type"].split(".")[2] for entry in detail["timeline"]] == [
        "reported",
        "assigned",
        "accepted",
        "resolved",
        "verified",
        "closed",
    ]
    assert detail["reporter_phone_masked"] == "138****5678"
    assert detail["timeline"][0]["payload"]["reporter_phone_masked"] == "138****5678"
    assert "reporter_token" not in detail["timeline"][0]["payload"]
    assert "secret-token" not in api.get(f"/v1/incidents/{scenario.closed.incident_id}").text
    assert api.get(f"/v1/incidents/{uuid.uuid4()}").status_code == 404


def test_a_household_ledger_lists_every_case_of_the_household(
    scenario: Scenario, api: httpx.Client
) -> None:
    ledger = api.get("/v1/households/H1/ledger").json()
    assert ledger["household_id"] == "H1" and ledger["total"] == 2
    assert ledger["by_status"] == {"closed": 1, "accepted": 1}
    assert [case["incident_id"] for case in ledger["cases"]] == [
        str(scenario.overdue.incident_id),
        str(scenario.closed.incident_id),
    ]
    assert api.get("/v1/households/H404/ledger").json()["total"] == 0


def test_stats_count_every_status(scenario: Scenario, api: httpx.Client) -> None:
    stats = api.get("/v1/stats").json()
    assert stats["total"] == len(scenario.stories) + BULK
    assert set(stats["by_status"]) == {status.value for status in events.CaseStatus}
    assert stats["by_status"]["closed"] == 1 and stats["by_status"]["accepted"] == 1
    assert "secret-token" not in str(stats)


def _stream(api: httpx.Client, path: str, **params: str) -> tuple[httpx.Headers, list[str], str]:
    with api.stream("GET", path, params=params) as response:
        assert response.status_code == 200
        chunks = list(response.iter_text())
        return response.headers, chunks, "".join(chunks)


async def test_the_case_export_streams_csv_for_a_time_range(
    scenario: Scenario, api: httpx.Client
) -> None:
    headers, _, body = _stream(api, "/v1/exports/cases.csv")
    assert headers["content-type"].startswith("text/csv")
    assert "content-length" not in headers  # streamed, not built whole
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == len(scenario.stories) + BULK
    january = {"from": JANUARY.isoformat(), "to": (JANUARY + timedelta(days=2)).isoformat()}
    _, _, window = _stream(api, "/v1/exports/cases.csv", **january)
    in_window = list(csv.DictReader(io.StringIO(window)))
    assert [row["incident_id"] for row in in_window] == [
        str(scenario.closed.incident_id),
        str(scenario.overdue.incident_id),
    ]
    assert in_window[1]["overdue"] == "True" and in_window[1]["co_handler_ids"] == "LAW1"
    assert "boxes" not in window and "138****" not in window  # no free text, no phone


async def test_the_ledger_export_streams_every_entry_with_its_hashes(
    scenario: Scenario, api: httpx.Client, engine: AsyncEngine
) -> None:
    headers, chunks, body = _stream(api, "/v1/exports/ledger.csv")
    assert "content-length" not in headers
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == await entry_count(engine)
    assert [int(row["seq"]) for row in rows] == list(range(1, len(rows) + 1))
    assert all(len(row["hash"]) == 64 and len(row["prev_hash"]) == 64 for row in rows)
    assert rows[1]["prev_hash"] == rows[0]["hash"]
    assert "secret-token" not in body
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    _, _, empty = _stream(api, "/v1/exports/ledger.csv", **{"from": later})
    assert empty.strip().count("\n") == 0  # the header only


@pytest.mark.parametrize("path", ["/v1/exports/cases.csv", "/v1/exports/ledger.csv"])
def test_an_export_range_out_of_range_in_utc_is_refused(api: httpx.Client, path: str) -> None:
    refused = api.get(path, params={"from": "0001-01-01T00:00:01+00:01"})
    assert refused.status_code == 422, refused.text
    assert "out of range" in refused.text
