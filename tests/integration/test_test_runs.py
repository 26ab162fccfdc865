"""A test run removes what it made on the shared stack; a session removes what killed runs left."""

import uuid
from pathlib import Path

from aiokafka.admin import NewTopic
from redis.asyncio import Redis

from tests.support import runs, stack


async def create_topics(servers: str, *topics: str) -> None:
    async with runs.kafka_admin(servers) as admin:
        await admin.create_topics([NewTopic(topic, 1, 1) for topic in topics])


async def topic_names(servers: str) -> set[str]:
    async with runs.kafka_admin(servers) as admin:
        return set(await admin.list_topics())


async def test_a_released_run_leaves_no_topic_redis_key_or_key_file(
    infra_env: dict[str, str],
) -> None:
    env = stack.isolated_settings(infra_env, database_url=infra_env["DATABASE_URL"])
    servers = env["KAFKA_BOOTSTRAP_SERVERS"]
    neighbour = runs.name(runs.new_run(), "reported")  # another run's, left alone
    await create_topics(servers, env["TOPIC_REPORTS"], env["TOPIC_LIFECYCLE"], neighbour)
    key = f"dispatch{env['DISPATCH_REDIS_NAMESPACE']}:case:1"
    redis = Redis.from_url(env["REDIS_URL"])
    try:
        await redis.set(key, "open")
        await runs.release(env)
        assert await redis.exists(key) == 0
    finally:
        await redis.aclose()
    # Deleted, and applied by the broker by the time `release` returns.
    names = await topic_names(servers)
    assert env["TOPIC_REPORTS"] not in names and env["TOPIC_LIFECYCLE"] not in names
    assert neighbour in names
    assert not Path(env["AUTH_SIGNING_KEY_FILE"]).parent.exists()
    await runs.delete_topics(servers, lambda topic: topic == neighbour)


async def test_a_session_prunes_the_topics_of_runs_long_over_and_keeps_recent_ones(
    infra_env: dict[str, str],
) -> None:
    servers = infra_env["KAFKA_BOOTSTRAP_SERVERS"]
    long_over = runs.name(f"1700000000-{uuid.uuid4().hex[:6]}", "reported")
    recent = runs.name(runs.new_run(), "reported")
    await create_topics(servers, long_over, recent)
    assert await runs.prune_stale(servers) >= 1
    names = await topic_names(servers)
    assert long_over not in names
    assert recent in names
    await runs.delete_topics(servers, lambda topic: topic == recent)


async def test_a_session_drops_the_databases_of_modules_long_over_and_keeps_recent_ones(
    infra_env: dict[str, str],
) -> None:
    server = infra_env["DATABASE_URL"]
    long_over = f"gridloop_test_1700000000_{uuid.uuid4().hex[:6]}"
    recent = runs.database_name()
    await stack.create_database(server, long_over)
    await stack.create_database(server, recent)
    try:
        dropped = await stack.prune_stale_databases(server)
        assert long_over in dropped
        assert recent not in dropped
        assert await stack.database_exists(server, recent)
        assert not await stack.database_exists(server, long_over)
    finally:
        await stack.drop_database(server, recent)
        await stack.drop_database(server, long_over)
