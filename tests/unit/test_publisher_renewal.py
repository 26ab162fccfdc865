"""A producer that can no longer send (a sequence gap after an outage) is replaced once."""

import asyncio

import pytest
from aiokafka.errors import OutOfOrderSequenceNumber

from services.common import kafka
from tests.support import reports


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


async def test_a_send_after_a_sequence_gap_fails_once_then_a_new_producer_sends() -> None:
    stuck = StuckProducer(broken=True)
    successors: list[StuckProducer] = []

    def renew() -> StuckProducer:
        successors.append(StuckProducer(broken=False))
        return successors[-1]

    publisher = kafka.Publisher(stuck, renew=renew)  # type: ignore[arg-type]
    with pytest.raises(OutOfOrderSequenceNumber):
        await publisher.publish("reports", reports.reported(description="unit"))
    await publisher.publish("reports", reports.reported(description="unit"))
    assert len(successors) == 1 and successors[0].started and stuck.stopped
    assert publisher.producer is successors[0] and successors[0].sent == ["reports"]


async def test_without_a_way_to_renew_the_failure_is_only_raised() -> None:
    stuck = StuckProducer(broken=True)
    publisher = kafka.Publisher(stuck)  # type: ignore[arg-type]
    for _ in range(2):
        with pytest.raises(OutOfOrderSequenceNumber):
            await publisher.publish("reports", reports.reported(description="unit"))
    assert publisher.producer is stuck and not stuck.stopped
