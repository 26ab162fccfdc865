"""Deadline timers: durable rows in PostgreSQL, scheduled in a Redis sorted set by due time.

Redis may lose the schedule at any moment; `reconcile` puts back every pending timer from
PostgreSQL. Claiming is atomic (a Lua script removes what it returns), and firing is
recorded in PostgreSQL (`fired_at`), so each timer takes effect once even with several
dispatch instances and after a Redis restart.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy import text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import database
from services.dispatch.adapters import tables
from services.dispatch.adapters.tables import TimerRow
from services.dispatch.domain.deadlines import Timer, TimerKind

SCHEDULE_KEY = "gridloop:dispatch:timers"


class Scheduled(Protocol):
    """What the schedule needs of a timer, stored or about to be."""

    @property
    def id(self) -> str: ...

    @property
    def due_at(self) -> datetime: ...


@dataclass(frozen=True)
class NewTimer:
    """A timer about to be stored: plain values, lighter to make than a table row."""

    id: str
    incident_id: uuid.UUID
    kind: str
    attempt: int
    due_at: datetime


CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
"""


def timer_id(incident_id: uuid.UUID, kind: TimerKind, attempt: int) -> str:
    """One timer per incident, kind and assignment attempt (or pause cycle)."""
    return f"{incident_id}:{kind.value}:{attempt}"


class TimerSchedule:
    """The Redis side: what is due soon, claimable once."""

    def __init__(self, redis: Redis, *, namespace: str = "") -> None:
        self._redis = redis
        self._key = f"{SCHEDULE_KEY}{namespace}"
        self._claim = redis.register_script(CLAIM_DUE)

    async def add(self, timers: Sequence[Scheduled]) -> None:
        """Schedule timers (a timer already scheduled keeps its place)."""
        if timers:
            await self._redis.zadd(
                self._key, {row.id: row.due_at.timestamp() for row in timers}, nx=True
            )

    async def remove(self, timer_ids: Sequence[str]) -> None:
        """Unschedule cancelled timers."""
        if timer_ids:
            await self._redis.zrem(self._key, *timer_ids)

    async def claim_due(self, *, now: datetime, limit: int = 100) -> list[str]:
        """Take the timers that are due; no other instance gets the same ones."""
        claimed = await self._claim(keys=[self._key], args=[now.timestamp(), limit])
        return [item.decode() if isinstance(item, bytes) else item for item in claimed]

    async def size(self) -> int:
        """How many timers are scheduled."""
        return int(await self._redis.zcard(self._key))


def new_rows(incident_id: uuid.UUID, attempt: int, timers: Sequence[Timer]) -> list[NewTimer]:
    """Rows for timers of one assignment attempt."""
    return [
        NewTimer(
            id=timer_id(incident_id, timer.kind, attempt),
            incident_id=incident_id,
            kind=timer.kind.value,
            attempt=attempt,
            due_at=timer.due_at,
        )
        for timer in timers
    ]


# One execution for the whole batch (four timers per new case): see `database.column_arrays`.
_SAVE = text(
    f"insert into {tables.TIMER.name} (id, incident_id, kind, attempt, due_at, fired_at, cancelled)"
    " select id, incident_id, kind, attempt, due_at, null, false from unnest("
    "cast(:id as text[]), cast(:incident_id as uuid[]), cast(:kind as text[]),"
    " cast(:attempt as integer[]), cast(:due_at as timestamptz[]))"
    " as timer(id, incident_id, kind, attempt, due_at)"
    " on conflict (id) do update set incident_id = excluded.incident_id,"
    " kind = excluded.kind, attempt = excluded.attempt, due_at = excluded.due_at,"
    " fired_at = null, cancelled = false"
)


async def save(*, session: AsyncSession, rows: Sequence[NewTimer]) -> None:
    """Store pending timers in one statement; one that exists is replaced (a resumed clock)."""
    if not rows:
        return
    latest = list({row.id: row for row in rows}.values())  # scheduled twice: the last due time
    await session.execute(
        _SAVE, database.column_arrays(latest, "id", "incident_id", "kind", "attempt", "due_at")
    )


async def cancel(
    *, session: AsyncSession, incident_id: uuid.UUID, kinds: Sequence[TimerKind], now: datetime
) -> list[str]:
    """Cancel the pending timers of these kinds (they no longer fire); returns their ids."""
    statement = (
        update(TimerRow)
        .where(
            col(TimerRow.incident_id) == incident_id,
            col(TimerRow.kind).in_([kind.value for kind in kinds]),
            col(TimerRow.fired_at).is_(None),
        )
        .values(fired_at=now, cancelled=True)
        .returning(col(TimerRow.id))
    )
    return list((await session.execute(statement)).scalars().all())


async def mark_fired(*, session: AsyncSession, timer_id: str, now: datetime) -> TimerRow | None:
    """Record the firing; None when the timer already fired or was cancelled."""
    statement = (
        update(TimerRow)
        .where(col(TimerRow.id) == timer_id, col(TimerRow.fired_at).is_(None))
        .values(fired_at=now)
        .returning(TimerRow)
    )
    return (await session.execute(statement)).scalars().first()


async def pending(*, session: AsyncSession, before: datetime, limit: int = 5000) -> list[TimerRow]:
    """Timers not yet fired that fall due before `before`."""
    query = (
        select(TimerRow)
        .where(col(TimerRow.fired_at).is_(None), col(TimerRow.due_at) < before)
        .order_by(col(TimerRow.due_at))
        .limit(limit)
    )
    return list((await session.execute(query)).scalars().all())
