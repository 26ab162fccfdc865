"""One benchmark run against a private slice of the stack: baselines, ladder, soak, census."""

import argparse
import asyncio
import os
import uuid
from dataclasses import asdict
from typing import Any

from bench import intake_vs_bare
from bench.e2e import baselines, ladder, observe, soak, tally
from bench.e2e.slice import Slice, plain_url


def capacity_baselines(run: Slice, args: argparse.Namespace) -> dict[str, Any]:
    """Intake alone against the bare app (closed loop), then a raw Kafka producer and consumer.

    The two are measured in alternating rounds, so that a slower spell of the machine (other
    work, a neighbour on the host) falls on both rather than on one of them."""
    bare_rounds: list[intake_vs_bare.Result] = []
    intake_rounds: list[intake_vs_bare.Result] = []
    with intake_vs_bare.bare_app() as (bare_port, bare_pid), run.intake_alone() as alone:
        for _ in range(args.rounds):
            bare_rounds.append(
                baselines.closed_loop_rps(
                    "bare FastAPI",
                    bare_port,
                    {},
                    requests=args.requests,
                    concurrency=args.concurrency,
                    pid=bare_pid,
                )
            )
            intake_rounds.append(
                baselines.closed_loop_rps(
                    "intake",
                    alone.port,
                    {"x-api-key": run.api_key},
                    requests=args.requests,
                    concurrency=args.concurrency,
                    pid=alone.pid,
                )
            )
            print(f"{bare_rounds[-1].line()}\n{intake_rounds[-1].line()}", flush=True)
    bare, intake = baselines.combined(bare_rounds), baselines.combined(intake_rounds)
    print(bare.line(), flush=True)
    print(intake.line(), flush=True)
    kafka = asyncio.run(
        baselines.raw_kafka(
            run.env["KAFKA_BOOTSTRAP_SERVERS"], messages=args.kafka_messages, partitions=3
        )
    )
    print(f"raw aiokafka: {kafka}", flush=True)
    return {
        "bare_fastapi_rps": round(bare.rps, 1),
        "intake_rps": round(intake.rps, 1),
        "bare_fastapi_cpu_ms_per_request": _cpu_ms(bare),
        "intake_cpu_ms_per_request": _cpu_ms(intake),
        "bare_fastapi_p99_ms": ladder.percentile_ms(bare.latencies, 0.99),
        "intake_closed_loop_p99_ms": ladder.percentile_ms(intake.latencies, 0.99),
        "intake_statuses": {str(code): n for code, n in intake.statuses.items()},
        "intake_vs_bare_fastapi_by_round": [
            round(i.rps / b.rps, 3) for b, i in zip(bare_rounds, intake_rounds, strict=True)
        ],
        **kafka,
    }


async def end_to_end(run: Slice, args: argparse.Namespace) -> dict[str, Any]:
    """The rate ladder and the optional soak, then a census of the ledger."""
    watch = observe.LedgerWatch(plain_url(run.database_url))
    metrics_urls = [f"{run.processes[name].url}/metrics" for name in ("dispatch", "ledger")]
    await watch.start()
    lag = observe.LagWatch(metrics_urls)
    lag.start()
    rig = ladder.Rig(
        run.intake.port, run.api_key, args.connections, run.processes, watch=watch, lag=lag
    )
    figures: dict[str, Any] = {}
    accepted: set[uuid.UUID] = set()
    soak_accepted: set[uuid.UUID] = set()
    try:
        if args.rates:
            steps, accepted = await ladder.climb(
                rig,
                rates=args.rates,
                seconds=args.step_seconds,
                drain_s=args.drain_seconds,
                drain_cap_s=args.drain_cap_seconds,
            )
            figures["steps"] = [step.as_dict() for step in steps]
        if args.soak_minutes:
            soaked, soak_accepted = await soak.run(
                rig, minutes=args.soak_minutes, rate=args.soak_rate
            )
            census = await watch.census()
            soaked_recorded = sum(
                1 for incident in soak_accepted if census.get(incident, (0, 0))[1]
            )
            figures["soak"] = {
                **asdict(soaked),
                "rss_growth": soaked.growth(),
                "within_10_percent": soaked.within(),
                "accepted": len(soak_accepted),
                "recorded_by_the_end": soaked_recorded,
            }
        # Lost and duplicated are counted over the ladder's incidents, as late as possible (a
        # soak's reports queue behind them, so they have had the soak's time to settle).
        await watch.settle(accepted, quiet_s=args.drain_seconds, within_s=args.drain_cap_seconds)
        figures.update(
            tally.census(accepted, await watch.census(), answered_elsewhere=soak_accepted)
        )
        figures["consumer_lag_at_census"] = await lag.now()
    finally:
        await lag.stop()
        await watch.stop()
    figures["cpu_count"] = os.cpu_count()
    return figures


def _cpu_ms(result: intake_vs_bare.Result) -> float | None:
    return round(result.cpu_ms_per_request, 3) if result.cpu_s else None
