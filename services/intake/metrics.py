"""Intake's Prometheus metrics (served on /metrics with the shared ones).

Defined here for the dashboards and alert rules; docs/operations.md says where each is set.
"""

import functools

from prometheus_client import Counter, Gauge, Histogram

REPORTS = Counter(
    "gridloop_intake_reports_total",
    "Reports taken, by channel and outcome (new case, merged into an open one, or refused 503)",
    ["channel", "outcome"],
)


@functools.cache
def reports(channel: str, outcome: str) -> Counter:
    """The labelled child of REPORTS, looked up once per channel and outcome."""
    return REPORTS.labels(channel, outcome)


CALLBACK_ATTEMPTS = Counter(
    "gridloop_intake_callback_attempts_total",
    "Status callback attempts by the delivery's state after the attempt",
    ["outcome"],
)
CALLBACK_SECONDS = Histogram(
    "gridloop_intake_callback_duration_seconds",
    "Time one callback attempt took, answered or not",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CALLBACK_BACKLOG = Gauge(
    "gridloop_intake_callback_backlog",
    "Callback deliveries waiting for their next attempt (refreshed by the callback worker)",
)

REPORT_OUTCOMES = ("reported", "merged", "unavailable")
# The states of services.intake.callbacks.domain.outcome: 2xx, will retry, gave up.
CALLBACK_OUTCOMES = ("delivered", "pending", "failed")
for _outcome in CALLBACK_OUTCOMES:
    CALLBACK_ATTEMPTS.labels(_outcome)
