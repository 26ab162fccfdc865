"""Counts of cases and members for the dispatch gauges: read-only aggregate queries."""

from datetime import datetime

from sqlalchemy import and_, func, not_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common.events import CaseStatus
from services.dispatch.adapters.case_repo import OPEN_STATUSES
from services.dispatch.adapters.tables import CaseRow, GridRow, MemberRow

# Statuses in which the loop is not closed yet: waiting, being handled, or awaiting verification.
NOT_CLOSED = (
    CaseStatus.REPORTED,
    CaseStatus.ASSIGNED,
    CaseStatus.ACCEPTED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.RESOLVED,
    CaseStatus.ESCALATED,
    CaseStatus.REOPENED,
)


async def grid_ids(*, session: AsyncSession) -> list[str]:
    """Every grid on the roster."""
    return list((await session.execute(select(col(GridRow.id)))).scalars().all())


async def not_closed_by_grid_and_status(
    *, session: AsyncSession
) -> dict[tuple[str | None, str], int]:
    """(grid, status) → how many cases are not closed."""
    query = (
        select(col(CaseRow.grid_id), col(CaseRow.status), func.count())
        .where(col(CaseRow.status).in_(NOT_CLOSED))
        .group_by(col(CaseRow.grid_id), col(CaseRow.status))
    )
    return {(grid, status): count for grid, status, count in (await session.execute(query)).all()}


async def overdue_by_grid(
    *, session: AsyncSession, now: datetime
) -> dict[tuple[str | None, str], int]:
    """(grid, stage) → open, running cases past their acknowledgement or resolution deadline."""
    running = and_(not_(col(CaseRow.parked)), not_(col(CaseRow.extension_pending)))
    acknowledge = and_(
        col(CaseRow.status) == CaseStatus.ASSIGNED, col(CaseRow.acknowledge_due_at) < now
    )
    resolve = and_(col(CaseRow.status).in_(OPEN_STATUSES), col(CaseRow.resolve_due_at) < now)
    counts: dict[tuple[str | None, str], int] = {}
    for stage, late in (("acknowledge", acknowledge), ("resolve", resolve)):
        query = (
            select(col(CaseRow.grid_id), func.count())
            .where(running, late)
            .group_by(col(CaseRow.grid_id))
        )
        for grid, count in (await session.execute(query)).all():
            counts[(grid, stage)] = count
    return counts


async def members(*, session: AsyncSession) -> list[MemberRow]:
    """Every member on the roster."""
    return list((await session.execute(select(MemberRow))).scalars().all())
