"""A report travels intake → Kafka → dispatch (1+10) → Kafka → ledger, exactly once."""

import collections

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from services.demo.processes import ServiceProcess
from tests.support import flow, tokens

INCIDENTS = 200


async def test_every_incident_reaches_its_linked_member_and_is_recorded_once(
    services: dict[str, ServiceProcess], engine: AsyncEngine, intake_key: str
) -> None:
    households = flow.distinct_households(INCIDENTS, seed=1)
    reported = await flow.report_all(services["intake"].url, households, api_key=intake_key)
    assert len(reported) == INCIDENTS

    async def all_assigned() -> bool:
        return set(reported) <= set(await flow.assigned_states(engine))

    await flow.wait_for(all_assigned, within_s=90, what="200 incidents assigned in the ledger")

    assignees = await flow.assigned_states(engine)
    wrong = {
        incident: (assignees[incident], flow.LINKED_MEMBER[household])
        for incident, household in reported.items()
        if assignees[incident] != flow.LINKED_MEMBER[household]
    }
    assert wrong == {}
    rows = await flow.ledger_rows(engine)
    per_incident = collections.Counter(incident for incident, _, _ in rows)
    assert {incident: per_incident[incident] for incident in reported} == dict.fromkeys(reported, 2)
    assert all(count == 1 for incident, _, count in rows if incident in reported)

    async with httpx.AsyncClient(
        base_url=services["ledger"].url, headers=tokens.committee(services["ledger"].env)
    ) as client:
        stats = (await client.get("/v1/stats")).json()
        assert stats["total"] == INCIDENTS
        assert stats["by_status"]["assigned"] == INCIDENTS
        one = next(iter(reported))
        incident = (await client.get(f"/v1/incidents/{one}")).json()
        assert incident["status"] == "assigned"
        assert incident["rung"] == "linked_member"
        assert [entry["type"] for entry in incident["timeline"]] == [
            "gridloop.incident.reported.v1",
            "gridloop.incident.assigned.v1",
        ]
        assert "1+10" in incident["assignment_reason"]


async def test_ledger_killed_mid_stream_still_records_each_event_once(
    services: dict[str, ServiceProcess], engine: AsyncEngine, intake_key: str
) -> None:
    before = {incident for incident, _, _ in await flow.ledger_rows(engine)}
    households = flow.distinct_households(INCIDENTS, seed=2)
    first = await flow.report_all(
        services["intake"].url, households[:80], api_key=intake_key, start=1000
    )

    async def some_recorded() -> bool:
        recorded = {incident for incident, _, _ in await flow.ledger_rows(engine)}
        return len(recorded & set(first)) >= 20

    await flow.wait_for(some_recorded, within_s=60, what="the ledger to record part of the stream")
    services["ledger"].kill()
    second = await flow.report_all(
        services["intake"].url, households[80:], api_key=intake_key, start=1080
    )
    services["ledger"].start()
    reported = {**first, **second}

    async def all_recorded() -> bool:
        rows = await flow.ledger_rows(engine)
        return sum(count for incident, _, count in rows if incident in reported) >= 2 * INCIDENTS

    await flow.wait_for(all_recorded, within_s=90, what="every event recorded after restart")
    assert set(reported) <= set(await flow.assigned_states(engine))
    rows = [row for row in await flow.ledger_rows(engine) if row[0] not in before]
    assert sorted(count for _, _, count in rows) == [1] * (2 * INCIDENTS)
    assert {incident for incident, _, _ in rows} == set(reported)
