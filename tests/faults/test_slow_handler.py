"""A handler slower than the consumer's session timeout: every event handled once, and the
group never rebalances (heartbeats go on while the handler works)."""

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from services.common import envelope, events, kafka
from services.common.runtime import Infrastructure
from services.common.settings import InfraSettings
from tests.faults import invariants
from tests.support import flow

SESSION_TIMEOUT_S = 10.0  # aiokafka's default, which create_consumer keeps
SLOW_BATCHES = 2


class SlowHandler:
    """Takes longer than the session timeout over its first batches, then keeps up."""

    def __init__(self) -> None:
        self.handled: Counter[str] = Counter()
        self.batches = 0

    async def handle(self, batch: Sequence[envelope.CloudEvent]) -> None:
        self.batches += 1
        if self.batches <= SLOW_BATCHES:
            await asyncio.sleep(SESSION_TIMEOUT_S * 1.2)
        self.handled.update(event.id for event in batch)


def settings_of(env: dict[str, str]) -> InfraSettings:
    values = {name.lower(): value for name, value in env.items()}
    return InfraSettings(**{k: v for k, v in values.items() if k in InfraSettings.model_fields})


async def publish_reports(infra: Infrastructure, topic: str, count: int) -> list[str]:
    sent = []
    for n in range(count):
        report = events.IncidentReported(
            incident_id=uuid.uuid4(),
            occurred_at=datetime.now(UTC),
            channel=events.Channel.HOTLINE,
            category="clutter",
            description=f"slow handler report {n}",
            grid_id="G01",
        )
        event = envelope.new_event(event_id=str(uuid.uuid4()), source="test", data=report)
        await infra.publisher.publish(topic, event)
        sent.append(event.id)
    return sent


@pytest.mark.timeout(300)
async def test_a_handler_slower_than_the_session_timeout_handles_each_event_once(
    fault_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=kafka.__name__)
    settings = settings_of(fault_env)
    group = fault_env["DISPATCH_CONSUMER_GROUP"]
    infra = await Infrastructure.start(settings, client_id="test-slow-handler")
    try:
        sent = await publish_reports(infra, settings.topic_reports, 40)
        handler = SlowHandler()
        loop = kafka.ConsumerLoop(
            consumer=kafka.create_consumer(settings, group_id=group, client_id="slow"),
            consumer_group=group,
            topics=[settings.topic_reports],
            handle_batch=handler.handle,
            publisher=infra.publisher,
            dead_letter_topic=settings.topic_dead_letters,
            max_records=10,
        )
        infra.run_in_background(loop.run)

        async def all_handled_and_committed() -> bool:
            lag = await invariants.consumer_lag(fault_env)
            return set(handler.handled) == set(sent) and lag[group] == 0

        await flow.wait_for(all_handled_and_committed, within_s=120, what="every report handled")
    finally:
        await infra.close()
    assert handler.batches > SLOW_BATCHES
    assert set(handler.handled.values()) == {1}, "an event was handled twice"
    assignments = [r for r in caplog.records if r.getMessage().startswith("partitions assigned")]
    assert len(assignments) == 1, [r.getMessage() for r in assignments]
