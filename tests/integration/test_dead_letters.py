"""Poison records land in the dead-letter topic with the reason; the partitions keep flowing.

Poison is what cannot be decoded, and also a well-formed event whose values the database
refuses: its batch is tried again one event at a time, and that event alone is rejected.
"""

import asyncio
import uuid
from collections import Counter

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.demo.processes import ServiceProcess
from tests.support import flow, reports

POISON = [
    ([("ce_type", b"gridloop.incident.reported.v1")], b"{not json", "missing CloudEvents"),
    (
        [
            ("ce_specversion", b"1.0"),
            ("ce_id", b"p-2"),
            ("ce_source", b"test"),
            ("ce_type", b"gridloop.incident.reported.v1"),
        ],
        b"{not json",
        "not JSON",
    ),
    (
        [
            ("ce_specversion", b"1.0"),
            ("ce_id", b"p-3"),
            ("ce_source", b"test"),
            ("ce_type", b"gridloop.incident.exploded.v1"),
        ],
        b"{}",
        "unknown event type",
    ),
    (
        [
            ("ce_specversion", b"1.0"),
            ("ce_id", b"p-4"),
            ("ce_source", b"test"),
            ("ce_type", b"gridloop.incident.reported.v2"),
        ],
        b"{}",
        "unknown event type",
    ),
    (
        [
            ("ce_specversion", b"1.0"),
            ("ce_id", b"p-5"),
            ("ce_source", b"test"),
            ("ce_type", b"gridloop.incident.reported.v1"),
            ("ce_time", b"2026-01-01T00:00:00+00:00"),
        ],
        b'{"incident_id": "not an id", "category": 7}',
        "payload does not match",
    ),
]


REFUSED = "refused by the database"


async def _produce_poison(run_env: dict[str, str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=run_env["KAFKA_BOOTSTRAP_SERVERS"])
    await producer.start()
    try:
        for partition in range(int(run_env["TOPIC_PARTITIONS"])):
            for headers, value, _ in POISON:
                await producer.send_and_wait(
                    run_env["TOPIC_REPORTS"],
                    value=value,
                    headers=headers,
                    key=str(uuid.uuid4()).encode(),
                    partition=partition,
                )
    finally:
        await producer.stop()
    for partition in range(int(run_env["TOPIC_PARTITIONS"])):
        # Well formed, but with text PostgreSQL cannot store (a NUL character).
        unstorable = reports.reported(description="stairwell\u0000blocked", household_id="H0001")
        await reports.produce(
            run_env["KAFKA_BOOTSTRAP_SERVERS"],
            run_env["TOPIC_REPORTS"],
            [unstorable],
            partition=partition,
        )


async def _dead_letters(run_env: dict[str, str], expected: int) -> list[dict[str, str]]:
    consumer = AIOKafkaConsumer(
        run_env["TOPIC_DEAD_LETTERS"],
        bootstrap_servers=run_env["KAFKA_BOOTSTRAP_SERVERS"],
        auto_offset_reset="earliest",
        group_id=f"test-dlq-{uuid.uuid4().hex[:8]}",
    )
    await consumer.start()
    found: list[dict[str, str]] = []
    try:
        async with asyncio.timeout(60):
            while len(found) < expected:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    found.extend(
                        {name: value.decode() for name, value in record.headers}
                        for record in records
                    )
    finally:
        await consumer.stop()
    return found


async def test_poison_goes_to_dead_letters_and_good_reports_still_flow(
    services: dict[str, ServiceProcess], run_env: dict[str, str], intake_key: str
) -> None:
    await _produce_poison(run_env)
    households = flow.distinct_households(12, seed=3)
    reported = await flow.report_all(services["intake"].url, households, api_key=intake_key)

    async with httpx.AsyncClient(
        base_url=services["dispatch"].url,
        headers=await flow.signed_in(services["dispatch"].url, "C01"),
    ) as client:

        async def all_assigned() -> bool:
            for incident in reported:
                response = await client.get(f"/v1/cases/{incident}")
                if response.status_code != 200:
                    return False
            return True

        await flow.wait_for(all_assigned, within_s=60, what="good reports assigned past poison")

    partitions = int(run_env["TOPIC_PARTITIONS"])
    # Both dispatch and the ledger read the reports topic, so each poison record is
    # dead-lettered once per consumer group.
    letters = await _dead_letters(run_env, expected=2 * partitions * (len(POISON) + 1))
    groups = {letter["dlq_consumer_group"] for letter in letters}
    assert groups == {run_env["DISPATCH_CONSUMER_GROUP"], run_env["LEDGER_CONSUMER_GROUP"]}
    for _, _, reason in POISON:
        matching = [letter for letter in letters if reason in letter["dlq_reason"]]
        assert len(matching) >= 2 * partitions, reason
    assert all(letter["dlq_source_topic"] == run_env["TOPIC_REPORTS"] for letter in letters)
    refused = Counter(
        letter["dlq_consumer_group"] for letter in letters if REFUSED in letter["dlq_reason"]
    )
    assert refused == {
        run_env["DISPATCH_CONSUMER_GROUP"]: partitions,
        run_env["LEDGER_CONSUMER_GROUP"]: partitions,
    }
