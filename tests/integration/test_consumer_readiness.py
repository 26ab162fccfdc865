"""/readyz turns 503 when a real consumer stops making progress, and 200 when it recovers.

The shared broker cannot be restarted here, so the stalls are made on real consumers of the
real broker: a handler that fails every batch (lag that never moves), a handler that never
returns (a poll that never comes back), paused partitions (fetches no longer answered: what
a fetcher wedged after a broker restart looks like), a consumer left without a partition,
and a consumer whose broker address refuses connections. A real broker restart is for the
fault-injection tests.
"""

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from fastapi import FastAPI
from prometheus_client import REGISTRY

from services.common import envelope, health, kafka, observability
from services.common.runtime import Infrastructure
from services.common.settings import InfraSettings
from tests.support import flow, reports, runs, stack

STALL_S = 3.0


@dataclass
class Gate:
    """The batch handler, steered by the test: pass, fail every batch, or hang."""

    mode: str = "pass"
    handled: list[str] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, batch: Sequence[envelope.CloudEvent]) -> None:
        if self.mode == "fail":
            raise RuntimeError("the handler's database is gone (simulated)")
        if self.mode == "hang":
            await self.release.wait()
        self.handled.extend(event.id for event in batch)


@dataclass
class Rig:
    infra: Infrastructure
    loop: kafka.ConsumerLoop
    consumer: kafka.AIOKafkaConsumer
    gate: Gate
    client: httpx.AsyncClient
    group: str
    topic: str


def probe_app(infra: Infrastructure) -> httpx.AsyncClient:
    app = FastAPI()
    observability.instrument(app, service="probe-test")
    app.include_router(health.health_router(lambda request: infra.readiness_checks()))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe")


@pytest.fixture(scope="module")
async def rig(run_env: dict[str, str]) -> AsyncIterator[Rig]:
    settings = stack.infra_settings(run_env)
    group = f"test.readiness.{uuid.uuid4().hex[:8]}"
    infra = await Infrastructure.start(settings, client_id="test-readiness")
    consumer = kafka.create_consumer(settings, group_id=group, client_id="test-readiness")
    gate = Gate()
    loop = kafka.ConsumerLoop(
        consumer=consumer,
        consumer_group=group,
        topics=[settings.topic_reports],
        handle_batch=gate.handle,
        publisher=infra.publisher,
        dead_letter_topic=settings.topic_dead_letters,
        retry_delay_s=0.2,
        stall_after_s=STALL_S,
    )
    infra.run_in_background(loop.run)
    client = probe_app(infra)
    yield Rig(infra, loop, consumer, gate, client, group, settings.topic_reports)
    gate.release.set()
    await client.aclose()
    await infra.close()


async def publish_reports(rig: Rig, count: int) -> list[str]:
    return await reports.publish_reports(
        rig.infra.publisher, rig.topic, count, description="readiness test"
    )


async def readiness(rig: Rig) -> tuple[int, str]:
    response = await rig.client.get("/readyz")
    return response.status_code, response.json()["checks"]["workers"]


async def wait_ready(rig: Rig, *, within_s: float = 30) -> None:
    async def ready() -> bool:
        return (await readiness(rig))[0] == 200

    await flow.wait_for(ready, within_s=within_s, what="/readyz to answer 200")


async def wait_not_ready(rig: Rig, because: str) -> str:
    """Wait for a 503 whose workers check names `because`; return that check's text."""
    seen: list[str] = []

    async def not_ready() -> bool:
        status, workers = await readiness(rig)
        seen.append(workers)
        return status == 503 and because in workers

    await flow.wait_for(not_ready, within_s=STALL_S + 15, what=f"a 503 naming {because!r}")
    return seen[-1]


def total_lag(rig: Rig) -> float:
    return sum(
        sample.value
        for family in REGISTRY.collect()
        if family.name == "gridloop_consumer_lag"
        for sample in family.samples
        if sample.labels["group"] == rig.group
    )


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_a_consumer_that_keeps_up_is_ready_and_reports_zero_lag(rig: Rig) -> None:
    await wait_ready(rig)
    sent = await publish_reports(rig, 6)

    async def all_handled() -> bool:
        return set(sent) <= set(rig.gate.handled) and total_lag(rig) == 0

    await flow.wait_for(all_handled, within_s=30, what="every report to be handled")
    partitions = {
        s.labels["partition"]
        for family in REGISTRY.collect()
        if family.name == "gridloop_consumer_lag"
        for s in family.samples
        if s.labels["group"] == rig.group
    }
    assert partitions == {"0", "1", "2"}, "one lag series per assigned partition"
    assert sample("gridloop_consumer_assigned_partitions", group=rig.group) == 3
    assert sample("gridloop_consumer_stalled", group=rig.group) == 0
    assert await readiness(rig) == (200, "ok")


async def test_lag_that_stops_moving_makes_the_service_not_ready_until_it_moves(
    rig: Rig,
) -> None:
    await wait_ready(rig)
    rig.gate.mode = "fail"
    await publish_reports(rig, 3)
    workers = await wait_not_ready(rig, "has not moved")
    assert "has lag" in workers
    assert total_lag(rig) >= 1
    assert sample("gridloop_consumer_stalled", group=rig.group) == 1
    failures = sample("gridloop_consumer_batch_failures_total", group=rig.group, topic=rig.topic)
    assert failures is not None and failures > 0
    metrics_text = (await rig.client.get("/metrics")).text
    assert f'gridloop_consumer_stalled{{group="{rig.group}"}} 1.0' in metrics_text
    assert (await rig.client.get("/readyz")).json()["checks"]["kafka"] == "ok"

    rig.gate.mode = "pass"
    await wait_ready(rig)
    assert total_lag(rig) == 0
    assert sample("gridloop_consumer_stalled", group=rig.group) == 0


async def test_a_poll_that_never_comes_back_makes_the_service_not_ready(rig: Rig) -> None:
    await wait_ready(rig)
    rig.gate.release.clear()
    rig.gate.mode = "hang"
    sent = await publish_reports(rig, 1)
    await wait_not_ready(rig, "has not returned from a poll")
    rig.gate.mode = "pass"
    rig.gate.release.set()
    await wait_ready(rig)
    assert set(sent) <= set(rig.gate.handled)


async def test_partitions_the_broker_stops_answering_for_make_the_service_not_ready(
    rig: Rig,
) -> None:
    await wait_ready(rig)
    assigned = rig.consumer.assignment()
    rig.consumer.pause(*assigned)  # no more fetches for them: their fetch marks stand still
    try:
        await wait_not_ready(rig, "no fetch answer")
    finally:
        rig.consumer.resume(*assigned)
    await wait_ready(rig)


async def test_a_consumer_whose_broker_refuses_connections_is_not_ready(
    run_env: dict[str, str],
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{probe.getsockname()[1]}"
    settings = stack.infra_settings(run_env)
    infra = await Infrastructure.start(settings, client_id="test-readiness-dead")
    try:
        consumer = kafka.create_consumer(
            stack.infra_settings(run_env, kafka_bootstrap_servers=dead),
            group_id="dead",
            client_id="dead",
        )
        loop = kafka.ConsumerLoop(
            consumer=consumer,
            consumer_group=f"test.dead.{uuid.uuid4().hex[:8]}",
            topics=[settings.topic_reports],
            handle_batch=Gate().handle,
            publisher=infra.publisher,
            dead_letter_topic=settings.topic_dead_letters,
            stall_after_s=STALL_S,
        )
        infra.run_in_background(loop.run)
        async with probe_app(infra) as client:

            async def refused() -> bool:
                response = await client.get("/readyz")
                workers = response.json()["checks"]["workers"]
                return response.status_code == 503 and (
                    "background task has stopped" in workers or "has not returned" in workers
                )

            await flow.wait_for(refused, within_s=STALL_S + 30, what="/readyz to answer 503")
    finally:
        await infra.close()


async def test_a_consumer_left_without_a_partition_is_not_ready(run_env: dict[str, str]) -> None:
    """Two consumers of one group on a one-partition topic: the one left out is not ready."""
    settings = stack.infra_settings(run_env)
    run = runs.run_of(run_env)  # the module's run: its topics are removed with it
    topic, group = runs.name(run, "single"), runs.name(run, f"single.{uuid.uuid4().hex[:8]}")
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, settings.topic_replication_factor)])
    finally:
        await admin.close()
    pair = []
    try:
        for n in range(2):
            infra = await Infrastructure.start(settings, client_id=f"test-single-{n}")
            pair.append(infra)
            loop = kafka.ConsumerLoop(
                consumer=kafka.create_consumer(settings, group_id=group, client_id=f"single-{n}"),
                consumer_group=group,
                topics=[topic],
                handle_batch=Gate().handle,
                publisher=infra.publisher,
                dead_letter_topic=settings.topic_dead_letters,
                stall_after_s=STALL_S,
            )
            infra.run_in_background(loop.run)
        clients = [probe_app(infra) for infra in pair]
        answers: list[tuple[int, str]] = []

        async def one_ready_one_left_out() -> bool:
            answers[:] = []
            for client in clients:
                response = await client.get("/readyz")
                answers.append((response.status_code, response.json()["checks"]["workers"]))
            statuses = sorted(status for status, _ in answers)
            reasons = " ".join(workers for _, workers in answers)
            return statuses == [200, 503] and "has had no partition assigned" in reasons

        await flow.wait_for(one_ready_one_left_out, within_s=STALL_S + 40, what="one of two ready")
        (left_out,) = [workers for status, workers in answers if status == 503]
        assert "has had no partition assigned" in left_out
        for client in clients:
            await client.aclose()
    finally:
        for infra in pair:
            await infra.close()


@dataclass
class Renewing:
    """A loop whose first consumer the test breaks; it may start new ones (`replacements`)."""

    settings: InfraSettings
    group: str
    infra: Infrastructure
    first: kafka.AIOKafkaConsumer
    gate: Gate
    loop: kafka.ConsumerLoop
    replacements: list[kafka.AIOKafkaConsumer]


@asynccontextmanager
async def renewing(run_env: dict[str, str], name: str) -> AsyncIterator[Renewing]:
    """The loop, not started yet, so that the test can break its first consumer first."""
    settings = stack.infra_settings(run_env)
    group = f"test.{name}.{uuid.uuid4().hex[:8]}"
    infra = await Infrastructure.start(settings, client_id=f"test-{name}")
    first = kafka.create_consumer(settings, group_id=group, client_id=f"{name}-first")
    replacements: list[kafka.AIOKafkaConsumer] = []

    def renew() -> kafka.AIOKafkaConsumer:
        replacements.append(kafka.create_consumer(settings, group_id=group, client_id=name))
        return replacements[-1]

    gate = Gate()
    loop = kafka.ConsumerLoop(
        consumer=first,
        consumer_group=group,
        topics=[settings.topic_reports],
        handle_batch=gate.handle,
        publisher=infra.publisher,
        dead_letter_topic=settings.topic_dead_letters,
        stall_after_s=STALL_S,
        renew=renew,
    )
    try:
        yield Renewing(settings, group, infra, first, gate, loop, replacements)
    finally:
        await infra.close()


async def test_a_wedged_consumer_is_replaced_and_the_service_is_ready_again(
    run_env: dict[str, str],
) -> None:
    """Paused partitions (no fetch answers) with a way to renew: a new consumer takes over."""
    async with renewing(run_env, "renew") as rig:
        rig.infra.run_in_background(rig.loop.run)
        client = probe_app(rig.infra)
        try:

            async def assigned() -> bool:
                return bool(rig.first.assignment())

            await flow.wait_for(assigned, within_s=30, what="the first consumer's partitions")
            rig.first.pause(*rig.first.assignment())  # its fetches stop, as a wedged one's do

            async def replaced_and_ready() -> bool:
                response = await client.get("/readyz")
                return bool(rig.replacements) and response.status_code == 200

            await flow.wait_for(replaced_and_ready, within_s=STALL_S + 40, what="a new consumer")
            sent = await reports.publish_reports(
                rig.infra.publisher, rig.settings.topic_reports, 2, description="readiness test"
            )

            async def handled() -> bool:
                return set(sent) <= set(rig.gate.handled)

            await flow.wait_for(handled, within_s=30, what="reports handled by the new consumer")
            assert len(rig.replacements) == 1
        finally:
            await client.aclose()


async def test_a_consumer_whose_commits_are_never_accepted_is_replaced(
    run_env: dict[str, str],
) -> None:
    """Fetches answered, batches handled, commits never answered (a wedged coordinator): the
    new consumer handles the records again and its commits go through."""
    never = asyncio.Event()

    async def unanswered_commit(offsets: object = None) -> None:
        await never.wait()

    async with renewing(run_env, "uncommitted") as rig:
        rig.first.commit = unanswered_commit  # type: ignore[method-assign]
        sent = await reports.publish_reports(
            rig.infra.publisher, rig.settings.topic_reports, 3, description="readiness test"
        )
        rig.infra.run_in_background(rig.loop.run)
        try:

            async def handled_twice() -> bool:
                return all(rig.gate.handled.count(event_id) == 2 for event_id in sent)

            await flow.wait_for(handled_twice, within_s=STALL_S + 40, what="a new consumer")
            await reports.wait_committed(
                rig.settings.kafka_bootstrap_servers,
                rig.group,
                [rig.settings.topic_reports],
                partitions=rig.settings.topic_partitions,
                within_s=30,
            )
            assert len(rig.replacements) == 1
        finally:
            never.set()
