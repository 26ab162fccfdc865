"""Rate limits count locally and share totals through Redis (a stand-in Redis here)."""

import pytest

from services.intake.integrators.rate_limit import RateLimited, RateLimiter


class CountingRedis:
    """Just enough of Redis for the limiter: INCRBY and EXPIRE in a pipeline."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self.answers: list[object] = []

    def pipeline(self, transaction: bool = False) -> "CountingRedis":
        self.answers = []
        return self

    async def __aenter__(self) -> "CountingRedis":
        return self

    async def __aexit__(self, *args: object) -> None:
        return None

    def incrby(self, key: str, amount: int) -> None:
        self.counters[key] = self.counters.get(key, 0) + amount
        self.answers.append(self.counters[key])

    def expire(self, key: str, seconds: int) -> None:
        self.answers.append(True)

    async def execute(self) -> list[object]:
        return self.answers


async def test_a_key_is_refused_past_its_limit_with_the_seconds_left_in_the_minute() -> None:
    limiter = RateLimiter(CountingRedis(), namespace="")  # type: ignore[arg-type]
    for _ in range(3):
        await limiter.hit("k1", limit_per_minute=3, now_s=120.0)
    with pytest.raises(RateLimited) as refused:
        await limiter.hit("k1", limit_per_minute=3, now_s=150.5)
    assert refused.value.retry_after_s == 30
    await limiter.hit("k2", limit_per_minute=3, now_s=150.5)  # another key is not affected
    await limiter.hit("k1", limit_per_minute=3, now_s=180.0)  # a new minute starts afresh


async def test_hits_of_other_replicas_count_once_the_totals_are_shared() -> None:
    redis = CountingRedis()
    ours = RateLimiter(redis, namespace="")  # type: ignore[arg-type]
    theirs = RateLimiter(redis, namespace="")  # type: ignore[arg-type]
    for _ in range(4):
        await theirs.hit("k", limit_per_minute=5, now_s=60.0)
    await theirs.flush()
    await ours.hit("k", limit_per_minute=5, now_s=60.0)
    await ours.flush()  # learns the total of 5
    with pytest.raises(RateLimited):
        await ours.hit("k", limit_per_minute=5, now_s=61.0)
