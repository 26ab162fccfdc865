"""Read queries over the case projection: filtered pages, a household's cases, counts."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, false, func, not_, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger.adapters import states
from services.ledger.adapters.tables import ANOMALY, STATE
from services.ledger.domain.sequence import Anomaly
from services.ledger.domain.state import UNRESOLVED, CaseState

Position = tuple[datetime, uuid.UUID]  # (sort_at, incident_id) of the last row of a page


@dataclass(frozen=True)
class CaseFilter:
    """Which cases a list shows; every field that is set must match."""

    status: str | None = None
    category: str | None = None
    channel: str | None = None
    grid: str | None = None
    member: str | None = None
    household: str | None = None
    source_system: str | None = None
    external_id: str | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    updated_since: datetime | None = None
    overdue: bool | None = None


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """SQL twin of `domain.state.is_overdue` (NULL-safe, so it can also be negated)."""

    def passed(column: ColumnElement[datetime]) -> ColumnElement[bool]:
        return func.coalesce(column < now, false())

    return and_(
        STATE.c.status.in_([status.value for status in UNRESOLVED]),
        not_(STATE.c.parked),
        or_(
            STATE.c.red_stage.is_not(None),
            passed(STATE.c.acknowledge_due_at),
            passed(STATE.c.resolve_due_at),
        ),
    )


def _where(query: Select, wanted: CaseFilter, now: datetime) -> Select:  # type: ignore[type-arg]
    equal = {
        STATE.c.status: wanted.status,
        STATE.c.category: wanted.category,
        STATE.c.channel: wanted.channel,
        STATE.c.grid_id: wanted.grid,
        STATE.c.household_id: wanted.household,
        STATE.c.source_system: wanted.source_system,
        STATE.c.external_id: wanted.external_id,
    }
    for column, value in equal.items():
        if value is not None:
            query = query.where(column == value)
    if wanted.member is not None:
        query = query.where(STATE.c.member_ids.contains([wanted.member]))
    if wanted.reported_from is not None:
        query = query.where(STATE.c.reported_at >= wanted.reported_from)
    if wanted.reported_to is not None:
        query = query.where(STATE.c.reported_at < wanted.reported_to)
    if wanted.updated_since is not None:
        query = query.where(STATE.c.updated_at >= wanted.updated_since)
    if wanted.overdue is not None:
        clause = overdue_clause(now)
        query = query.where(clause if wanted.overdue else not_(clause))
    return query


async def page(
    *,
    connection: AsyncConnection,
    wanted: CaseFilter,
    now: datetime,
    limit: int,
    after: Position | None = None,
) -> tuple[list[CaseState], Position | None]:
    """One page of matching cases, newest first, and where the next page starts (if any)."""
    query = _where(select(STATE), wanted, now)
    if after is not None:
        query = query.where(tuple_(STATE.c.sort_at, STATE.c.incident_id) < tuple_(*after))
    query = query.order_by(STATE.c.sort_at.desc(), STATE.c.incident_id.desc()).limit(limit + 1)
    rows = list((await connection.execute(query)).mappings())
    more = len(rows) > limit
    rows = rows[:limit]
    next_position = (rows[-1]["sort_at"], rows[-1]["incident_id"]) if more else None
    return [states.state_of(row) for row in rows], next_position


async def one(*, connection: AsyncConnection, incident_id: uuid.UUID) -> CaseState | None:
    """One case, or None when the ledger has never seen it."""
    row = (
        (await connection.execute(select(STATE).where(STATE.c.incident_id == incident_id)))
        .mappings()
        .first()
    )
    return states.state_of(row) if row else None


async def stream(
    *,
    connection: AsyncConnection,
    reported_from: datetime | None,
    reported_to: datetime | None,
    grid: str | None = None,
) -> AsyncIterator[CaseState]:
    """Cases by time of report (of one grid when given), through a server-side cursor."""
    query = select(STATE)
    if grid is not None:
        query = query.where(STATE.c.grid_id == grid)
    if reported_from is not None:
        query = query.where(STATE.c.sort_at >= reported_from)
    if reported_to is not None:
        query = query.where(STATE.c.sort_at < reported_to)
    result = await connection.stream(query.order_by(STATE.c.sort_at, STATE.c.incident_id))
    async for partition in result.mappings().partitions(1000):
        for row in partition:
            yield states.state_of(row)


async def counts_by_status(*, connection: AsyncConnection) -> dict[str, int]:
    """How many cases are in each status."""
    query = select(STATE.c.status, func.count().label("cases")).group_by(STATE.c.status)
    return {row.status: row.cases for row in (await connection.execute(query)).all()}


async def anomalies(
    *,
    connection: AsyncConnection,
    incident_id: uuid.UUID | None,
    kind: str | None,
    after: tuple[int, str] | None,
    limit: int,
) -> list[Anomaly]:
    """Anomalies in seq order, optionally of one incident or one kind."""
    query = select(ANOMALY)
    if incident_id is not None:
        query = query.where(ANOMALY.c.incident_id == incident_id)
    if kind is not None:
        query = query.where(ANOMALY.c.kind == kind)
    if after is not None:
        query = query.where(tuple_(ANOMALY.c.seq, ANOMALY.c.kind) > tuple_(*after))
    query = query.order_by(ANOMALY.c.seq, ANOMALY.c.kind).limit(limit)
    return [Anomaly(**row) for row in (await connection.execute(query)).mappings()]
