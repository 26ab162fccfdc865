"""Native reports: idempotent replays, a 100-request race, merging across channels, batches."""

import asyncio
import socket
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx

from services.common import events
from tests.integration.intake import helpers
from tests.integration.intake.conftest import Stack
from tests.integration.intake.helpers import Integrator, report_body
from tests.support import metrics_page, tokens


async def test_a_replay_returns_the_same_answer_and_publishes_nothing_new(
    stack: Stack, city: Integrator
) -> None:
    body = report_body(location={"lat": 30.1, "lon": 120.1})
    headers = {**city.headers, "Idempotency-Key": "replay-1"}
    async with httpx.AsyncClient(base_url=stack.intake.url) as client:
        first = await client.post("/v1/incidents", json=body, headers=headers)
        again = await client.post("/v1/incidents", json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    incident = first.json()["incident_id"]
    records = await helpers.records_of(stack.env, stack.env["TOPIC_REPORTS"], at_least=1)
    assert len([r for r in records if r[0]["ce_subject"] == incident]) == 1


async def test_the_same_external_id_is_a_replay_even_without_a_header(
    stack: Stack, city: Integrator
) -> None:
    body = report_body(
        location={"lat": 30.2, "lon": 120.2}, source_system="city-grid", external_id="SR-1"
    )
    async with httpx.AsyncClient(base_url=stack.intake.url, headers=city.headers) as client:
        first = await client.post("/v1/incidents", json=body)
        again = await client.post("/v1/incidents", json=body)
    assert first.status_code == again.status_code == 202
    assert again.json()["incident_id"] == first.json()["incident_id"]


async def test_the_same_key_with_another_body_is_refused_with_409(
    stack: Stack, city: Integrator
) -> None:
    headers = {**city.headers, "Idempotency-Key": "conflict-1"}
    async with httpx.AsyncClient(base_url=stack.intake.url, headers=headers) as client:
        first = await client.post("/v1/incidents", json=report_body(description="one thing"))
        other = await client.post("/v1/incidents", json=report_body(description="another"))
    assert first.status_code == 202
    assert other.status_code == 409
    assert "different report" in other.json()["detail"]


async def test_a_hundred_concurrent_identical_requests_open_one_incident(
    stack: Stack, city: Integrator
) -> None:
    body = report_body(
        channel="hotline", household_id="H0042", location=None, description="race for one case"
    )
    headers = {**city.headers, "Idempotency-Key": f"race-{uuid.uuid4()}"}
    async with httpx.AsyncClient(
        base_url=stack.intake.url,
        headers=headers,
        timeout=30,
        limits=httpx.Limits(max_connections=100),
    ) as client:
        answers = await asyncio.gather(
            *(client.post("/v1/incidents", json=body) for _ in range(100))
        )
    assert {answer.status_code for answer in answers} == {202}
    incidents = {answer.json()["incident_id"] for answer in answers}
    assert len(incidents) == 1
    incident = incidents.pop()
    records = await helpers.records_of(stack.env, stack.env["TOPIC_REPORTS"], at_least=1)
    assert len([r for r in records if r[0]["ce_subject"] == incident]) == 1

    async with httpx.AsyncClient(
        base_url=stack.ledger.url, headers=tokens.committee(stack.ledger.env)
    ) as ledger:

        async def recorded() -> dict | None:
            answer = await ledger.get(f"/v1/incidents/{incident}")
            return answer.json() if answer.status_code == 200 else None

        case = await helpers.wait_until(recorded, within_s=30, what="the ledger to record it")
    reported = [e for e in case["timeline"] if e["type"] == "gridloop.incident.reported.v1"]
    assert len(reported) == 1


async def test_every_taken_report_is_marked_accepted_and_replays_answer_at_once(
    stack: Stack, city: Integrator
) -> None:
    # Acceptances ride with later claims: each report's row is still marked accepted, keyed or
    # not, and a replay answers from it (a pending row would make it wait, then 409).
    keys = [f"accepted-{uuid.uuid4()}" if i % 2 else None for i in range(40)]

    def headers(key: str | None) -> dict[str, str]:
        return {**city.headers, **({"Idempotency-Key": key} if key else {})}

    async with httpx.AsyncClient(
        base_url=stack.intake.url, timeout=30, limits=httpx.Limits(max_connections=40)
    ) as client:
        bodies = [
            report_body(location=None, household_id="H0007", description=f"report {i}")
            for i in range(40)
        ]
        answers = await asyncio.gather(
            *(
                client.post("/v1/incidents", json=body, headers=headers(key))
                for body, key in zip(bodies, keys, strict=True)
            )
        )
        assert {answer.status_code for answer in answers} == {202}
        reports = [uuid.UUID(answer.json()["report_id"]) for answer in answers]
        database = stack.env["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(database)
        try:

            async def all_accepted() -> bool:
                rows = await connection.fetch(
                    "select state from intake_report where report_id = any($1::uuid[])", reports
                )
                return len(rows) == 40 and {row["state"] for row in rows} == {"accepted"}

            await helpers.wait_until(all_accepted, within_s=10, what="every report accepted")
        finally:
            await connection.close()
        replays = await asyncio.gather(
            *(
                client.post("/v1/incidents", json=body, headers=headers(key))
                for body, key in zip(bodies, keys, strict=True)
                if key
            )
        )
    assert all(replay.headers.get("Idempotent-Replayed") == "true" for replay in replays)
    keyed = [answer.json() for answer, key in zip(answers, keys, strict=True) if key]
    assert [replay.json() for replay in replays] == keyed


async def test_a_hotline_call_near_an_open_platform_case_joins_it_as_a_further_report(
    stack: Stack, city: Integrator
) -> None:
    here = {"lat": 30.3, "lon": 120.3}
    ten_metres_away = {"lat": 30.30009, "lon": 120.3}
    async with httpx.AsyncClient(base_url=stack.intake.url, headers=city.headers) as client:
        opened = await client.post("/v1/incidents", json=report_body(location=here))
        call = report_body(
            channel="hotline",
            location=ten_metres_away,
            description="a caller reports the same clutter",
            reporter={"phone": "13912345678"},
        )
        joined = await client.post("/v1/incidents", json=call)
        other_kind = await client.post(
            "/v1/incidents", json=report_body(location=ten_metres_away, category="wall_seepage")
        )
        far_away = await client.post(
            "/v1/incidents", json=report_body(location={"lat": 30.31, "lon": 120.3})
        )
    case = opened.json()["incident_id"]
    assert opened.json()["merged"] is False
    assert joined.status_code == 202
    assert joined.json()["merged"] is True
    assert joined.json()["incident_id"] == case
    assert joined.json()["report_id"] != case
    assert other_kind.json()["merged"] is False
    assert far_away.json()["merged"] is False
    records = await helpers.records_of(stack.env, stack.env["TOPIC_REPORTS"], at_least=2)
    merged = [
        value
        for headers, value, _ in records
        if headers["ce_type"] == "gridloop.incident.merged.v1" and headers["ce_subject"] == case
    ]
    assert len(merged) == 1
    assert merged[0]["report_id"] == joined.json()["report_id"]
    assert merged[0]["channel"] == "hotline"
    assert merged[0]["needs_callback"] is True
    assert merged[0]["reporter_phone_masked"] == "139****5678"


async def test_a_case_that_ended_takes_no_further_reports(stack: Stack, city: Integrator) -> None:
    place = {"lat": 30.4, "lon": 120.4}
    async with httpx.AsyncClient(base_url=stack.intake.url, headers=city.headers) as client:
        opened = (await client.post("/v1/incidents", json=report_body(location=place))).json()
        cancelled = events.IncidentCancelled(
            incident_id=uuid.UUID(opened["incident_id"]),
            occurred_at=datetime.now(UTC),
            cancelled_by="committee",
            reason="reported in error",
        )
        await helpers.publish_lifecycle(stack.env, cancelled, "cancelled")

        async def opens_a_new_case() -> bool:
            probe = report_body(location=place, description=f"probe {uuid.uuid4()}")
            return not (await client.post("/v1/incidents", json=probe)).json()["merged"]

        await helpers.wait_until(
            opens_a_new_case, within_s=30, what="the cancelled case to leave the geo index"
        )


async def test_a_batch_answers_each_report_on_its_own(stack: Stack, city: Integrator) -> None:
    batch = {
        "incidents": [
            report_body(location={"lat": 31.0, "lon": 121.0}, source_system="b", external_id="1"),
            report_body(location={"lat": 31.1, "lon": 121.1}, source_system="b", external_id="2"),
        ]
    }
    async with httpx.AsyncClient(base_url=stack.intake.url, headers=city.headers) as client:
        first = await client.post("/v1/incidents:batch", json=batch)
        batch["incidents"][1]["description"] = "changed under the same external id"
        second = await client.post("/v1/incidents:batch", json=batch)
        too_many = await client.post(
            "/v1/incidents:batch", json={"incidents": [report_body()] * 101}
        )
    assert first.status_code == 202
    assert [item["status_code"] for item in first.json()["results"]] == [202, 202]
    assert second.status_code == 207
    results = second.json()["results"]
    assert results[0]["incident_id"] == first.json()["results"][0]["incident_id"]
    assert results[1]["status_code"] == 409
    assert too_many.status_code == 422


async def test_camera_alerts_carry_their_camera_and_patrols_their_officer(
    stack: Stack, city: Integrator
) -> None:
    async with httpx.AsyncClient(base_url=stack.intake.url, headers=city.headers) as client:
        camera = await client.post("/v1/incidents", json=report_body(channel="camera"))
        patrol = await client.post("/v1/incidents", json=report_body(channel="patrol"))
        good_camera = await client.post(
            "/v1/incidents",
            json=report_body(channel="camera", camera_id="C01", location={"lat": 29, "lon": 119}),
        )
    assert camera.status_code == 422 and "camera_id" in camera.text
    assert patrol.status_code == 422 and "reported_by" in patrol.text
    assert good_camera.status_code == 202


def counted_reports(page: str, status: str) -> float:
    """How many report requests intake's request metrics counted with this status."""
    return metrics_page.value(
        page,
        "gridloop_http_requests_total",
        service="intake",
        route="/v1/incidents",
        method="POST",
        status=status,
    )


async def test_a_streamed_body_over_the_limit_gets_413(stack: Stack, city: Integrator) -> None:
    async def chunks():  # no Content-Length: the limit must hold while reading
        for _ in range(70):
            yield b" " * 1024

    async with httpx.AsyncClient(base_url=stack.intake.url, headers=city.headers) as client:
        before = (await client.get("/metrics")).text
        response = await client.post(
            "/v1/incidents", content=chunks(), headers={"content-type": "application/json"}
        )
        after = (await client.get("/metrics")).text
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    # The body cut off after the refusal is not a failure of intake's.
    assert counted_reports(after, "413") == counted_reports(before, "413") + 1
    assert counted_reports(after, "500") == counted_reports(before, "500")


async def test_phones_and_id_numbers_never_reach_kafka_the_ledger_or_the_logs(
    stack: Stack, city: Integrator
) -> None:
    phone, id_number = "13800138123", "33010219850412771X"
    body = report_body(
        channel="hotline",
        location={"lat": 30.5, "lon": 120.5},
        reporter={"name": "王小明", "phone": phone, "id_number": id_number},
    )
    async with httpx.AsyncClient(base_url=stack.intake.url, headers=city.headers) as client:
        answer = await client.post("/v1/incidents", json=body)
        refused = await client.post(
            "/v1/incidents", json={**body, "reporter": {"phone": phone, "id_number": "bad"}}
        )
    assert answer.status_code == 202
    assert refused.status_code == 422
    assert phone not in refused.text
    incident = answer.json()["incident_id"]
    records = await helpers.records_of(stack.env, stack.env["TOPIC_REPORTS"], at_least=1)
    mine = [(value, raw) for headers, value, raw in records if headers["ce_subject"] == incident]
    assert len(mine) == 1
    value, raw = mine[0]
    assert value["reporter_phone_masked"] == "138****8123"
    assert value["reporter_token"].startswith("pd1:")
    for secret in (phone, id_number, "王小明"):
        assert secret.encode() not in raw

    async with httpx.AsyncClient(
        base_url=stack.ledger.url, headers=tokens.committee(stack.ledger.env)
    ) as ledger:

        async def recorded() -> str | None:
            answer = await ledger.get(f"/v1/incidents/{incident}")
            return answer.text if answer.status_code == 200 else None

        stored = await helpers.wait_until(recorded, within_s=30, what="the ledger to record it")
    assert phone not in stored and id_number not in stored
    assert incident in stack.intake.log_tail(lines=1_000_000)  # the report was logged...
    for process in (stack.intake, stack.dispatch, stack.ledger):
        log = process.log_tail(lines=1_000_000)
        assert phone not in log and id_number not in log  # ...but not the reporter


async def test_a_caller_that_hangs_up_mid_body_is_counted_as_499_not_as_an_error(
    stack: Stack, city: Integrator
) -> None:
    head = (
        "POST /v1/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-API-Key: {city.api_key}\r\nContent-Length: 500\r\n\r\n"
    )
    async with httpx.AsyncClient(base_url=stack.intake.url) as client:
        before = (await client.get("/metrics")).text
        with socket.create_connection(("127.0.0.1", stack.intake.port), timeout=10) as caller:
            caller.sendall(head.encode() + b'{"channel": "hotl')  # 17 of the 500 bytes

        async def counted() -> str | None:
            after = (await client.get("/metrics")).text
            hung_up = counted_reports(after, "499") == counted_reports(before, "499") + 1
            return after if hung_up else None

        after = await helpers.wait_until(counted, within_s=10, what="the 499 to be counted")
    assert counted_reports(after, "500") == counted_reports(before, "500")
    assert "ClientDisconnect" not in stack.intake.log_tail(lines=1_000_000)
