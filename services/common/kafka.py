"""Kafka helpers: the idempotent producer, topic set-up, and a consumer loop that commits late.

The loop commits a batch's offsets once its effects are durable, in the background: the next
batch is fetched and handled while the broker records the offsets (ADR 49).

The loop also reports its progress (polls, positions, lag) to `metrics.ConsumerProgress`,
which feeds the consumer metrics and the readiness check.
"""

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import IllegalStateError, KafkaError
from aiokafka.structs import ConsumerRecord

from services.common import database, envelope, failpoints, metrics, observability, partitioning
from services.common.publisher import Publisher
from services.common.settings import InfraSettings

logger = logging.getLogger(__name__)

TOPIC_ALREADY_EXISTS = 36
# A consumer loop that makes no progress for this long is not ready (see ConsumerProgress).
STALL_AFTER_S = 60.0
POSITION_TIMEOUT_S = 1.0
# How long a rebalance or a stop waits for the offsets still being committed.
FLUSH_TIMEOUT_S = 5.0
# At most one offset commit starts in this time, unless partitions go or the loop stops.
COMMIT_INTERVAL_S = 1.0
Rejection = tuple[str, str]  # (event id, why it cannot be processed)
BatchHandler = Callable[[Sequence[envelope.CloudEvent]], Awaitable[Sequence[Rejection] | None]]


def create_producer(settings: InfraSettings, *, client_id: str) -> AIOKafkaProducer:
    """acks=all and idempotence: an acknowledged send is on every in-sync replica, once."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        request_timeout_ms=10_000,
        partitioner=partitioning.KeyPartitioner(),
    )


async def ensure_topics(settings: InfraSettings) -> None:
    """Create the reports, lifecycle and dead-letter topics when they are missing."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [settings.topic_reports, settings.topic_lifecycle, settings.topic_dead_letters]
        missing = [
            NewTopic(name, settings.topic_partitions, settings.topic_replication_factor)
            for name in wanted
            if name not in existing
        ]
        if missing:
            response = await admin.create_topics(missing)
            for name, code, *_ in response.topic_errors:
                if code not in (0, TOPIC_ALREADY_EXISTS):
                    raise RuntimeError(f"cannot create topic {name}: error code {code}")
            logger.info("created topics %s", [topic.name for topic in missing])
    finally:
        await admin.close()


def create_consumer(settings: InfraSettings, *, group_id: str, client_id: str) -> AIOKafkaConsumer:
    """Manual commits only: offsets move after the effect is durable."""
    return AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_interval_ms=300_000,
    )


class _FlushOnRevoke(ConsumerRebalanceListener):
    """Work is finished batch by batch; before partitions go, their handled offsets are
    committed, so that their next owner does not receive those records again."""

    def __init__(self, flush: Callable[[], Awaitable[None]]) -> None:
        self._flush = flush

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        logger.info("partitions revoked: %s", sorted(str(tp) for tp in revoked))
        await self._flush()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        logger.info("partitions assigned: %s", sorted(str(tp) for tp in assigned))


class ConsumerLoop:
    """Decode, hand a partition's batch to the handler, dead-letter poison, then commit."""

    def __init__(
        self,
        *,
        consumer: AIOKafkaConsumer,
        consumer_group: str,
        topics: Sequence[str],
        handle_batch: BatchHandler,
        publisher: Publisher,
        dead_letter_topic: str,
        max_records: int = 500,
        retry_delay_s: float = 1.0,
        stall_after_s: float = STALL_AFTER_S,
        commit_interval_s: float = COMMIT_INTERVAL_S,
        renew: Callable[[], AIOKafkaConsumer] | None = None,
    ) -> None:
        self._consumer = consumer
        self._renew = renew
        self._group = consumer_group
        self._topics = list(topics)
        self._handle_batch = handle_batch
        self._publisher = publisher
        self._dead_letter_topic = dead_letter_topic
        self._max_records = max_records
        self._retry_delay_s = retry_delay_s
        # Offsets of handled batches not yet committed, and the one commit under way.
        self._handled: dict[TopicPartition, int] = {}
        self._committing: asyncio.Task[None] | None = None
        self._commit_interval_s = commit_interval_s
        self._commit_started = -math.inf
        self.last_progress: float = 0.0
        self.progress = metrics.ConsumerProgress(consumer_group, stall_after_s=stall_after_s)
        for topic in self._topics:
            # Series exist from the start at 0, so rate() and increase() see the first one.
            metrics.DEAD_LETTERS.labels(topic)
            metrics.CONSUMER_BATCH_FAILURES.labels(consumer_group, topic)
        self._handle_seconds = metrics.CONSUMER_BATCH_SECONDS.labels(consumer_group, "handle")
        self._commit_seconds = metrics.CONSUMER_BATCH_SECONDS.labels(consumer_group, "commit")
        self._batch_records = metrics.CONSUMER_BATCH_RECORDS.labels(consumer_group)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; a failing batch is retried from its first record.

        With `renew`, a consumer whose fetches the broker stopped answering (aiokafka can stay
        wedged on stale leaders after a broker restart), or whose commits are not accepted, is
        replaced by a new one, which resumes from the committed offsets.
        """
        self.progress.started()
        try:
            while await self._consume(stop):
                assert self._renew is not None
                self._handled.clear()  # the new consumer resumes from the committed offsets
                self._consumer = self._renew()
                self.progress.assigned(())
                self.progress.started()
        finally:
            self.progress.stopped()

    async def _consume(self, stop: asyncio.Event) -> bool:
        """Run the current consumer until `stop` (False) or until it is wedged (True)."""
        self._consumer.subscribe(self._topics, listener=_FlushOnRevoke(self._flush_commits))
        try:
            await self._consumer.start()
        except KafkaError as error:
            if self._renew is None:
                raise
            logger.warning("consumer %s cannot start (%r); trying again", self._group, error)
            await _stop_quietly(self._consumer)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._retry_delay_s)
            return not stop.is_set()
        try:
            while not stop.is_set():
                await self._poll_once()
                wedged = self._renew and self.progress.wedged()
                if wedged:
                    logger.warning(
                        "consumer %s wedged (%s); starting a new one", self._group, wedged
                    )
                    return True
        finally:
            await self._flush_commits()
            await _stop_quietly(self._consumer)
        return False

    async def _poll_once(self) -> None:
        batches = await self._consumer.getmany(timeout_ms=500, max_records=self._max_records)
        self.last_progress = asyncio.get_running_loop().time()
        self.progress.polled()
        self._commit_handled()  # offsets a failed commit left are tried again
        if batches:
            try:
                await self._process(batches)
            except Exception:
                starts = {tp: records[0].offset for tp, records in batches.items()}
                logger.exception("batch failed; retrying from offsets %s", _offsets(starts))
                for partition, offset in starts.items():
                    metrics.CONSUMER_BATCH_FAILURES.labels(self._group, partition.topic).inc()
                    if partition in self._consumer.assignment():
                        self._consumer.seek(partition, offset)
                await asyncio.sleep(self._retry_delay_s)
        await self._observe()

    async def _observe(self) -> None:
        """Report each assigned partition's position, log end and last fetch to `progress`."""
        assignment = self._consumer.assignment()
        self.progress.assigned((tp.topic, tp.partition) for tp in assignment)
        fetched = []
        for tp in assignment:
            highwater = self._consumer.highwater(tp)
            if highwater is None:  # not fetched yet since it was assigned
                continue
            stable = self._consumer.last_stable_offset(tp)
            end = stable if stable is not None and stable >= 0 else highwater
            fetched.append((tp, end, self._consumer.last_poll_timestamp(tp)))
        for tp, end, mark in fetched:
            try:
                position = await asyncio.wait_for(self._consumer.position(tp), POSITION_TIMEOUT_S)
            except (IllegalStateError, TimeoutError):
                continue  # revoked meanwhile, or no position yet: judged on the next poll
            self.progress.observe(
                (tp.topic, tp.partition), position=position, end=end, fetch_mark=mark
            )

    async def _process(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """One poll is one batch: every partition's records, each partition in its order.

        Handling them together spreads the handler's fixed cost (a transaction, a commit)
        over everything the poll brought; the offsets are committed together after it.
        """
        started = time.perf_counter()
        events: list[envelope.CloudEvent] = []
        record_of: dict[str, ConsumerRecord] = {}
        consumed: Counter[tuple[str, str]] = Counter()  # counted once per kind, not per record
        for records in batches.values():
            for record in records:
                try:
                    event = envelope.decode(record)
                except envelope.PoisonMessage as poison:
                    await self._dead_letter(record, str(poison))
                    continue
                consumed[record.topic, event.type] += 1
                events.append(event)
                record_of[event.id] = record
        for (topic, event_type), count in consumed.items():
            metrics.EVENTS_CONSUMED.labels(topic, event_type).inc(count)
        if events:
            for event_id, reason in await self._handle(events):
                await self._dead_letter(record_of[event_id], reason)
        self._handle_seconds.observe(time.perf_counter() - started)
        self._batch_records.observe(sum(len(records) for records in batches.values()))
        failpoints.reach("consumer.before_commit")
        self._handled.update(
            {partition: records[-1].offset + 1 for partition, records in batches.items()}
        )
        self.progress.awaiting_commit(True)
        self._commit_handled()

    def _commit_handled(self, *, at_once: bool = False) -> None:
        """Commit the handled offsets in the background: one commit at a time, each taking
        everything handled until it starts, and at most one every `commit_interval_s` unless
        `at_once` (partitions going, the loop stopping). At low rates a batch holds a report
        or two, and a commit per batch cost the broker more than the records did."""
        if not self._handled or (self._committing is not None and not self._committing.done()):
            return
        if not at_once and not self._commit_due():
            return  # the next poll, at most `getmany`'s timeout away, tries again
        self._committing = asyncio.create_task(self._commit())

    def _commit_due(self) -> bool:
        return time.monotonic() - self._commit_started >= self._commit_interval_s

    async def _commit(self) -> None:
        while self._handled:
            self._commit_started = time.monotonic()
            offsets, self._handled = self._handled, {}
            started = time.perf_counter()
            try:
                await self._consumer.commit(offsets)
            except Exception as error:  # whatever the cause, they go with the next commit
                # Offsets only move forward: a later batch's offset of a partition supersedes
                # this one; a partition no longer assigned is its next owner's to redeliver.
                assigned = self._consumer.assignment()
                for partition, offset in offsets.items():
                    if partition in assigned:
                        self._handled.setdefault(partition, offset)
                logger.warning(
                    "committing offsets %s failed (%r); tried again after the next poll",
                    _offsets(offsets),
                    error,
                )
                self.progress.awaiting_commit(bool(self._handled))
                return
            self._commit_seconds.observe(time.perf_counter() - started)
            self.progress.commit_accepted()
            if not self._commit_due():
                break  # what was handled meanwhile waits for a poll after the interval
        self.progress.awaiting_commit(bool(self._handled))

    async def _flush_commits(self) -> None:
        """Wait for the commit under way and commit what is left, for at most a few seconds.

        Called before partitions are revoked and when the loop stops, so what does not make
        it is dropped: those records go again to the partitions' next owner, which changes
        nothing, and a later commit cannot move a partition's offset back behind that owner's.
        A commit still unanswered then is cancelled, so that none outlives its consumer.
        """
        try:
            async with asyncio.timeout(FLUSH_TIMEOUT_S):
                await self._commit_under_way()
                self._commit_handled(at_once=True)
                await self._commit_under_way()
        except TimeoutError:
            logger.warning(
                "offsets %s, and those of the commit under way, not committed in time",
                _offsets(self._handled),
            )
            if self._committing is not None:
                self._committing.cancel()
            self._committing = None
        self._handled.clear()
        self.progress.awaiting_commit(False)

    async def _commit_under_way(self) -> None:
        """Wait until the commit under way, if any, has ended (it logs its own failure)."""
        if self._committing is not None:
            await asyncio.wait({self._committing})

    async def _handle(self, events: list[envelope.CloudEvent]) -> list[Rejection]:
        """The handler's rejections. A batch that fails is tried again one event at a time, so
        that an event the database refuses as data is rejected (dead-lettered) alone, and the
        rest flows; any other failure is raised, and the whole batch is retried later."""
        try:
            return list(await self._handle_batch(events) or ())
        except Exception as error:
            if len(events) > 1:
                logger.warning("batch of %d failed (%r); one event at a time", len(events), error)
            elif database.refused_as_data(error):
                return [(events[0].id, f"refused by the database: {error}")]
            else:
                raise
        rejected: list[Rejection] = []
        for event in events:
            rejected += await self._handle([event])
        return rejected

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        headers = dict(record.headers or ())
        with observability.log_context(
            incident_id=_text(record.key), event_id=_text(headers.get("ce_id"))
        ):
            logger.warning(
                "dead-lettering %s-%s@%s: %s", record.topic, record.partition, record.offset, reason
            )
        await self._publisher.dead_letter(
            self._dead_letter_topic, record, reason=reason, consumer_group=self._group
        )


async def _stop_quietly(consumer: AIOKafkaConsumer) -> None:
    """Stop a consumer; a wedged one may fail or cancel its own tasks on the way out."""
    try:
        await consumer.stop()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # the loop itself is being cancelled
        logger.warning("the consumer cancelled its own tasks while stopping")
    except Exception:
        logger.exception("the consumer failed while stopping")


def _offsets(starts: dict[TopicPartition, int]) -> str:
    return ", ".join(f"{tp.topic}-{tp.partition}@{offset}" for tp, offset in sorted(starts.items()))


def _text(raw: bytes | None) -> str | None:
    """A key or header as text for the logs; None when absent or not UTF-8."""
    if not raw:
        return None
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return None
