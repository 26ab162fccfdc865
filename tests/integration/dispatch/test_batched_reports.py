"""A burst of reports is opened together: each once, and the batch counts its own assignments.

The burst goes straight onto one partition of the reports topic in one produce request, every
event twice, so that dispatch meets it, copies included, as one batch; the first few come
again once their cases exist. All of them belong
to households linked to one member, more than that member's capacity: the reports past the
capacity must go to someone else, which only happens if the batch sees the load it moved
itself before Redis does.
"""

import asyncio
import uuid
from collections import Counter

import httpx
from aiokafka import AIOKafkaConsumer

from services.common import envelope, events
from services.demo.processes import ServiceProcess
from tests.support import flow, reports

CATEGORY = "paperwork_service"  # acknowledged within an hour in the fast catalogue: no climb
OPEN = {"assigned", "accepted", "in_progress"}
CAPACITY = 20  # dispatch_member.case_capacity of the demo community


def busiest_linked_member() -> tuple[str, list[str]]:
    """The last linked member that is not its grid's leader, with their households."""
    leaders = {grid.leader_id for grid in flow.COMMUNITY.grids}
    linked: dict[str, list[str]] = {}
    for household in flow.COMMUNITY.households:
        if household.linked_member_id and household.linked_member_id not in leaders:
            linked.setdefault(household.linked_member_id, []).append(household.id)
    member = sorted(linked)[-1]
    return member, linked[member]


async def publish(run_env: dict[str, str], burst: list[envelope.CloudEvent]) -> None:
    """The burst on partition 0, in one produce request."""
    await reports.produce(
        run_env["KAFKA_BOOTSTRAP_SERVERS"],
        run_env["TOPIC_REPORTS"],
        burst,
        partition=0,
        linger_ms=500,
    )


async def first_assignments(
    run_env: dict[str, str], incidents: set[uuid.UUID]
) -> list[events.IncidentAssigned]:
    """Every `incident.assigned` of these incidents on the lifecycle topic, from the start."""
    consumer = AIOKafkaConsumer(
        run_env["TOPIC_LIFECYCLE"],
        bootstrap_servers=run_env["KAFKA_BOOTSTRAP_SERVERS"],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[events.IncidentAssigned] = []
    try:
        while batches := await consumer.getmany(timeout_ms=2000):
            for records in batches.values():
                for record in records:
                    data = envelope.decode(record).data
                    if isinstance(data, events.IncidentAssigned) and data.incident_id in incidents:
                        found.append(data)
    finally:
        await consumer.stop()
    return found


async def test_a_burst_is_opened_once_per_report_and_respects_capacity_within_the_batch(
    services: dict[str, ServiceProcess], run_env: dict[str, str]
) -> None:
    member, households = busiest_linked_member()
    async with httpx.AsyncClient(
        base_url=services["dispatch"].url,
        headers=await flow.signed_in(services["dispatch"].url, "C01"),
    ) as dispatch:
        mine = (
            await dispatch.get("/v1/cases", params={"assignee_id": member, "limit": 500})
        ).json()
        room = CAPACITY - sum(1 for case in mine if case["status"] in OPEN)
        burst = [
            reports.reported(
                category=CATEGORY, description="burst", household_id=households[n % len(households)]
            )
            for n in range(room + 6)
        ]
        await publish(run_env, [copy for event in burst for copy in (event, event)])
        incidents = {event.data.incident_id for event in burst}

        async def all_assigned() -> bool:
            for incident in incidents:
                if (await dispatch.get(f"/v1/cases/{incident}")).status_code != 200:
                    return False
            return True

        await flow.wait_for(all_assigned, within_s=60, what="every report of the burst assigned")
        await publish(run_env, burst[:5])  # redelivered once their cases exist
        await asyncio.sleep(3)
        cases = [(await dispatch.get(f"/v1/cases/{incident}")).json() for incident in incidents]

    assignments = await first_assignments(run_env, incidents)
    assert Counter(a.incident_id for a in assignments) == Counter(incidents), "one each"
    assert all(case["attempt"] == 1 for case in cases)
    to_member = sum(1 for a in assignments if a.assignee_id == member)
    assert to_member == room, (to_member, room)
    others = [a for a in assignments if a.assignee_id != member]
    assert len(others) == 6 and all(a.assignee_id for a in others)
    assert all(a.rung != events.Rung.LINKED_MEMBER for a in others)
