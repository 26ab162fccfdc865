"""Dispatch's Prometheus metrics (served on /metrics with the shared ones).

Counters of lifecycle facts (assignments, escalations, deadline breaches) count events once
their case change has committed (`count_committed`, called by the unit of work), so a rolled
back transaction counts nothing. The gauges of open cases and member loads are the database's
truth, refreshed periodically by `cases.gauges`; every dispatch instance exports the same
values, so dashboards take `max` over instances, never `sum`.
"""

from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

from services.common import envelope, events

DECISION_SECONDS = Histogram(
    "gridloop_dispatch_decision_seconds",
    "Time the dispatch policy takes to decide (choose an assignee, or climb the ladder)",
    ["kind"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
REPORT_TO_ASSIGNMENT_SECONDS = Histogram(
    "gridloop_dispatch_report_to_assignment_seconds",
    "From a report's occurrence to its first assignment being committed",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
ASSIGNMENTS = Counter(
    "gridloop_dispatch_assignments_total", "Committed assignments by ladder rung", ["rung"]
)
ESCALATIONS = Counter(
    "gridloop_dispatch_escalations_total", "Committed climbs of the ladder by rung", ["to_rung"]
)
DEADLINE_BREACHES = Counter(
    "gridloop_dispatch_deadline_breaches_total",
    "Deadline warnings: yellow at warn_at, red when the deadline is missed",
    ["stage", "level"],
)
OPEN_CASES = Gauge(
    "gridloop_dispatch_open_cases",
    "Cases not yet closed, by grid and status (grid 'unlocated' when none)",
    ["grid", "status"],
)
OVERDUE_CASES = Gauge(
    "gridloop_dispatch_overdue_cases",
    "Open, unparked cases past their acknowledgement or resolution deadline",
    ["grid", "stage"],
)
MEMBER_OPEN_CASES = Gauge(
    "gridloop_dispatch_member_open_cases",
    "Open cases each member leads (assigned, accepted, in progress)",
    ["member", "grid", "role"],
)
MEMBER_CAPACITY = Gauge(
    "gridloop_dispatch_member_capacity",
    "How many open cases each member may hold",
    ["member", "grid", "role"],
)
MEMBER_ON_DUTY = Gauge(
    "gridloop_dispatch_member_on_duty",
    "1 when the member is on duty (no lapsed heartbeat, not off duty)",
    ["member", "grid", "role"],
)
GAUGES_REFRESHED = Gauge(
    "gridloop_dispatch_gauges_refreshed_timestamp_seconds",
    "Unix time of the last refresh of the case and member gauges from the database",
)

DECISION_KINDS = ("assign", "escalate")
for _kind in DECISION_KINDS:
    DECISION_SECONDS.labels(_kind)
for _rung in events.Rung:
    ASSIGNMENTS.labels(_rung.value)
    ESCALATIONS.labels(_rung.value)
for _stage in events.Stage:
    for _level in ("yellow", "red"):
        DEADLINE_BREACHES.labels(_stage.value, _level)


def count_committed(outgoing: Iterable[envelope.CloudEvent]) -> None:
    """Count the lifecycle facts among events whose case change has just committed."""
    for event in outgoing:
        data = event.data
        if isinstance(data, events.IncidentAssigned):
            ASSIGNMENTS.labels(data.rung.value).inc()
        elif isinstance(data, events.IncidentEscalated):
            ESCALATIONS.labels(data.to_rung.value).inc()
        elif isinstance(data, events.IncidentDeadlineWarned):
            DEADLINE_BREACHES.labels(data.stage.value, data.level).inc()
