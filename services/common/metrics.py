"""Prometheus metrics every service exports, and the progress of a consumer loop.

A consumer is judged by `ConsumerProgress`: the loop reports each poll and, per assigned
partition, its position, the end of the log and the broker's last fetch mark. The same
judgement serves /readyz (services.common.runtime) and the `gridloop_consumer_stalled` gauge.
"""

import functools
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

HTTP_REQUESTS = Counter(
    "gridloop_http_requests_total", "HTTP requests", ["service", "route", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "gridloop_http_request_duration_seconds", "HTTP request latency", ["service", "route"]
)
EVENTS_PRODUCED = Counter("gridloop_events_produced_total", "Events produced", ["topic", "type"])
EVENTS_CONSUMED = Counter("gridloop_events_consumed_total", "Events consumed", ["topic", "type"])


@functools.cache
def events_produced(topic: str, event_type: str) -> Counter:
    """The labelled child of EVENTS_PRODUCED, looked up once per topic and type."""
    return EVENTS_PRODUCED.labels(topic, event_type)


DEAD_LETTERS = Counter("gridloop_dead_letters_total", "Records sent to dead letters", ["topic"])
READINESS = Gauge(
    "gridloop_readiness_check", "Outcome of the last /readyz check (1 passing)", ["check"]
)
CONSUMER_LAG = Gauge(
    "gridloop_consumer_lag",
    "Records between the consumer's position and the end of the partition (last stable offset)",
    ["group", "topic", "partition"],
)
CONSUMER_ASSIGNED = Gauge(
    "gridloop_consumer_assigned_partitions", "Partitions assigned to this consumer", ["group"]
)
CONSUMER_LAST_POLL = Gauge(
    "gridloop_consumer_last_poll_timestamp_seconds",
    "Unix time at which the consumer loop's last poll returned",
    ["group"],
)
CONSUMER_BATCH_FAILURES = Counter(
    "gridloop_consumer_batch_failures_total",
    "Batches whose handler failed and that are retried from their first record",
    ["group", "topic"],
)

CONSUMER_BATCH_SECONDS = Histogram(
    "gridloop_consumer_batch_seconds",
    "Time one polled batch takes, by phase: handle (decode, the handler, dead letters) and"
    " commit (its offsets, in the background while the next batch is handled)",
    ["group", "phase"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
CONSUMER_BATCH_RECORDS = Histogram(
    "gridloop_consumer_batch_records",
    "Records in one polled batch",
    ["group"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)

Partition = tuple[str, int]


@dataclass
class _PartitionWatch:
    seen_at: float
    moved_at: float
    fetched_at: float
    position: int | None = None
    end: int | None = None
    fetch_mark: object = None

    @property
    def lag(self) -> int:
        if self.position is None or self.end is None:
            return 0
        return max(0, self.end - self.position)


class ConsumerProgress:
    """Whether one consumer loop is making progress, and its lag per partition.

    Stalled means one of these has lasted `stall_after_s`: the loop has not come back from a
    poll; it has no partition assigned (it cannot join its group, or the group has more
    consumers than partitions); a partition has lag and its position does not move; or the
    broker does not answer fetches for an assigned partition (a fetcher wedged after a broker
    restart looks like this: no error, no records, an old high watermark); or handled offsets
    wait for a commit the group coordinator does not accept.
    """

    def __init__(
        self,
        group: str,
        *,
        stall_after_s: float,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.group = group
        self.stall_after_s = stall_after_s
        self._clock = clock
        self._wall_clock = wall_clock
        self.running = False
        self._started_at = 0.0
        self._polled_at: float | None = None
        self._unassigned_since: float | None = None
        self._uncommitted_since: float | None = None
        self._partitions: dict[Partition, _PartitionWatch] = {}
        STALL_COLLECTOR.watch(self)

    def started(self) -> None:
        """The loop is about to start its consumer."""
        self.running, self._started_at, self._polled_at = True, self._clock(), None
        self._unassigned_since = self._started_at
        self._uncommitted_since = None

    def stopped(self) -> None:
        """The loop has ended; its lag series go away."""
        self.running = False
        self.assigned(())

    def polled(self) -> None:
        """A poll returned (with or without records)."""
        self._polled_at = self._clock()
        CONSUMER_LAST_POLL.labels(self.group).set(self._wall_clock())

    def awaiting_commit(self, waiting: bool) -> None:
        """Whether handled offsets wait to be committed; the wait starts with the first."""
        if not waiting:
            self._uncommitted_since = None
        elif self._uncommitted_since is None:
            self._uncommitted_since = self._clock()

    def commit_accepted(self) -> None:
        """The coordinator accepted a commit: what still waits has waited from now."""
        if self._uncommitted_since is not None:
            self._uncommitted_since = self._clock()

    def assigned(self, partitions: Iterable[Partition]) -> None:
        """The partitions assigned now; the others are forgotten."""
        now, current = self._clock(), set(partitions)
        if current:
            self._unassigned_since = None
        elif self._unassigned_since is None:
            self._unassigned_since = now
        for gone in set(self._partitions) - current:
            del self._partitions[gone]
            _remove_lag(self.group, gone)
        for new in current - set(self._partitions):
            self._partitions[new] = _PartitionWatch(seen_at=now, moved_at=now, fetched_at=now)
        CONSUMER_ASSIGNED.labels(self.group).set(len(current))

    def observe(self, partition: Partition, *, position: int, end: int, fetch_mark: object) -> None:
        """One assigned partition after a poll: where we are, where the log ends, last fetch."""
        now = self._clock()
        watch = self._partitions.setdefault(
            partition, _PartitionWatch(seen_at=now, moved_at=now, fetched_at=now)
        )
        if fetch_mark is not None and fetch_mark != watch.fetch_mark:
            watch.fetch_mark, watch.fetched_at = fetch_mark, now
        if position != watch.position:
            watch.moved_at = now
        watch.position, watch.end = position, end
        if watch.lag == 0:
            watch.moved_at = now
        topic, number = partition
        CONSUMER_LAG.labels(self.group, topic, str(number)).set(watch.lag)

    def lag(self) -> dict[Partition, int]:
        """The last known lag of each assigned partition."""
        return {partition: watch.lag for partition, watch in self._partitions.items()}

    def unanswered_fetch(self) -> str | None:
        """An assigned partition the broker has not answered fetches for (a wedged fetcher)."""
        now = self._clock()
        for (topic, number), watch in sorted(self._partitions.items()):
            if self.running and now - watch.fetched_at > self.stall_after_s:
                return f"no fetch answer for {topic}-{number} for {now - watch.fetched_at:.0f} s"
        return None

    def uncommitted(self) -> str | None:
        """Handled offsets no commit has been accepted for (a wedged group coordinator)."""
        since = self._uncommitted_since
        if self.running and since is not None and self._clock() - since > self.stall_after_s:
            return f"handled offsets not committed for {self._clock() - since:.0f} s"
        return None

    def wedged(self) -> str | None:
        """Why a new consumer would do better than this one: unanswered fetches or commits."""
        return self.unanswered_fetch() or self.uncommitted()

    def stall_reason(self) -> str | None:
        """Why the loop is not making progress, or None when it is (or is not running)."""
        if not self.running:
            return None
        now, limit = self._clock(), self.stall_after_s
        since_poll = now - (self._started_at if self._polled_at is None else self._polled_at)
        if since_poll > limit:
            return f"consumer {self.group} has not returned from a poll for {since_poll:.0f} s"
        if self._unassigned_since is not None and now - self._unassigned_since > limit:
            return (
                f"consumer {self.group} has had no partition assigned for "
                f"{now - self._unassigned_since:.0f} s"
            )
        for (topic, number), watch in sorted(self._partitions.items()):
            if now - watch.fetched_at > limit:
                return (
                    f"consumer {self.group}: no fetch answer for {topic}-{number} "
                    f"for {now - watch.fetched_at:.0f} s"
                )
            if watch.lag and now - watch.moved_at > limit:
                return (
                    f"consumer {self.group}: {topic}-{number} has lag {watch.lag} and its "
                    f"position has not moved for {now - watch.moved_at:.0f} s"
                )
        uncommitted = self.uncommitted()
        return f"consumer {self.group}: {uncommitted}" if uncommitted else None


def _remove_lag(group: str, partition: Partition) -> None:
    topic, number = partition
    try:
        CONSUMER_LAG.remove(group, topic, str(number))
    except KeyError:
        pass


class _StallCollector(Collector):
    """`gridloop_consumer_stalled{group}`, judged at scrape time so a wedged loop still shows."""

    NAME = "gridloop_consumer_stalled"
    HELP = "1 when a consumer loop of this group is not making progress (see /readyz)"

    def __init__(self) -> None:
        self._progress: weakref.WeakSet[ConsumerProgress] = weakref.WeakSet()

    def watch(self, progress: ConsumerProgress) -> None:
        self._progress.add(progress)

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(self.NAME, self.HELP, labels=["group"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stalled: dict[str, float] = {}
        for progress in list(self._progress):
            if progress.running:
                value = 1.0 if progress.stall_reason() else 0.0
                stalled[progress.group] = max(value, stalled.get(progress.group, 0.0))
        family = GaugeMetricFamily(self.NAME, self.HELP, labels=["group"])
        for group, value in sorted(stalled.items()):
            family.add_metric([group], value)
        yield family


STALL_COLLECTOR = _StallCollector()
REGISTRY.register(STALL_COLLECTOR)
