"""The indicator rows kept before each query equal the ones derived from scratch, and the
figures read from them equal the reference definition, as of any time.

Cases of every kind (closed, reopened after closing, cancelled, transferred, extended,
parked, warned, co-handled, rated again days later, reported again earlier elsewhere) are
recorded in shuffled batches, a third of the reports after their lifecycle: that moves a
case's report time, and a second report with an earlier time moves its place and household
too; both re-fold the case. The rows are brought up to date after some batches and compared with a
derivation from scratch; then the counts and timings of periods whose `as_of` falls inside
the cases' lifecycles (so that some are settled and some are not) are compared with
domain/cohort.py, for the whole community, every breakdown and some scopes.
"""

import asyncio
import dataclasses
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common import events
from services.ledger import bootstrap, kpis, recording, replay
from services.ledger.adapters import indicator_cases, kpi_queries, states
from services.ledger.domain import cohort
from services.ledger.domain.cohort import Period, Scope
from services.ledger.domain.state import CaseState
from services.ledger.settings import LedgerSettings
from tests.unit.ledger.stories import START, Story, arrival

pytestmark = pytest.mark.stack
DAY = 24 * 60
S, B, U = events.Rating.SATISFIED, events.Rating.BASICALLY_SATISFIED, events.Rating.UNSATISFIED


def _story(n: int, generator: random.Random) -> Story:
    """One case of kind n % 10, at one of a few places, grids and members."""
    kind = n % 10
    story = Story(
        start=START + timedelta(hours=generator.randrange(-24 * 5, 24 * 12)),
        household=f"H{generator.randrange(5)}" if generator.random() < 0.9 else None,
        grid=f"G{generator.randrange(1, 4)}",
        category=generator.choice(["clutter", "noise", "neighbour_dispute"]),
    )
    if kind == 9:  # at a place of its own kind, which it leaves (below)
        story.household, story.category = "H5", "noise"
    member = f"P00{generator.randrange(1, 5)}"
    due: dict[str, Any] = {
        "acknowledge_within": 30,
        "resolve_within": generator.choice([60, DAY, 3 * DAY]),
    }
    if kind == 0:  # still open, soon overdue
        story.reported(0).assigned(5, member, **due)
    elif kind == 1:
        story.closed_loop(rating=generator.choice([S, B, U, None]))
    elif kind == 2:  # reopened after closing, closed again days later
        story.closed_loop().reopened(2 * DAY).assigned(2 * DAY + 5, member).accepted(
            2 * DAY + 30
        ).resolved(3 * DAY).verified(3 * DAY + 60, rating=S).closed(3 * DAY + 90)
    elif kind == 3:
        story.reported(0).assigned(5, member).cancelled(generator.randrange(10, 2 * DAY))
    elif kind == 4:  # transferred out, then handled by the town
        story.reported(0).transferred(10).resolved(DAY, member="T01").closed(DAY + 60)
    elif kind == 5:  # extended, resolved late, failed verification, reworked
        story.reported(0).assigned(5, member, **due).accepted(90).extended(120, until=2 * DAY)
        story.resolved(3 * DAY).verified(3 * DAY + 30, passed=False, rating=U)
        story.reopened(3 * DAY + 31).assigned(3 * DAY + 40, member, attempt=2)
        story.accepted(3 * DAY + 50).resolved(4 * DAY).verified(4 * DAY + 10).closed(4 * DAY + 20)
    elif kind == 6:  # co-handled, rated again days after closing
        story.reported(0).assigned(5, member, co_handlers=("POLICE1",), **due).accepted(15)
        story.resolved(200).verified(260, rating=U).closed(300).feedback(5 * DAY, S)
    elif kind == 7:  # parked, warned red, never resolved
        story.reported(0).assigned(5, member, **due).accepted(20).warned(DAY).parked(2 * DAY)
    elif kind == 8:  # reopened days after closing, nothing since
        story.closed_loop(rating=B).reopened(generator.randrange(DAY, 4 * DAY))
    else:  # some are reported again earlier elsewhere, told last: the case moves away
        story.closed_loop()
        if generator.random() < 0.5:
            story.reported(-generator.randrange(60, 3 * DAY), household_id="H6")
    return story


def _binds(settings: LedgerSettings) -> dict[str, Any]:
    period = Period(start=START, end=START + timedelta(days=1), as_of=START)
    return kpi_queries.params(Scope(), period, kpis.limits_of(settings), settings.timezone)


async def _rows(connection: AsyncConnection) -> dict[str, list[tuple[object, ...]]]:
    found = {}
    for table in indicator_cases.TABLES:
        result = await connection.execute(text(f"select * from {table} order by 1, 2"))
        found[table] = [tuple(row) for row in result]
    return found


async def _kept(engine: AsyncEngine) -> dict[str, list[tuple[object, ...]]]:
    async with engine.connect() as connection:
        return await _rows(connection)


async def _from_scratch(engine: AsyncEngine, binds: dict[str, Any]) -> dict[str, list[Any]]:
    """Every row derived again from the states, in a transaction rolled back after."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        await indicator_cases.derive_all(connection=connection, binds=binds)
        rows = await _rows(connection)
        await transaction.rollback()
    return rows


async def _states(engine: AsyncEngine) -> list[CaseState]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("select * from ledger_incident_state"))
        return [states.state_of(row) for row in rows.mappings()]


async def _record(engine: AsyncEngine, seed: int) -> None:
    generator = random.Random(seed)
    arrived = arrival([_story(n, generator) for n in range(120)], generator)
    for offset in range(0, len(arrived), 37):
        await recording.record_batch(arrived[offset : offset + 37], engine=engine)


async def test_rows_kept_batch_by_batch_equal_the_ones_derived_from_scratch(
    engine: AsyncEngine,
) -> None:
    await bootstrap.migrate(engine)
    settings = LedgerSettings()
    binds = _binds(settings)
    generator = random.Random(20261128)
    arrived = arrival([_story(n, generator) for n in range(120)], generator)
    offset, checked = 0, 0
    while offset < len(arrived):
        size = generator.randrange(1, 30)
        await recording.record_batch(arrived[offset : offset + size], engine=engine)
        offset += size
        if generator.random() < 0.5:  # sometimes several batches between two queries
            continue
        if checked % 4 == 0:  # two queries at once: one derives, the other finds it done
            await asyncio.gather(
                *(indicator_cases.catch_up(engine=engine, binds=binds) for _ in range(2))
            )
        else:
            await indicator_cases.catch_up(engine=engine, binds=binds)
        assert await _kept(engine) == await _from_scratch(engine, binds), offset
        checked += 1
    await indicator_cases.catch_up(engine=engine, binds=binds)
    kept = await _kept(engine)
    assert kept == await _from_scratch(engine, binds)
    assert checked >= 10 and len(kept["ledger_indicator_case"]) == 120
    assert any(row[-1] for row in kept["ledger_indicator_link"])  # visits were kept
    async with engine.begin() as connection:  # a replay derives every row again
        await connection.execute(text("update ledger_indicator_case set counted = 0"))
    await replay.rebuild(engine=engine)
    await indicator_cases.catch_up(engine=engine, binds=binds)
    assert await _kept(engine) == kept
    other = _binds(LedgerSettings(resolve_limit_hours=1, close_grace_hours=0, recurrence_days=2))
    await indicator_cases.catch_up(engine=engine, binds=other)
    assert await _kept(engine) == await _from_scratch(engine, other) != kept


async def test_a_report_that_moves_away_no_longer_makes_a_closure_come_back(
    engine: AsyncEngine,
) -> None:
    await bootstrap.migrate(engine)
    binds = _binds(LedgerSettings())
    start = START + timedelta(days=40)
    closure = Story(start=start, household="M1", category="noise").closed_loop()
    later = Story(start=start + timedelta(days=1), household="M1", category="noise").reported(0)
    await recording.record_batch([*closure.events, *later.events], engine=engine)
    await indicator_cases.catch_up(engine=engine, binds=binds)
    assert await _came_back(engine, closure) == later.at(0)
    later.reported(-3 * DAY, household_id="M2")  # told last, it stands: the case moves
    await recording.record_batch(later.events[-1:], engine=engine)
    await indicator_cases.catch_up(engine=engine, binds=binds)
    assert await _came_back(engine, closure) is None
    assert await _kept(engine) == await _from_scratch(engine, binds)


async def _came_back(engine: AsyncEngine, story: Story) -> object:
    async with engine.connect() as connection:
        found = await connection.execute(
            text("select came_back_at from ledger_indicator_case where incident_id = :id"),
            {"id": story.incident_id},
        )
        return found.scalar_one()


def _in_month(month: str, timezone: str) -> Callable[[CaseState], bool]:
    zone = ZoneInfo(timezone)
    return lambda case: (
        case.sort_at is not None and (case.sort_at.astimezone(zone).strftime("%Y-%m") == month)
    )


def _reference(
    cases: list[CaseState],
    *,
    scope: Scope,
    period: Period,
    settings: LedgerSettings,
    admits: Callable[[CaseState], bool] = lambda _: True,
    coverage: bool = True,
) -> dict[str, object]:
    """The reference figures of the cases `admits` lets in (the recurrence still looks for
    later reports among all the cases)."""
    limits = kpis.limits_of(settings)
    chosen = [case for case in cases if admits(case)]
    counts, timings = cohort.reference_counts(chosen, scope=scope, period=period, limits=limits)
    in_scope = [case for case in chosen if scope.admits(case)]
    closed, recurred = cohort.recurrence(cases, in_scope, period=period, limits=limits)
    counts = dataclasses.replace(counts, closed_in_period=closed, recurred=recurred)
    if not coverage:
        counts = dataclasses.replace(counts, households_on_record=0, households_touched=0)
    return {"counts": dataclasses.asdict(counts), "timings": dataclasses.asdict(timings)}


def _served(figures: kpis.Figures) -> dict[str, object]:
    return {
        "counts": dataclasses.asdict(figures.counts),
        "timings": dataclasses.asdict(figures.timings),
    }


@pytest.mark.parametrize("resolve_limit_hours", [72, 1])
async def test_the_figures_equal_the_reference_as_of_any_time(
    engine: AsyncEngine, resolve_limit_hours: int
) -> None:
    await bootstrap.migrate(engine)
    await _record(engine, seed=resolve_limit_hours)
    settings = LedgerSettings(resolve_limit_hours=resolve_limit_hours, recurrence_days=3)
    cases = await _states(engine)
    breakdowns: dict[str, Callable[[str], dict[str, Any]]] = {
        "grid": lambda key: {"scope": Scope(grid=key)},
        "member": lambda key: {"scope": Scope(member=key)},
        "category": lambda key: {"scope": Scope(category=key), "coverage": False},
        "month": lambda key: {"admits": _in_month(key, settings.timezone), "coverage": False},
    }
    unsettled = 0
    for first_day, days, as_of_hours in ((-6, 22, 16 * 24), (-1, 3, 1 * 24), (3, 6, 5 * 24 + 7)):
        start = START + timedelta(days=first_day)
        period = Period(
            start=start,
            end=start + timedelta(days=days),
            as_of=START + timedelta(hours=as_of_hours),
        )
        unsettled += sum(1 for case in cases if _unsettled(case, period))
        for scope in (Scope(), Scope(grid="G2"), Scope(member="POLICE1", category="noise")):
            report = await kpis.compute(
                engine=engine, settings=settings, scope=scope, period=period
            )
            expected = _reference(cases, scope=scope, period=period, settings=settings)
            assert _served(report.overall) == expected, (period, scope)
        for by, group_of in breakdowns.items():
            report = await kpis.compute(
                engine=engine, settings=settings, scope=Scope(), period=period, by=by
            )
            whole = _reference(cases, scope=Scope(), period=period, settings=settings)
            assert _served(report.overall) == whole, (period, by)
            keys = {group.key for group in report.groups}
            assert _cohort_keys(cases, period, by, settings.timezone) <= keys, (period, by)
            assert len(keys) >= 2, (period, by)
            for group in report.groups:
                expected = _reference(
                    cases,
                    period=period,
                    settings=settings,
                    **{"scope": Scope(), **group_of(group.key)},
                )
                assert _served(group) == expected, (period, by, group.key)
    assert unsettled >= 20  # some cases were judged afresh, not from their stored counts


def _cohort_keys(cases: list[CaseState], period: Period, by: str, timezone: str) -> set[str]:
    """The groups the period's cohort has (the breakdowns can add some: overdue cases)."""
    cohort = [c for c in cases if c.sort_at and period.start <= c.sort_at < period.end]
    if by == "member":
        return {member for case in cohort for member in case.member_ids}
    if by == "month":
        zone = ZoneInfo(timezone)
        return {case.sort_at.astimezone(zone).strftime("%Y-%m") for case in cohort if case.sort_at}
    return {getattr(case, f"{by}_id" if by == "grid" else by) or kpis.NO_KEY for case in cohort}


def _unsettled(case: CaseState, period: Period) -> bool:
    """A cohort case with something still to happen after `as_of`."""
    times = [
        getattr(case, name)
        for name in ("first_resolved_at", "first_closed_at", "rated_at", "cancelled_at")
    ]
    return (
        case.sort_at is not None
        and period.start <= case.sort_at < period.end
        and any(moment is not None and moment > period.as_of for moment in times)
    )
