"""The reference definition of every indicator count, over case states. Pure.

The cohort of a period is the cases reported in it (`sort_at` in [start, end)); each is judged
by what had happened by `as_of` = min(end, now), using the `first_*` times of its state, so a
finished period's figures do not drift. The SQL in adapters/kpi_queries.py computes the same
counts fast; a test checks that both agree.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.categories import CATALOGUE
from services.ledger.domain.indicators import COUNT_NAMES, Counts, Timings
from services.ledger.domain.state import CaseState

DISPUTES = frozenset(code for code in CATALOGUE if code.endswith("_dispute"))


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    as_of: datetime


@dataclass(frozen=True)
class Limits:
    """Fallback limits for cases whose assignment carried no deadline, and the windows."""

    acknowledge: timedelta
    resolve: timedelta
    close_grace: timedelta
    recurrence: timedelta


@dataclass(frozen=True)
class Scope:
    grid: str | None = None
    member: str | None = None
    category: str | None = None

    def admits(self, state: CaseState) -> bool:
        return (
            (self.grid is None or state.grid_id == self.grid)
            and (self.member is None or self.member in state.member_ids)
            and (self.category is None or state.category == self.category)
        )


def by(moment: datetime | None, as_of: datetime) -> bool:
    """It happened, and no later than `as_of`."""
    return moment is not None and moment <= as_of


def handling_deadline(state: CaseState, limits: Limits) -> datetime | None:
    """The resolve deadline in force at the first resolution, else the fallback limit."""
    if state.handling_deadline is not None:
        return state.handling_deadline
    return state.first_assigned_at + limits.resolve if state.first_assigned_at else None


def acknowledge_deadline(state: CaseState, limits: Limits) -> datetime | None:
    """The first assignment's acknowledgement deadline, else the fallback limit."""
    if state.first_acknowledge_due_at is not None:
        return state.first_acknowledge_due_at
    return state.first_assigned_at + limits.acknowledge if state.first_assigned_at else None


def case_flags(s: CaseState, period: Period, limits: Limits) -> dict[str, bool]:
    """Which cohort counts one case adds to."""
    a = period.as_of
    live = not by(s.cancelled_at, a)
    handled = live and by(s.first_resolved_at, a)
    deadline = handling_deadline(s, limits)
    closed = live and by(s.first_closed_at, a)
    response_due = live and by(s.first_assigned_at, a)
    ack_deadline = acknowledge_deadline(s, limits)
    rated = live and s.rating is not None and by(s.rated_at, a)
    transferred = live and by(s.transferred_at, a)
    local = handled and not by(s.transferred_at, a)
    dispute = s.category in DISPUTES
    return {
        "registered": True,
        "cancelled": not live,
        "due": live,
        "handled": handled,
        "handled_on_time": handled and _no_later(s.first_resolved_at, deadline),
        "closed": closed,
        "closed_on_time": closed
        and _no_later(s.first_closed_at, deadline + limits.close_grace if deadline else None),
        "reworked": handled and by(s.first_reopened_at, a),
        "extended": live and by(s.first_extended_at, a),
        "response_due": response_due,
        "responded_on_time": response_due
        and by(s.acknowledged_at, a)
        and _no_later(s.acknowledged_at, ack_deadline),
        "verified": live and by(s.first_verified_at, a),
        "verified_passed": live and by(s.first_verified_at, a) and s.verification_passed is True,
        "rated": rated,
        "satisfied": rated and s.rating == "satisfied",
        "basically_satisfied": rated and s.rating == "basically_satisfied",
        "unsatisfied": rated and s.rating == "unsatisfied",
        "transferred_out": transferred,
        "resolved_locally": local,
        "disputes_transferred_out": transferred and dispute,
        "disputes_resolved_locally": local and dispute,
        "assigned_cases": response_due and s.assignee_id is not None,
    }


def _no_later(moment: datetime | None, deadline: datetime | None) -> bool:
    return deadline is None or (moment is not None and moment <= deadline)


def is_overdue_at(s: CaseState, as_of: datetime) -> bool:
    """Open at `as_of` (not cancelled, not yet handled), not parked, and past a deadline."""
    if by(s.cancelled_at, as_of) or by(s.first_resolved_at, as_of):
        return False
    if s.parked and by(s.parked_at, as_of):
        return False
    if by(s.first_red_at, as_of):
        return True
    deadline = s.handling_deadline or s.resolve_due_at
    if deadline is not None and deadline < as_of:
        return True
    ack_due = s.first_acknowledge_due_at
    return ack_due is not None and ack_due < as_of and not by(s.acknowledged_at, as_of)


def reference_counts(
    cases: Sequence[CaseState], *, scope: Scope, period: Period, limits: Limits
) -> tuple[Counts, Timings]:
    """All counts and timings for one scope, the slow and obvious way."""
    in_scope = [s for s in cases if scope.admits(s)]
    cohort = [s for s in in_scope if s.sort_at and period.start <= s.sort_at < period.end]
    totals = dict.fromkeys(COUNT_NAMES, 0)
    members = set()
    for s in cohort:
        flags = case_flags(s, period, limits)
        for name, flag in flags.items():
            totals[name] += flag
        if flags["assigned_cases"]:
            members.add(s.assignee_id)
    totals["members"] = len(members)
    totals["overdue_open"] = sum(
        1
        for s in in_scope
        if s.sort_at and s.sort_at < period.as_of and is_overdue_at(s, period.as_of)
    )
    on_record, touched = coverage(cases, scope=scope, period=period)
    totals["households_on_record"], totals["households_touched"] = on_record, touched
    closed, recurred = recurrence(cases, in_scope, period=period, limits=limits)
    totals["closed_in_period"], totals["recurred"] = closed, recurred
    return Counts(**totals), timings(cohort, period)


def coverage(cases: Sequence[CaseState], *, scope: Scope, period: Period) -> tuple[int, int]:
    """(households on record, households whose linked member handled or visited them)."""
    linked: dict[str, set[str]] = {}
    grid_of: dict[str, str | None] = {}
    for s in cases:
        if s.household_id and s.sort_at and s.sort_at < period.as_of:
            grids = (grid_of.get(s.household_id), s.grid_id)
            grid_of[s.household_id] = max((g for g in grids if g), default=None)
        if s.household_id and s.linked_member_id:
            linked.setdefault(s.household_id, set()).add(s.linked_member_id)
    households = {
        h
        for h, grid in grid_of.items()
        if (scope.grid is None or grid == scope.grid)
        and (scope.member is None or scope.member in linked.get(h, ()))
    }
    touched = set()
    for s in cases:
        members = linked.get(s.household_id or "", set())
        if scope.member is not None:
            members = members & {scope.member}
        if s.household_id not in households or not members:
            continue
        if s.resolved_by in members and _within(s.resolved_at, period):
            touched.add(s.household_id)
        if s.reported_by in members and _within(s.reported_at, period):
            touched.add(s.household_id)
    return len(households), len(touched)


def _within(moment: datetime | None, period: Period) -> bool:
    return moment is not None and period.start <= moment < period.as_of


def recurrence(
    cases: Sequence[CaseState], in_scope: Iterable[CaseState], *, period: Period, limits: Limits
) -> tuple[int, int]:
    """(cases closed in the period, those reopened or reported again at the place within N days)."""
    closed = [
        s for s in in_scope if s.first_closed_at and period.start <= s.first_closed_at < period.end
    ]
    recurred = 0
    for s in closed:
        assert s.first_closed_at is not None
        window_end = s.first_closed_at + limits.recurrence
        again = any(
            n.incident_id != s.incident_id
            and s.place_key is not None
            and s.category is not None
            and n.place_key == s.place_key
            and n.category == s.category
            and n.sort_at is not None
            and s.first_closed_at < n.sort_at <= window_end
            and n.sort_at <= period.as_of
            for n in cases
        )
        recurred += again or by(s.reopened_after_close_at, period.as_of)
    return len(closed), recurred


def timings(cohort: Sequence[CaseState], period: Period) -> Timings:
    """Median and 90th percentile of the time to acknowledge and to resolve (seconds)."""
    a = period.as_of
    live = [s for s in cohort if not by(s.cancelled_at, a)]
    acknowledge = [
        (s.acknowledged_at - s.first_assigned_at).total_seconds()
        for s in live
        if s.first_assigned_at
        and s.acknowledged_at
        and s.first_assigned_at <= s.acknowledged_at <= a
    ]
    resolve = [
        (s.first_resolved_at - s.sort_at).total_seconds()
        for s in live
        if s.first_resolved_at and s.sort_at and s.first_resolved_at <= a
    ]
    return Timings(
        acknowledge_median_s=percentile(acknowledge, 0.5),
        acknowledge_p90_s=percentile(acknowledge, 0.9),
        resolve_median_s=percentile(resolve, 0.5),
        resolve_p90_s=percentile(resolve, 0.9),
    )


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, 3)
