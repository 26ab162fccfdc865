"""The indicator counts in SQL, one grouped query per family (see domain/cohort.py).

Every condition below is the SQL twin of `cohort.case_flags` and its neighbours; the
integration tests check both give the same counts. Group keys come from a fixed list.
"""

import asyncio
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Grouped:
    """Counts and timings per group key, from the four query families."""

    rows: dict[str, dict[str, Any]]


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


def cohort_sql(by: str, scope: Scope) -> str:
    """Cohort counts and timings per group."""
    counts = ",\n".join(
        f"count(*) filter (where {condition}) as {name}"
        for name, condition in COHORT_COUNTS.items()
    )
    members = f"count(distinct s.assignee_id) filter (where {ASSIGNED}) as members"
    timings = ",\n".join(
        f"percentile_cont(array[0.5, 0.9]) within group (order by {value})"
        f" filter (where {condition}) as {name}"
        for name, (value, condition) in TIMINGS.items()
    )
    return (
        f"select {KEYS[by]} as key, {counts}, {members}, {timings} from {_source(by)}"
        f" where s.sort_at >= :start and s.sort_at < :end{_scope(scope)} group by 1"
    )


def overdue_sql(by: str, scope: Scope) -> str:
    """Cases open and overdue at `as_of`, whenever they were reported."""
    return (
        f"select {KEYS[by]} as key, count(*) as overdue_open from {_source(by)}"
        f" where s.sort_at < :as_of and {OVERDUE_AT}{_scope(scope)} group by 1"
    )


def recurrence_sql(by: str, scope: Scope) -> str:
    """Cases closed in the period, and those that came back within the window."""
    again = """
        (s.reopened_after_close_at <= :as_of or exists (
            select 1 from ledger_incident_state n
            where n.place_key = s.place_key and n.category = s.category
              and n.incident_id <> s.incident_id
              and n.sort_at > s.first_closed_at and n.sort_at <= s.first_closed_at + :window
              and n.sort_at <= :as_of))
    """
    return (
        f"select {KEYS[by]} as key, count(*) as closed_in_period,"
        f" count(*) filter (where {again}) as recurred from {_source(by)}"
        f" where s.first_closed_at >= :start and s.first_closed_at < :end{_scope(scope)}"
        " group by 1"
    )


def coverage_sql(by: str, scope: Scope) -> str | None:
    """Households on record and those their linked member handled or visited (grid, member).

    One scan folds each household's cases: its grid, its linked members (from assignments at
    the linked-member rung), and who resolved or reported its cases in [start, as_of).
    Coverage is about households, not categories: the category filter does not apply.
    """
    if by not in ("all", "grid", "member"):
        return None
    by_member = by == "member" or scope.member is not None
    member = "l.member_id" if by_member else None
    touched = (
        f"{member} = any(h.resolvers || h.visitors)"
        if member
        else "h.linked && (h.resolvers || h.visitors)"
    )
    wanted = ["h.on_record"]
    if scope.grid is not None:
        wanted.append("h.grid_id = :grid")
    if scope.member is not None:
        wanted.append("l.member_id = :member")
    unnest = " cross join lateral unnest(h.linked) as l(member_id)" if by_member else ""
    key = {"all": "'all'", "grid": "h.grid_id", "member": "l.member_id"}[by]
    return f"""
        with households as (
            select household_id,
                bool_or(sort_at < :as_of) as on_record,
                max(grid_id) filter (where sort_at < :as_of) as grid_id,
                array_agg(distinct linked_member_id)
                    filter (where linked_member_id is not null) as linked,
                coalesce(array_agg(distinct resolved_by) filter (where resolved_by is not null
                    and resolved_at >= :start and resolved_at < :as_of), '{{}}') as resolvers,
                coalesce(array_agg(distinct reported_by) filter (where reported_by is not null
                    and reported_at >= :start and reported_at < :as_of), '{{}}') as visitors
            from ledger_incident_state where household_id is not null group by household_id)
        select {key} as key, count(*) as households_on_record,
            count(*) filter (where coalesce({touched}, false)) as households_touched
        from households h{unnest} where {" and ".join(wanted)} group by 1
    """


async def grouped(*, engine: AsyncEngine, by: str, scope: Scope, binds: dict[str, Any]) -> Grouped:
    """Run the query families side by side (one connection each), merged by group key."""
    queries = [cohort_sql(by, scope), overdue_sql(by, scope), recurrence_sql(by, scope)]
    coverage = coverage_sql(by, scope)
    if coverage is not None:
        queries.append(coverage)

    async def run(sql: str) -> list[dict[str, Any]]:
        async with engine.connect() as connection:
            return [dict(row) for row in (await connection.execute(text(sql), binds)).mappings()]

    rows: dict[str, dict[str, Any]] = {}
    for found in await asyncio.gather(*(run(sql) for sql in queries)):
        for row in found:
            key = row.pop("key") or ""
            rows.setdefault(key, {}).update(_timings(row))
    return Grouped(rows=rows)


def _timings(row: dict[str, Any]) -> dict[str, Any]:
    """Spread the [median, p90] arrays into the Timings fields."""
    for name in TIMINGS:
        if name in row:
            pair = row.pop(name) or [None, None]
            row[f"{name}_median_s"], row[f"{name}_p90_s"] = pair
    return row
