"""Benchmark: the indicators over ≥ 1,000,000 ledger entries, with replay building the projection.

    .venv/bin/python -m bench.kpi_queries [--incidents 180000] [--repeat 3]

1. Generates the entries in PostgreSQL with one INSERT … SELECT generate_series (closed loops
   over a year, 9 grids, 60 members, 586 households; some open, transferred or rated). The hash
   columns are placeholders: this measures queries, not the chains (see ledger_ingest).
2. Replays them into the case projection and the recurrence links (`python -m services.ledger
   replay`'s code), then derives the indicator rows the queries read (ADR 43), as the first
   query after a replay does.
3. Times GET /v1/kpis's computation for several scopes and breakdowns, best of `--repeat`,
   against a baseline: one plain count(*) over the same entries. The engine's pool is the
   ledger service's (10): a request's query families run side by side.

Measured over 1,008,000 entries (180,000 cases) on two cores with a load average of 1.2 to 1.9
(the count took 142 ms): every family answered in 0.11–0.26 s over a month (0.8–1.8× the
count) and 0.19–0.68 s over a year (1.3–4.8×; the slowest by member, then by category, grid
and month). Deriving the indicator rows after the replay took 9 s. Before ADR 43, the same
day with a load of 0.8 to 6.4, a month took 0.56–1.75 s (3.9–12.1×) and a year 0.99–3.47 s
(6.9–24.1×); earlier, under a load of 13 to 25, a year took 4.9–9.8 s. A year's request costs
0.4–1.3 s of CPU, so under such a load the year's breakdowns exceed 1 s again.
"""

import argparse
import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy import text

from bench.scratch import scratch_database
from services.ledger import kpis, replay
from services.ledger.domain.cohort import Scope
from services.ledger.settings import LedgerSettings

GENERATE = """
insert into ledger_entry (seq, event_id, incident_id, incident_index, type, source,
    occurred_at, recorded_at, payload, prev_hash, hash, incident_prev_hash, incident_hash)
select row_number() over (order by i, k), md5(i || '/' || k), c.id, k,
    'gridloop.incident.' || c.step || '.v1', 'bench', c.at, c.at + interval '1 second',
    c.payload, repeat('0', 64), repeat('0', 64), repeat('0', 64), repeat('0', 64)
from generate_series(1, :incidents) as i
cross join generate_series(1, 6) as k
cross join lateral (
    select md5('incident' || i)::uuid as id,
        timestamptz '2025-01-01 00:00+08' + i * (interval '1 year' / :incidents)
            + case k when 1 then interval '0' when 2 then interval '5 min'
                when 3 then (10 + i % 50) * interval '1 min'
                when 4 then (60 + i % 5000) * interval '1 min'
                when 5 then (5100 + i % 300) * interval '1 min'
                else interval '5500 min' end as at,
        (array['reported', 'assigned', 'accepted', 'resolved', 'verified', 'closed'])[k] as step,
        'G0' || (i % 586 % 9 + 1) as grid,
        'P' || lpad((i % 586 % 60 + 1)::text, 3, '0') as member,
        'H' || lpad((i % 586 + 1)::text, 4, '0') as household
) as p
cross join lateral (
    select p.id, p.at, p.step, jsonb_build_object('incident_id', p.id, 'occurred_at', p.at)
        || case k
        when 1 then jsonb_build_object('channel', 'officer_app', 'description', 'bench case',
            'category', (array['clutter', 'neighbour_dispute', 'illegal_construction',
                'paperwork_service', 'safety_hazard', 'family_dispute'])[i % 6 + 1],
            'household_id', p.household, 'grid_id', p.grid)
        when 2 then jsonb_build_object('grid_id', p.grid, 'reason', 'bench',
            'assignee_id', case when i % 50 = 0 then null else p.member end,
            'rung', case when i % 50 = 0 then 'town' else 'linked_member' end,
            'acknowledge_due_at', p.at + interval '30 min',
            'resolve_due_at', p.at + interval '3 days')
        when 5 then jsonb_build_object('verified_by', 'L01', 'method', 'inspection',
            'passed', true, 'rating', (array['satisfied', 'satisfied', 'basically_satisfied',
                'unsatisfied'])[i % 4 + 1])
        when 6 then jsonb_build_object('closed_by', 'L01')
        when 4 then jsonb_build_object('member_id', p.member, 'result', 'done')
        else jsonb_build_object('member_id', p.member)
        end as payload
) as c
where not (k > 2 and (i % 10 = 0 or i % 50 = 0))
"""

PERIODS = (
    ("month", datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)),
    ("year ", datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),
)
CASES = {
    "whole community": ({}, None),
    "by grid": ({}, "grid"),
    "by member": ({}, "member"),
    "by category": ({}, "category"),
    "by month": ({}, "month"),
    "one grid": ({"grid": "G03"}, None),
    "one member": ({"member": "P007"}, None),
}


async def main(incidents: int, repeat: int, keep: bool) -> None:
    settings = LedgerSettings()
    # The ledger service's pool: the query families of one request run side by side.
    async with scratch_database(keep=keep, pool_size=10) as (engine, _):
        started = time.perf_counter()
        async with engine.begin() as connection:
            await connection.execute(text(GENERATE), {"incidents": incidents})
        async with engine.begin() as connection:
            await connection.execute(text("analyze ledger_entry"))
        generated_s = time.perf_counter() - started
        replayed = time.perf_counter()
        rebuilt = await replay.rebuild(engine=engine)
        replay_s = time.perf_counter() - replayed
        async with engine.begin() as connection:
            await connection.execute(text("analyze ledger_incident_state"))
        print(f"entries generated   {rebuilt.entries:>10,} in {generated_s:.1f} s (SQL)")
        print(
            f"replay              {rebuilt.entries / replay_s:>10,.0f} entries/s"
            f" ({replay_s:.1f} s, {rebuilt.incidents:,} cases, {rebuilt.anomalies} anomalies)"
        )
        derived = time.perf_counter()
        await kpis.derive_rows(engine=engine, settings=settings, now=datetime.now(UTC))
        derive_s = time.perf_counter() - derived
        print(f"indicator rows      {derive_s:>10.1f} s to derive them all after the replay")
        baseline = await _best(repeat, lambda: _count(engine))
        print(f"baseline count(*)   {baseline * 1000:>10.0f} ms over the entries")
        for label, start, end in PERIODS:
            period = kpis.period_between(start, end, now=datetime.now(UTC), timezone="UTC")
            await _time_cases(engine, settings, period, label, repeat, baseline)


async def _time_cases(
    engine: object,
    settings: LedgerSettings,
    period: kpis.Period,
    label: str,
    repeat: int,
    baseline: float,
) -> None:
    for name, (scope, by) in CASES.items():

        async def compute(scope: dict[str, str] = scope, by: str | None = by) -> None:
            await kpis.compute(
                engine=engine,  # type: ignore[arg-type]
                settings=settings,
                scope=Scope(**scope),
                period=period,
                by=by,
            )

        best = await _best(repeat, compute)
        print(f"kpis {label} {name:<15}{best * 1000:>8.0f} ms  ({best / baseline:.1f}× the count)")


async def _count(engine: object) -> None:
    async with engine.connect() as connection:  # type: ignore[attr-defined]
        await connection.execute(text("select count(*) from ledger_entry"))


async def _best(repeat: int, work: object) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=180_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()
    asyncio.run(main(options.incidents, options.repeat, options.keep))
