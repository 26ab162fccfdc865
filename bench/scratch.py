"""A throw-away database for a benchmark run, on the server DATABASE_URL points at."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import database
from services.common.settings import InfraSettings
from services.ledger import bootstrap


def _server_url(database_url: str, name: str) -> str:
    plain = database_url.replace("postgresql+asyncpg://", "postgresql://")
    return plain.rpartition("/")[0] + "/" + name


@asynccontextmanager
async def scratch_database(
    *, keep: bool = False, pool_size: int = 4
) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """Create a database, migrate the ledger into it, yield (engine, url), drop it after."""
    url = InfraSettings().database_url
    name = f"gridloop_ledger_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_server_url(url, "postgres"))
    await admin.execute(f'create database "{name}"')
    scratch_url = _server_url(url, name)
    engine = database.create_engine(scratch_url, pool_size=pool_size)
    try:
        await bootstrap.migrate(engine)
        yield engine, scratch_url
    finally:
        await engine.dispose()
        if keep:
            print(f"kept database {name}")
        else:
            await admin.execute(f'drop database "{name}" with (force)')
        await admin.close()
