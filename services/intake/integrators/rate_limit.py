"""Per-key rate limits in Redis: a counter per key and minute, one INCR per request."""

import math

from redis.asyncio import Redis

KEY = "gridloop:intake:rate"
WINDOW_S = 60


class RateLimited(Exception):
    """Too many requests for this key in the current window (429)."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"rate limit reached; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class RateLimiter:
    """Fixed one-minute windows: simple, shared by every replica, and cheap."""

    def __init__(self, redis: Redis, *, namespace: str) -> None:
        self._redis = redis
        self._namespace = namespace

    async def hit(self, key_id: str, *, limit_per_minute: int, now_s: float) -> None:
        """Count one request; raise RateLimited when the key is over its limit."""
        window = int(now_s // WINDOW_S)
        counter = f"{KEY}:{key_id}:{window}{self._namespace}"
        count = int(await self._redis.incr(counter))
        if count == 1:  # the window's first request sets its expiry, once
            await self._redis.expire(counter, 2 * WINDOW_S)
        if count > limit_per_minute:
            raise RateLimited(max(1, math.ceil((window + 1) * WINDOW_S - now_s)))
