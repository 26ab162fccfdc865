"""The consumer loop commits a batch's offsets in the background: the next batch is handled
while the broker records them, one commit at a time, and a failed commit is made good by the
next one. The consumer here is a stand-in whose commits the test releases or fails."""

import asyncio
from collections.abc import Sequence

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError
from aiokafka.structs import ConsumerRecord

from services.common import envelope, kafka
from tests.support import reports

PARTITION = TopicPartition("reports", 0)


def record(offset: int) -> ConsumerRecord:
    out = envelope.encode(reports.reported(description=f"report {offset}"))
    return ConsumerRecord(
        topic=PARTITION.topic,
        partition=PARTITION.partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=out.key,
        value=out.value,
        checksum=None,
        serialized_key_size=len(out.key),
        serialized_value_size=len(out.value),
        headers=tuple(out.headers),
    )


class HeldConsumer:
    """Serves one batch per poll; each commit waits until the test releases or fails it."""

    def __init__(self, batches: list[list[int]]) -> None:
        self.batches = [[record(offset) for offset in batch] for batch in batches]
        self.committed: list[int] = []
        self.requests: asyncio.Queue[tuple[int, asyncio.Future[None]]] = asyncio.Queue()
        self.in_flight = 0
        self.most_in_flight = 0

    async def getmany(self, **_: object) -> dict[TopicPartition, list[ConsumerRecord]]:
        await asyncio.sleep(0)
        return {PARTITION: self.batches.pop(0)} if self.batches else {}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        outcome: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self.requests.put((offsets[PARTITION], outcome))
        try:
            await outcome
            self.committed.append(offsets[PARTITION])
        finally:
            self.in_flight -= 1

    def assignment(self) -> set[TopicPartition]:
        return {PARTITION}

    def highwater(self, tp: TopicPartition) -> None:
        return None


class Handler:
    def __init__(self) -> None:
        self.batches: list[int] = []

    async def __call__(self, batch: Sequence[envelope.CloudEvent]) -> None:
        self.batches.append(len(batch))


async def poll(loop: kafka.ConsumerLoop) -> None:
    """One poll, which must not wait for any commit."""
    await asyncio.wait_for(loop._poll_once(), 2.0)


def loop_over(
    consumer: HeldConsumer, handler: Handler, *, commit_interval_s: float = 0.0
) -> kafka.ConsumerLoop:
    return kafka.ConsumerLoop(
        consumer=consumer,  # type: ignore[arg-type]
        consumer_group="group",
        topics=[PARTITION.topic],
        handle_batch=handler,
        publisher=None,  # type: ignore[arg-type]
        dead_letter_topic="dead-letters",
        commit_interval_s=commit_interval_s,
    )


async def test_the_next_batch_is_handled_while_the_last_offsets_are_committed() -> None:
    consumer, handler = HeldConsumer([[0, 1], [2, 3, 4], [5]]), Handler()
    loop = loop_over(consumer, handler)
    await poll(loop)
    offset, first = await consumer.requests.get()
    assert offset == 2
    await poll(loop)
    await poll(loop)
    assert handler.batches == [2, 3, 1], "later batches waited for the commit"
    assert consumer.requests.empty(), "a second commit started while the first was under way"
    first.set_result(None)
    offset, second = await consumer.requests.get()
    assert offset == 6, "the next commit should take everything handled meanwhile"
    second.set_result(None)
    await loop._flush_commits()
    assert consumer.committed == [2, 6] and consumer.most_in_flight == 1


async def test_offsets_of_a_failed_commit_go_with_the_next_one() -> None:
    consumer, handler = HeldConsumer([[0, 1, 2]]), Handler()
    loop = loop_over(consumer, handler)
    await poll(loop)
    offset, refused = await consumer.requests.get()
    refused.set_exception(CommitFailedError("rebalanced"))
    await asyncio.sleep(0.01)
    assert consumer.committed == []
    await poll(loop)  # nothing new: the poll tries the refused offsets again
    offset, accepted = await consumer.requests.get()
    assert offset == 3
    accepted.set_result(None)
    await loop._flush_commits()
    assert consumer.committed == [3]


async def test_stopping_waits_for_the_offsets_still_to_be_committed() -> None:
    consumer, handler = HeldConsumer([[0]]), Handler()
    loop = loop_over(consumer, handler)
    await poll(loop)
    _, pending = await consumer.requests.get()
    flushing = asyncio.create_task(loop._flush_commits())
    await asyncio.sleep(0.01)
    assert not flushing.done(), "the flush did not wait for the commit under way"
    pending.set_result(None)
    await flushing
    assert consumer.committed == [1]


async def test_offsets_that_a_revocation_could_not_commit_are_left_to_the_next_owner() -> None:
    consumer, handler = HeldConsumer([[0, 1]]), Handler()
    loop = loop_over(consumer, handler)
    await poll(loop)
    _, refused = await consumer.requests.get()
    flushing = asyncio.create_task(loop._flush_commits())
    refused.set_exception(CommitFailedError("rebalanced"))
    _, refused_again = await consumer.requests.get()  # the flush tries what is left once more
    refused_again.set_exception(CommitFailedError("rebalanced"))
    await flushing
    await poll(loop)
    await asyncio.sleep(0.01)
    assert consumer.requests.empty(), "offsets the revocation gave up were committed later"
    assert consumer.committed == []


async def test_commits_are_spaced_by_the_interval_but_a_flush_commits_at_once() -> None:
    consumer, handler = HeldConsumer([[0], [1], [2]]), Handler()
    loop = loop_over(consumer, handler, commit_interval_s=60.0)
    await poll(loop)
    offset, first = await consumer.requests.get()
    assert offset == 1
    first.set_result(None)
    await poll(loop)
    await poll(loop)
    await asyncio.sleep(0.01)
    assert handler.batches == [1, 1, 1]
    assert consumer.requests.empty(), "a second commit started within the interval"
    flushing = asyncio.create_task(loop._flush_commits())
    offset, last = await asyncio.wait_for(consumer.requests.get(), 2.0)
    assert offset == 3, "the flush should commit everything handled, without waiting"
    last.set_result(None)
    await flushing
    assert consumer.committed == [1, 3]
