"""The recurrence links kept at ingest equal the ones derived from scratch, and replay's.

Cases at a few places are recorded in shuffled batches, reports arriving late (which moves a
case's report time, and gives it a place), so that links must move as batches land.
"""

import random
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger import bootstrap, kpis, recording, replay
from services.ledger.adapters import states
from services.ledger.domain import cohort
from services.ledger.domain.cohort import Period, Scope
from services.ledger.domain.state import CaseState
from services.ledger.settings import LedgerSettings
from tests.unit.ledger.stories import START, Story, arrival

pytestmark = pytest.mark.stack
Links = dict[uuid.UUID, tuple[str, str, datetime, datetime | None]]


def _stories(generator: random.Random) -> list[Story]:
    stories = []
    for n in range(60):
        story = Story(
            start=START + timedelta(hours=generator.randrange(0, 24 * 20)),
            household=f"H{generator.randrange(3)}",
            category=generator.choice(["clutter", "noise"]),
        )
        if n % 4 == 0:
            story.reported(0).assigned(5, "P001")  # still open
        elif n % 7 == 0:
            story.closed_loop().reopened(6000).closed(6100)
        else:
            story.closed_loop()
        stories.append(story)
    return stories


async def _states(engine: AsyncEngine) -> list[CaseState]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("select * from ledger_incident_state"))
        return [states.state_of(row) for row in rows.mappings()]


async def _links(engine: AsyncEngine) -> Links:
    async with engine.connect() as connection:
        rows = await connection.execute(text("select * from ledger_recurrence"))
        return {
            row.incident_id: (row.place_key, row.category, row.closed_at, row.next_report_at)
            for row in rows
        }


def _from_scratch(cases: list[CaseState]) -> Links:
    """Each closure's first later report of another case at its place and category."""
    links: Links = {}
    for case in cases:
        if case.first_closed_at is None or case.place_key is None or case.category is None:
            continue
        later = [
            other.sort_at
            for other in cases
            if other.incident_id != case.incident_id
            and (other.place_key, other.category) == (case.place_key, case.category)
            and other.sort_at is not None
            and other.sort_at > case.first_closed_at
        ]
        links[case.incident_id] = (
            case.place_key,
            case.category,
            case.first_closed_at,
            min(later, default=None),
        )
    return links


async def test_links_kept_batch_by_batch_equal_the_ones_derived_from_scratch(
    engine: AsyncEngine,
) -> None:
    await bootstrap.migrate(engine)
    generator = random.Random(20261128)
    arrived = arrival(_stories(generator), generator)
    offset = 0
    while offset < len(arrived):
        size = generator.randrange(1, 40)
        await recording.record_batch(arrived[offset : offset + size], engine=engine)
        offset += size
        assert await _links(engine) == _from_scratch(await _states(engine)), offset
    live = await _links(engine)
    assert sum(1 for link in live.values() if link[3] is not None) >= 10
    await replay.rebuild(engine=engine)
    assert await _links(engine) == live


@pytest.mark.parametrize("window_days", [1, 30])
async def test_the_recurrence_counts_equal_the_reference_for_any_period(
    engine: AsyncEngine, window_days: int
) -> None:
    await bootstrap.migrate(engine)
    generator = random.Random(window_days)
    arrived = arrival(_stories(generator), generator)
    for offset in range(0, len(arrived), 25):
        await recording.record_batch(arrived[offset : offset + 25], engine=engine)
    cases = await _states(engine)
    settings = LedgerSettings(recurrence_days=window_days)
    limits = kpis.limits_of(settings)
    seen = []
    for first_day, days, as_of_day in ((0, 30, 30), (3, 5, 8), (3, 5, 6), (10, 4, 11)):
        start = START + timedelta(days=first_day)
        period = Period(
            start=start, end=start + timedelta(days=days), as_of=START + timedelta(days=as_of_day)
        )
        for scope, by in ((Scope(), None), (Scope(category="noise"), "grid")):
            report = await kpis.compute(
                engine=engine, settings=settings, scope=scope, period=period, by=by
            )
            in_scope = [case for case in cases if scope.admits(case)]
            expected = cohort.recurrence(cases, in_scope, period=period, limits=limits)
            counts = report.overall.counts
            assert (counts.closed_in_period, counts.recurred) == expected, (period, scope)
            seen.append(expected)
    assert any(0 < recurred < closed for closed, recurred in seen)
