"""What intake does with the lifecycle topic: queue status callbacks, retire ended cases.

Consumed in intake's own consumer group through ConsumerLoop, which commits the offsets only
after this handler returns: the outbox rows are in PostgreSQL by then (delivery ids are
deterministic, so a redelivered event queues nothing twice), and the geo index is updated.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import envelope, events
from services.intake import statuses
from services.intake.adapters.geo_index import GeoIndex
from services.intake.adapters.tables import CallbackDeliveryRow
from services.intake.callbacks import domain
from services.intake.callbacks import repository as callbacks_repo
from services.intake.reports import repository as reports_repo

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dependencies:
    sessions: async_sessionmaker[AsyncSession]
    geo: GeoIndex


async def on_lifecycle(batch: Sequence[envelope.CloudEvent], *, deps: Dependencies) -> None:
    """Queue a callback per status change and subscriber; forget cases that have ended."""
    changes = [event for event in batch if events.status_after(event.data) is not None]
    if not changes:
        return
    ended = {
        event.data.incident_id
        for event in changes
        if events.status_after(event.data) in statuses.ENDED
    }
    now = datetime.now(UTC)
    async with deps.sessions() as session, session.begin():
        subscribers = await callbacks_repo.subscribers_of(
            session=session, incident_ids={event.data.incident_id for event in changes}
        )
        by_incident: dict[object, list[callbacks_repo.Subscriber]] = {}
        for subscriber in subscribers:
            by_incident.setdefault(subscriber.incident_id, []).append(subscriber)
        deliveries = [
            _delivery(event, subscriber, now=now)
            for event in changes
            for subscriber in by_incident.get(event.data.incident_id, [])
        ]
        await callbacks_repo.enqueue(session=session, deliveries=deliveries)
        await reports_repo.mark_ended(session=session, incident_ids=ended, now=now)
    await deps.geo.remove(ended)
    if deliveries:
        logger.info("queued %d status callbacks", len(deliveries))


def _delivery(
    event: envelope.CloudEvent, subscriber: callbacks_repo.Subscriber, *, now: datetime
) -> CallbackDeliveryRow:
    delivery = domain.delivery_id(integrator_id=subscriber.integrator_id, event_id=event.id)
    status = events.status_after(event.data)
    assert status is not None
    return CallbackDeliveryRow(
        delivery_id=delivery,
        integrator_id=subscriber.integrator_id,
        subscription_id=subscriber.subscription_id,
        url=subscriber.url,
        incident_id=event.data.incident_id,
        event_id=event.id,
        status=status.value,
        payload=domain.payload(event, delivery=delivery, reports=subscriber.reports),
        created_at=now,
        next_attempt_at=now,
    )
