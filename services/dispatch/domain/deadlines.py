"""Deadlines of a case: when acknowledgement and resolution are due, and when to warn. Pure.

The functions of a new assignment are cached: a batch of reports shares one `now`, and its
cases of one category share their deadlines.
"""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.dispatch.domain.calendar import WorkCalendar, deadline, remaining, resume
from services.dispatch.domain.catalogue import HandlingRules


class TimerKind(StrEnum):
    ACKNOWLEDGE_WARN = "acknowledge_warn"
    ACKNOWLEDGE_DUE = "acknowledge_due"
    RESOLVE_WARN = "resolve_warn"
    RESOLVE_DUE = "resolve_due"


ACKNOWLEDGE_KINDS = frozenset({TimerKind.ACKNOWLEDGE_WARN, TimerKind.ACKNOWLEDGE_DUE})
RESOLVE_KINDS = frozenset({TimerKind.RESOLVE_WARN, TimerKind.RESOLVE_DUE})


@dataclass(frozen=True)
class Timer:
    kind: TimerKind
    due_at: datetime


@functools.lru_cache(maxsize=256)
def acknowledge_due(
    rules: HandlingRules, calendar: WorkCalendar, *, assigned_at: datetime
) -> datetime:
    """When the assignee must have accepted."""
    return deadline(calendar, clock=rules.clock, start=assigned_at, limit=rules.acknowledge)


@functools.lru_cache(maxsize=256)
def resolve_due(rules: HandlingRules, calendar: WorkCalendar, *, start: datetime) -> datetime:
    """When the case must be resolved, counted from `start` (first assignment or reopening)."""
    return deadline(calendar, clock=rules.clock, start=start, limit=rules.resolve)


@functools.lru_cache(maxsize=512)
def timers(
    rules: HandlingRules,
    calendar: WorkCalendar,
    *,
    start: datetime,
    due: datetime,
    warn: TimerKind,
    expire: TimerKind,
) -> tuple[Timer, ...]:
    """A yellow warning when `warn_at` of the time is used, and the due time itself."""
    allowed = remaining(calendar, clock=rules.clock, now=start, due=due)
    warn_at = resume(calendar, clock=rules.clock, now=start, left=allowed * rules.warn_at)
    return (Timer(warn, min(warn_at, due)), Timer(expire, due))


def paused_left(
    rules: HandlingRules, calendar: WorkCalendar, *, now: datetime, due: datetime
) -> timedelta:
    """What is left of a limit when its clock is paused (parking, pending extension)."""
    return remaining(calendar, clock=rules.clock, now=now, due=due)


def resumed_due(
    rules: HandlingRules, calendar: WorkCalendar, *, now: datetime, left: timedelta
) -> datetime:
    """The due time when a paused clock restarts."""
    return resume(calendar, clock=rules.clock, now=now, left=left)
