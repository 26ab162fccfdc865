"""A service process dies mid-stream (at a failpoint, or by SIGKILL) and is started again.

Failpoints put the death exactly where at-least-once delivery is tested hardest: after the
effect is durable but before the offset commit, after dispatch's commit but before its
publish, and after the broker has a report but before intake answers 202.
"""

import asyncio
import random

import pytest

from tests.faults import invariants
from tests.faults.deployment import Deployment
from tests.faults.stream import ReportStream

SERVICES = ("dispatch", "ledger", "intake")


async def start_all(deployment: Deployment, **failpoints: str) -> None:
    for name in SERVICES:
        await deployment.start(name, failpoint=failpoints.get(name))


def stream_for(deployment: Deployment, *, count: int, seed: int) -> ReportStream:
    return ReportStream(lambda: deployment.url("intake"), count=count, seed=seed)


async def die_and_come_back(deployment: Deployment, name: str) -> int:
    """Wait for the armed failpoint to end `name`, then start it again, disarmed."""
    status = await deployment.wait_exit(name, within_s=90)
    await deployment.start(name)
    return status


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("service", "failpoint"),
    [
        ("dispatch", "consumer.before_commit=3"),
        ("dispatch", "dispatch.before_publish=25"),
        ("ledger", "consumer.before_commit=4"),
        ("intake", "intake.before_answer=40"),
    ],
)
async def test_a_service_dying_at_a_failpoint_loses_and_doubles_nothing(
    deployment: Deployment, service: str, failpoint: str
) -> None:
    await start_all(deployment, **{service: failpoint})
    stream = stream_for(deployment, count=100, seed=11)
    posting = asyncio.create_task(stream.post_all())
    status = await die_and_come_back(deployment, service)
    await posting
    assert status == 86, deployment.log_tails(service)
    await invariants.check(deployment.env, set(stream.accepted))


@pytest.mark.timeout(420)
async def test_every_service_killed_at_random_moments_loses_and_doubles_nothing(
    deployment: Deployment,
) -> None:
    await start_all(deployment)
    stream = stream_for(deployment, count=150, seed=12)
    stream.per_second = 15
    posting = asyncio.create_task(stream.post_all())
    chance = random.Random(12)
    for round_ in range(6):
        name = SERVICES[round_ % len(SERVICES)]
        await asyncio.sleep(chance.uniform(0.5, 3.0))
        await deployment.kill(name)
        await deployment.start(name)
    await posting
    assert stream.retries > 0, "intake was killed, yet no report had to be retried"
    await invariants.check(deployment.env, set(stream.accepted))
