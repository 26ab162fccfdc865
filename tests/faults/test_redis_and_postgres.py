"""Redis comes back empty, and PostgreSQL disappears for 30 s, while reports keep coming."""

import asyncio

import httpx
import pytest
from gridstack import cluster

from tests.faults import invariants
from tests.faults.deployment import Deployment
from tests.faults.stream import ReportStream

SERVICES = ("dispatch", "ledger", "intake")
POSTGRES_AWAY_S = 30


async def start_all(deployment: Deployment) -> ReportStream:
    await deployment.start_together(*SERVICES)
    return ReportStream(lambda: deployment.url("intake"), count=100, seed=21)


async def readiness(url: str) -> tuple[int, dict[str, str]]:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{url}/readyz")
    return response.status_code, response.json()["checks"]


@pytest.mark.timeout(300)
async def test_redis_restarted_empty_loses_no_timer_and_no_load(
    deployment: Deployment, private_stack: cluster.PrivateStack
) -> None:
    stream = await start_all(deployment)
    posting = asyncio.create_task(stream.post_all())
    await stream.reached(40)
    await asyncio.to_thread(private_stack.stop_redis)
    await asyncio.to_thread(private_stack.start_redis)
    await posting
    seen = await invariants.check(deployment.env, set(stream.accepted))
    assert seen.scheduled, "the Redis schedule was never rebuilt"


@pytest.mark.timeout(360)
async def test_postgres_away_for_30_s_delays_but_loses_nothing(
    deployment: Deployment, private_stack: cluster.PrivateStack
) -> None:
    stream = await start_all(deployment)
    posting = asyncio.create_task(stream.post_all())
    await stream.reached(30)
    await asyncio.to_thread(private_stack.stop_postgres)
    try:
        await asyncio.sleep(POSTGRES_AWAY_S / 2)
        status, checks = await readiness(deployment.url("dispatch"))
        assert status == 503 and checks["database"] != "ok", checks
        await asyncio.sleep(POSTGRES_AWAY_S / 2)
    finally:
        await asyncio.to_thread(private_stack.start_postgres)
    await posting
    assert stream.retries > 0, "intake took reports while its database was away"
    await invariants.check(deployment.env, set(stream.accepted))
