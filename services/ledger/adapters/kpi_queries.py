"""The indicator counts in SQL, one grouped query per family (see domain/cohort.py).

Every condition below is the SQL twin of `cohort.case_flags` and its neighbours; the
integration tests check both give the same counts. Group keys come from a fixed list.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

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
TIMINGS = {
    "acknowledge_median_s": (0.5, ACK_SECONDS, ACK_TIMED),
    "acknowledge_p90_s": (0.9, ACK_SECONDS, ACK_TIMED),
    "resolve_median_s": (0.5, RESOLVE_SECONDS, HANDLED),
    "resolve_p90_s": (0.9, RESOLVE_SECONDS, HANDLED),
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
        f"percentile_cont({fraction}) within group (order by {value})"
        f" filter (where {condition}) as {name}"
        for name, (fraction, value, condition) in TIMINGS.items()
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

    Coverage is about households, not categories: the category filter does not apply.
    """
    if by not in ("all", "grid", "member"):
        return None
    key = {"all": "'all'", "grid": "h.grid_id", "member": "l.member_id"}[by]
    wanted = []
    if scope.grid is not None:
        wanted.append("h.grid_id = :grid")
    if scope.member is not None or by == "member":
        wanted.append("l.member_id is not null")
    if scope.member is not None:
        wanted.append("l.member_id = :member")
    where = " where " + " and ".join(wanted) if wanted else ""
    return f"""
        with links as (
            select distinct household_id, linked_member_id as member_id
            from ledger_incident_state
            where household_id is not null and linked_member_id is not null),
        households as (
            select household_id, max(grid_id) as grid_id from ledger_incident_state
            where household_id is not null and sort_at < :as_of group by household_id),
        touched as (
            select distinct s.household_id, l.member_id from ledger_incident_state s
            join links l on l.household_id = s.household_id
            where (s.resolved_by = l.member_id
                   and s.resolved_at >= :start and s.resolved_at < :as_of)
               or (s.reported_by = l.member_id
                   and s.reported_at >= :start and s.reported_at < :as_of))
        select {key} as key, count(distinct h.household_id) as households_on_record,
               count(distinct t.household_id) as households_touched
        from households h
        left join links l on l.household_id = h.household_id
        left join touched t on t.household_id = h.household_id
            and (l.member_id is null or t.member_id = l.member_id)
        {where} group by 1
    """


async def grouped(
    *, connection: AsyncConnection, by: str, scope: Scope, binds: dict[str, Any]
) -> Grouped:
    """Run the four query families and merge their rows by group key."""
    rows: dict[str, dict[str, Any]] = {}
    queries = [cohort_sql(by, scope), overdue_sql(by, scope), recurrence_sql(by, scope)]
    coverage = coverage_sql(by, scope)
    if coverage is not None:
        queries.append(coverage)
    for sql in queries:
        for row in (await connection.execute(text(sql), binds)).mappings():
            rows.setdefault(row["key"] or "", {}).update(
                {name: value for name, value in row.items() if name != "key"}
            )
    return Grouped(rows=rows)
