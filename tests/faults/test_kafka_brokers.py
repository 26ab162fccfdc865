"""Kafka nodes die under load: one broker, the leader of a partition again and again, and
the whole cluster at once (where /readyz must say so, and come back by itself)."""

import asyncio

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from gridstack import cluster

from tests.faults import invariants
from tests.faults.deployment import Deployment
from tests.faults.stream import ReportStream
from tests.support import flow

SERVICES = ("dispatch", "ledger", "intake")


async def start_all(deployment: Deployment, *, count: int, seed: int) -> ReportStream:
    await deployment.start_together(*SERVICES)
    return ReportStream(lambda: deployment.url("intake"), count=count, seed=seed)


async def partitions(env: dict[str, str]) -> dict[tuple[str, int], tuple[int, list[int]]]:
    """(topic, partition) → (leader, in-sync replicas) for the scenario's topics."""
    topics = [env["TOPIC_REPORTS"], env["TOPIC_LIFECYCLE"]]
    admin = AIOKafkaAdminClient(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"])
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return {
        (topic["topic"], p["partition"]): (p["leader"], list(p["isr"]))
        for topic in described
        for p in topic["partitions"]
    }


async def wait_fully_replicated(env: dict[str, str], *, brokers: int) -> None:
    async def every_replica_in_sync() -> bool:
        try:
            found = await partitions(env)
        except Exception:  # noqa: BLE001 - a cluster that is still electing answers errors
            return False
        return bool(found) and all(len(isr) == brokers for _, isr in found.values())

    await flow.wait_for(every_replica_in_sync, within_s=120, what="every replica back in sync")


def node_of(stack: cluster.PrivateStack, node_id: int) -> cluster.KafkaNode:
    return next(node for node in stack.nodes if node.node_id == node_id)


@pytest.mark.timeout(420)
async def test_one_broker_killed_and_restarted_under_load(
    deployment: Deployment, private_stack: cluster.PrivateStack
) -> None:
    stream = await start_all(deployment, count=100, seed=31)
    posting = asyncio.create_task(stream.post_all())
    await stream.reached(30)
    victim = private_stack.nodes[0]
    await asyncio.to_thread(private_stack.kill_kafka, victim)
    await stream.reached(60)
    await asyncio.to_thread(private_stack.start_kafka, [victim])
    await posting
    await wait_fully_replicated(deployment.env, brokers=len(private_stack.nodes))
    await invariants.check(deployment.env, set(stream.accepted))


@pytest.mark.timeout(480)
async def test_the_leader_of_the_reports_partition_bounced_three_times(
    deployment: Deployment, private_stack: cluster.PrivateStack
) -> None:
    stream = await start_all(deployment, count=90, seed=32)
    stream.per_second = 4
    posting = asyncio.create_task(stream.post_all())
    watched = (deployment.env["TOPIC_REPORTS"], 0)
    leaders = []
    for _ in range(3):
        await wait_fully_replicated(deployment.env, brokers=len(private_stack.nodes))
        leader, _ = (await partitions(deployment.env))[watched]
        leaders.append(leader)
        await asyncio.to_thread(private_stack.kill_kafka, node_of(private_stack, leader))

        async def new_leader(previous: int = leader) -> bool:
            try:
                return (await partitions(deployment.env))[watched][0] not in (previous, -1)
            except Exception:  # noqa: BLE001 - metadata may be briefly unavailable
                return False

        await flow.wait_for(new_leader, within_s=60, what=f"a leader for {watched} after {leader}")
        await asyncio.to_thread(private_stack.start_kafka, [node_of(private_stack, leader)])
    await posting
    await wait_fully_replicated(deployment.env, brokers=len(private_stack.nodes))
    assert len(leaders) == 3
    await invariants.check(deployment.env, set(stream.accepted))


@pytest.mark.timeout(600)
async def test_the_whole_cluster_restarted_readiness_says_so_and_recovers(
    deployment: Deployment, private_stack: cluster.PrivateStack
) -> None:
    stream = await start_all(deployment, count=100, seed=33)
    posting = asyncio.create_task(stream.post_all())
    await stream.reached(30)
    for node in private_stack.nodes:
        await asyncio.to_thread(private_stack.kill_kafka, node)
    try:
        for name in SERVICES:
            await wait_not_ready(deployment.url(name), because="kafka")
    finally:
        await asyncio.to_thread(private_stack.start_kafka)
    for name in SERVICES:
        await asyncio.to_thread(deployment.current[name].wait_ready, 120)
    await posting
    assert stream.retries > 0, "intake answered 202 while no broker ran"
    # A consumer left wedged on stale leaders is replaced after a minute without fetch answers.
    await invariants.check(deployment.env, set(stream.accepted), settle_within_s=300)


async def wait_not_ready(url: str, *, because: str) -> None:
    async def not_ready() -> bool:
        async with httpx.AsyncClient(timeout=15) as client:
            response = await client.get(f"{url}/readyz")
        return response.status_code == 503 and response.json()["checks"][because] != "ok"

    await flow.wait_for(not_ready, within_s=60, what=f"{url}/readyz to fail on {because}")
