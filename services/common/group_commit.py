"""Group commit: concurrent requests share one database transaction instead of one each.

A commit waits for the write-ahead log to reach the disk, so one insert per transaction caps a
server at a few hundred requests a second. Requests hand their row to a GroupCommit and await
its result; one flusher writes whatever has gathered while the previous flush ran, so batches
grow with the load and a lone request waits for nothing but its own commit.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)
Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


class GroupCommit(Generic[Item, Outcome]):
    """Queue items; `flush` writes a batch in one transaction and returns one outcome per item."""

    def __init__(
        self,
        flush: Callable[[Sequence[Item]], Awaitable[Sequence[Outcome]]],
        *,
        name: str,
        max_batch: int = 256,
    ) -> None:
        self._flush = flush
        self._name = name
        self._max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Outcome] | None]] = []
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._closing = False

    async def submit(self, item: Item) -> Outcome:
        """Write the item with the next batch and return its outcome once committed."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._enqueue(item, future)
        return await future

    def post(self, item: Item) -> None:
        """Write the item with the next batch without waiting (failures are logged)."""
        self._enqueue(item, None)

    @property
    def closed(self) -> bool:
        """Whether `close` has begun: nothing more may be queued."""
        return self._closing

    def _enqueue(self, item: Item, future: asyncio.Future[Outcome] | None) -> None:
        if self._closing:
            raise RuntimeError(f"{self._name} is closed")
        self._waiting.append((item, future))
        self._wake.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._run())

    async def close(self) -> None:
        """Write what is still queued, then stop."""
        self._closing = True
        self._wake.set()
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._flusher, timeout=10)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._write(batch)
            if self._closing:
                return

    async def _write(self, batch: list[tuple[Item, asyncio.Future[Outcome] | None]]) -> None:
        try:
            outcomes = await self._flush([item for item, _ in batch])
        except Exception as error:
            if len(batch) > 1:
                # One bad row must not fail its neighbours: write them one by one.
                for single in batch:
                    await self._write([single])
                return
            logger.exception("%s could not write a row", self._name)
            _, future = batch[0]
            if future is not None and not future.done():
                future.set_exception(error)
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future is not None and not future.done():
                future.set_result(outcome)
