"""Open cases by place in Redis (GEO sets per category), for cross-channel duplicate merging.

Each category has a GEO set of open case ids and a sorted set of when each was reported. Cases
leave when intake sees them closed, cancelled or transferred, and age out after the window; the
keys expire as a last resort. Redis may lose it all: `rebuild` restores it from intake_report.
"""

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis

from services.common.categories import CATALOGUE
from services.intake.reports.domain import OpenCase

GEO_KEY = "gridloop:intake:open"
OPENED_KEY = "gridloop:intake:opened"
CANDIDATES = 10
PRUNE_EVERY_S = 60.0


@dataclass(frozen=True)
class IndexedCase:
    incident_id: uuid.UUID
    category: str
    lat: float
    lon: float
    reported_at: datetime


class GeoIndex:
    """The duplicate-report index; every method is safe to repeat."""

    def __init__(self, redis: Redis, *, namespace: str, window_s: int) -> None:
        self._redis = redis
        self._namespace = namespace
        self._window_s = window_s
        self._pruned_at: dict[str, float] = {}

    def _keys(self, category: str) -> tuple[str, str]:
        return (
            f"{GEO_KEY}:{category}{self._namespace}",
            f"{OPENED_KEY}:{category}{self._namespace}",
        )

    async def nearby(
        self, *, category: str, lat: float, lon: float, radius_m: float
    ) -> list[OpenCase]:
        """Open cases of the category within the radius, nearest first."""
        geo_key, opened_key = self._keys(category)
        found = await self._redis.geosearch(
            geo_key,
            longitude=lon,
            latitude=lat,
            radius=radius_m,
            unit="m",
            withdist=True,
            sort="ASC",
            count=CANDIDATES,
        )
        if not found:
            return []
        pairs: list[tuple[str, float]] = [(_text(hit[0]), float(str(hit[1]))) for hit in found]
        opened = await self._redis.zmscore(opened_key, [member for member, _ in pairs])
        return [
            OpenCase(
                incident_id=uuid.UUID(member),
                distance_m=distance,
                reported_at=datetime.fromtimestamp(when, UTC),
            )
            for (member, distance), when in zip(pairs, opened, strict=True)
            if when is not None
        ]

    async def add(self, case: IndexedCase) -> None:
        """Index an open case; now and then, drop the category's cases older than the window."""
        await self.add_many([case])
        last = self._pruned_at.get(case.category, 0.0)
        if time.monotonic() - last > PRUNE_EVERY_S:
            self._pruned_at[case.category] = time.monotonic()
            await self.prune(category=case.category, now=case.reported_at)

    async def add_many(self, cases: Iterable[IndexedCase]) -> None:
        """Index several open cases in one round trip."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for case in cases:
                geo_key, opened_key = self._keys(case.category)
                member = str(case.incident_id)
                pipe.geoadd(geo_key, [case.lon, case.lat, member])
                pipe.zadd(opened_key, {member: case.reported_at.timestamp()})
                pipe.expire(geo_key, 2 * self._window_s)
                pipe.expire(opened_key, 2 * self._window_s)
            await pipe.execute()

    async def prune(self, *, category: str, now: datetime) -> None:
        """Drop the category's cases reported before the window."""
        geo_key, opened_key = self._keys(category)
        cutoff = now.timestamp() - self._window_s
        stale = await self._redis.zrangebyscore(opened_key, "-inf", cutoff)
        if stale:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.zrem(geo_key, *stale)
                pipe.zrem(opened_key, *stale)
                await pipe.execute()

    async def remove(self, incident_ids: Iterable[uuid.UUID]) -> None:
        """Cases that ended take no more reports (their category need not be known)."""
        members = [str(incident_id) for incident_id in incident_ids]
        if not members:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for category in CATALOGUE:
                for key in self._keys(category):
                    pipe.zrem(key, *members)
            await pipe.execute()


def _text(member: object) -> str:
    return member.decode() if isinstance(member, bytes) else str(member)
