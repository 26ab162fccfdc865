"""The baselines, on the same machine in the same run: a bare FastAPI endpoint parsing the same
body (through `bench.intake_vs_bare`), and a raw aiokafka producer and consumer."""

import asyncio
import time
import uuid
from collections import Counter

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench import intake_vs_bare
from bench.e2e import load


def closed_loop_rps(
    name: str,
    port: int,
    headers: dict[str, str],
    *,
    requests: int,
    concurrency: int,
    pid: int | None,
) -> intake_vs_bare.Result:
    """Requests/s with `concurrency` connections each waiting for its answer, after a warm-up,
    and the server's CPU time over the measured requests."""
    for count in (requests // 8, requests):
        cpu_before = intake_vs_bare.cpu_seconds(pid)
        result = asyncio.run(
            intake_vs_bare.drive(
                name,
                port,
                requests=count,
                concurrency=concurrency,
                headers=headers,
                fresh_key=False,
            )
        )
        cpu_after = intake_vs_bare.cpu_seconds(pid)
        if cpu_before is not None and cpu_after is not None:
            result.cpu_s = cpu_after - cpu_before
    return result


def combined(rounds: list[intake_vs_bare.Result]) -> intake_vs_bare.Result:
    """Several rounds against one server as one result: their requests over their time."""
    statuses: Counter[int] = Counter()
    for result in rounds:
        statuses.update(result.statuses)
    cpu = [result.cpu_s for result in rounds]
    return intake_vs_bare.Result(
        f"{rounds[0].name} ({len(rounds)} rounds)",
        sum(result.seconds for result in rounds),
        [latency for result in rounds for latency in result.latencies],
        statuses,
        None if None in cpu else sum(c for c in cpu if c is not None),
    )


async def raw_kafka(bootstrap: str, *, messages: int, partitions: int) -> dict[str, float]:
    """A raw producer (acks=all, idempotent) and consumer over a topic of its own, deleted after."""
    topic = f"bench.{uuid.uuid4().hex[:10]}.raw"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
        produced = await _produce(bootstrap, topic, messages)
        consumed = await _consume(bootstrap, topic, messages)
        await admin.delete_topics([topic])
    finally:
        await admin.close()
    return {"raw_kafka_produce_per_s": produced, "raw_kafka_consume_per_s": consumed}


async def _produce(bootstrap: str, topic: str, messages: int) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2
    )
    await producer.start()
    # The same size as a report, each keyed by its incident, 256 awaited sends in flight.
    value = load.report_body(0) * 2
    in_flight = asyncio.Semaphore(256)

    async def send() -> None:
        async with in_flight:
            await producer.send_and_wait(topic, value, key=uuid.uuid4().bytes)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(send() for _ in range(messages)))
        return round(messages / (time.perf_counter() - started), 1)
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, messages: int) -> float:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"{topic}.group",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        seen, started = 0, 0.0
        while seen < messages:
            batch = await consumer.getmany(timeout_ms=1000, max_records=500)
            if batch and not started:
                started = time.perf_counter()
            seen += sum(len(records) for records in batch.values())
            if batch:
                await consumer.commit()
        return round(messages / (time.perf_counter() - started), 1)
    finally:
        await consumer.stop()
