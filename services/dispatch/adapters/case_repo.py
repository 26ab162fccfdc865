"""Cases in PostgreSQL: insert once, lock for a transition, count the open ones."""

import uuid
from collections.abc import Sequence

from sqlalchemy import cast, func, or_
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common.events import CaseStatus
from services.dispatch.adapters.tables import CaseRow

OPEN_STATUSES = (CaseStatus.ASSIGNED, CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS)


async def existing(*, session: AsyncSession, incident_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these incidents have a case."""
    if not incident_ids:
        return set()
    query = select(col(CaseRow.incident_id)).where(col(CaseRow.incident_id).in_(incident_ids))
    return set((await session.execute(query)).scalars().all())


async def get(*, session: AsyncSession, incident_id: uuid.UUID) -> CaseRow | None:
    """One case by incident id."""
    return await session.get(CaseRow, incident_id)


async def lock(*, session: AsyncSession, incident_id: uuid.UUID) -> CaseRow | None:
    """One case, locked until the transaction ends, so transitions on it are serialised."""
    query = select(CaseRow).where(col(CaseRow.incident_id) == incident_id).with_for_update()
    return (await session.execute(query)).scalars().first()


async def search(
    *,
    session: AsyncSession,
    status: str | None = None,
    assignee_id: str | None = None,
    grid_id: str | None = None,
    limit: int = 100,
) -> list[CaseRow]:
    """Cases matching the filters, oldest assignment first."""
    query = select(CaseRow)
    if status is not None:
        query = query.where(col(CaseRow.status) == status)
    if assignee_id is not None:
        query = query.where(col(CaseRow.assignee_id) == assignee_id)
    if grid_id is not None:
        query = query.where(col(CaseRow.grid_id) == grid_id)
    query = query.order_by(col(CaseRow.assigned_at)).limit(limit)
    return list((await session.execute(query)).scalars().all())


async def open_case_counts(*, session: AsyncSession) -> dict[str, int]:
    """Open cases per assignee, the truth the Redis load counters are rebuilt from."""
    query = (
        select(col(CaseRow.assignee_id), func.count())
        .where(col(CaseRow.status).in_(OPEN_STATUSES), col(CaseRow.assignee_id).is_not(None))
        .group_by(col(CaseRow.assignee_id))
    )
    return {assignee: count for assignee, count in (await session.execute(query)).all() if assignee}


async def tasks_of(
    *, session: AsyncSession, member_id: str, include_closed: bool = False
) -> list[CaseRow]:
    """Cases a member leads or co-handles."""
    co_handling = cast(col(CaseRow.co_handler_ids), JSONB).contains([member_id])
    query = select(CaseRow).where(or_(col(CaseRow.assignee_id) == member_id, co_handling))
    if not include_closed:
        query = query.where(col(CaseRow.status).in_([*OPEN_STATUSES, CaseStatus.RESOLVED]))
    return list((await session.execute(query.order_by(col(CaseRow.assigned_at)))).scalars().all())
