"""Recording on the real stack: exactly once, out of order, anomalies kept, append-only."""

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import events
from services.demo.processes import ServiceProcess
from services.ledger.adapters import tables
from tests.integration.ledger.conftest import (
    Publisher,
    entry_count,
    wait_for_entries,
    wait_until_consumed,
)
from tests.support import schema
from tests.unit.ledger.stories import Story

pytestmark = pytest.mark.stack


async def test_a_redelivered_event_writes_nothing(
    ledger: ServiceProcess,
    publish: Publisher,
    engine: AsyncEngine,
    api: httpx.Client,
    run_env: dict[str, str],
) -> None:
    story = Story().closed_loop()
    before = await entry_count(engine)
    await publish.stories(story)
    await wait_for_entries(engine, before + 6)
    await publish.events(story.events + story.events[:3])  # redelivered, twice for some
    await wait_until_consumed(run_env)
    assert await entry_count(engine) == before + 6
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("select count(*) from ledger_entry where incident_id = :id"),
            {"id": story.incident_id},
        )
        assert rows.scalar_one() == 6
    detail = api.get(f"/v1/incidents/{story.incident_id}").json()
    assert detail["status"] == "closed" and len(detail["timeline"]) == 6


async def test_a_report_arriving_after_its_lifecycle_is_folded_in_place(
    ledger: ServiceProcess, publish: Publisher, engine: AsyncEngine, api: httpx.Client
) -> None:
    story = Story(household="H0777", grid="G05").reported(0).assigned(1, "P050").accepted(2)
    before = await entry_count(engine)
    await publish.events(story.events[1:])
    await wait_for_entries(engine, before + 2)
    assert api.get(f"/v1/incidents/{story.incident_id}").json()["status"] == "accepted"
    await publish.events(story.events[:1])
    await wait_for_entries(engine, before + 3)
    detail = api.get(f"/v1/incidents/{story.incident_id}").json()
    assert detail["status"] == "accepted"
    assert detail["household_id"] == "H0777" and detail["category"] == "clutter"
    assert [entry["type"].split(".")[2] for entry in detail["timeline"]] == [
        "reported",
        "assigned",
        "accepted",
    ]
    assert detail["anomalies"] == []


async def test_lifecycle_events_out_of_order_are_refolded_and_flagged(
    ledger: ServiceProcess, publish: Publisher, engine: AsyncEngine, api: httpx.Client
) -> None:
    story = Story().reported(0).assigned(1).accepted(2).resolved(3)
    before = await entry_count(engine)
    await publish.events(story.events[:2])
    await wait_for_entries(engine, before + 2)
    await publish.events([story.events[3]])  # resolved, before its acceptance
    await wait_for_entries(engine, before + 3)
    early = api.get(f"/v1/incidents/{story.incident_id}").json()
    assert early["status"] == "resolved"
    assert [a["kind"] for a in early["anomalies"]] == ["illegal_transition"]
    await publish.events([story.events[2]])  # the acceptance arrives late
    await wait_for_entries(engine, before + 4)
    detail = api.get(f"/v1/incidents/{story.incident_id}").json()
    assert detail["status"] == "resolved" and detail["acknowledged_at"] is not None
    assert [(a["kind"], a["event_type"]) for a in detail["anomalies"]] == [
        ("out_of_order", events.TYPE_OF[events.IncidentAccepted])
    ]


async def test_an_illegal_sequence_is_recorded_and_exposed_as_an_anomaly(
    ledger: ServiceProcess, publish: Publisher, engine: AsyncEngine, api: httpx.Client
) -> None:
    story = Story().closed_loop().started(300)
    before = await entry_count(engine)
    await publish.stories(story)
    await wait_for_entries(engine, before + 7)
    found = api.get("/v1/ledger/anomalies", params={"incident_id": str(story.incident_id)}).json()
    assert [(a["kind"], a["status_before"]) for a in found["items"]] == [
        ("after_terminal", "closed")
    ]
    assert "verified" not in found["items"][0]["expected"]  # nothing may follow a closure
    every = api.get("/v1/ledger/anomalies", params={"kind": "after_terminal"}).json()
    assert story.incident_id.hex in {a["incident_id"].replace("-", "") for a in every["items"]}
    page = api.get("/v1/ledger/anomalies", params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    following = api.get("/v1/ledger/anomalies", params={"limit": 1, "cursor": page["next_cursor"]})
    assert following.json()["items"][0]["seq"] >= page["items"][0]["seq"]


async def test_the_database_refuses_to_update_or_delete_an_entry(
    ledger: ServiceProcess, publish: Publisher, engine: AsyncEngine
) -> None:
    before = await entry_count(engine)
    await publish.stories(Story().reported(0))
    await wait_for_entries(engine, before + 1)
    for statement in (
        "update ledger_entry set source = 'forged' where seq = 1",
        "delete from ledger_entry where seq = 1",
        "truncate ledger_entry",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(statement))


async def test_the_chains_verify_and_the_migrations_match_the_models(
    ledger: ServiceProcess, engine: AsyncEngine, api: httpx.Client
) -> None:
    result = api.get("/v1/ledger/verify").json()
    assert result["ok"] is True and result["first_break"] is None
    assert result["entries_checked"] == await entry_count(engine)
    async with engine.connect() as connection:
        version = (await connection.execute(text("select * from alembic_version_ledger"))).all()
        assert [tuple(row) for row in version] == [("0003",)]
    differences = await schema.differences(
        engine, metadata=tables.ENTRY.metadata, table_prefix="ledger_"
    )
    assert differences == []
