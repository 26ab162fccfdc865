"""intake_report: claim an idempotency identity, complete it, and answer who owns which case."""

import operator
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake.adapters.tables import ReportRow
from services.intake.reports.domain import Claim, Identity

T = ReportRow.__table__  # type: ignore[attr-defined]
CLAIMED = tuple(Claim.__slots__)
# The row type intake's migration 0002 creates, with CLAIMED's attributes in CLAIMED's order.
CLAIM_TYPE = "intake_claim"
_claimed_values = operator.attrgetter(*CLAIMED)
# Claims and acceptances are written in batches on a held asyncpg connection: one prepared
# statement whatever the batch size, the claims bound as one array of rows (asyncpg binds
# that for about half the CPU of one array per column). The acceptances that gathered
# meanwhile ride along with the next claims (a data-modifying WITH runs whether or not the
# insert reads it), so a batch costs one statement and one commit, not two.
CLAIM_SQL = (
    f"with accepted as (update {T.name} set state = 'accepted' "
    "where report_id = any($2::uuid[])) "
    f"insert into {T.name} ({', '.join(CLAIMED)}, state) "
    f"select *, 'pending' from unnest($1::{CLAIM_TYPE}[]) "
    "on conflict do nothing returning report_id"
)
# What a claim may fail with: through SQLAlchemy (connecting) or asyncpg (the statement).
STORE_ERRORS = (SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


async def claim_many(
    *, driver: Any, reports: Sequence[Claim], accepted: Sequence[uuid.UUID]
) -> list[bool]:
    """Insert each report unless its identity is taken; True for those this call took.

    In the same statement, mark `accepted` (reports whose events the broker has): their answers
    are final. `driver` is an asyncpg connection in autocommit mode. Within one batch only the
    first of several copies of one report can take it.
    """
    rows = [_claimed_values(report) for report in reports]
    inserted = {row[0] for row in await driver.fetch(CLAIM_SQL, rows, list(accepted))}
    taken: list[bool] = []
    for report in reports:
        taken.append(report.report_id in inserted)
        inserted.discard(report.report_id)
    return taken


async def find(*, session: AsyncSession, identity: Identity) -> ReportRow | None:
    """The report stored under this Idempotency-Key or (source system, external id)."""
    matches = []
    if identity.idempotency_key is not None:
        matches.append(T.c.idempotency_key == identity.idempotency_key)
    if identity.external_id is not None:
        matches.append(
            and_(
                T.c.source_system == identity.source_system,
                T.c.external_id == identity.external_id,
            )
        )
    statement = (
        select(ReportRow).where(T.c.integrator_id == identity.integrator_id, or_(*matches)).limit(1)
    )
    return (await session.execute(statement)).scalars().first()


async def take_over(
    *, session: AsyncSession, report_id: uuid.UUID, now: datetime, lease_until: datetime
) -> bool:
    """Take a pending report whose lease ran out (its first request died mid-way)."""
    statement = (
        update(T)
        .where(T.c.report_id == report_id, T.c.state == "pending", T.c.lease_until < now)
        .values(lease_until=lease_until)
        .returning(T.c.report_id)
    )
    return (await session.execute(statement)).first() is not None


async def forget(*, session: AsyncSession, report_id: uuid.UUID) -> None:
    """The broker refused the report: free its identity for a retry."""
    await session.execute(delete(T).where(T.c.report_id == report_id, T.c.state == "pending"))


async def owns(*, session: AsyncSession, integrator_id: str, incident_id: uuid.UUID) -> bool:
    """Did this integrator report this case (or join a report to it)?"""
    statement = select(T.c.report_id).where(
        T.c.integrator_id == integrator_id, T.c.incident_id == incident_id
    )
    return (await session.execute(statement.limit(1))).first() is not None


async def owned_among(
    *, session: AsyncSession, integrator_id: str, incident_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these cases this integrator reported."""
    ids = list(incident_ids)
    if not ids:
        return set()
    statement = select(T.c.incident_id).where(
        T.c.integrator_id == integrator_id, T.c.incident_id.in_(ids)
    )
    return set((await session.execute(statement)).scalars().all())


async def first_report(*, session: AsyncSession, incident_id: uuid.UUID) -> ReportRow | None:
    """The report that opened the case, when intake took it."""
    statement = select(ReportRow).where(T.c.report_id == incident_id)
    return (await session.execute(statement)).scalars().first()


async def merged_count(*, session: AsyncSession, incident_id: uuid.UUID) -> int:
    """How many further reports joined the case."""
    statement = select(func.count()).where(T.c.incident_id == incident_id, T.c.merged.is_(True))
    return int((await session.execute(statement)).scalar_one())


async def mark_ended(
    *, session: AsyncSession, incident_ids: Iterable[uuid.UUID], now: datetime
) -> None:
    """Cases that were closed, cancelled or transferred."""
    ids = list(incident_ids)
    if ids:
        await session.execute(
            update(T).where(T.c.incident_id.in_(ids), T.c.ended_at.is_(None)).values(ended_at=now)
        )


async def open_located_since(*, session: AsyncSession, since: datetime) -> list[ReportRow]:
    """Cases opened with coordinates since `since` that have not ended: the geo index's source."""
    statement = select(ReportRow).where(
        T.c.merged.is_(False),
        T.c.ended_at.is_(None),
        T.c.created_at >= since,
        T.c.lat.is_not(None),
        T.c.lon.is_not(None),
    )
    return list((await session.execute(statement)).scalars().all())
