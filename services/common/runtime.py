"""The infrastructure clients one service process holds: database engine, Redis, Kafka producer."""

import asyncio
import contextlib
import gc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import database, health, kafka, metrics
from services.common.settings import InfraSettings

logger = logging.getLogger(__name__)
# A request, or one event of a consumed batch, allocates hundreds of objects that reference
# counting frees at once; CPython's default (700, 10, 10) still collects the youngest
# generation every few requests, and the older ones every few dozen. Rarer collections took
# about a tenth off intake's CPU per report, and off the ledger's per recorded event; cyclic
# garbage is still collected, seconds later under load.
GC_THRESHOLDS = (20_000, 50, 100)


async def pause(stop: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds`, or less if `stop` is set meanwhile; True when it was set."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True


def freeze_startup_heap() -> None:
    """Leave what start-up built (modules, models, schemas, clients) out of garbage collection.

    Those objects live as long as the process, yet every full collection walks all of them:
    under load that was a tenth of intake's CPU. Collected first, so no garbage is kept.
    Then collections are made rarer (GC_THRESHOLDS).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@dataclass
class Infrastructure:
    settings: InfraSettings
    engine: AsyncEngine
    redis: Redis
    publisher: kafka.Publisher
    consumers: list[metrics.ConsumerProgress] = field(default_factory=list)
    background: list[asyncio.Task[None]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def start(cls, settings: InfraSettings, *, client_id: str) -> "Infrastructure":
        """Connect to all three; topics are created if missing."""
        await kafka.ensure_topics(settings)
        producer = kafka.create_producer(settings, client_id=client_id)
        await producer.start()
        return cls(
            settings=settings,
            engine=database.create_engine(settings.database_url),
            redis=Redis.from_url(settings.redis_url, socket_timeout=5),
            publisher=kafka.Publisher(
                producer, renew=lambda: kafka.create_producer(settings, client_id=client_id)
            ),
        )

    def run_in_background(self, work: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        """Start a long-running task that ends when `stop` is set.

        A consumer loop's `run` is recognised, and its progress joins the readiness check.
        """
        loop = getattr(work, "__self__", None)
        if isinstance(loop, kafka.ConsumerLoop):
            self.consumers.append(loop.progress)

        async def guarded() -> None:
            try:
                await work(self.stop)
            except asyncio.CancelledError:
                if not self.stop.is_set():
                    logger.error("background task cancelled; the process is no longer ready")
                raise
            except Exception:
                logger.exception("background task failed; the process is no longer ready")
                raise

        self.background.append(asyncio.create_task(guarded()))

    def readiness_checks(self) -> dict[str, health.Check]:
        """Kafka metadata, Redis ping, database query, and live, progressing background work."""

        async def kafka_check() -> None:
            await self.publisher.producer.client.fetch_all_metadata()

        async def background_check() -> None:
            for task in self.background:
                if task.done():
                    raise RuntimeError("a background task has stopped")
            for progress in self.consumers:
                stalled = progress.stall_reason()
                if stalled:
                    raise RuntimeError(stalled)

        return {
            "kafka": kafka_check,
            "redis": self.redis.ping,
            "database": lambda: database.ping(self.engine),
            "workers": background_check,
        }

    async def stop_background(self) -> None:
        """Set `stop` and wait (a while) for the background work to end."""
        self.stop.set()
        for task in self.background:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=10)

    async def close(self) -> None:
        """Stop background work, then close every client."""
        await self.stop_background()
        await self.publisher.producer.stop()
        await self.redis.aclose()
        await self.engine.dispose()
