"""The transactional outbox: events are stored with the change, then relayed to Kafka in order.

A command hands its own events to the producer right after its commit (low latency) and
goes on; `Confirmations` waits for the broker's acknowledgements and marks them sent. The
relay sends whatever is left unsent (a crash between commit and acknowledgement, a refused
send), oldest first. A duplicate send carries the same event id, which consumers
de-duplicate.
"""

import asyncio
import functools
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import database, driver, envelope, runtime
from services.common.group_commit import GroupCommit
from services.common.held_connection import HeldConnection
from services.common.kafka import Publisher
from services.dispatch.adapters import tables
from services.dispatch.adapters.tables import OutboxRow

logger = logging.getLogger(__name__)


class Stored(Protocol):
    """An event as the outbox holds it, encoded for Kafka."""

    @property
    def event_id(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def event_type(self) -> str: ...
    @property
    def key(self) -> bytes: ...
    @property
    def value(self) -> bytes: ...
    @property
    def headers(self) -> list[list[str]]: ...


@dataclass(frozen=True)
class Outgoing:
    """An event of this transaction, encoded; stored by `store`, then published by `send`."""

    event_id: str
    incident_id: uuid.UUID
    topic: str
    event_type: str
    key: bytes
    value: bytes
    headers: list[list[str]]


def encoded(topic: str, events: Sequence[envelope.CloudEvent]) -> list[Outgoing]:
    """Events encoded for Kafka, ready to be stored in the same transaction as the change."""
    rows = []
    for event in events:
        record = envelope.encode(event)
        rows.append(
            Outgoing(
                event_id=event.id,
                incident_id=event.data.incident_id,
                topic=topic,
                event_type=event.type,
                key=record.key,
                value=record.value,
                headers=[[name, value.decode()] for name, value in record.headers],
            )
        )
    return rows


# One execution for the whole unit of work (see `database.column_arrays`); `seq` follows the
# rows' order, as they are inserted in the order of the arrays.
_STORE = text(
    f"insert into {tables.OUTBOX.name}"
    " (event_id, incident_id, topic, event_type, key, value, headers, created_at)"
    " select event_id, incident_id, topic, event_type, key, value, cast(headers as json),"
    " cast(:created_at as timestamptz)"
    " from unnest(cast(:event_id as text[]), cast(:incident_id as uuid[]),"
    " cast(:topic as text[]), cast(:event_type as text[]), cast(:key as bytea[]),"
    " cast(:value as bytea[]), cast(:headers as text[])) with ordinality"
    " as event(event_id, incident_id, topic, event_type, key, value, headers, position)"
    " order by position"
)

MARK_SENT = f"update {tables.OUTBOX.name} set sent_at = $2 where event_id = any($1::text[])"


async def store(*, session: AsyncSession, rows: Sequence[Outgoing], now: datetime) -> None:
    """Add the events to the outbox in the open transaction, in order (after a flush of the
    session's own changes, which this plain insert does not trigger)."""
    if rows:
        connection = await session.connection()
        await connection.execute(
            _STORE,
            {
                **database.column_arrays(
                    rows, "event_id", "incident_id", "topic", "event_type", "key", "value"
                ),
                "headers": [json.dumps(row.headers) for row in rows],
                "created_at": now,
            },
        )


def _records(rows: Sequence[Stored]) -> list[tuple[str, str, envelope.KafkaRecordOut]]:
    return [
        (
            row.topic,
            row.event_type,
            envelope.KafkaRecordOut(
                key=row.key,
                value=row.value,
                headers=[(name, value.encode()) for name, value in row.headers],
            ),
        )
        for row in rows
    ]


async def send(
    rows: Sequence[Stored],
    *,
    publisher: Publisher,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Publish stored events in order, wait for the broker, and mark them sent."""
    if not rows:
        return
    await publisher.publish_records(_records(rows))
    async with sessions() as session, session.begin():
        connection = await session.connection()
        await mark_sent(await driver.of(connection), [row.event_id for row in rows])


async def mark_sent(connection: Any, event_ids: Sequence[str]) -> None:
    """The broker has these events: the relay leaves them alone. One statement on an
    asyncpg `connection`, without the ORM."""
    await connection.execute(MARK_SENT, list(event_ids), datetime.now(UTC))


class Confirmations:
    """Events handed to the producer whose acknowledgement is still to come.

    `hand_over` queues a unit of work's events in order and returns. As each unit's
    acknowledgement arrives its events are marked sent, those of every unit acknowledged
    meanwhile in one statement (a group commit). An event the broker refuses, or one still
    unacknowledged at `close`, stays unsent: the relay sends it again. A broker that stops
    answering holds up `hand_over` itself (the producer's buffer fills), so unacknowledged
    units cannot pile up in memory.
    """

    def __init__(self, publisher: Publisher, engine: AsyncEngine) -> None:
        self._publisher = publisher
        # Marks are written one group at a time, each statement its own transaction.
        self._held = HeldConnection(engine)
        self._marks: GroupCommit[list[str], None] = GroupCommit(
            self._mark_sent, name="outbox sent marks"
        )
        self._unacknowledged: set[asyncio.Task[None]] = set()

    async def hand_over(self, rows: Sequence[Stored]) -> None:
        """Give the stored events to the producer, in order, after their commit."""
        if not rows:
            return
        acknowledged = await self._publisher.hand_over_records(_records(rows))
        self._unacknowledged.add(acknowledged)
        acknowledged.add_done_callback(
            functools.partial(self._settled, [row.event_id for row in rows])
        )

    async def close(self, *, timeout_s: float = 5.0) -> None:
        """Wait a while for the acknowledgements outstanding now, mark them, then stop;
        acknowledgements arriving after that are left for the relay to send again."""
        if self._unacknowledged:
            await asyncio.wait(set(self._unacknowledged), timeout=timeout_s)
        await self._marks.close()
        await self._held.close()

    def _settled(self, event_ids: list[str], acknowledged: asyncio.Task[None]) -> None:
        self._unacknowledged.discard(acknowledged)
        if acknowledged.cancelled():
            return
        error = acknowledged.exception()
        if error is not None:  # the relay sends them again, whatever the cause
            logger.warning(
                "%d events not acknowledged (%r); left to the relay", len(event_ids), error
            )
        elif not self._marks.closed:
            self._marks.post(event_ids)

    async def _mark_sent(self, units: Sequence[list[str]]) -> list[None]:
        async with self._held.driver() as connection:
            await mark_sent(connection, [event_id for unit in units for event_id in unit])
        return [None] * len(units)


async def relay(
    stop: asyncio.Event,
    *,
    publisher: Publisher,
    sessions: async_sessionmaker[AsyncSession],
    grace: timedelta = timedelta(seconds=3),
    interval_s: float = 1.0,
) -> None:
    """Send events left unsent for longer than `grace`, until `stop` is set."""
    while not stop.is_set():
        try:
            async with sessions() as session:
                query = (
                    select(OutboxRow)
                    .where(
                        col(OutboxRow.sent_at).is_(None),
                        col(OutboxRow.created_at) < datetime.now(UTC) - grace,
                    )
                    .order_by(col(OutboxRow.seq))
                    .limit(500)
                )
                stale = list((await session.execute(query)).scalars().all())
            if stale:
                logger.warning("relaying %d unsent events", len(stale))
                await send(stale, publisher=publisher, sessions=sessions)
        except Exception:
            logger.exception("outbox relay failed; retrying")
        await runtime.pause(stop, interval_s)
