"""Recurrence links: each closed case's next report of another case at its place and category.

重复发生率 asks, for every case closed in a period, whether another case of the same place and
category was reported within N days of the closure (and by `as_of`). That holds exactly when
the first such report after the closure falls within both limits, so the ledger keeps that
first report per closure (`ledger_recurrence`) and updates it in the appending transaction,
for the closures a batch can have moved: its own closures, and the closures of a place and
category not yet followed by a report before the earliest report time the batch changed.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common import driver
from services.ledger.adapters.tables import RECURRENCE
from services.ledger.domain.state import CaseState

# What a case contributes: a report at (place, category, time) and maybe a closure.
Facts = tuple[str | None, str | None, datetime | None, datetime | None]

_NONE: Facts = (None, None, None, None)
_NEXT_REPORT = """
    (select min(n.sort_at) from ledger_incident_state n
     where n.place_key = c.place_key and n.category = c.category
       and n.sort_at > c.first_closed_at and n.incident_id <> c.incident_id)
"""
_LINKS_OF = f"""
    insert into ledger_recurrence (incident_id, place_key, category, closed_at, next_report_at)
    select c.incident_id, c.place_key, c.category, c.first_closed_at, {_NEXT_REPORT}
    from ledger_incident_state c
    where c.first_closed_at is not null and c.place_key is not null and c.category is not null
"""
_FOLLOW = f"""
    with points(place_key, category, since) as (
        select * from unnest($1::text[], $2::text[], $3::timestamptz[])),
    affected as (
        select incident_id from unnest($4::uuid[]) as changed(incident_id)
        union
        select r.incident_id from ledger_recurrence r
        join points p on r.place_key = p.place_key and r.category = p.category
        where r.next_report_at is null or r.next_report_at >= p.since)
    {_LINKS_OF} and c.incident_id in (select incident_id from affected)
    on conflict (incident_id) do update set place_key = excluded.place_key,
        category = excluded.category, closed_at = excluded.closed_at,
        next_report_at = excluded.next_report_at
"""


def facts_of(state: CaseState) -> Facts:
    """The fields of a case that links depend on."""
    return (state.place_key, state.category, state.sort_at, state.first_closed_at)


@dataclass(frozen=True)
class Moves:
    """What a batch changed: closures to link again, links to drop, report times per place."""

    closures: list[uuid.UUID]
    lapsed: list[uuid.UUID]
    since: dict[tuple[str, str], datetime]


def moved(before: Mapping[uuid.UUID, Facts], after: Sequence[CaseState]) -> Moves:
    """The changed closures, and the earliest report time changed per place and category."""
    moves = Moves(closures=[], lapsed=[], since={})
    for state in after:
        old, new = before.get(state.incident_id, _NONE), facts_of(state)
        if old == new:
            continue
        if _closure(new):
            moves.closures.append(state.incident_id)
        elif _closure(old):
            moves.lapsed.append(state.incident_id)
        if old[:3] == new[:3]:  # its report did not move: only its own link can change
            continue
        for place, category, reported, _ in (old, new):
            if place is None or category is None or reported is None:
                continue
            earliest = moves.since.get((place, category))
            moves.since[(place, category)] = (
                reported if earliest is None else min(earliest, reported)
            )
    return moves


async def follow(
    *, connection: AsyncConnection, before: Mapping[uuid.UUID, Facts], after: Sequence[CaseState]
) -> None:
    """Bring the links up to date after `after` were saved (`before`: their facts until now)."""
    moves = moved(before, after)
    database = await driver.of(connection)
    if moves.lapsed:
        await database.execute(
            "delete from ledger_recurrence where incident_id = any($1::uuid[])", moves.lapsed
        )
    if not moves.closures and not moves.since:
        return
    pairs = list(moves.since.items())
    await database.execute(
        _FOLLOW,
        [place for (place, _), _ in pairs],
        [category for (_, category), _ in pairs],
        [moment for _, moment in pairs],
        moves.closures,
    )


def _closure(facts: Facts) -> bool:
    place, category, _, closed = facts
    return place is not None and category is not None and closed is not None


async def rebuild(*, connection: AsyncConnection) -> None:
    """Derive every link again from the case states (after a replay)."""
    await connection.execute(delete(RECURRENCE))
    await connection.execute(text(_LINKS_OF))
