"""Callback use cases: an integrator registers a URL and reads its delivery log."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake.adapters.tables import CallbackSubscriptionRow
from services.intake.callbacks import domain, repository
from services.intake.callbacks.schemas import (
    AttemptPublic,
    CallbackPublic,
    CallbackRegister,
    CallbackRegistered,
    DeliveryPublic,
)
from services.intake.integrators import keys


class NoCallback(Exception):
    """The integrator has no callback registered (404)."""


@dataclass(frozen=True)
class Dependencies:
    sessions: async_sessionmaker[AsyncSession]
    signing_key: str
    allow_private: bool


def callback_secret(subscription_id: str, *, signing_key: str) -> str:
    """The secret that signs callbacks of one registration (derived, never stored)."""
    return keys.derived_secret(
        signing_key=signing_key, purpose=domain.SIGNING_PURPOSE, subject=subscription_id
    )


async def register(
    request: CallbackRegister, *, integrator_id: str, now: datetime, deps: Dependencies
) -> CallbackRegistered:
    """Register or replace the integrator's callback URL; a new registration has a new secret."""
    url = domain.check_url(request.url, allow_private=deps.allow_private)
    row = CallbackSubscriptionRow(
        integrator_id=integrator_id,
        subscription_id=secrets.token_hex(12),
        url=url,
        created_at=now,
    )
    async with deps.sessions() as session, session.begin():
        await repository.subscribe(session=session, row=row)
    return CallbackRegistered(
        subscription_id=row.subscription_id,
        url=row.url,
        created_at=row.created_at,
        signing_secret=callback_secret(row.subscription_id, signing_key=deps.signing_key),
    )


async def current(*, integrator_id: str, deps: Dependencies) -> CallbackPublic:
    """The registered callback."""
    async with deps.sessions() as session:
        row = await repository.subscription(session=session, integrator_id=integrator_id)
    if row is None:
        raise NoCallback(integrator_id)
    return CallbackPublic.model_validate(row.model_dump())


async def remove(*, integrator_id: str, deps: Dependencies) -> None:
    """Stop callbacks; deliveries still waiting are cancelled."""
    async with deps.sessions() as session, session.begin():
        removed = await repository.unsubscribe(session=session, integrator_id=integrator_id)
    if not removed:
        raise NoCallback(integrator_id)


async def delivery_log(
    *,
    integrator_id: str,
    incident_id: uuid.UUID | None,
    state: str | None,
    limit: int,
    deps: Dependencies,
) -> list[DeliveryPublic]:
    """The integrator's deliveries, newest first, each with every attempt."""
    async with deps.sessions() as session:
        found = await repository.deliveries(
            session=session,
            integrator_id=integrator_id,
            incident_id=incident_id,
            state=state,
            limit=limit,
        )
    return [
        DeliveryPublic(
            **delivery.model_dump(
                include={
                    "delivery_id",
                    "incident_id",
                    "event_id",
                    "status",
                    "state",
                    "attempts",
                    "created_at",
                    "next_attempt_at",
                    "delivered_at",
                    "last_status_code",
                    "last_error",
                    "payload",
                }
            ),
            attempt_log=[
                AttemptPublic.model_validate(attempt.model_dump()) for attempt in attempts
            ],
        )
        for delivery, attempts in found
    ]
