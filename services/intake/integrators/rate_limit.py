"""Per-key rate limits shared through Redis, without a Redis round trip per request.

Each process counts its own hits per key and minute, and every `flush_interval_s` adds them to
the shared counter in Redis (one INCRBY per key), learning the total in return. A request is
refused when the total last seen plus this process's unsent hits would pass the limit. So one
replica enforces its limit exactly; several replicas may together overshoot by what they take
within one flush interval. If Redis is unreachable, each replica goes on limiting on its own.
"""

import asyncio
import logging
import math

from redis.asyncio import Redis

logger = logging.getLogger(__name__)
KEY = "gridloop:intake:rate"
WINDOW_S = 60

Slot = tuple[str, int]  # (key id, minute)


class RateLimited(Exception):
    """Too many requests for this key in the current window (429)."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"rate limit reached; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class RateLimiter:
    """Fixed one-minute windows per key, counted locally and summed in Redis."""

    def __init__(self, redis: Redis, *, namespace: str, flush_interval_s: float = 0.05) -> None:
        self._redis = redis
        self._namespace = namespace
        self._flush_interval_s = flush_interval_s
        self._unsent: dict[Slot, int] = {}
        self._sending: dict[Slot, int] = {}
        self._seen: dict[Slot, int] = {}
        self._flusher: asyncio.Task[None] | None = None

    async def hit(self, key_id: str, *, limit_per_minute: int, now_s: float) -> None:
        """Count one request; raise RateLimited when the key is over its limit."""
        slot = (key_id, int(now_s // WINDOW_S))
        unsent = self._unsent.get(slot, 0)
        known = self._seen.get(slot, 0) + self._sending.get(slot, 0)
        if known + unsent + 1 > limit_per_minute:
            raise RateLimited(max(1, math.ceil((slot[1] + 1) * WINDOW_S - now_s)))
        self._unsent[slot] = unsent + 1
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon())

    async def flush(self) -> None:
        """Add the unsent hits to Redis and learn each key's total."""
        unsent, self._unsent = self._unsent, {}
        if not unsent:
            return
        self._sending = unsent  # still counted while on their way
        slots = list(unsent)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key_id, window in slots:
                    counter = f"{KEY}:{key_id}:{window}{self._namespace}"
                    pipe.incrby(counter, unsent[(key_id, window)])
                    pipe.expire(counter, 2 * WINDOW_S)
                results = await pipe.execute()
        except Exception:  # noqa: BLE001 - limits stay local until Redis answers again
            logger.warning("rate limit counters not shared: Redis did not answer", exc_info=True)
            for slot in slots:
                self._seen[slot] = self._seen.get(slot, 0) + unsent[slot]
            self._sending = {}
            return
        for slot, total in zip(slots, results[::2], strict=True):
            self._seen[slot] = int(total)
        self._sending = {}
        current = max(window for _, window in slots)
        for slot in [slot for slot in self._seen if slot[1] < current - 1]:
            del self._seen[slot]

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._flush_interval_s)
        await self.flush()
