"""The invariants every fault scenario ends with, checked against what the services stored.

(a) every accepted incident has one case, one first assignment and one `reported` entry in
    the ledger; no event is recorded twice, and the ledger holds every event dispatch
    committed (its outbox) and nothing it did not;
(b) no open case is left without a pending deadline timer, and each has one in the Redis
    schedule;
(c) the Redis load counters equal the open cases per member in PostgreSQL.
First the system is given time to settle (consumers caught up, outbox drained, counters
reconciled); then the invariants are asserted.
"""

import asyncio
import json
import logging
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis
from sqlalchemy import text

from services.common import database
from services.dispatch.adapters import live_state, timer_store
from tests.support import offsets

ASSIGNED = "gridloop.incident.assigned.v1"
REPORTED = "gridloop.incident.reported.v1"
OPEN = ("assigned", "accepted", "in_progress")
logger = logging.getLogger(__name__)


@dataclass
class Snapshot:
    """What the services stored, read in one pass."""

    cases: dict[uuid.UUID, str] = field(default_factory=dict)
    open_counts: dict[str, int] = field(default_factory=dict)
    outbox: dict[str, tuple[uuid.UUID, str, dict[str, object]]] = field(default_factory=dict)
    unsent: int = 0
    ledger: list[tuple[str, uuid.UUID, str, dict[str, object]]] = field(default_factory=list)
    open_without_timer: list[uuid.UUID] = field(default_factory=list)
    pending_soon: dict[uuid.UUID, set[str]] = field(default_factory=dict)
    loads: dict[str, int] = field(default_factory=dict)
    scheduled: set[str] = field(default_factory=set)
    lag: dict[str, int] = field(default_factory=dict)

    def ledger_ids(self) -> set[str]:
        return {event_id for event_id, *_ in self.ledger}

    def behind(self, accepted: set[uuid.UUID]) -> list[str]:
        """Why the system has not settled yet (empty once it has)."""
        reported = {incident for _, incident, kind, _ in self.ledger if kind == REPORTED}
        reasons = [
            f"{len(accepted - set(self.cases))} accepted incidents without a case",
            f"{len(accepted - reported)} accepted incidents without a ledger report entry",
            f"{self.unsent} outbox events unsent",
            f"{len(set(self.outbox) - self.ledger_ids())} dispatch events not in the ledger",
            f"{len(_differing(self.loads, self.open_counts))} members' load counters differ",
            f"lag {self.lag}",
        ]
        settled = [
            accepted <= set(self.cases),
            accepted <= reported,
            self.unsent == 0,
            set(self.outbox) <= self.ledger_ids(),
            self.loads == self.open_counts,
            not any(self.lag.values()),
        ]
        return [reason for reason, ok in zip(reasons, settled, strict=True) if not ok]


def _differing(loads: dict[str, int], truth: dict[str, int]) -> dict[str, tuple[int, int]]:
    """member → (Redis counter, open cases) where they disagree."""
    members = set(loads) | set(truth)
    return {
        m: (loads.get(m, 0), truth.get(m, 0))
        for m in sorted(members)
        if loads.get(m, 0) != truth.get(m, 0)
    }


async def snapshot(env: dict[str, str]) -> Snapshot:
    """Read dispatch's and the ledger's tables, the Redis counters and schedule, and the lag."""
    seen = Snapshot()
    engine = database.create_engine(env["DATABASE_URL"], pool_size=1)
    try:
        async with engine.connect() as db:
            rows = await db.execute(text("select incident_id, status from dispatch_case"))
            seen.cases = dict(rows.all())  # type: ignore[arg-type]
            rows = await db.execute(
                text(
                    "select assignee_id, count(*) from dispatch_case where status = any(:open) "
                    "and assignee_id is not null group by assignee_id"
                ),
                {"open": list(OPEN)},
            )
            seen.open_counts = dict(rows.all())  # type: ignore[arg-type]
            rows = await db.execute(
                text(
                    "select event_id, incident_id, event_type, value, sent_at from dispatch_outbox"
                )
            )
            for event_id, incident, kind, value, sent_at in rows.all():
                seen.outbox[event_id] = (incident, kind, json.loads(bytes(value)))
                seen.unsent += sent_at is None
            rows = await db.execute(
                text("select event_id, incident_id, type, payload from ledger_entry")
            )
            seen.ledger = [tuple(row) for row in rows.all()]  # type: ignore[misc]
            rows = await db.execute(
                text(
                    "select c.incident_id from dispatch_case c where c.status = any(:open) "
                    "and not exists (select 1 from dispatch_timer t where "
                    "t.incident_id = c.incident_id and t.fired_at is null)"
                ),
                {"open": list(OPEN)},
            )
            seen.open_without_timer = list(rows.scalars().all())
            rows = await db.execute(
                text(
                    "select t.incident_id, t.id from dispatch_timer t join dispatch_case c "
                    "using (incident_id) where c.status = any(:open) and t.fired_at is null "
                    "and t.due_at < now() + interval '9 minutes'"
                ),
                {"open": list(OPEN)},
            )
            for incident, timer in rows.all():
                seen.pending_soon.setdefault(incident, set()).add(timer)
    finally:
        await engine.dispose()
    namespace = env["DISPATCH_REDIS_NAMESPACE"]
    redis = Redis.from_url(env["REDIS_URL"], socket_timeout=5)
    try:
        raw = await redis.hgetall(f"{live_state.PREFIX}:load{namespace}")
        seen.loads = {key.decode(): int(value) for key, value in raw.items() if int(value)}
        members = await redis.zrange(f"{timer_store.SCHEDULE_KEY}{namespace}", 0, -1)
        seen.scheduled = {member.decode() for member in members}
    finally:
        await redis.aclose()
    seen.lag = await consumer_lag(env)
    return seen


async def consumer_lag(env: dict[str, str]) -> dict[str, int]:
    """Records not yet committed by the dispatch and ledger groups, summed per group."""
    groups = {
        env["DISPATCH_CONSUMER_GROUP"]: [env["TOPIC_REPORTS"]],
        env["LEDGER_CONSUMER_GROUP"]: [env["TOPIC_REPORTS"], env["TOPIC_LIFECYCLE"]],
    }
    partitions = int(env["TOPIC_PARTITIONS"])
    async with offsets.probe(env["KAFKA_BOOTSTRAP_SERVERS"]) as kafka:
        return {
            group: await kafka.uncommitted(group, await kafka.ends(topics, partitions=partitions))
            for group, topics in groups.items()
        }


async def lifecycle_records(env: dict[str, str]) -> list[tuple[str, dict[str, object]]]:
    """(event id, headers and payload) of every record on the lifecycle topic, in order."""
    reader = AIOKafkaConsumer(
        bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"], isolation_level="read_committed"
    )
    await reader.start()
    try:
        partitions = [
            TopicPartition(env["TOPIC_LIFECYCLE"], partition)
            for partition in range(int(env["TOPIC_PARTITIONS"]))
        ]
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        ends = await reader.end_offsets(partitions)
        found: list[tuple[str, dict[str, object]]] = []
        deadline = time.monotonic() + 60
        while await _short_of(reader, ends):
            assert time.monotonic() < deadline, "lifecycle topic not read within 60 s"
            for records in (await reader.getmany(timeout_ms=500)).values():
                for record in records:
                    headers = {name: value.decode() for name, value in record.headers}
                    found.append((headers["ce_id"], {**headers, "data": json.loads(record.value)}))
        return found
    finally:
        await reader.stop()


async def _short_of(reader: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    """True while the reader has not reached these end offsets."""
    for partition, end in ends.items():
        if await reader.position(partition) < end:
            return True
    return False


async def settle(env: dict[str, str], accepted: set[uuid.UUID], *, within_s: float) -> Snapshot:
    """Wait until consumers caught up, the outbox drained and counters agree; fail naming why."""
    deadline = time.monotonic() + within_s
    while True:
        seen = await snapshot(env)
        behind = seen.behind(accepted)
        if not behind:
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled within {within_s} s: {behind}")
        logger.info("not settled yet: %s", behind)
        await asyncio.sleep(1)


async def check(
    env: dict[str, str], accepted: set[uuid.UUID], *, settle_within_s: float = 120
) -> Snapshot:
    """Settle, then assert invariants (a), (b) and (c); returns what was seen."""
    seen = await settle(env, accepted, within_s=settle_within_s)
    check_assigned_and_recorded_once(seen, accepted)
    check_lifecycle_topic(seen, await lifecycle_records(env))
    check_timers(seen)
    check_loads(seen)
    return seen


def first_assignments(events: list[tuple[uuid.UUID, str, dict[str, object]]]) -> Counter[uuid.UUID]:
    """Distinct first assignments per incident among (incident, type, payload) events."""
    return Counter(
        incident
        for incident, kind, payload in events
        if kind == ASSIGNED and payload["attempt"] == 1
    )


def check_assigned_and_recorded_once(seen: Snapshot, accepted: set[uuid.UUID]) -> None:
    """Invariant (a) on the tables: one case, one first assignment, one record of each event."""
    assert set(seen.cases) == accepted, (
        f"{len(set(seen.cases) - accepted)} cases nobody was told about, "
        f"{len(accepted - set(seen.cases))} accepted incidents without a case"
    )
    in_outbox = first_assignments(list(seen.outbox.values()))
    assert {i: n for i, n in in_outbox.items() if n != 1} == {}, "first assignment not unique"
    assert set(in_outbox) == accepted, "an accepted incident was never assigned"
    recorded = Counter(event_id for event_id, *_ in seen.ledger)
    assert [e for e, n in recorded.items() if n > 1] == [], "an event was recorded twice"
    ledger_events = [(incident, kind, payload) for _, incident, kind, payload in seen.ledger]
    in_ledger = first_assignments(ledger_events)
    assert in_ledger == Counter(dict.fromkeys(accepted, 1)), "ledger first assignments differ"
    reports = Counter(incident for incident, kind, _ in ledger_events if kind == REPORTED)
    assert reports == Counter(dict.fromkeys(accepted, 1)), "ledger report entries differ"
    from_dispatch = {e for e, _, kind, _ in seen.ledger if kind != REPORTED}
    assert from_dispatch - set(seen.outbox) == set(), "ledger holds events dispatch never made"
    assert set(seen.outbox) <= seen.ledger_ids(), "dispatch events missing from the ledger"


def check_lifecycle_topic(seen: Snapshot, records: list[tuple[str, dict[str, object]]]) -> None:
    """Invariant (a) on the topic: copies of an event are identical; one first assignment each."""
    copies: dict[str, list[dict[str, object]]] = defaultdict(list)
    for event_id, record in records:
        copies[event_id].append(record)
    assert set(copies) == set(seen.outbox), "the lifecycle topic and the outbox differ"
    for event_id, versions in copies.items():
        assert all(v["data"] == versions[0]["data"] for v in versions), event_id
    distinct = [
        (uuid.UUID(str(v[0]["ce_subject"])), str(v[0]["ce_type"]), v[0]["data"])
        for v in copies.values()
    ]
    counts = first_assignments(distinct)  # type: ignore[arg-type]
    assert set(counts.values()) == {1}, "an incident was first assigned twice on the topic"


def check_timers(seen: Snapshot) -> None:
    """Invariant (b): every open case has a pending timer, scheduled in Redis."""
    assert seen.open_without_timer == [], (
        f"open cases without a timer: {seen.open_without_timer[:5]}"
    )
    open_cases = [incident for incident, status in seen.cases.items() if status in OPEN]
    unscheduled = [i for i in open_cases if not seen.pending_soon.get(i, set()) & seen.scheduled]
    assert unscheduled == [], f"{len(unscheduled)} open cases with no timer in the Redis schedule"


def check_loads(seen: Snapshot) -> None:
    """Invariant (c): Redis load counters equal the open cases per member in PostgreSQL."""
    differing = _differing(seen.loads, seen.open_counts)
    assert differing == {}, f"load counter (Redis, PostgreSQL) per member: {differing}"
