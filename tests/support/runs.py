"""What one test run makes on the shared stack, and its removal.

Every run (a test module, a benchmark slice) gets topics, consumer groups and a Redis namespace
of its own, named after a run id that tells when it was made. The run removes its topics, Redis
keys and key files when it ends. A run killed before its teardown leaves them behind, so each
test session first removes the topics of runs older than STALE_AFTER_S: left to pile up, they
slow the broker's start until it no longer starts in time (14,000 partitions took 100 s).
"""

import asyncio
import re
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from redis.asyncio import Redis

PREFIX = "test."
STALE_AFTER_S = 6 * 3600  # far longer than the whole suite takes
DELETE_CHUNK = 500  # topics per request
SETTLE_S = 300  # for the broker to apply a deletion
# `test.<made>-<random>.…` (a run of today's naming) or `test.<8 or 10 hex>.…` (earlier ones).
RUN_TOPIC = re.compile(r"test\.(?:(?P<made>\d{10})-[0-9a-f]{6}|[0-9a-f]{8}|[0-9a-f]{10})\.")
# The same for a test module's database: `gridloop_test_<made>_<random>` or `…_<12 hex>`.
TEST_DATABASE = re.compile(r"gridloop_test_(?:(?P<made>\d{10})_[0-9a-f]{6}|[0-9a-f]{12})")


def new_run() -> str:
    """`<unix seconds>-<random>`: unique, and its age can be read from its topics' names."""
    return f"{int(time.time())}-{uuid.uuid4().hex[:6]}"


def name(run: str, suffix: str) -> str:
    """A topic or consumer group of the run."""
    return f"{PREFIX}{run}.{suffix}"


def run_of(env: dict[str, str]) -> str:
    """The run whose settings `env` are (read from its reports topic)."""
    return env["TOPIC_REPORTS"].removeprefix(PREFIX).split(".", 1)[0]


def stale(topic: str, *, now: float) -> bool:
    """A topic of a test run made more than STALE_AFTER_S ago, or of one named before runs
    told their age (a hex id alone; those runs are long over). Nothing else is touched."""
    return _stale(RUN_TOPIC.match(topic), now=now)


def database_name() -> str:
    """A test module's database, named like its run so that its age can be read."""
    return "gridloop_test_" + new_run().replace("-", "_")


def stale_database(name: str, *, now: float) -> bool:
    """A test module's database made more than STALE_AFTER_S ago, or named before they told
    their age. Nothing else is touched."""
    return _stale(TEST_DATABASE.fullmatch(name), now=now)


def _stale(named: re.Match[str] | None, *, now: float) -> bool:
    if named is None:
        return False
    made = named["made"]
    return made is None or now - int(made) > STALE_AFTER_S


async def delete_topics(bootstrap_servers: str, chosen: Callable[[str], bool]) -> int:
    """Delete the topics `chosen` picks and wait until the broker no longer lists them; return
    how many there were.

    The controller answers once it has deleted them, but the broker applies the deletion to
    its own metadata later: thousands of partitions keep it busy for half a minute, and a topic
    created meanwhile stays unknown to its clients until it is done.
    """
    async with kafka_admin(bootstrap_servers) as admin:
        doomed = [topic for topic in await admin.list_topics() if chosen(topic)]
        for start in range(0, len(doomed), DELETE_CHUNK):
            await admin.delete_topics(doomed[start : start + DELETE_CHUNK], timeout_ms=60_000)
        deadline = time.monotonic() + SETTLE_S
        while set(doomed) & set(await admin.list_topics()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the broker still lists deleted topics after {SETTLE_S} s")
            await asyncio.sleep(0.5)
    return len(doomed)


@asynccontextmanager
async def kafka_admin(bootstrap_servers: str) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client, closed afterwards."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def remove_namespace(redis_url: str, namespace: str) -> None:
    """Delete every key whose name carries the namespace (it is unique to one run)."""
    redis = Redis.from_url(redis_url)
    try:
        async for key in redis.scan_iter(match=f"*{namespace}*", count=1000):
            await redis.delete(key)
    finally:
        await redis.aclose()


def remove_key_files(env: dict[str, str]) -> None:
    """The run's signing key and key set, made in a directory of their own."""
    shutil.rmtree(Path(env["AUTH_SIGNING_KEY_FILE"]).parent, ignore_errors=True)


async def release(env: dict[str, str]) -> None:
    """Remove what the run made on the stack: its topics, Redis keys and key files (its
    database is the caller's, created and dropped by name)."""
    mine = name(run_of(env), "")
    await delete_topics(env["KAFKA_BOOTSTRAP_SERVERS"], lambda topic: topic.startswith(mine))
    await remove_namespace(env["REDIS_URL"], env["DISPATCH_REDIS_NAMESPACE"])
    remove_key_files(env)


async def prune_stale(bootstrap_servers: str) -> int:
    """Delete the topics earlier runs left behind; return how many."""
    now = time.time()
    return await delete_topics(bootstrap_servers, lambda topic: stale(topic, now=now))
