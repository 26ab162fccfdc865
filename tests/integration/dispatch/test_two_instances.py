"""Two dispatch instances share the work: no case assigned twice, each timer fired once,
and every open case gets its timers back after Redis loses everything."""

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.demo.processes import ServiceProcess
from tests.integration.dispatch.test_ladder import household_not_led_by_its_leader
from tests.support import flow

INCIDENTS = 40
LADDER = ["linked_member", "grid_member", "grid_leader", "committee", "town"]


@pytest.fixture(scope="module")
def services(run_env: dict[str, str], log_dir: Path) -> Iterator[dict[str, ServiceProcess]]:
    """Two dispatch instances in one consumer group, a ledger and intake."""
    ServiceProcess("dispatch", run_env, log_dir, command="load-demo").run_to_completion()
    running = {
        "dispatch": ServiceProcess("dispatch", run_env, log_dir).start(),
        "dispatch-2": ServiceProcess("dispatch", run_env, log_dir).start(),
        "ledger": ServiceProcess("ledger", run_env, log_dir).start(),
        "intake": ServiceProcess("intake", run_env, log_dir).start(),
    }
    yield running
    for process in running.values():
        process.stop()


async def test_every_case_climbs_the_ladder_exactly_once_despite_a_redis_flush(
    services: dict[str, ServiceProcess], run_env: dict[str, str]
) -> None:
    households = [household_not_led_by_its_leader(n) for n in range(20, 20 + INCIDENTS)]
    reported = await flow.report_all(services["intake"].url, households, category="clutter")
    ledger = services["ledger"]

    async def escalating() -> bool:
        entries = await flow.timeline(ledger, next(iter(reported)))
        return "escalated" in flow.kinds(entries)

    await flow.wait_for(escalating, within_s=30, what="escalations to begin")
    redis = Redis.from_url(run_env["REDIS_URL"])
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()

    stuck: dict[object, list[str]] = {}

    async def all_transferred() -> bool:
        stuck.clear()
        for incident in reported:
            entries = await flow.timeline(ledger, incident)
            if not any(e["payload"].get("rung") == "town" for e in entries):  # type: ignore[union-attr]
                stuck[incident] = flow.kinds(entries)
        return not stuck

    try:
        await flow.wait_for(all_transferred, within_s=90, what="every case to reach the town")
    except AssertionError as timeout:
        raise AssertionError(f"{timeout}; {len(stuck)} stuck: {list(stuck.items())[:3]}") from None
    await asyncio.sleep(3)  # any duplicate firing would land within the reconcile interval
    for incident in reported:
        entries = await flow.timeline(ledger, incident)
        rungs = [e["payload"]["rung"] for e in entries if str(e["type"]).endswith("assigned.v1")]  # type: ignore[index]
        # Rungs whose people are at capacity are climbed past, so some may be missing;
        # none may appear twice, and the order follows the ladder.
        assert rungs[0] == "linked_member" and rungs[-1] == "town", (incident, rungs)
        assert rungs == sorted(set(rungs), key=LADDER.index), (incident, rungs)
        climbs = Counter(
            e["payload"]["to_rung"]
            for e in entries
            if str(e["type"]).endswith("escalated.v1")  # type: ignore[index]
        )
        assert climbs == Counter(LADDER[1:]), (incident, climbs)
