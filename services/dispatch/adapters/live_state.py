"""Live state in Redis: open-case load, duty and heartbeats, task notifications.

Redis may lose all of it: loads are rebuilt from PostgreSQL, and a member with no
heartbeat on record counts as on duty unless they said otherwise.
"""

import json
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

PREFIX = "gridloop:dispatch"


class LiveState:
    """Counters, duty flags and per-member notification channels."""

    def __init__(self, redis: Redis, *, namespace: str = "", heartbeat_ttl_s: float = 120) -> None:
        self._redis = redis
        self._load_key = f"{PREFIX}:load{namespace}"
        self._off_duty_key = f"{PREFIX}:off_duty{namespace}"
        self._heartbeat_key = f"{PREFIX}:heartbeat{namespace}"
        self._channel = f"{PREFIX}:tasks{namespace}"
        self._heartbeat_ttl_s = heartbeat_ttl_s

    async def all_loads(self) -> dict[str, int]:
        """Every member's counter, as Redis has it."""
        raw = await self._redis.hgetall(self._load_key)
        return {
            (key.decode() if isinstance(key, bytes) else key): int(value)
            for key, value in raw.items()
            if int(value)
        }

    async def add_loads(self, deltas: Mapping[str, int]) -> None:
        """Count cases opened (+n) or finished (-n) per member, in one round trip."""
        moved = {member_id: delta for member_id, delta in deltas.items() if delta}
        if not moved:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for member_id, delta in moved.items():
                pipe.hincrby(self._load_key, member_id, delta)
            await pipe.execute()

    async def rebuild(self, open_cases: Mapping[str, int]) -> None:
        """Replace the load counters with the counts from the database."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._load_key)
            if open_cases:
                pipe.hset(self._load_key, mapping={k: str(v) for k, v in open_cases.items()})
            await pipe.execute()

    async def off_duty(self, member_ids: Iterable[str], *, now: datetime) -> set[str]:
        """Members who went off duty, or whose heartbeat has lapsed."""
        return (await self._read(list(member_ids), now=now, with_loads=False))[1]

    async def standing(
        self, member_ids: Iterable[str], *, now: datetime
    ) -> tuple[dict[str, int], set[str]]:
        """Each member's open cases (0 when unknown), and who is off duty, in one round trip."""
        return await self._read(list(member_ids), now=now, with_loads=True)

    async def _read(
        self, ids: list[str], *, now: datetime, with_loads: bool
    ) -> tuple[dict[str, int], set[str]]:
        """Duty flags and heartbeats (and loads, when asked) in one pipeline: who said they
        are off duty or whose last heartbeat is older than the TTL, and the loads read."""
        if not ids:
            return {}, set()
        async with self._redis.pipeline(transaction=False) as pipe:
            if with_loads:
                pipe.hmget(self._load_key, ids)
            pipe.smismember(self._off_duty_key, ids)
            pipe.hmget(self._heartbeat_key, ids)
            *loads, flags, seen = await pipe.execute()
        counts = {
            m: int(value or 0) for values in loads for m, value in zip(ids, values, strict=True)
        }
        oldest = now.timestamp() - self._heartbeat_ttl_s
        off = {
            member_id
            for member_id, flag, last in zip(ids, flags, seen, strict=True)
            if flag or (last is not None and float(last) < oldest)
        }
        return counts, off

    async def set_duty(self, member_id: str, *, on_duty: bool, now: datetime) -> None:
        """Put a member on or off duty; going on duty counts as a heartbeat."""
        if on_duty:
            await self._redis.srem(self._off_duty_key, member_id)
            await self.heartbeat(member_id, now=now)
        else:
            await self._redis.sadd(self._off_duty_key, member_id)

    async def heartbeat(self, member_id: str, *, now: datetime) -> None:
        """The member's client is alive."""
        await self._redis.hset(self._heartbeat_key, member_id, str(now.timestamp()))

    async def notify(self, changes: Iterable[tuple[Iterable[str], Mapping[str, Any]]]) -> None:
        """Tell members' open task streams about new or changed tasks, in one round trip.

        `changes` pairs the members to tell with what changed.
        """
        async with self._redis.pipeline(transaction=False) as pipe:
            for member_ids, change in changes:
                message = json.dumps(change, default=str)
                for member_id in set(member_ids):
                    pipe.publish(f"{self._channel}:{member_id}", message)
            if len(pipe):
                await pipe.execute()

    async def task_changes(self, member_id: str) -> AsyncIterator[str]:
        """Task change messages for one member, as they are published."""
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(f"{self._channel}:{member_id}")
        try:
            async for message in pubsub.listen():
                if message["type"] == "message":
                    data = message["data"]
                    yield data.decode() if isinstance(data, bytes) else data
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()
