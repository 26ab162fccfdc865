"""The ledger's Prometheus metrics (served on /metrics with the shared ones)."""

from collections.abc import Mapping

from prometheus_client import Counter, Gauge, Histogram

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

# ------------------------------------------------------------------- operations
# Defined here for the dashboards and alert rules; see docs/operations.md for where each is set.
CHAIN_OK = Gauge(
    "gridloop_ledger_chain_ok",
    "1 when the last verification found this hash chain intact, 0 when it found a break",
    ["chain"],
)
CHAIN_BREAKS = Gauge(
    "gridloop_ledger_chain_breaks", "Broken links found by the last verification", ["chain"]
)
CHAIN_ENTRIES_VERIFIED = Gauge(
    "gridloop_ledger_chain_entries_verified", "Entries walked by the last chain verification"
)
CHAIN_VERIFIED_AT = Gauge(
    "gridloop_ledger_chain_last_verified_timestamp_seconds",
    "Unix time at which the last chain verification finished",
)
INDICATOR = Gauge(
    "gridloop_ledger_indicator",
    "Evaluation indicator of the current month (0..1; no series while its denominator is 0)",
    ["indicator", "grid"],
)
INDICATORS_REFRESHED = Gauge(
    "gridloop_ledger_indicators_refreshed_timestamp_seconds",
    "Unix time of the last refresh of gridloop_ledger_indicator",
)
CHAINS = ("global", "incident")
WHOLE_COMMUNITY = "all"


def record_verification(
    *, ok_by_chain: Mapping[str, bool], breaks_by_chain: Mapping[str, int], entries: int, at: float
) -> None:
    """Publish one chain verification's outcome (both chains, also the intact ones)."""
    for chain in CHAINS:
        CHAIN_OK.labels(chain).set(1 if ok_by_chain.get(chain, True) else 0)
        CHAIN_BREAKS.labels(chain).set(breaks_by_chain.get(chain, 0))
    CHAIN_ENTRIES_VERIFIED.set(entries)
    CHAIN_VERIFIED_AT.set(at)


def record_indicators(values: Mapping[str, Mapping[str, float | None]], *, at: float) -> None:
    """Replace the indicator gauges: grid (or WHOLE_COMMUNITY) → indicator → value or None."""
    INDICATOR.clear()
    for grid, by_name in values.items():
        for name, value in by_name.items():
            if value is not None:
                INDICATOR.labels(name, grid).set(value)
    INDICATORS_REFRESHED.set(at)
