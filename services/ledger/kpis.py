"""Compute the indicators for a period and scope, overall and broken down by one dimension."""

import dataclasses
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import validation
from services.ledger.adapters import indicator_cases, kpi_queries
from services.ledger.domain import indicators
from services.ledger.domain.cohort import Limits, Period, Scope
from services.ledger.domain.indicators import Counts, Timings
from services.ledger.settings import LedgerSettings

BREAKDOWNS = ("grid", "member", "category", "month")
NO_KEY = "(none)"


@dataclass(frozen=True)
class Figures:
    """The indicators of one group (or of the whole scope)."""

    key: str
    counts: Counts
    timings: Timings
    values: dict[str, indicators.Value]
    composite: float | None
    cases_per_member: float | None


@dataclass(frozen=True)
class KpiReport:
    period: Period
    scope: Scope
    timezone: str
    weights: dict[str, float]
    overall: Figures
    by: str | None
    groups: list[Figures]


def limits_of(settings: LedgerSettings) -> Limits:
    """The fallback limits and windows from the settings."""
    return Limits(
        acknowledge=timedelta(minutes=settings.ack_limit_minutes),
        resolve=timedelta(hours=settings.resolve_limit_hours),
        close_grace=timedelta(hours=settings.close_grace_hours),
        recurrence=timedelta(days=settings.recurrence_days),
    )


def local_time(moment: datetime, timezone: str) -> datetime:
    """An aware time; a naive one is read in the community's time zone (ValueError when that
    takes it out of range in UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))
    return validation.comparable_instant(aware)


def period_between(
    start: datetime | None, end: datetime | None, *, now: datetime, timezone: str
) -> Period:
    """[start, end) judged as of min(end, now); by default the current month so far."""
    zone = ZoneInfo(timezone)
    if start is None:
        today = now.astimezone(zone)
        start = datetime(today.year, today.month, 1, tzinfo=zone)
    start = local_time(start, timezone)
    end = local_time(end, timezone) if end is not None else now
    if end <= start:
        raise ValueError("`to` must be after `from`")
    return Period(start=start, end=end, as_of=min(end, now))


def month_period(month: str, *, now: datetime, timezone: str) -> Period:
    """The calendar month YYYY-MM in the community's time zone."""
    first = date.fromisoformat(f"{month}-01")
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    zone = ZoneInfo(timezone)
    start = datetime(first.year, first.month, 1, tzinfo=zone)
    end = datetime(following.year, following.month, 1, tzinfo=zone)
    if start > now:
        raise ValueError(f"{month} has not begun")
    return Period(start=start, end=end, as_of=min(end, now))


async def derive_rows(*, engine: AsyncEngine, settings: LedgerSettings, now: datetime) -> None:
    """Bring the indicator rows up to date now (after a replay, which clears them), so that
    the first indicator request does not wait for every case's row to be derived."""
    period = period_between(None, None, now=now, timezone=settings.timezone)
    binds = kpi_queries.params(Scope(), period, limits_of(settings), settings.timezone)
    await indicator_cases.catch_up(engine=engine, binds=binds)


async def compute(
    *,
    engine: AsyncEngine,
    settings: LedgerSettings,
    scope: Scope,
    period: Period,
    by: str | None = None,
) -> KpiReport:
    """Overall figures for the scope, and per group when `by` names a breakdown.

    The indicator rows are brought up to date with the ledger first (indicator_cases).
    """
    binds = kpi_queries.params(scope, period, limits_of(settings), settings.timezone)
    await indicator_cases.catch_up(engine=engine, binds=binds)
    found = await kpi_queries.grouped(engine=engine, by=by or "all", scope=scope, binds=binds)
    weights = settings.kpi_weights
    groups = [_figures(key or NO_KEY, row, weights) for key, row in sorted(found.rows.items())]
    return KpiReport(
        period=period,
        scope=scope,
        timezone=settings.timezone,
        weights=dict(weights),
        overall=_figures("all", found.total, weights),
        by=by,
        groups=groups,
    )


def figures_of(counts: Counts, timings: Timings, weights: dict[str, float]) -> Figures:
    """Indicators of counts (also used by the reference computation in tests)."""
    values = indicators.evaluate(counts)
    return Figures(
        key="all",
        counts=counts,
        timings=timings,
        values=values,
        composite=indicators.composite(values, weights),
        cases_per_member=indicators.cases_per_member(counts),
    )


def _figures(key: str, row: dict[str, Any], weights: dict[str, float]) -> Figures:
    counts = Counts(**{name: int(row.get(name) or 0) for name in indicators.COUNT_NAMES})
    timings = Timings(
        **{
            f.name: None if row.get(f.name) is None else round(float(row[f.name]), 3)
            for f in fields(Timings)
        }
    )
    return dataclasses.replace(figures_of(counts, timings, weights), key=key)
