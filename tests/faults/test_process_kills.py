"""Service processes die mid-stream (at failpoints, or by SIGKILL) and are started again.

Failpoints put each death exactly where at-least-once delivery is tested hardest: after the
effect is durable but before the offset commit (dispatch and ledger), after dispatch's commit
but before its publish, and after the broker has a report but before intake answers 202.
"""

import asyncio
import random

import pytest

from services.common import failpoints
from tests.faults import invariants
from tests.faults.deployment import Deployment
from tests.faults.stream import ReportStream

SERVICES = ("dispatch", "ledger", "intake")
# Each service's deaths, in order: after each one it is started again with the next armed.
DEATHS = {
    "dispatch": ["consumer.before_commit=3", "dispatch.before_publish=1"],
    "ledger": ["consumer.before_commit=4"],
    "intake": ["intake.before_answer=40"],
}


async def die_at_each(deployment: Deployment, name: str, armed: list[str]) -> list[int]:
    """Wait for each armed failpoint to end `name`; start it again with the next one armed."""
    statuses = []
    for next_failpoint in [*armed[1:], None]:
        statuses.append(await deployment.wait_exit(name, within_s=120))
        await deployment.start(name, failpoint=next_failpoint)
    return statuses


@pytest.mark.timeout(600)
async def test_services_dying_at_failpoints_lose_and_double_nothing(
    deployment: Deployment,
) -> None:
    await asyncio.gather(*(deployment.start(name, failpoint=DEATHS[name][0]) for name in SERVICES))
    stream = ReportStream(lambda: deployment.url("intake"), count=120, seed=11)
    posting = asyncio.create_task(stream.post_all())
    statuses = await asyncio.gather(
        *(die_at_each(deployment, name, DEATHS[name]) for name in SERVICES)
    )
    await posting
    assert statuses == [[failpoints.EXIT_STATUS] * len(DEATHS[name]) for name in SERVICES]
    assert stream.retries > 0, "intake died before answering, yet no report was retried"
    await invariants.check(deployment.env, set(stream.accepted))


@pytest.mark.timeout(600)
async def test_every_service_killed_at_random_moments_loses_and_doubles_nothing(
    deployment: Deployment,
) -> None:
    await deployment.start_together(*SERVICES)
    stream = ReportStream(lambda: deployment.url("intake"), count=120, seed=12, per_second=3)
    posting = asyncio.create_task(stream.post_all())
    chance = random.Random(12)
    for round_ in range(6):
        name = ("intake", "dispatch", "ledger")[round_ % len(SERVICES)]
        await asyncio.sleep(chance.uniform(0.5, 3.0))
        await deployment.kill(name)
        await deployment.start(name)
    await posting
    assert stream.retries > 0, "intake was killed, yet no report had to be retried"
    await invariants.check(deployment.env, set(stream.accepted))
