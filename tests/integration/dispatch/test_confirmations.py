"""Events handed to the producer after their commit reach the topic in order and are marked
sent once the broker has them; events the broker refuses stay unsent, for the relay."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select

from services.common import database, envelope
from services.common.runtime import Infrastructure
from services.dispatch import bootstrap
from services.dispatch.adapters import outbox, tables
from tests.support import flow, reports, stack


@pytest.fixture
async def infra(run_env: dict[str, str]) -> AsyncIterator[Infrastructure]:
    infra = await Infrastructure.start(stack.infra_settings(run_env), client_id="confirmations")
    await bootstrap.migrate(infra.engine)
    yield infra
    await infra.close()


INCIDENT = reports.reported(description="outbox").data


async def stored(infra: Infrastructure, topic: str, count: int) -> list[outbox.Outgoing]:
    """`count` events written to the outbox in one transaction, as a unit of work does; all of
    one incident, hence of one partition, where their order is promised."""
    rows = outbox.encoded(
        topic,
        [
            envelope.new_event(event_id=str(uuid.uuid4()), source="test", data=INCIDENT)
            for _ in range(count)
        ],
    )
    async with database.session_maker(infra.engine)() as session, session.begin():
        await outbox.store(session=session, rows=rows, now=datetime.now(UTC))
    return rows


async def sent_ids(infra: Infrastructure, rows: Sequence[outbox.Outgoing]) -> set[str]:
    async with infra.engine.connect() as connection:
        found = await connection.execute(
            select(tables.OUTBOX.c.event_id).where(
                tables.OUTBOX.c.event_id.in_([row.event_id for row in rows]),
                tables.OUTBOX.c.sent_at.is_not(None),
            )
        )
        return set(found.scalars())


async def on_topic(run_env: dict[str, str], topic: str) -> list[str]:
    """The event ids on the topic, from the start, in partition order."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=run_env["KAFKA_BOOTSTRAP_SERVERS"], auto_offset_reset="earliest"
    )
    await consumer.start()
    ids: list[str] = []
    try:
        while batches := await consumer.getmany(timeout_ms=2000):
            for records in batches.values():
                ids += [envelope.decode(record).id for record in records]
    finally:
        await consumer.stop()
    return ids


async def test_handed_over_events_arrive_in_order_and_are_marked_sent(
    infra: Infrastructure, run_env: dict[str, str]
) -> None:
    topic = run_env["TOPIC_LIFECYCLE"]
    confirmations = outbox.Confirmations(infra.publisher, infra.engine)
    units = [await stored(infra, topic, count) for count in (1, 5, 3)]
    for rows in units:
        await confirmations.hand_over(rows)
    every = [row for rows in units for row in rows]

    async def all_sent() -> bool:
        return await sent_ids(infra, every) == ids(every)

    await flow.wait_for(all_sent, within_s=20, what="every handed-over event marked sent")
    arrived = [event_id for event_id in await on_topic(run_env, topic) if event_id in ids(every)]
    assert arrived == [row.event_id for row in every]
    await confirmations.close()


async def test_close_marks_what_is_acknowledged_before_it_returns(
    infra: Infrastructure, run_env: dict[str, str]
) -> None:
    confirmations = outbox.Confirmations(infra.publisher, infra.engine)
    rows = await stored(infra, run_env["TOPIC_LIFECYCLE"], 4)
    await confirmations.hand_over(rows)
    await confirmations.close()
    assert await sent_ids(infra, rows) == ids(rows)

    late = await stored(infra, run_env["TOPIC_LIFECYCLE"], 2)
    await confirmations.hand_over(late)  # still published; marking it is left to the relay
    arrived = await on_topic(run_env, run_env["TOPIC_LIFECYCLE"])
    assert [event_id for event_id in arrived if event_id in ids(late)] == [
        row.event_id for row in late
    ]
    assert await sent_ids(infra, late) == set()


def ids(rows: Sequence[outbox.Outgoing]) -> set[str]:
    return {row.event_id for row in rows}


class RefusingPublisher:
    """Hands over like the real one, but the broker's answer to the first unit is a refusal."""

    def __init__(self, real: object) -> None:
        self._real = real
        self.refused = False

    async def hand_over_records(self, records: Sequence[object]) -> "asyncio.Task[None]":
        if not self.refused:
            self.refused = True

            async def refused() -> None:
                raise TimeoutError("no acknowledgement")

            return asyncio.create_task(refused())
        return await self._real.hand_over_records(records)  # type: ignore[attr-defined]


async def test_events_the_broker_refuses_stay_unsent_for_the_relay(
    infra: Infrastructure, run_env: dict[str, str]
) -> None:
    topic = run_env["TOPIC_LIFECYCLE"]
    confirmations = outbox.Confirmations(
        RefusingPublisher(infra.publisher),  # type: ignore[arg-type]
        infra.engine,
    )
    refused, accepted = await stored(infra, topic, 2), await stored(infra, topic, 2)
    await confirmations.hand_over(refused)
    await confirmations.hand_over(accepted)

    async def accepted_sent() -> bool:
        return await sent_ids(infra, accepted) == ids(accepted)

    await flow.wait_for(accepted_sent, within_s=20, what="the accepted events marked sent")
    assert await sent_ids(infra, refused) == set()
    await confirmations.close()


async def test_stored_events_read_back_as_the_relay_sends_them(
    infra: Infrastructure, run_env: dict[str, str]
) -> None:
    rows = await stored(infra, run_env["TOPIC_LIFECYCLE"], 5)
    columns = ("event_id", "topic", "event_type", "key", "value", "headers")
    async with infra.engine.connect() as connection:
        found = await connection.execute(
            select(*(tables.OUTBOX.c[name] for name in columns), tables.OUTBOX.c.sent_at)
            .where(tables.OUTBOX.c.event_id.in_([row.event_id for row in rows]))
            .order_by(tables.OUTBOX.c.seq)
        )
        read = [tuple(record) for record in found]
    assert read == [(*(getattr(row, name) for name in columns), None) for row in rows]
