"""Status callbacks: signed, retried with backoff, logged, and never in the pipeline's way."""

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from services.intake.integrators import signatures
from tests.integration.intake import helpers
from tests.integration.intake.conftest import Stack
from tests.integration.intake.receiver import Receiver
from tests.support import flow


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    started = Receiver(stall_s=5.0).start()
    yield started
    started.stop()


def register(stack: Stack, integrator: helpers.Integrator, url: str) -> str:
    """Register a callback URL; return the signing secret shown once."""
    answer = httpx.put(
        f"{stack.intake.url}/v1/callbacks", json={"url": url}, headers=integrator.headers
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["signing_secret"])


async def report(stack: Stack, integrator: helpers.Integrator, household: str) -> str:
    body = helpers.report_body(location=None, household_id=household, category="home_service")
    async with httpx.AsyncClient(base_url=stack.intake.url, headers=integrator.headers) as client:
        started = time.monotonic()
        answer = await client.post("/v1/incidents", json=body)
        assert answer.status_code == 202
        assert time.monotonic() - started < 1.5, "reports must not wait for callbacks"
    return str(answer.json()["incident_id"])


async def test_every_status_change_arrives_signed_after_retries_and_is_logged(
    stack: Stack, receiver: Receiver
) -> None:
    city = helpers.issue_key(stack, integrator_id="city-callbacks")
    secret = register(stack, city, f"{receiver.url}/flaky/2")
    incident = await report(stack, city, "H0201")

    async def delivered(status: str) -> list:
        return [
            d
            for d in receiver.received("/flaky/")
            if json.loads(d.body)["incident_id"] == incident
            and json.loads(d.body)["status"] == status
        ]

    async def assigned_delivered() -> list | None:
        tries = await delivered("assigned")
        return tries if any(d.answered == 200 for d in tries) else None

    tries = await helpers.wait_until(assigned_delivered, within_s=30, what="assigned callback")
    assert [d.answered for d in tries] == [500, 500, 200]
    assert [d.headers["X-Gridloop-Attempt"] for d in tries] == ["1", "2", "3"]
    assert len({d.headers["X-Gridloop-Delivery"] for d in tries}) == 1
    for attempt in tries:
        signatures.verify(
            message=signatures.callback_message(
                timestamp=attempt.headers["X-Gridloop-Timestamp"], body=attempt.body
            ),
            timestamp=attempt.headers["X-Gridloop-Timestamp"],
            signature=attempt.headers["X-Gridloop-Signature"],
            secret=secret,
            now_s=time.time(),
            window_s=300,
        )
    payload = json.loads(tries[-1].body)
    assert payload["open311_status"] == "open"
    assert payload["status_note"] == "assigned to the responsible grid officer"
    assert payload["reports"][0]["report_id"] == incident

    committee = await flow.signed_in(stack.dispatch.url, "C01")
    async with httpx.AsyncClient(base_url=stack.dispatch.url, headers=committee) as dispatch:
        case = (await dispatch.get(f"/v1/cases/{incident}")).json()
        lead = await flow.signed_in(stack.dispatch.url, case["assignee_id"])
        accepted = await dispatch.post(f"/v1/cases/{incident}/accept", headers=lead)
        assert accepted.status_code == 200

    async def accepted_delivered() -> bool:
        return any(d.answered == 200 for d in await delivered("accepted"))

    await helpers.wait_until(accepted_delivered, within_s=30, what="accepted callback")
    log = httpx.get(
        f"{stack.intake.url}/v1/callbacks/deliveries",
        params={"incident_id": incident},
        headers=city.headers,
    ).json()
    by_status = {entry["status"]: entry for entry in log}
    assert set(by_status) == {"assigned", "accepted"}
    assigned = by_status["assigned"]
    assert assigned["state"] == "delivered" and assigned["attempts"] == 3
    assert [a["status_code"] for a in assigned["attempt_log"]] == [500, 500, 200]
    gaps = [a["attempted_at"] for a in assigned["attempt_log"]]
    assert gaps == sorted(gaps)


async def test_a_dead_callback_is_given_up_after_the_last_attempt(
    stack: Stack, receiver: Receiver
) -> None:
    platform = helpers.issue_key(stack, integrator_id="dead-end")
    register(stack, platform, f"{receiver.url}/dead")
    incident = await report(stack, platform, "H0202")

    async def failed() -> list | None:
        log = httpx.get(
            f"{stack.intake.url}/v1/callbacks/deliveries",
            params={"incident_id": incident, "state": "failed"},
            headers=platform.headers,
        ).json()
        return log or None

    [entry] = await helpers.wait_until(failed, within_s=30, what="the delivery to be given up")
    assert entry["attempts"] == 4
    assert [a["status_code"] for a in entry["attempt_log"]] == [500] * 4


async def test_a_slow_callback_never_slows_reports_or_other_integrators(
    stack: Stack, receiver: Receiver
) -> None:
    slowpoke = helpers.issue_key(stack, integrator_id="slowpoke")
    prompt = helpers.issue_key(stack, integrator_id="prompt")
    register(stack, slowpoke, f"{receiver.url}/slow")
    register(stack, prompt, f"{receiver.url}/prompt")
    slow_cases = [await report(stack, slowpoke, f"H03{n:02d}") for n in range(6)]
    started = time.monotonic()
    prompt_case = await report(stack, prompt, "H0399")

    async def prompt_delivered() -> bool:
        return any(
            json.loads(d.body)["incident_id"] == prompt_case for d in receiver.received("/prompt")
        )

    await helpers.wait_until(prompt_delivered, within_s=15, what="the prompt integrator's callback")
    assert time.monotonic() - started < 5.0  # the slow endpoint stalls 5 s per attempt

    async def slow_ones_timed_out() -> bool:
        log = httpx.get(
            f"{stack.intake.url}/v1/callbacks/deliveries", headers=slowpoke.headers
        ).json()
        timed_out = {
            entry["incident_id"]
            for entry in log
            if any("Timeout" in (a["error"] or "") for a in entry["attempt_log"])
        }
        return set(slow_cases) <= timed_out

    await helpers.wait_until(slow_ones_timed_out, within_s=20, what="the slow attempts to time out")
