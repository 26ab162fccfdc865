"""Writing and reading the ledger in PostgreSQL."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import envelope
from services.ledger.tables import IncidentState, LedgerEntry


async def append_new(
    *, session: AsyncSession, batch: Sequence[envelope.CloudEvent], now: datetime
) -> set[str]:
    """Append the events not yet recorded; the ids of those this call wrote."""
    rows = [
        {
            "event_id": event.id,
            "incident_id": event.data.incident_id,
            "type": event.type,
            "source": event.source,
            "occurred_at": event.data.occurred_at,
            "recorded_at": now,
            "payload": event.data.model_dump(mode="json"),
        }
        for event in batch
    ]
    statement = (
        insert(LedgerEntry)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(col(LedgerEntry.event_id))
    )
    return set((await session.execute(statement)).scalars().all())


async def lock_states(
    *, session: AsyncSession, incident_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, IncidentState]:
    """The state rows of these incidents, created when missing, locked in a stable order."""
    ordered = sorted(set(incident_ids))
    await session.execute(
        insert(IncidentState)
        .values(
            [
                {
                    "incident_id": incident_id,
                    "status": "reported",
                    "status_rank": 0,
                    "event_count": 0,
                }
                for incident_id in ordered
            ]
        )
        .on_conflict_do_nothing(index_elements=["incident_id"])
    )
    query = (
        select(IncidentState)
        .where(col(IncidentState.incident_id).in_(ordered))
        .order_by(col(IncidentState.incident_id))
        .with_for_update()
    )
    states = (await session.execute(query)).scalars().all()
    return {state.incident_id: state for state in states}


async def timeline(*, session: AsyncSession, incident_id: uuid.UUID) -> list[LedgerEntry]:
    """Every entry of one incident in the order it happened."""
    query = (
        select(LedgerEntry)
        .where(col(LedgerEntry.incident_id) == incident_id)
        .order_by(col(LedgerEntry.occurred_at), col(LedgerEntry.seq))
    )
    return list((await session.execute(query)).scalars().all())


async def counts_by_status(*, session: AsyncSession) -> dict[str, int]:
    """How many incidents are in each status."""
    query = select(col(IncidentState.status), func.count()).group_by(col(IncidentState.status))
    return dict((await session.execute(query)).all())
