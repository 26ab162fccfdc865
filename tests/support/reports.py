"""`incident.reported` events made by tests, and ways to put events on a topic directly."""

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from services.common import envelope, events
from services.common.publisher import Publisher
from tests.support import flow, offsets


def reported(
    *,
    description: str = "test",
    category: str = "clutter",
    household_id: str | None = None,
    grid_id: str | None = None,
) -> envelope.CloudEvent:
    """A report as intake publishes it, with a fresh incident id and event id (grid G01 when
    neither a household nor a grid is given)."""
    data = events.IncidentReported(
        incident_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        channel=events.Channel.HOTLINE,
        category=category,
        description=description,
        household_id=household_id,
        grid_id=grid_id or (None if household_id else "G01"),
    )
    return envelope.new_event(event_id=str(uuid.uuid4()), source="test", data=data)


async def publish_reports(
    publisher: Publisher, topic: str, count: int, *, description: str = "test"
) -> list[str]:
    """`count` reports published one after another; their event ids."""
    sent = []
    for _ in range(count):
        event = reported(description=description)
        await publisher.publish(topic, event)
        sent.append(event.id)
    return sent


async def produce(
    bootstrap_servers: str,
    topic: str,
    batch: Sequence[envelope.CloudEvent],
    *,
    partition: int | None = None,
    linger_ms: int = 0,
) -> None:
    """Put events on a topic as another producer would: all sent, then all awaited (with
    `linger_ms`, in as few produce requests as that allows)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, linger_ms=linger_ms)
    await producer.start()
    try:
        sends = []
        for event in batch:
            record = envelope.encode(event)
            sends.append(
                await producer.send(
                    topic,
                    value=record.value,
                    key=record.key,
                    headers=record.headers,
                    partition=partition,
                )
            )
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def wait_committed(
    servers: str, group: str, topics: Sequence[str], *, partitions: int, within_s: float
) -> None:
    """Poll until `group` has committed every record on `topics` published so far."""
    async with offsets.probe(servers) as kafka:
        ends = await kafka.ends(topics, partitions=partitions)

        async def committed() -> bool:
            return await kafka.uncommitted(group, ends) == 0

        await flow.wait_for(committed, within_s=within_s, what=f"{group} to commit everything")
