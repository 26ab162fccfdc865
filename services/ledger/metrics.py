"""The ledger's Prometheus metrics (served on /metrics with the shared ones)."""

from prometheus_client import Counter, Histogram

ENTRIES_APPENDED = Counter("gridloop_ledger_entries_appended_total", "Ledger entries appended")
DUPLICATES_SKIPPED = Counter(
    "gridloop_ledger_duplicates_skipped_total", "Redelivered events found already recorded"
)
ANOMALIES_FOUND = Counter(
    "gridloop_ledger_anomalies_total", "Events the case state machine does not allow", ["kind"]
)
REFOLDS = Counter(
    "gridloop_ledger_refolds_total", "Incidents re-folded because events arrived out of order"
)
BATCH_SECONDS = Histogram(
    "gridloop_ledger_batch_seconds",
    "Time to record one consumed batch (one transaction)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
