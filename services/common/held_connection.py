"""One database connection kept by a single writer between its batches.

A group commit writes one batch after another, each batch one statement. Through a pooled
session each would cost a checkout and its own `BEGIN` and `COMMIT` round trips; a held
autocommit connection costs none of them. Any error drops it and the next batch connects
afresh, so a restarted server is survived as with a pool.
"""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common import driver


class HeldConnection:
    """An autocommit connection for one writer at a time (a group commit's single flusher)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    @contextlib.asynccontextmanager
    async def driver(self) -> AsyncIterator[Any]:
        """The asyncpg connection: each statement is its own transaction."""
        if self._connection is None:
            connection = await self._engine.connect()
            self._connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield await driver.of(self._connection)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Give the connection back (it may be broken: the pool then discards it)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()
                await connection.close()
