"""Callback subscriptions, the delivery outbox and its attempt log."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake.adapters.tables import (
    CallbackAttemptRow,
    CallbackDeliveryRow,
    CallbackSubscriptionRow,
    ReportRow,
)

DELIVERIES = CallbackDeliveryRow.__table__  # type: ignore[attr-defined]
ATTEMPTS = CallbackAttemptRow.__table__  # type: ignore[attr-defined]
REPORTS = ReportRow.__table__  # type: ignore[attr-defined]
SUBSCRIPTIONS = CallbackSubscriptionRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Subscriber:
    """An integrator with a callback URL that reported a case, and its reports of it."""

    incident_id: uuid.UUID
    integrator_id: str
    subscription_id: str
    url: str
    reports: list[dict[str, object]]


async def subscription(
    *, session: AsyncSession, integrator_id: str
) -> CallbackSubscriptionRow | None:
    """The integrator's callback, if it registered one."""
    return await session.get(CallbackSubscriptionRow, integrator_id, populate_existing=True)


async def subscribe(*, session: AsyncSession, row: CallbackSubscriptionRow) -> None:
    """Register or replace the integrator's callback."""
    statement = insert(SUBSCRIPTIONS).values(**row.model_dump())
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[SUBSCRIPTIONS.c.integrator_id],
            set_={
                "subscription_id": statement.excluded.subscription_id,
                "url": statement.excluded.url,
                "created_at": statement.excluded.created_at,
            },
        )
    )


async def unsubscribe(*, session: AsyncSession, integrator_id: str) -> bool:
    """Remove the callback and cancel what was still waiting to go out."""
    existing = await subscription(session=session, integrator_id=integrator_id)
    if existing is None:
        return False
    await session.delete(existing)
    await session.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.integrator_id == integrator_id, DELIVERIES.c.state == "pending")
        .values(state="cancelled")
    )
    return True


async def subscribers_of(
    *, session: AsyncSession, incident_ids: Iterable[uuid.UUID]
) -> list[Subscriber]:
    """For each case, the integrators with a callback that reported it."""
    ids = list(incident_ids)
    if not ids:
        return []
    statement = (
        select(
            REPORTS.c.incident_id,
            REPORTS.c.integrator_id,
            SUBSCRIPTIONS.c.subscription_id,
            SUBSCRIPTIONS.c.url,
            REPORTS.c.report_id,
            REPORTS.c.source_system,
            REPORTS.c.external_id,
            REPORTS.c.merged,
        )
        .join(SUBSCRIPTIONS, SUBSCRIPTIONS.c.integrator_id == REPORTS.c.integrator_id)
        .where(REPORTS.c.incident_id.in_(ids))
        .order_by(REPORTS.c.created_at)
    )
    found: dict[tuple[uuid.UUID, str], Subscriber] = {}
    for row in (await session.execute(statement)).all():
        subscriber = found.setdefault(
            (row.incident_id, row.integrator_id),
            Subscriber(row.incident_id, row.integrator_id, row.subscription_id, row.url, []),
        )
        subscriber.reports.append(
            {
                "report_id": str(row.report_id),
                "source_system": row.source_system,
                "external_id": row.external_id,
                "merged": row.merged,
            }
        )
    return list(found.values())


async def enqueue(*, session: AsyncSession, deliveries: Sequence[CallbackDeliveryRow]) -> None:
    """Add deliveries to the outbox; one already there (a redelivered event) is left alone."""
    if deliveries:
        rows = [delivery.model_dump() for delivery in deliveries]
        await session.execute(insert(DELIVERIES).values(rows).on_conflict_do_nothing())


async def claim_due(
    *, session: AsyncSession, now: datetime, lease_until: datetime, limit: int
) -> list[CallbackDeliveryRow]:
    """Due deliveries, leased to this worker; replicas skip rows another one holds."""
    due = (
        select(DELIVERIES.c.delivery_id)
        .where(DELIVERIES.c.state == "pending", DELIVERIES.c.next_attempt_at <= now)
        .order_by(DELIVERIES.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(DELIVERIES)
        .where(DELIVERIES.c.delivery_id.in_(due.scalar_subquery()))
        .values(next_attempt_at=lease_until)
        .returning(*DELIVERIES.c)
    )
    rows = (await session.execute(statement)).mappings().all()
    return [CallbackDeliveryRow.model_validate(dict(row)) for row in rows]


async def record_attempt(
    *, session: AsyncSession, delivery: CallbackDeliveryRow, attempt: CallbackAttemptRow
) -> None:
    """Log the attempt and store the delivery's new state."""
    session.add(attempt)
    await session.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.delivery_id == delivery.delivery_id)
        .values(
            state=delivery.state,
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
        )
    )


async def deliveries(
    *,
    session: AsyncSession,
    integrator_id: str,
    incident_id: uuid.UUID | None,
    state: str | None,
    limit: int,
) -> list[tuple[CallbackDeliveryRow, list[CallbackAttemptRow]]]:
    """The integrator's delivery log, newest first, each with its attempts."""
    statement = select(CallbackDeliveryRow).where(DELIVERIES.c.integrator_id == integrator_id)
    if incident_id is not None:
        statement = statement.where(DELIVERIES.c.incident_id == incident_id)
    if state is not None:
        statement = statement.where(DELIVERIES.c.state == state)
    statement = statement.order_by(DELIVERIES.c.created_at.desc()).limit(limit)
    rows = list((await session.execute(statement)).scalars().all())
    if not rows:
        return []
    tries = select(CallbackAttemptRow).where(
        ATTEMPTS.c.delivery_id.in_([row.delivery_id for row in rows])
    )
    by_delivery: dict[uuid.UUID, list[CallbackAttemptRow]] = {}
    for attempt in (await session.execute(tries.order_by(ATTEMPTS.c.attempt))).scalars().all():
        by_delivery.setdefault(attempt.delivery_id, []).append(attempt)
    return [(row, by_delivery.get(row.delivery_id, [])) for row in rows]
