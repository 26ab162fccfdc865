"""The run's record: the headline figures as JSON (latest and dated), and a short table."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[1] / "results"


def headline(figures: dict[str, Any]) -> dict[str, Any]:
    """The keys every run reports, derived from the measured figures."""
    steps = figures.get("steps", [])
    at_200: dict[str, Any] = next((step for step in steps if step["rate"] == 200), {})
    # Sustained: the best end-to-end rate of a step that kept up (no errors, nothing lost).
    sustained = [step["e2e_incidents_per_s"] for step in steps if step["kept_up"]]
    bare, intake = figures.get("bare_fastapi_rps"), figures.get("intake_rps")
    raw = figures.get("raw_kafka_produce_per_s")
    e2e = max(sustained, default=0.0)
    return {
        "e2e_incidents_per_s": e2e,
        "e2e_highest_rate_kept_up": max(
            (step["rate"] for step in steps if step["kept_up"]), default=0
        ),
        "e2e_p99_ms_at_200": at_200.get("e2e_p99_ms"),
        "e2e_p50_ms_at_200": at_200.get("e2e_p50_ms"),
        "intake_p99_ms_at_200": at_200.get("intake_p99_ms"),
        "intake_p50_ms_at_200": at_200.get("intake_p50_ms"),
        "cpu_ms_per_incident_at_200": at_200.get("cpu_ms_per_incident"),
        # Where the end-to-end time at 200/s went, and how late the load itself was.
        "e2e_stages_ms_at_200": at_200.get("e2e_stages_ms"),
        "send_lag_p99_ms_at_200": at_200.get("send_lag_p99_ms"),
        "bare_fastapi_rps": bare,
        "intake_rps": intake,
        "intake_vs_bare_fastapi": round(intake / bare, 3) if bare and intake else None,
        # The same comparison by CPU time per request, which the machine's noise moves less.
        "intake_vs_bare_fastapi_by_cpu": _ratio(
            figures.get("bare_fastapi_cpu_ms_per_request"),
            figures.get("intake_cpu_ms_per_request"),
        ),
        "raw_kafka_produce_per_s": raw,
        "raw_kafka_consume_per_s": figures.get("raw_kafka_consume_per_s"),
        "e2e_vs_raw_kafka_produce": round(e2e / raw, 3) if raw else None,
        "intake_vs_raw_kafka_produce": round(intake / raw, 3) if raw and intake else None,
        "peak_consumer_lag": max((step["peak_consumer_lag"] for step in steps), default=None),
        "errors": sum(sum(step["errors"].values()) for step in steps),
        "lost": figures.get("lost"),
        # With lag left, an unrecorded incident may still be queued: lost is then an upper bound.
        "lost_is_upper_bound": bool(figures.get("consumer_lag_at_census")),
        "duplicated": figures.get("duplicated"),
        "cpu_count": figures.get("cpu_count"),
    }


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 3) if numerator and denominator else None


def write(record: dict[str, Any], *, now: datetime | None = None) -> Path:
    """bench/results/latest.json and a dated copy; returns the dated path."""
    RESULTS.mkdir(exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H%M")
    text = json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n"
    dated = RESULTS / f"{stamp}.json"
    dated.write_text(text)
    (RESULTS / "latest.json").write_text(text)
    return dated


TABLE = (
    ("end to end, sustained (incidents/s)", "e2e_incidents_per_s"),
    ("end to end p99 at 200/s (ms)", "e2e_p99_ms_at_200"),
    ("intake 202 p99 at 200/s (ms)", "intake_p99_ms_at_200"),
    ("end to end at 200/s by stage, p50/p99 (ms)", "e2e_stages_ms_at_200"),
    ("load's send lag p99 at 200/s (ms)", "send_lag_p99_ms_at_200"),
    ("CPU per incident at 200/s (ms)", "cpu_ms_per_incident_at_200"),
    ("bare FastAPI (req/s)", "bare_fastapi_rps"),
    ("intake alone (req/s)", "intake_rps"),
    ("intake / bare FastAPI", "intake_vs_bare_fastapi"),
    ("intake / bare FastAPI, by CPU per request", "intake_vs_bare_fastapi_by_cpu"),
    ("raw aiokafka produce (msg/s)", "raw_kafka_produce_per_s"),
    ("raw aiokafka consume (msg/s)", "raw_kafka_consume_per_s"),
    ("end to end / raw produce", "e2e_vs_raw_kafka_produce"),
    ("decision p50 demo / city (ms)", "decision_ms_p50_demo", "decision_ms_p50_city"),
    ("decision p99 demo / city (ms)", "decision_ms_p99_demo", "decision_ms_p99_city"),
    ("decision city / demo (p50)", "decision_city_vs_demo"),
    ("peak consumer lag (records)", "peak_consumer_lag"),
    ("errors / lost / duplicated", "errors", "lost", "duplicated"),
    ("soak RSS within 10%", "soak_rss_within_10_percent"),
    ("CPUs", "cpu_count"),
)


def table(record: dict[str, Any]) -> str:
    """The headline figures, one per line."""
    rows = []
    for label, *keys in TABLE:
        if all(key not in record for key in keys):
            continue
        values = " / ".join(str(record.get(key)) for key in keys)
        rows.append(f"{label:<38} {values}")
    return "\n".join(rows)
