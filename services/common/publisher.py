"""The publisher: CloudEvents to Kafka, acknowledged by every in-sync replica before it returns."""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import InvalidProducerEpoch, OutOfOrderSequenceNumber, UnknownProducerId
from aiokafka.structs import ConsumerRecord

from services.common import envelope, metrics

logger = logging.getLogger(__name__)

PRODUCER_STOP_TIMEOUT_S = 10.0
PRODUCER_BROKEN = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerEpoch)


class Publisher:
    """Sends CloudEvents and returns only once the broker has acknowledged them (or, with
    `hand_over_records`, once they are queued in order, their acknowledgement still to come).

    aiokafka's idempotent producer does not recover from a sequence gap (a batch lost while
    no broker answered, e.g. across a cluster restart): every later send fails with one of
    `PRODUCER_BROKEN`. The failing send raises as any refused send does (callers retry), and
    the publisher replaces the producer, whose successor gets a new producer id.
    """

    def __init__(
        self, producer: AIOKafkaProducer, *, renew: Callable[[], AIOKafkaProducer] | None = None
    ) -> None:
        self.producer = producer
        self._renew = renew
        self._renewing = asyncio.Lock()

    async def publish(self, topic: str, event: envelope.CloudEvent) -> None:
        """Produce one event keyed by its incident and wait for the acknowledgement."""
        await self.publish_many(topic, [event])

    async def publish_many(self, topic: str, events: Sequence[envelope.CloudEvent]) -> None:
        """Produce several events and wait until every one is acknowledged."""
        await self._send([(topic, envelope.encode(event)) for event in events])
        for event in events:
            metrics.events_produced(topic, event.type).inc()

    async def publish_records(
        self, records: Sequence[tuple[str, str, envelope.KafkaRecordOut]]
    ) -> None:
        """Produce already-encoded events (topic, type, record) in order; wait for every ack."""
        await (await self.hand_over_records(records))

    async def hand_over_records(
        self, records: Sequence[tuple[str, str, envelope.KafkaRecordOut]]
    ) -> "asyncio.Task[None]":
        """Give already-encoded events (topic, type, record) to the producer in order and
        return without waiting for the broker: the returned task ends once every one is
        acknowledged, or raises why not. Later sends cannot overtake these."""
        producer = self.producer
        acks = await self._enqueue(producer, [(topic, record) for topic, _, record in records])

        async def acknowledged() -> None:
            await self._acknowledged(producer, acks)
            for topic, event_type, _ in records:
                metrics.events_produced(topic, event_type).inc()

        return asyncio.create_task(acknowledged())

    async def dead_letter(
        self, topic: str, record: ConsumerRecord, *, reason: str, consumer_group: str
    ) -> None:
        """Copy an unprocessable record to the dead-letter topic with the reason in headers."""
        headers = list(record.headers or ()) + [
            ("dlq_reason", reason.encode()[:1000]),
            ("dlq_consumer_group", consumer_group.encode()),
            ("dlq_source_topic", record.topic.encode()),
            ("dlq_source_partition", str(record.partition).encode()),
            ("dlq_source_offset", str(record.offset).encode()),
        ]
        await self._send([(topic, envelope.KafkaRecordOut(record.key, record.value, headers))])
        metrics.DEAD_LETTERS.labels(record.topic).inc()

    async def _send(self, records: Sequence[tuple[str, envelope.KafkaRecordOut]]) -> None:
        """Send in order, then wait for every acknowledgement."""
        producer = self.producer
        await self._acknowledged(producer, await self._enqueue(producer, records))

    async def _enqueue(
        self, producer: AIOKafkaProducer, records: Sequence[tuple[str, envelope.KafkaRecordOut]]
    ) -> list["asyncio.Future[object]"]:
        """Hand the records to the producer in order; their acknowledgements to come."""
        try:
            return [
                await producer.send(topic, value=r.value, key=r.key, headers=r.headers)
                for topic, r in records
            ]
        except PRODUCER_BROKEN as broken:
            await self._replace(producer, because=broken)
            raise

    async def _acknowledged(
        self, producer: AIOKafkaProducer, acks: Sequence["asyncio.Future[object]"]
    ) -> None:
        """Wait for every acknowledgement; a producer that can send no more is replaced."""
        try:
            if len(acks) == 1:
                await acks[0]  # the common case, without gather's bookkeeping
            else:
                await asyncio.gather(*acks)
        except PRODUCER_BROKEN as broken:
            await self._replace(producer, because=broken)
            raise

    async def _replace(self, broken: AIOKafkaProducer, *, because: Exception) -> None:
        async with self._renewing:
            if self._renew is None or self.producer is not broken:
                return  # cannot renew, or another send already did
            logger.warning("producer cannot send any more (%r); starting a new one", because)
            successor = self._renew()
            await successor.start()
            self.producer = successor
        with contextlib.suppress(Exception):
            await asyncio.wait_for(broken.stop(), PRODUCER_STOP_TIMEOUT_S)
