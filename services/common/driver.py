"""The asyncpg connection under a SQLAlchemy one, for hot paths (COPY, array binds, one
statement without the ORM).

Statements sent through it run inside the SQLAlchemy connection's open transaction.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection


async def of(connection: AsyncConnection) -> Any:
    """The asyncpg connection (SQLAlchemy must already have begun the transaction)."""
    raw = await connection.get_raw_connection()
    return raw.driver_connection
