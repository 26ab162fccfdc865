"""Intake's front door against the real stack: clear refusals, and 503 rather than a lie."""

import asyncio
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from services.demo import integrator
from services.demo.processes import ServiceProcess

VALID = {
    "channel": "hotline",
    "category": "neighbour_dispute",
    "description": "neighbours quarrel over the stairs",
    "household_id": "H0001",
}


@pytest.fixture(scope="module")
def intake(run_env: dict[str, str], log_dir: Path):  # type: ignore[no-untyped-def]
    env = {**run_env, "INTAKE_PUBLISH_TIMEOUT_S": "2", "INTAKE_MAX_BODY_BYTES": "2048"}
    process = ServiceProcess("intake", env, log_dir).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def key_header(intake: ServiceProcess, run_env: dict[str, str]) -> dict[str, str]:
    return {"X-API-Key": integrator.provision_key(run_env, integrator="front-door")["api_key"]}


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        ({"assignee_id": "P001"}, 422, "Extra inputs are not permitted"),
        ({"category": "ufo_sighting"}, 422, "unknown category"),
        ({"channel": "carrier_pigeon"}, 422, "channel"),
        ({"household_id": None}, 422, "say where"),
        ({"description": ""}, 422, "description"),
        ({"location": {"lat": 123, "lon": 0}}, 422, "lat"),
        ({"reporter_phone": "call me"}, 422, "reporter_phone"),
        ({"description": "x" * 3000}, 413, "larger than 2048 bytes"),
    ],
)
def test_bad_reports_are_refused_with_the_reason(
    intake: ServiceProcess,
    key_header: dict[str, str],
    change: dict[str, object],
    status: int,
    says: str,
) -> None:
    body = {key: value for key, value in {**VALID, **change}.items() if value is not None}
    response = httpx.post(f"{intake.url}/v1/incidents", json=body, headers=key_header)
    assert response.status_code == status
    assert says in response.text


def test_malformed_json_is_refused(intake: ServiceProcess, key_header: dict[str, str]) -> None:
    response = httpx.post(
        f"{intake.url}/v1/incidents",
        content=b'{"channel": ',
        headers={"content-type": "application/json", **key_header},
    )
    assert response.status_code == 422
    assert "JSON" in response.text or "json" in response.text


def test_accepted_report_gets_an_incident_id(
    intake: ServiceProcess, key_header: dict[str, str]
) -> None:
    response = httpx.post(f"{intake.url}/v1/incidents", json=VALID, headers=key_header)
    assert response.status_code == 202
    assert set(response.json()) == {"incident_id", "report_id", "status", "merged"}
    assert response.json()["incident_id"] == response.json()["report_id"]


def test_a_report_without_a_key_is_refused(intake: ServiceProcess) -> None:
    response = httpx.post(f"{intake.url}/v1/incidents", json=VALID)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "ApiKey"


def test_answers_503_with_retry_after_when_the_broker_cannot_take_the_report(
    intake: ServiceProcess, run_env: dict[str, str], key_header: dict[str, str]
) -> None:
    async def delete_reports_topic() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=run_env["KAFKA_BOOTSTRAP_SERVERS"])
        await admin.start()
        try:
            await admin.delete_topics([run_env["TOPIC_REPORTS"]])
        finally:
            await admin.close()

    asyncio.run(delete_reports_topic())
    response = httpx.post(f"{intake.url}/v1/incidents", json=VALID, headers=key_header, timeout=30)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "not taken" in response.json()["detail"]
