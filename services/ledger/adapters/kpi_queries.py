"""The indicator counts in SQL, one grouped query per family (see domain/cohort.py).

The queries read the indicator rows (`indicator_cases`, brought up to date before), with
the conditions of `kpi_conditions`, the SQL twins of `cohort.case_flags` and its neighbours;
the integration tests check both give the same counts. A cohort case settled by `as_of` adds
its stored counts and durations; the others are judged at `as_of` here.

Every query labels its rows: `key` and `grouped` (true) for a group of the breakdown, and
`grouped` null for the whole scope, from the same scan. A case has one group, but several
members: by member, a case's row per member is in that member's group, and its first (or
its only row, with no member) is in the whole scope. Group keys come from a fixed list.
"""

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.adapters.kpi_conditions import BITS, OVERDUE_AT, counted_in, timings
from services.ledger.domain.cohort import DISPUTES, Limits, Period, Scope

CASES = "ledger_indicator_case s"
SHARED = "cardinality(s.member_ids) > 1"  # as ix_ledger_indicator_case_shared
KEYS = {"grid": "s.grid_id", "category": "s.category", "month": "s.month"}
MEASURES = ("acknowledge", "resolve")
WORK_MEM = "work_mem = '64MB'"
SETTLED = "s.settled_at <= :as_of"
UNSETTLED = "s.settled_at > :as_of"


@dataclass(frozen=True)
class Grouped:
    """Counts and timings per group key, and of the whole scope."""

    rows: dict[str, dict[str, Any]]
    total: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Part:
    """Rows of the cases for a breakdown, and the labels of each row (SQL)."""

    source: str
    key: str | None  # the row's group (None: the whole scope alone)
    in_group: str
    in_total: str
    only: str = ""  # more conditions on the cases


def parts_of(by: str, cases: str = CASES) -> list[Part]:
    """The rows of `cases` for a breakdown (`all`: the whole scope alone).

    By member, a case's first member's row is also its row in the whole scope (a case with
    no member has one row, in no group); its other members' rows come from the few cases
    that have them, through their own index (a lateral unnest per case would cost more than
    the rest of the scan)."""
    if by == "all":
        return [Part(cases, None, "false", "true")]
    if by == "member":
        others = f"{cases} cross join lateral unnest(s.member_ids[2:]) as m(member_id)"
        return [
            Part(cases, "s.first_member", "s.first_member is not null", "true"),
            Part(others, "m.member_id", "true", "false", f" and {SHARED}"),
        ]
    return [Part(cases, KEYS[by], "true", "true")]


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


def _scope(scope: Scope) -> str:
    clauses = []
    if scope.grid is not None:
        clauses.append("s.grid_id = :grid")
    if scope.member is not None:
        clauses.append(":member = any(s.member_ids)")
    if scope.category is not None:
        clauses.append("s.category = :category")
    return "".join(f" and {clause}" for clause in clauses)


def _labelled(part: Part) -> str:
    key = part.key or "null::text"
    return f"{key} as key, {part.in_group} as in_group, {part.in_total} as in_total"


def _per_label(by: str, figures: str, parts: list[str]) -> str:
    """`figures` (aggregates) over the labelled rows of `parts`, per group and in total."""
    inner = " union all ".join(parts)
    total = f"select null as key, null::bool as grouped, {figures} from labelled where in_total"
    if by == "all":
        return f"with labelled as ({inner}) {total}"
    groups = f"select key, true as grouped, {figures} from labelled where in_group group by key"
    return f"with labelled as ({inner}) {groups} union all {total}"


def _cohort(part: Part, scope: Scope) -> str:
    return (
        f" from {part.source} where s.sort_at >= :start and s.sort_at < :end"
        f"{part.only}{_scope(scope)}"
    )


def _grouping(part: Part, *more: int) -> str:
    """Group by the key (unless the part has none) and these columns (from the 4th on); no
    clause when there is nothing to group by."""
    columns = [*(["1"] if part.key else []), *map(str, more)]
    return f" group by {', '.join(columns)}" if columns else ""


def cohort_sql(by: str, scope: Scope) -> str:
    """Cohort counts and distinct lead handlers per group and in total.

    The cohort's rows are first grouped by (labels, lead handler, counts they add to), the
    settled ones by their stored counts, the others judged at `as_of`; then summed.
    """
    cases = [
        f"select {_labelled(part)}, s.assignee_id, {counted} as counted, count(*) as n"
        f"{_cohort(part, scope)} and {settled}{_grouping(part, 4, 5)}"
        for part in parts_of(by)
        for counted, settled in (("s.counted", SETTLED), (counted_in(), UNSETTLED))
    ]
    sums = ", ".join(
        f"coalesce(sum(n) filter (where counted & {bit} <> 0), 0) as {name}"
        for name, bit in BITS.items()
    )
    lead = BITS["assigned_cases"]
    members = f"count(distinct assignee_id) filter (where counted & {lead} <> 0) as members"
    return _per_label(by, f"{sums}, {members}", cases)


def timings_sql(by: str, scope: Scope) -> list[str]:
    """Median and 90th percentile of the two durations, per group and in total.

    A case has one grid, category or month: the groups and the whole scope come from one
    scan (GROUPING SETS). By member, the groups' values and the whole scope's are sorted
    apart, on their own connections.
    """
    fresh = timings()
    stored = (
        "s.acknowledge_s, s.resolve_s",
        f"{SETTLED} and (s.acknowledge_s is not null or s.resolve_s is not null)",
    )
    durations = " union all ".join(
        f"select {_labelled(part)}, {values}{_cohort(part, scope)} and {settled}"
        for part in parts_of(by)
        for values, settled in (stored, (f"{fresh['acknowledge']}, {fresh['resolve']}", UNSETTLED))
    )
    percentiles = ", ".join(
        f"percentile_cont(array[0.5, 0.9]) within group (order by {name}) as {name}"
        for name in MEASURES
    )
    rows = f"({durations}) as d(key, in_group, in_total, {', '.join(MEASURES)})"
    whole = f"select null as key, null::bool as grouped, {percentiles} from {rows}"
    if by == "all":
        return [whole]
    if by == "member":
        groups = f"select key, true as grouped, {percentiles} from {rows} where in_group"
        return [f"{groups} group by key", f"{whole} where in_total"]
    groups = f"select key, true as grouped, {percentiles} from {rows}"
    return [f"{groups} group by grouping sets ((), (1, 2))"]


def overdue_sql(by: str, scope: Scope) -> str:
    """Cases open and overdue at `as_of`, whenever they were reported.

    The cases open at `as_of` are found on the columns the scan reads first; the rest of
    each row is read for those alone."""
    open_cases = (
        f"(select * from {CASES} where s.sort_at < :as_of and s.open_until > :as_of offset 0) s"
    )
    overdue = [
        f"select {_labelled(part)} from {part.source} where {OVERDUE_AT}{part.only}{_scope(scope)}"
        for part in parts_of(by, open_cases)
    ]
    return _per_label(by, "count(*) as overdue_open", overdue)


def recurrence_sql(by: str, scope: Scope) -> str:
    """Cases closed in the period, and those that came back within the window by `as_of`.

    A closure came back when it was reopened, or when the first later report of another case
    at its place and category (its recurrence link) is within the window: the first of the
    two is kept with the case (`came_back_at`, see indicator_cases).
    """
    closures = [
        f"select {_labelled(part)}, count(*) as closed,"
        " count(*) filter (where s.came_back_at <= :as_of) as came_back"
        f" from {part.source} where s.first_closed_at >= :start and s.first_closed_at < :end"
        f"{part.only}{_scope(scope)}{_grouping(part)}"
        for part in parts_of(by)
    ]
    figures = (
        "coalesce(sum(closed), 0) as closed_in_period, coalesce(sum(came_back), 0) as recurred"
    )
    return _per_label(by, figures, closures)


def coverage_sql(by: str, scope: Scope) -> str:
    """Households on record and those their linked member handled or visited.

    From the indicator households: each household's grid as of `as_of` (the largest among
    its cases reported by then), and whether each of its linked members resolved or
    reported one of its cases in [start, as_of). Broken down by grid (with the whole scope)
    or member (without); the category filter does not apply: coverage is about households.
    """
    wanted = ["true"]
    if scope.grid is not None:
        wanted.append("h.grid_id = :grid")
    if scope.member is not None or by == "member":
        wanted.append("l.member_id is not null")
    if scope.member is not None:
        wanted.append("l.member_id = :member")
    head, group = {
        "all": ("null as key, null::bool as grouped", ""),
        "grid": ("h.grid_id as key, true as grouped", " group by grouping sets ((), (1, 2))"),
        "member": ("l.member_id as key, true as grouped", " group by 1, 2"),
    }[by]
    return f"""
        with households as (
            select h.household_id, (select max(g.grid_id)
                from unnest(h.grid_ids, h.grid_since) as g(grid_id, since)
                where g.since < :as_of) as grid_id
            from ledger_indicator_household h where h.first_reported_at < :as_of),
        links as (
            select l.household_id, l.member_id, exists (select from unnest(l.visited_at) as v(at)
                where v.at >= :start and v.at < :as_of) as visited
            from ledger_indicator_link l)
        select {head}, count(distinct h.household_id) as households_on_record,
            count(distinct h.household_id) filter (where l.visited) as households_touched
        from households h left join links l on l.household_id = h.household_id
        where {" and ".join(wanted)}{group}
    """


def _coverage(by: str, scope: Scope) -> list[str]:
    """Households are broken down by grid and member; the others take the scope's."""
    if by in ("all", "grid"):
        return [coverage_sql(by, scope)]
    whole = coverage_sql("all", scope)
    return [coverage_sql(by, scope), whole] if by == "member" else [whole]


async def grouped(*, engine: AsyncEngine, by: str, scope: Scope, binds: dict[str, Any]) -> Grouped:
    """Run the query families side by side (one connection each), merged by group key.

    `by` is `all` (the whole scope alone) or a breakdown.
    """
    queries = [
        cohort_sql(by, scope),
        *timings_sql(by, scope),
        overdue_sql(by, scope),
        recurrence_sql(by, scope),
        *_coverage(by, scope),
    ]

    async def run(sql: str) -> list[dict[str, Any]]:
        async with engine.connect() as connection:
            # These scans look expensive to the planner, which would JIT-compile them for
            # longer than they take to run, and give them parallel workers, when the
            # families already run side by side; their hashes and sorts fit in memory.
            for setting in ("jit = off", "max_parallel_workers_per_gather = 0", WORK_MEM):
                await connection.execute(text(f"set local {setting}"))
            return [dict(row) for row in (await connection.execute(text(sql), binds)).mappings()]

    result = Grouped(rows={})
    for found in await asyncio.gather(*(run(sql) for sql in queries)):
        for row in found:
            key = _key_text(row.pop("key"))
            if row.pop("grouped") is None:
                result.total.update(_timings(row))
            else:
                result.rows.setdefault(key, {}).update(_timings(row))
    return result


def _key_text(key: str | int | None) -> str:
    """A group's key as shown: months are kept as yyyymm."""
    if isinstance(key, int):
        return f"{key // 100:04d}-{key % 100:02d}"
    return key or ""


def _timings(row: dict[str, Any]) -> dict[str, Any]:
    """Spread the [median, p90] arrays into the Timings fields."""
    for name in MEASURES:
        if name in row:
            pair = row.pop(name) or [None, None]
            row[f"{name}_median_s"], row[f"{name}_p90_s"] = pair
    return row
