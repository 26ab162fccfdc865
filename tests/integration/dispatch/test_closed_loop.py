"""A case is handled, checked, reopened, handled again and closed; clocks pause and resume."""

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
from redis.asyncio import Redis

from services.common import envelope, events
from services.demo.processes import ServiceProcess
from tests.integration.dispatch.test_ladder import household_not_led_by_its_leader, report
from tests.support import flow, reports


async def assigned_case(client: httpx.AsyncClient, incident: str) -> dict:  # type: ignore[type-arg]
    async def ready() -> bool:
        return (await client.get(f"/v1/cases/{incident}")).status_code == 200

    await flow.wait_for(ready, within_s=30, what="the case to be assigned")
    return (await client.get(f"/v1/cases/{incident}")).json()


def grid_leader_of(grid_id: str) -> str:
    return next(g.leader_id for g in flow.COMMUNITY.grids if g.id == grid_id)


async def test_a_failed_inspection_reopens_to_the_same_handler_and_a_passed_one_closes(
    services: dict[str, ServiceProcess], run_env: dict[str, str]
) -> None:
    incident = await report(services, household_not_led_by_its_leader(2), "paperwork_service")
    async with httpx.AsyncClient(
        base_url=services["dispatch"].url,
        headers=await flow.signed_in(services["dispatch"].url, "C01"),
    ) as dispatch:
        case = await assigned_case(dispatch, incident)
        lead = await flow.signed_in(services["dispatch"].url, case["assignee_id"])
        leader = await flow.signed_in(services["dispatch"].url, grid_leader_of(case["grid_id"]))
        url = f"/v1/cases/{incident}"
        assert (await dispatch.post(f"{url}/accept", headers=lead)).status_code == 200
        assert (await dispatch.post(f"{url}/start", headers=lead)).json()["status"] == "in_progress"
        noted = await dispatch.post(f"{url}/notes", json={"note": "visited"}, headers=lead)
        assert noted.status_code == 200
        helped = await dispatch.post(f"{url}/help", json={"role": "police"}, headers=lead)
        assert helped.json()["co_handler_ids"] == ["POL01"]
        helper_note = await dispatch.post(
            f"{url}/notes",
            json={"note": "escorted"},
            headers=await flow.signed_in(services["dispatch"].url, "POL01"),
        )
        assert helper_note.status_code == 200
        photo = {
            "ref": "photos/1.jpg",
            "taken_at": datetime.now(UTC).isoformat(),
            "location": {"lat": 26.58, "lon": 106.71},
        }
        resolved = await dispatch.post(
            f"{url}/resolve", headers=lead, json={"result": "forms filed", "photos": [photo]}
        )
        assert resolved.json()["status"] == "resolved"
        own = await dispatch.post(
            f"{url}/inspect",
            json={"passed": True},
            headers=await flow.signed_in(services["dispatch"].url, "POL01"),
        )
        assert own.status_code == 409
        failed = await dispatch.post(
            f"{url}/inspect", headers=leader, json={"passed": False, "comment": "one form missing"}
        )
        reopened = failed.json()
        assert reopened["status"] == "assigned"
        assert reopened["assignee_id"] == case["assignee_id"]
        assert reopened["rework_count"] == 1
        assert "one form missing" in reopened["reason"]
        await dispatch.post(f"{url}/accept", headers=lead)
        await dispatch.post(f"{url}/resolve", json={"result": "all forms filed"}, headers=lead)
        closed = await dispatch.post(f"{url}/inspect", json={"passed": True}, headers=leader)
        assert closed.json()["status"] == "closed"

    async def recorded() -> bool:
        return "closed" in flow.kinds(await flow.timeline(services["ledger"], uuid.UUID(incident)))

    await flow.wait_for(recorded, within_s=30, what="the closed case in the ledger")
    kinds = flow.kinds(await flow.timeline(services["ledger"], uuid.UUID(incident)))
    assert kinds[kinds.index("resolved") :] == [
        "resolved",
        "verified",
        "reopened",
        "assigned",
        "accepted",
        "resolved",
        "verified",
        "closed",
    ]
    assert kinds.count("co_handler_added") == 1 and kinds.count("progress_noted") == 2
    await _loads_match_open_cases(services, run_env)


async def _loads_match_open_cases(
    services: dict[str, ServiceProcess], run_env: dict[str, str]
) -> None:
    """The live load counters in Redis agree with the open cases dispatch stores."""
    redis = Redis.from_url(run_env["REDIS_URL"])
    key = f"gridloop:dispatch:load{run_env['DISPATCH_REDIS_NAMESPACE']}"
    try:
        async with httpx.AsyncClient(
            base_url=services["dispatch"].url,
            headers=await flow.signed_in(services["dispatch"].url, "C01"),
        ) as dispatch:

            async def agree() -> bool:
                counts: dict[str, int] = {}
                for status in ("assigned", "accepted", "in_progress"):
                    for case in (
                        await dispatch.get("/v1/cases", params={"status": status, "limit": 500})
                    ).json():
                        if case["assignee_id"]:
                            counts[case["assignee_id"]] = counts.get(case["assignee_id"], 0) + 1
                live = {k.decode(): int(v) for k, v in (await redis.hgetall(key)).items()}
                return {k: v for k, v in live.items() if v} == counts

            await flow.wait_for(agree, within_s=15, what="load counters to match open cases")
    finally:
        await redis.aclose()


async def test_feedback_from_the_reporter_closes_or_reopens_a_resolved_case(
    services: dict[str, ServiceProcess], run_env: dict[str, str]
) -> None:
    incidents = [
        await report(services, household_not_led_by_its_leader(n), "paperwork_service")
        for n in (3, 4)
    ]
    async with httpx.AsyncClient(
        base_url=services["dispatch"].url,
        headers=await flow.signed_in(services["dispatch"].url, "C01"),
    ) as dispatch:
        for incident in incidents:
            case = await assigned_case(dispatch, incident)
            lead = await flow.signed_in(services["dispatch"].url, case["assignee_id"])
            await dispatch.post(f"/v1/cases/{incident}/accept", headers=lead)
            await dispatch.post(
                f"/v1/cases/{incident}/resolve", json={"result": "done"}, headers=lead
            )
        await _publish_feedback(run_env, incidents[0], events.Rating.BASICALLY_SATISFIED)
        await _publish_feedback(run_env, incidents[1], events.Rating.UNSATISFIED)

        async def concluded() -> bool:
            statuses = [(await dispatch.get(f"/v1/cases/{i}")).json()["status"] for i in incidents]
            return statuses == ["closed", "assigned"]

        await flow.wait_for(concluded, within_s=30, what="feedback to close and to reopen")
        reopened = (await dispatch.get(f"/v1/cases/{incidents[1]}")).json()
        assert reopened["rework_count"] == 1


async def _publish_feedback(run_env: dict[str, str], incident: str, rating: events.Rating) -> None:
    data = events.IncidentFeedback(
        incident_id=uuid.UUID(incident), occurred_at=datetime.now(UTC), rating=rating
    )
    event = envelope.new_event(event_id=str(uuid.uuid4()), source="test", data=data)
    # A redelivered feedback acts once.
    await reports.produce(run_env["KAFKA_BOOTSTRAP_SERVERS"], run_env["TOPIC_REPORTS"], [event] * 2)


async def test_an_extension_pauses_the_clock_and_parking_stops_it(
    services: dict[str, ServiceProcess],
) -> None:
    incident = await report(services, household_not_led_by_its_leader(5), "legal_advice")
    async with httpx.AsyncClient(
        base_url=services["dispatch"].url,
        headers=await flow.signed_in(services["dispatch"].url, "C01"),
    ) as dispatch:
        case = await assigned_case(dispatch, incident)
        lead = await flow.signed_in(services["dispatch"].url, case["assignee_id"])
        leader = await flow.signed_in(services["dispatch"].url, grid_leader_of(case["grid_id"]))
        url = f"/v1/cases/{incident}"
        await dispatch.post(f"{url}/accept", headers=lead)
        asked = await dispatch.post(
            f"{url}/extension",
            headers=lead,
            json={"reason": "waiting for documents", "extra_hours": 0.001},
        )
        assert asked.json()["extension_pending"] is True
        await asyncio.sleep(5)  # longer than the 4 s limit: a paused clock must not go red
        ledger = services["ledger"]
        assert "deadline_warned" not in flow.kinds(await flow.timeline(ledger, uuid.UUID(incident)))
        granted = await dispatch.post(
            f"{url}/extension/decision", json={"approve": True}, headers=leader
        )
        assert granted.json()["extension_pending"] is False

        async def red() -> bool:
            entries = await flow.timeline(ledger, uuid.UUID(incident))
            return any(
                str(e["type"]).endswith("warned.v1") and e["payload"]["level"] == "red"  # type: ignore[index]
                for e in entries
            )

        await flow.wait_for(red, within_s=20, what="the resumed clock to run out")
        entries = await flow.timeline(ledger, uuid.UUID(incident))
        red_mark = next(
            e["payload"]
            for e in entries
            if str(e["type"]).endswith("warned.v1") and e["payload"]["level"] == "red"
        )  # type: ignore[index]
        assert grid_leader_of(case["grid_id"]) in red_mark["notified_ids"]  # type: ignore[index]
        parked = await dispatch.post(
            f"{url}/park",
            json={"reason": "awaiting court"},
            headers=await flow.signed_in(services["dispatch"].url, "C01"),
        )
        assert parked.json()["parked"] is True
        blocked = await dispatch.post(f"{url}/resolve", json={"result": "x"}, headers=lead)
        assert blocked.status_code == 409 and "parked" in blocked.text
        assert (
            await dispatch.post(
                f"{url}/unpark", headers=await flow.signed_in(services["dispatch"].url, "C01")
            )
        ).json()["parked"] is False
    kinds = flow.kinds(await flow.timeline(ledger, uuid.UUID(incident)))
    assert {"extension_requested", "extended"} <= set(kinds)
