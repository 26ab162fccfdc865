"""A producer that can no longer send (a sequence gap after an outage) is replaced once."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka.errors import OutOfOrderSequenceNumber

from services.common import envelope, events, kafka


class StuckProducer:
    """Every send fails as aiokafka's idempotent producer does after a sequence gap."""

    def __init__(self, *, broken: bool) -> None:
        self.broken = broken
        self.sent: list[str] = []
        self.started = self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, topic: str, **_: object) -> "asyncio.Future[None]":
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.broken:
            done.set_exception(OutOfOrderSequenceNumber())
        else:
            self.sent.append(topic)
            done.set_result(None)
        return done


def report() -> envelope.CloudEvent:
    data = events.IncidentReported(
        incident_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        channel=events.Channel.HOTLINE,
        category="clutter",
        description="unit",
        grid_id="G01",
    )
    return envelope.new_event(event_id=str(uuid.uuid4()), source="unit", data=data)


async def test_a_send_after_a_sequence_gap_fails_once_then_a_new_producer_sends() -> None:
    stuck = StuckProducer(broken=True)
    successors: list[StuckProducer] = []

    def renew() -> StuckProducer:
        successors.append(StuckProducer(broken=False))
        return successors[-1]

    publisher = kafka.Publisher(stuck, renew=renew)  # type: ignore[arg-type]
    with pytest.raises(OutOfOrderSequenceNumber):
        await publisher.publish("reports", report())
    await publisher.publish("reports", report())
    assert len(successors) == 1 and successors[0].started and stuck.stopped
    assert publisher.producer is successors[0] and successors[0].sent == ["reports"]


async def test_without_a_way_to_renew_the_failure_is_only_raised() -> None:
    stuck = StuckProducer(broken=True)
    publisher = kafka.Publisher(stuck)  # type: ignore[arg-type]
    for _ in range(2):
        with pytest.raises(OutOfOrderSequenceNumber):
            await publisher.publish("reports", report())
    assert publisher.producer is stuck and not stuck.stopped
