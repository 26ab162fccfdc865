"""`make bench`: gridloop end to end at increasing rates, beside its baselines, in one run.

    .venv/bin/python -m bench.e2e [--rates 100,200,500,1000,1500] [--step-seconds 15]
                                  [--soak-minutes N] [--no-decision] [--no-write]

Against the running local stack, in a private slice of it (database, topics, consumer groups,
Redis namespace), removed afterwards:
1. intake alone against a bare FastAPI app parsing the same body (`bench.intake_vs_bare`), in
   alternating rounds (`--rounds`);
2. a raw aiokafka producer (acks=all, idempotent) and consumer;
3. dispatch and ledger join; each rate is offered to intake for a bounded time and every
   incident followed until its assignment is recorded in the ledger;
4. optionally the soak: 200/s for N minutes, every service's memory sampled;
5. dispatch's decision time over the demo community and over a generated city.
Writes bench/results/latest.json and a dated copy, and prints a table.
"""

import argparse
import asyncio
import signal
from datetime import UTC, datetime
from typing import Any

from bench.e2e import decision, report, run
from bench.e2e.slice import running_slice


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rates",
        type=lambda text: [int(rate) for rate in text.split(",") if rate],
        default=[100, 200, 500, 1000, 1500],
    )
    parser.add_argument("--step-seconds", type=float, default=15.0)
    parser.add_argument("--drain-seconds", type=float, default=15.0, help="quiet time to give up")
    parser.add_argument("--drain-cap-seconds", type=float, default=240.0)
    parser.add_argument("--connections", type=int, default=96)
    parser.add_argument("--requests", type=int, default=4000, help="closed-loop comparison")
    parser.add_argument("--concurrency", type=int, default=64, help="closed-loop comparison")
    parser.add_argument(
        "--rounds", type=int, default=3, help="closed-loop comparison: alternating rounds"
    )
    parser.add_argument("--kafka-messages", type=int, default=20_000)
    parser.add_argument("--soak-minutes", type=float, default=0.0)
    parser.add_argument("--soak-rate", type=int, default=200)
    parser.add_argument("--decisions", type=int, default=3000, help="0 skips the scale check")
    parser.add_argument(
        "--log-level",
        default="INFO",
        help="the services' LOG_LEVEL: INFO is the deployment's; DEBUG adds a line for every "
        "report, decision and event",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser.parse_args()


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds, so the slice is stopped and removed


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    args = arguments()
    started = datetime.now(UTC)
    figures: dict[str, Any] = {}
    with running_slice(log_level=args.log_level) as bench_slice:
        figures.update(run.capacity_baselines(bench_slice, args))
        bench_slice.start("dispatch", "ledger", "intake")
        figures.update(asyncio.run(run.end_to_end(bench_slice, args)))
    if args.decisions:
        figures.update(asyncio.run(decision.compare(incidents=args.decisions)))
    record = {
        **report.headline(figures),
        **{key: figures[key] for key in figures if key.startswith("decision_")},
        "soak_rss_within_10_percent": figures.get("soak", {}).get("within_10_percent"),
        "started_at": started.isoformat(timespec="seconds"),
        "settings": vars(args),
        "figures": figures,
    }
    print(report.table(record))
    if not args.no_write:
        print(f"written {report.write(record, now=started)}")


if __name__ == "__main__":
    main()
