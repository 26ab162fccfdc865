"""Small tools for intake's integration tests: keys, signed requests, the topics, the ledger."""

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.common import auth, envelope, events
from services.intake.integrators import signatures
from tests.support import tokens

if TYPE_CHECKING:
    from tests.integration.intake.conftest import Stack

INTAKE_TEST_SETTINGS = {
    "INTAKE_CALLBACK_ALLOW_PRIVATE": "true",
    "INTAKE_CALLBACK_BACKOFF_BASE_S": "0.2",
    "INTAKE_CALLBACK_MAX_ATTEMPTS": "4",
    "INTAKE_CALLBACK_TIMEOUT_S": "2",
    "INTAKE_CALLBACK_POLL_INTERVAL_S": "0.1",
}
EVERY_CHANNEL = [channel.value for channel in events.Channel]
EVERY_OPERATION = ["report", "feedback", "status", "open311", "callbacks"]


@dataclass(frozen=True)
class Integrator:
    integrator_id: str
    key_id: str
    api_key: str
    signing_secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}


def admin(env: dict[str, str]) -> dict[str, str]:
    """Headers of an operator signed in at dispatch: the admin API takes people's tokens."""
    return tokens.headers_for(env, "operator", auth.Role.OPERATOR)


def issue_key(stack: "Stack", *, integrator_id: str, **fields: Any) -> Integrator:
    """Issue a key through the admin API (every channel and operation unless narrowed)."""
    body = {"integrator_id": integrator_id, "channels": EVERY_CHANNEL}
    body |= {"operations": EVERY_OPERATION, **fields}
    url = f"{stack.intake.url}/admin/v1/keys"
    response = httpx.post(url, json=body, headers=admin(stack.env))
    assert response.status_code == 201, response.text
    issued = response.json()
    return Integrator(integrator_id, issued["key_id"], issued["api_key"], issued["signing_secret"])


def signed_headers(
    integrator: Integrator, *, method: str, path: str, body: bytes, at: float | None = None
) -> dict[str, str]:
    """Headers of a request signed as the documentation tells integrators to sign."""
    timestamp = str(int(at if at is not None else time.time()))
    message = signatures.request_message(timestamp=timestamp, method=method, path=path, body=body)
    return {
        **integrator.headers,
        "content-type": "application/json",
        signatures.TIMESTAMP_HEADER: timestamp,
        signatures.SIGNATURE_HEADER: signatures.sign(message, secret=integrator.signing_secret),
    }


def report_body(**changes: Any) -> dict[str, Any]:
    """A valid platform report, changed as asked (None removes a field)."""
    body: dict[str, Any] = {
        "channel": "platform",
        "category": "clutter",
        "description": "门前乱堆乱放 clutter in front of a house",
        "location": {"lat": 30.27, "lon": 120.15},
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


async def records_of(
    env: dict[str, str], topic: str, *, at_least: int, within_s: float = 30
) -> list[tuple[dict[str, str], dict[str, Any], bytes]]:
    """Every record on a topic (headers, JSON value, raw value), once `at_least` are there."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=f"test-reader-{uuid.uuid4().hex[:8]}",
    )
    await consumer.start()
    found: list[tuple[dict[str, str], dict[str, Any], bytes]] = []
    try:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    headers = {name: value.decode() for name, value in record.headers}
                    found.append((headers, json.loads(record.value), record.value))
            if len(found) >= at_least and not batch:
                break
    finally:
        await consumer.stop()
    assert len(found) >= at_least, f"only {len(found)} records on {topic}"
    return found


async def publish_lifecycle(env: dict[str, str], data: events.EventPayload, step: str) -> None:
    """Put a lifecycle event on the topic as dispatch would (for steps dispatch lacks today)."""
    event = envelope.new_event(
        event_id=events.event_id_for(data.incident_id, step), source="test/dispatch", data=data
    )
    record = envelope.encode(event)
    producer = AIOKafkaProducer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"])
    await producer.start()
    try:
        await producer.send_and_wait(
            env["TOPIC_LIFECYCLE"], value=record.value, key=record.key, headers=record.headers
        )
    finally:
        await producer.stop()


async def wait_until(check: Any, *, within_s: float, what: str) -> Any:
    """Poll an async check until it returns something truthy; fail naming what was awaited."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {within_s} s waiting for {what}")
