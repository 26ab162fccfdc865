"""A handler slower than the consumer's session timeout: every event handled once, and the
group never rebalances (heartbeats go on while the handler works)."""

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence

import pytest

from services.common import envelope, kafka
from services.common.runtime import Infrastructure
from tests.faults import invariants
from tests.support import flow, reports, stack

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


@pytest.mark.timeout(300)
async def test_a_handler_slower_than_the_session_timeout_handles_each_event_once(
    fault_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=kafka.__name__)
    settings = stack.infra_settings(fault_env)
    group = fault_env["DISPATCH_CONSUMER_GROUP"]
    infra = await Infrastructure.start(settings, client_id="test-slow-handler")
    try:
        sent = await reports.publish_reports(
            infra.publisher, settings.topic_reports, 40, description="slow handler report"
        )
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
