"""Unhandled cases climb the ladder; declines go to the next candidate."""

from datetime import datetime, timedelta

import httpx

from services.demo.processes import ServiceProcess
from tests.support import flow

LEADERS = {grid.leader_id for grid in flow.COMMUNITY.grids}


def household_not_led_by_its_leader(offset: int) -> str:
    """A household whose linked member is not also the grid leader."""
    ids = [h.id for h in flow.COMMUNITY.households if h.linked_member_id not in LEADERS]
    return ids[offset]


async def report(services: dict[str, ServiceProcess], household_id: str, category: str):  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=services["intake"].url) as client:
        response = await client.post(
            "/v1/incidents",
            json={
                "channel": "hotline",
                "category": category,
                "description": "test",
                "household_id": household_id,
            },
        )
    assert response.status_code == 202
    return response.json()["incident_id"]


async def test_an_unacknowledged_case_climbs_the_whole_ladder(
    services: dict[str, ServiceProcess],
) -> None:
    incident = await report(services, household_not_led_by_its_leader(0), "clutter")
    ledger = services["ledger"]

    async def transferred() -> bool:
        return "assigned" in flow.kinds(await flow.timeline(ledger, incident)) and any(
            entry["payload"].get("rung") == "town"  # type: ignore[union-attr]
            for entry in await flow.timeline(ledger, incident)
        )

    await flow.wait_for(transferred, within_s=40, what="the case to climb to the town")
    entries = await flow.timeline(ledger, incident)
    assigned = [e["payload"] for e in entries if e["type"].endswith("assigned.v1")]  # type: ignore[union-attr]
    assert [a["rung"] for a in assigned] == [  # type: ignore[index]
        "linked_member",
        "grid_member",
        "grid_leader",
        "committee",
        "town",
    ]
    escalated = [e for e in entries if str(e["type"]).endswith("escalated.v1")]
    assert [(e["payload"]["from_rung"], e["payload"]["to_rung"]) for e in escalated] == [  # type: ignore[index]
        ("linked_member", "grid_member"),
        ("grid_member", "grid_leader"),
        ("grid_leader", "committee"),
        ("committee", "town"),
    ]
    assert "acknowledgement deadline missed by" in escalated[0]["payload"]["reason"]  # type: ignore[index]
    for before, climb in zip(assigned, escalated, strict=False):
        due = datetime.fromisoformat(before["acknowledge_due_at"])  # type: ignore[index]
        fired = datetime.fromisoformat(climb["payload"]["occurred_at"])  # type: ignore[index]
        assert timedelta(0) <= fired - due < timedelta(seconds=2), (due, fired)
    warnings = [e["payload"]["level"] for e in entries if str(e["type"]).endswith("warned.v1")]  # type: ignore[index]
    assert warnings.count("yellow") >= 4 and warnings.count("red") == 4
    async with httpx.AsyncClient(
        base_url=services["dispatch"].url,
        headers=await flow.signed_in(services["dispatch"].url, "C01"),
    ) as client:
        case = (await client.get(f"/v1/cases/{incident}")).json()
    assert case["status"] == "transferred" and case["assignee_id"] is None


async def test_a_decline_goes_to_the_next_candidate_with_the_reason(
    services: dict[str, ServiceProcess],
) -> None:
    household = household_not_led_by_its_leader(1)
    linked = flow.LINKED_MEMBER[household]
    incident = await report(services, household, "paperwork_service")
    async with httpx.AsyncClient(
        base_url=services["dispatch"].url,
        headers=await flow.signed_in(services["dispatch"].url, "C01"),
    ) as client:

        async def assigned() -> bool:
            return (await client.get(f"/v1/cases/{incident}")).status_code == 200

        await flow.wait_for(assigned, within_s=30, what="the case to be assigned")
        refused = await client.post(
            f"/v1/cases/{incident}/decline",
            json={"reason": "x"},
            headers=await flow.signed_in(services["dispatch"].url, linked),
        )
        assert refused.status_code == 422
        declined = await client.post(
            f"/v1/cases/{incident}/decline",
            json={"reason": "away at a training course"},
            headers=await flow.signed_in(services["dispatch"].url, linked),
        )
        assert declined.status_code == 200
        case = declined.json()
        assert case["assignee_id"] not in (linked, None)
        assert case["rung"] == "grid_member"
        assert f"linked member {linked} declined this case" in case["reason"]
        again = await client.post(
            f"/v1/cases/{incident}/decline",
            json={"reason": "again"},
            headers=await flow.signed_in(services["dispatch"].url, linked),
        )
        assert again.status_code == 404, "once declined, the case is no longer theirs to see"
