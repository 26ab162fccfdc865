"""The transactional outbox: events are stored with the change, then relayed to Kafka in order.

A command publishes its own events right after its commit (low latency); the relay sends
whatever is left unsent (a crash between commit and publish), oldest first. A duplicate
send carries the same event id, which consumers de-duplicate.
"""

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import envelope, runtime
from services.common.kafka import Publisher
from services.dispatch.adapters.tables import OutboxRow

logger = logging.getLogger(__name__)


def rows_for(
    topic: str, events: Sequence[envelope.CloudEvent], *, now: datetime
) -> list[OutboxRow]:
    """Encoded events ready to be stored in the same transaction as the change."""
    rows = []
    for event in events:
        record = envelope.encode(event)
        rows.append(
            OutboxRow(
                event_id=event.id,
                incident_id=event.data.incident_id,
                topic=topic,
                event_type=event.type,
                key=record.key,
                value=record.value,
                headers=[[name, value.decode()] for name, value in record.headers],
                created_at=now,
            )
        )
    return rows


async def send(
    rows: Sequence[OutboxRow],
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
            .where(col(OutboxRow.seq).in_([row.seq for row in rows]))
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
