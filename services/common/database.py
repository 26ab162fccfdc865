"""PostgreSQL through SQLModel on SQLAlchemy's asyncio engine with asyncpg."""

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


def async_url(database_url: str) -> str:
    """Accept a plain postgresql:// URL and select the asyncpg driver."""
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+asyncpg://" + database_url[len(prefix) :]
    return database_url


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An engine whose connections are checked before use, so a restarted server is survived."""
    return create_async_engine(
        async_url(database_url), pool_size=pool_size, pool_pre_ping=True, pool_recycle=1800
    )


def session_maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    """Readiness: the database answers a trivial query."""
    async with engine.connect() as connection:
        await connection.execute(text("select 1"))


SCHEMA_LOCK_ID = 0x67726964  # serialises schema creation between replicas starting together


async def create_tables(engine: AsyncEngine, models: Sequence[type[SQLModel]]) -> None:
    """Create this service's tables if missing (one service's replicas may start at once)."""
    tables = [model.__table__ for model in models]  # type: ignore[attr-defined]
    async with engine.begin() as connection:
        await connection.execute(text("select pg_advisory_xact_lock(:id)"), {"id": SCHEMA_LOCK_ID})
        await connection.run_sync(SQLModel.metadata.create_all, tables=tables)
