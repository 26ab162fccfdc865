"""Ledger use cases: record a batch of events exactly once and keep the projection current."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import envelope
from services.ledger import projection, repository

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dependencies:
    sessions: async_sessionmaker[AsyncSession]


async def record_batch(batch: Sequence[envelope.CloudEvent], *, deps: Dependencies) -> None:
    """One transaction per batch: append new entries, then project only what was new."""
    unique = list({event.id: event for event in batch}.values())
    async with deps.sessions() as session, session.begin():
        written = await repository.append_new(session=session, batch=unique, now=datetime.now(UTC))
        fresh = [event for event in unique if event.id in written]
        if not fresh:
            return
        states = await repository.lock_states(
            session=session, incident_ids=[event.data.incident_id for event in fresh]
        )
        for event in fresh:
            state = states[event.data.incident_id]
            for field, value in projection.changes(
                status_rank=state.status_rank, event=event
            ).items():
                setattr(state, field, value)
            state.event_count += 1
            session.add(state)
    logger.debug("recorded %d of %d events", len(fresh), len(batch))
