"""Benchmark: ledger ingest into PostgreSQL (events/s), against a raw COPY of the same rows.

    .venv/bin/python -m bench.ledger_ingest [--events 60000] [--batch N] [--warm-cases N]

Runs `recording.record_batch` (the consumer's handler: dedupe, chain lock, hashes, insert,
projection, anomaly check, one transaction per batch) over realistic interleaved closed
loops, in a scratch database, with the service's batch size and kept states by default
(`LEDGER_BATCH_SIZE`, `LEDGER_WARM_CASES`); then COPYs the very rows it produced into a table
of the same shape (same indexes, no chaining, no projection) as the floor. Prints both, the
ratio, and the CPU per event of this process and of the PostgreSQL backends (from /proc,
when the server runs on this machine). Kafka is not in the loop: this measures the
ledger's own work per consumed batch.

Figures vary with what else runs on the machine: compare the ratio to the COPY floor and
the CPU per event. Measured on two cores (load average 1.6–2, another benchmark's database
busy at times), 60,000 events: 5,260–5,880 events/s with the defaults (batches of 5,000,
kept states), CPU 115–120 µs Python + 50 µs PostgreSQL per event, ingest / COPY 0.17–0.18;
with `--batch 500 --warm-cases 0` (the settings before ADR 44) 2,980–3,510 events/s,
182–190 µs + 98–103 µs. See docs/performance.md.
"""

import argparse
import asyncio
import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.intake_vs_bare import cpu_seconds
from bench.scratch import scratch_database
from services.common import envelope, runtime
from services.ledger import recording
from services.ledger.settings import LedgerSettings
from services.ledger.warm_states import WarmStates
from tests.unit.ledger.stories import Story

START = datetime(2025, 6, 1, tzinfo=UTC)


def workload(events: int, *, seed: int = 7) -> list[envelope.CloudEvent]:
    """Closed loops of many incidents, interleaved as a busy community's stream would be."""
    generator = random.Random(seed)
    stories = []
    for n in range(events // 6 + 1):
        story = Story(
            incident_id=uuid.UUID(int=generator.getrandbits(128)),
            start=START + timedelta(seconds=37 * n),
            household=f"H{n % 586 + 1:04d}",
            grid=f"G{n % 9 + 1:02d}",
        )
        stories.append(story.closed_loop())
    # Arrival: each incident's events stay in order; incidents overlap in time.
    timed = sorted(
        (
            (event.data.occurred_at, n, event)
            for n, story in enumerate(stories)
            for event in story.events
        ),
        key=lambda item: (item[0], item[1]),
    )
    return [event for _, _, event in timed][:events]


async def main(events: int, batch: int, warm_cases: int) -> None:
    stream = workload(events)
    async with scratch_database() as (engine, _):
        warm = WarmStates(capacity=warm_cases)
        runtime.freeze_startup_heap()  # as the ledger process does once started
        backends = await _backend_pids(engine)
        database_cpu = _cpu_of(backends)
        started, python_cpu = time.perf_counter(), time.process_time()
        for offset in range(0, len(stream), batch):
            await recording.record_batch(stream[offset : offset + batch], engine=engine, warm=warm)
        ingest_s = time.perf_counter() - started
        python_us = (time.process_time() - python_cpu) * 1e6 / len(stream)
        backends_after = await _backend_pids(engine)
        database_us = (_cpu_of(backends_after) - database_cpu) * 1e6 / len(stream)
        redelivered = time.perf_counter()
        for offset in range(0, len(stream), batch):
            await recording.record_batch(stream[offset : offset + batch], engine=engine)
        redelivery_s = time.perf_counter() - redelivered
        async with engine.begin() as connection:
            await connection.execute(
                text("create table bench_copy (like ledger_entry including all)")
            )
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            rows = await driver.fetch("select * from ledger_entry order by seq")
            columns = list(rows[0].keys())
            payload = columns.index("payload")
            records = [
                tuple(json.dumps(v) if n == payload else v for n, v in enumerate(row))
                for row in rows
            ]
            copied = time.perf_counter()
            for offset in range(0, len(records), batch):
                async with driver.transaction():
                    await driver.copy_records_to_table(
                        "bench_copy", records=records[offset : offset + batch], columns=columns
                    )
            copy_s = time.perf_counter() - copied
            stored = await driver.fetchval("select count(*) from ledger_entry")
            cases = await driver.fetchval("select count(*) from ledger_incident_state")
    print(f"events recorded           {stored:>10,} in {cases:,} cases, batches of {batch}")
    print(f"case states kept warm     {warm_cases:>10,}")
    print(f"ledger ingest             {len(stream) / ingest_s:>10,.0f} events/s ({ingest_s:.2f} s)")
    print(
        f"CPU per event             {python_us:>10.0f} µs Python, {database_us:.0f} µs PostgreSQL"
    )
    print(f"redelivery (all skipped)  {len(stream) / redelivery_s:>10,.0f} events/s")
    print(f"baseline COPY same rows   {len(records) / copy_s:>10,.0f} rows/s ({copy_s:.2f} s)")
    print(f"ingest / COPY             {copy_s / ingest_s:>10.2f}")


async def _backend_pids(engine: AsyncEngine) -> list[int]:
    """The PostgreSQL backends serving the scratch database (its pool opens them all first)."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("select pid from pg_stat_activity where datname = current_database()")
        )
        return [row.pid for row in rows]


def _cpu_of(pids: list[int]) -> float:
    """Their CPU seconds so far (0 for a backend not readable here, e.g. on another host)."""
    return sum(cpu_seconds(pid) or 0.0 for pid in pids)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=LedgerSettings().batch_size)
    parser.add_argument("--warm-cases", type=int, default=LedgerSettings().warm_cases)
    options = parser.parse_args()
    asyncio.run(main(options.events, options.batch, options.warm_cases))
