"""Live state in Redis: open-case load per member and who is off duty. Rebuilt from PostgreSQL."""

from collections.abc import Iterable, Mapping

from redis.asyncio import Redis

LOAD_KEY = "gridloop:dispatch:load"
OFF_DUTY_KEY = "gridloop:dispatch:off_duty"


class LiveState:
    """Counters that Redis may lose at any time; `rebuild` restores them from the case table."""

    def __init__(self, redis: Redis, *, namespace: str = "") -> None:
        self._redis = redis
        self._load_key = f"{LOAD_KEY}{namespace}"
        self._off_duty_key = f"{OFF_DUTY_KEY}{namespace}"

    async def loads(self, member_ids: Iterable[str]) -> dict[str, int]:
        """Open cases per member (0 when unknown)."""
        ids = list(member_ids)
        if not ids:
            return {}
        values = await self._redis.hmget(self._load_key, ids)
        return {member_id: int(value or 0) for member_id, value in zip(ids, values, strict=True)}

    async def off_duty(self, member_ids: Iterable[str]) -> set[str]:
        """Which of these members are off duty."""
        ids = list(member_ids)
        if not ids:
            return set()
        flags = await self._redis.smismember(self._off_duty_key, ids)
        return {member_id for member_id, flag in zip(ids, flags, strict=True) if flag}

    async def set_duty(self, member_id: str, *, on_duty: bool) -> None:
        """Put a member on or off duty."""
        if on_duty:
            await self._redis.srem(self._off_duty_key, member_id)
        else:
            await self._redis.sadd(self._off_duty_key, member_id)

    async def add_load(self, member_id: str, delta: int) -> None:
        """Count a case opened (+1) or finished (-1) for a member."""
        await self._redis.hincrby(self._load_key, member_id, delta)

    async def rebuild(self, open_cases: Mapping[str, int]) -> None:
        """Replace the load counters with the counts from the database."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._load_key)
            if open_cases:
                pipe.hset(self._load_key, mapping={k: str(v) for k, v in open_cases.items()})
            await pipe.execute()
