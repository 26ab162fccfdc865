"""The indicator counts in SQL, one grouped query per family (see domain/cohort.py).

Every condition below is the SQL twin of `cohort.case_flags` and its neighbours; the
integration tests check both give the same counts. Group keys come from a fixed list.
"""

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.domain.cohort import DISPUTES, Limits, Period, Scope

KEYS = {
    "all": "'all'",
    "grid": "s.grid_id",
    "category": "s.category",
    "month": "to_char(s.sort_at at time zone :timezone, 'YYYY-MM')",
    "member": "m.member_id",
}
WORK_MEM = "64MB"
LIVE = "(s.cancelled_at is null or s.cancelled_at > :as_of)"
HANDLED = f"{LIVE} and s.first_resolved_at <= :as_of"
DEADLINE = "coalesce(s.handling_deadline, s.first_assigned_at + :resolve_limit)"
ACK_DEADLINE = "coalesce(s.first_acknowledge_due_at, s.first_assigned_at + :ack_limit)"
CLOSED = f"{LIVE} and s.first_closed_at <= :as_of"
RESPONSE_DUE = f"{LIVE} and s.first_assigned_at <= :as_of"
VERIFIED = f"{LIVE} and s.first_verified_at <= :as_of"
RATED = f"{LIVE} and s.rating is not null and s.rated_at <= :as_of"
TRANSFERRED = f"{LIVE} and s.transferred_at <= :as_of"
LOCAL = f"{HANDLED} and (s.transferred_at is null or s.transferred_at > :as_of)"
DISPUTE = "s.category = any(:disputes)"
ASSIGNED = f"{RESPONSE_DUE} and s.assignee_id is not null"

COHORT_COUNTS = {
    "registered": "true",
    "cancelled": "s.cancelled_at <= :as_of",
    "due": LIVE,
    "handled": HANDLED,
    "handled_on_time": f"{HANDLED} and coalesce(s.first_resolved_at <= {DEADLINE}, true)",
    "closed": CLOSED,
    "closed_on_time": f"{CLOSED} and coalesce(s.first_closed_at <= {DEADLINE} + :grace, true)",
    "reworked": f"{HANDLED} and s.first_reopened_at <= :as_of",
    "extended": f"{LIVE} and s.first_extended_at <= :as_of",
    "response_due": RESPONSE_DUE,
    "responded_on_time": f"{RESPONSE_DUE} and s.acknowledged_at <= :as_of"
    f" and coalesce(s.acknowledged_at <= {ACK_DEADLINE}, true)",
    "verified": VERIFIED,
    "verified_passed": f"{VERIFIED} and s.verification_passed",
    "rated": RATED,
    "satisfied": f"{RATED} and s.rating = 'satisfied'",
    "basically_satisfied": f"{RATED} and s.rating = 'basically_satisfied'",
    "unsatisfied": f"{RATED} and s.rating = 'unsatisfied'",
    "transferred_out": TRANSFERRED,
    "resolved_locally": LOCAL,
    "disputes_transferred_out": f"{TRANSFERRED} and {DISPUTE}",
    "disputes_resolved_locally": f"{LOCAL} and {DISPUTE}",
    "assigned_cases": ASSIGNED,
}
ACK_SECONDS = "extract(epoch from s.acknowledged_at - s.first_assigned_at)"
ACK_TIMED = f"{LIVE} and s.acknowledged_at <= :as_of and s.acknowledged_at >= s.first_assigned_at"
RESOLVE_SECONDS = "extract(epoch from s.first_resolved_at - s.sort_at)"
TIMINGS = {  # one sort per measure: median and 90th percentile together
    "acknowledge": (ACK_SECONDS, ACK_TIMED),
    "resolve": (RESOLVE_SECONDS, HANDLED),
}
OVERDUE_AT = f"""
    {LIVE} and (s.first_resolved_at is null or s.first_resolved_at > :as_of)
    and not (s.parked and s.parked_at <= :as_of)
    and (s.first_red_at <= :as_of
         or coalesce(s.handling_deadline, s.resolve_due_at) < :as_of
         or (s.first_acknowledge_due_at < :as_of
             and (s.acknowledged_at is null or s.acknowledged_at > :as_of)))
"""


# Breakdowns in which every case has one key: the whole scope's row comes from the same
# scans (GROUPING SETS). A case has several members, so `member` runs its total apart.
WITH_TOTAL = ("grid", "category", "month")


@dataclass(frozen=True)
class Grouped:
    """Counts and timings per group key, and of the whole scope when asked for."""

    rows: dict[str, dict[str, Any]]
    total: dict[str, Any] = field(default_factory=dict)


def _source(by: str) -> str:
    unnest = " cross join lateral unnest(s.member_ids) as m(member_id)" if by == "member" else ""
    return f"ledger_incident_state s{unnest}"


def _scope(scope: Scope) -> str:
    clauses = []
    if scope.grid is not None:
        clauses.append("s.grid_id = :grid")
    if scope.member is not None:
        clauses.append(":member = any(s.member_ids)")
    if scope.category is not None:
        clauses.append("s.category = :category")
    return "".join(f" and {clause}" for clause in clauses)


def params(scope: Scope, period: Period, limits: Limits, timezone: str) -> dict[str, Any]:
    """The bind parameters every query shares."""
    return {
        "start": period.start,
        "end": period.end,
        "as_of": period.as_of,
        "ack_limit": limits.acknowledge,
        "resolve_limit": limits.resolve,
        "grace": limits.close_grace,
        "window": limits.recurrence,
        "disputes": sorted(DISPUTES),
        "timezone": timezone,
        "grid": scope.grid,
        "member": scope.member,
        "category": scope.category,
    }


def _head(key: str, total: bool) -> str:
    """The group key; with `total`, the row of the whole scope comes too (its `grouped` null)."""
    return f"select {key} as key{', true as grouped' if total else ''}"


def _group(total: bool) -> str:
    return " group by grouping sets ((), (1, 2))" if total else " group by 1"


def _cohort(by: str, scope: Scope) -> str:
    return f" from {_source(by)} where s.sort_at >= :start and s.sort_at < :end{_scope(scope)}"


def cohort_sql(by: str, scope: Scope, *, total: bool = False) -> str:
    """Cohort counts per group."""
    counts = ",\n".join(
        f"count(*) filter (where {condition}) as {name}"
        for name, condition in COHORT_COUNTS.items()
    )
    return f"{_head(KEYS[by], total)}, {counts}{_cohort(by, scope)}{_group(total)}"


def timings_sql(by: str, scope: Scope, *, total: bool = False) -> str:
    """Median and 90th percentile of the two durations per group."""
    # A scan of its own: it sorts while the counts are taken on another connection.
    timings = ",\n".join(
        f"percentile_cont(array[0.5, 0.9]) within group (order by {value})"
        f" filter (where {condition}) as {name}"
        for name, (value, condition) in TIMINGS.items()
    )
    return f"{_head(KEYS[by], total)}, {timings}{_cohort(by, scope)}{_group(total)}"


def members_sql(by: str, scope: Scope, *, total: bool = False) -> str:
    """Distinct lead handlers per group (hashing a few dozen ids beats count(distinct))."""
    return (
        f"{_head('key', total)}, count(distinct assignee_id) as members from ("
        f"select {KEYS[by]} as key, s.assignee_id{_cohort(by, scope)} group by 1, 2"
        f" having count(*) filter (where {ASSIGNED}) > 0) as handlers{_group(total)}"
    )


def overdue_sql(by: str, scope: Scope, *, total: bool = False) -> str:
    """Cases open and overdue at `as_of`, whenever they were reported."""
    return (
        f"{_head(KEYS[by], total)}, count(*) as overdue_open from {_source(by)}"
        f" where s.sort_at < :as_of and {OVERDUE_AT}{_scope(scope)}{_group(total)}"
    )


def recurrence_sql(by: str, scope: Scope, *, total: bool = False) -> str:
    """Cases closed in the period, and those that came back within the window.

    A closure came back when it was reopened by `as_of`, or when the first later report of
    another case at its place and category (kept per closure in `ledger_recurrence`) is
    within the window and by `as_of`: there is such a report exactly when the first one is.
    """
    return f"""
        {_head(KEYS[by], total)}, count(*) as closed_in_period,
            count(*) filter (where s.reopened_after_close_at <= :as_of
                or r.next_report_at <= least(s.first_closed_at + :window, :as_of)) as recurred
        from {_source(by)} left join ledger_recurrence r on r.incident_id = s.incident_id
        where s.first_closed_at >= :start and s.first_closed_at < :end{_scope(scope)}
        {_group(total)}
    """


def coverage_sql(by: str, scope: Scope, *, total: bool = False) -> str | None:
    """Households on record and those their linked member handled or visited (grid, member).

    Two hashed scans: each household's grid and who resolved or reported its cases in
    [start, as_of); and the (household, linked member) pairs from assignments at the
    linked-member rung. The category filter does not apply: coverage is about households.
    """
    if by not in ("all", "grid", "member"):
        return None
    wanted = ["h.on_record"]
    if scope.grid is not None:
        wanted.append("h.grid_id = :grid")
    if scope.member is not None or by == "member":
        wanted.append("l.member_id is not null")
    if scope.member is not None:
        wanted.append("l.member_id = :member")
    key = {"all": "'all'", "grid": "h.grid_id", "member": "l.member_id"}[by]
    return f"""
        with households as (
            select household_id,
                bool_or(sort_at < :as_of) as on_record,
                max(grid_id) filter (where sort_at < :as_of) as grid_id,
                coalesce(array_agg(resolved_by) filter (where resolved_by is not null
                    and resolved_at >= :start and resolved_at < :as_of), '{{}}')
                || coalesce(array_agg(reported_by) filter (where reported_by is not null
                    and reported_at >= :start and reported_at < :as_of), '{{}}') as visitors
            from ledger_incident_state where household_id is not null group by household_id),
        links as (
            select household_id, linked_member_id as member_id from ledger_incident_state
            where household_id is not null and linked_member_id is not null group by 1, 2)
        {_head(key, total)}, count(distinct h.household_id) as households_on_record,
            count(distinct h.household_id) filter (where l.member_id = any(h.visitors))
                as households_touched
        from households h left join links l on l.household_id = h.household_id
        where {" and ".join(wanted)}{_group(total)}
    """


async def grouped(
    *, engine: AsyncEngine, by: str, scope: Scope, binds: dict[str, Any], total: bool = False
) -> Grouped:
    """Run the query families side by side (one connection each), merged by group key.

    With `total` (for a breakdown in WITH_TOTAL), the whole scope's figures come too.
    """
    queries = [
        cohort_sql(by, scope, total=total),
        members_sql(by, scope, total=total),
        timings_sql(by, scope, total=total),
        overdue_sql(by, scope, total=total),
        recurrence_sql(by, scope, total=total),
    ]
    coverage = coverage_sql(by, scope, total=total)
    if coverage is not None:
        queries.append(coverage)
    elif total:  # households are not broken down by category or month; the scope's are
        queries.append(_as_total(coverage_sql("all", scope)))

    async def run(sql: str) -> list[dict[str, Any]]:
        async with engine.connect() as connection:
            # These scans look expensive to the planner, which would JIT-compile them for
            # longer than they take to run; and their hashes and sorts fit in memory.
            await connection.execute(text("set local jit = off"))
            await connection.execute(text(f"set local work_mem = '{WORK_MEM}'"))
            return [dict(row) for row in (await connection.execute(text(sql), binds)).mappings()]

    result = Grouped(rows={})
    for found in await asyncio.gather(*(run(sql) for sql in queries)):
        for row in found:
            key = row.pop("key") or ""
            if total and row.pop("grouped") is None:
                result.total.update(_timings(row))
            else:
                result.rows.setdefault(key, {}).update(_timings(row))
    return result


def _as_total(sql: str | None) -> str:
    """A query of the whole scope, its one row marked as the total."""
    assert sql is not None
    return f"select t.*, null::bool as grouped from ({sql}) as t"


def _timings(row: dict[str, Any]) -> dict[str, Any]:
    """Spread the [median, p90] arrays into the Timings fields."""
    for name in TIMINGS:
        if name in row:
            pair = row.pop(name) or [None, None]
            row[f"{name}_median_s"], row[f"{name}_p90_s"] = pair
    return row
