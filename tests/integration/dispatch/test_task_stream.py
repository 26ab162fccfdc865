"""Officers see their tasks, go on and off duty, and get changes pushed as server-sent events."""

import asyncio
import json

import httpx

from services.demo.processes import ServiceProcess
from tests.integration.dispatch.test_ladder import household_not_led_by_its_leader, report
from tests.support import flow


async def test_a_new_task_is_pushed_to_the_officers_stream(
    services: dict[str, ServiceProcess],
) -> None:
    household = household_not_led_by_its_leader(10)
    officer = flow.LINKED_MEMBER[household]
    received: list[tuple[str, object]] = []

    async def listen() -> None:
        async with httpx.AsyncClient(base_url=services["dispatch"].url, timeout=30) as client:
            async with client.stream(
                "GET",
                "/v1/me/stream",
                headers=await flow.signed_in(services["dispatch"].url, officer),
            ) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                event = ""
                async for line in response.aiter_lines():
                    if line.startswith("event: "):
                        event = line.removeprefix("event: ")
                    elif line.startswith("data: "):
                        received.append((event, json.loads(line.removeprefix("data: "))))
                        if event == "task":
                            return

    listener = asyncio.create_task(listen())

    async def snapshot_arrived() -> bool:
        return bool(received)

    await flow.wait_for(snapshot_arrived, within_s=10, what="the task snapshot")
    incident = await report(services, household, "paperwork_service")
    await asyncio.wait_for(listener, 30)
    kind, change = received[-1]
    assert kind == "task"
    assert change["incident_id"] == incident  # type: ignore[index]
    assert change["events"] == ["gridloop.incident.assigned.v1"]  # type: ignore[index]
    async with httpx.AsyncClient(
        base_url=services["dispatch"].url,
        headers=await flow.signed_in(services["dispatch"].url, "C01"),
    ) as client:
        tasks = (
            await client.get(
                "/v1/me/tasks", headers=await flow.signed_in(services["dispatch"].url, officer)
            )
        ).json()
    assert incident in [task["incident_id"] for task in tasks]


async def test_an_officer_off_duty_is_skipped_until_back_on_duty(
    services: dict[str, ServiceProcess],
) -> None:
    household = household_not_led_by_its_leader(11)
    officer = flow.LINKED_MEMBER[household]
    me = await flow.signed_in(services["dispatch"].url, officer)
    async with httpx.AsyncClient(
        base_url=services["dispatch"].url,
        headers=await flow.signed_in(services["dispatch"].url, "C01"),
    ) as client:
        assert (
            await client.post("/v1/me/duty", json={"on_duty": False}, headers=me)
        ).status_code == 204
        away = await report(services, household, "paperwork_service")

        async def assigned(incident: str) -> dict:  # type: ignore[type-arg]
            async def ready() -> bool:
                return (await client.get(f"/v1/cases/{incident}")).status_code == 200

            await flow.wait_for(ready, within_s=30, what="assignment")
            return (await client.get(f"/v1/cases/{incident}")).json()

        case = await assigned(away)
        assert case["assignee_id"] != officer
        assert f"linked member {officer} is off duty" in case["reason"]
        assert (
            await client.post("/v1/me/duty", json={"on_duty": True}, headers=me)
        ).status_code == 204
        back = await assigned(await report(services, household, "paperwork_service"))
        assert back["assignee_id"] == officer
        assert (await client.post("/v1/me/heartbeat", headers=me)).status_code == 204
        forged = {"Authorization": "Bearer not.a.token"}
        assert (await client.get("/v1/me/tasks", headers=forged)).status_code == 401
