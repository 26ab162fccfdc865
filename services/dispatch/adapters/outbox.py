"""The transactional outbox: events are stored with the change, then relayed to Kafka in order.

A command publishes its own events right after its commit (low latency); the relay sends
whatever is left unsent (a crash between commit and publish), oldest first. A duplicate
send carries the same event id, which consumers de-duplicate.
"""

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import envelope, runtime
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


async def store(*, session: AsyncSession, rows: Sequence[Outgoing], now: datetime) -> None:
    """Add the events to the outbox in the open transaction, in order."""
    if rows:
        await session.execute(
            insert(tables.OUTBOX),
            [
                {
                    "event_id": row.event_id,
                    "incident_id": row.incident_id,
                    "topic": row.topic,
                    "event_type": row.event_type,
                    "key": row.key,
                    "value": row.value,
                    "headers": row.headers,
                    "created_at": now,
                }
                for row in rows
            ],
        )


async def send(
    rows: Sequence[Stored],
    *,
    publisher: Publisher,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Publish stored events in order and mark them sent."""
    if not rows:
        return
    await publisher.publish_records(
        [
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
    )
    async with sessions() as session, session.begin():
        await session.execute(
            update(OutboxRow)
            .where(col(OutboxRow.event_id).in_([row.event_id for row in rows]))
            .values(sent_at=datetime.now(UTC))
        )


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
