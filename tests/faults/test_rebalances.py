"""Two dispatch and two ledger instances share the stream while consumers join and leave.

A consumer that leaves cleanly, one that is killed (its partitions move only after its
session times out) and one that joins late: no case is assigned twice, nothing is recorded
twice, and both groups end with no lag.
"""

import asyncio

import pytest

from tests.faults import invariants
from tests.faults.deployment import Deployment
from tests.faults.stream import ReportStream


@pytest.mark.timeout(480)
async def test_consumers_joining_and_leaving_mid_stream_double_nothing(
    deployment: Deployment,
) -> None:
    await deployment.start_together("dispatch", "dispatch-2", "ledger", "ledger-2", "intake")
    stream = ReportStream(lambda: deployment.url("intake"), count=150, seed=41, per_second=5)
    posting = asyncio.create_task(stream.post_all())
    await stream.reached(20)
    await deployment.start("dispatch-3")
    await deployment.stop("dispatch-2")
    await deployment.kill("ledger-2")
    await stream.reached(80)
    await deployment.start("ledger-3")
    await deployment.kill("dispatch")
    await posting
    seen = await invariants.check(deployment.env, set(stream.accepted), settle_within_s=180)
    assert not any(seen.lag.values()), seen.lag
