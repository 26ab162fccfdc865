"""Pooled connections: one the server closed (a restart, an administrator) is replaced when
it is checked out, so the next unit of work does not fail on it; each plans for its values."""

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import database


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("select pg_backend_pid()"))).scalar_one())


async def test_a_connection_the_server_closed_is_replaced_at_checkout(
    run_env: dict[str, str],
) -> None:
    engine = database.create_engine(run_env["DATABASE_URL"], pool_size=1)
    other = database.create_engine(run_env["DATABASE_URL"], pool_size=1)
    try:
        pooled = await backend_pid(engine)
        async with other.connect() as admin:
            await admin.execute(text("select pg_terminate_backend(:pid)"), {"pid": pooled})
        await asyncio.sleep(0.5)  # the client sees the socket close
        assert await backend_pid(engine) != pooled
    finally:
        await engine.dispose()
        await other.dispose()


async def test_statements_are_planned_for_their_values(run_env: dict[str, str]) -> None:
    """No generic plans: one made while a table was nearly empty kept scanning it (ADR 51)."""
    engine = database.create_engine(run_env["DATABASE_URL"], pool_size=1)
    try:
        async with engine.connect() as connection:
            mode = await connection.execute(text("select current_setting('plan_cache_mode')"))
            assert mode.scalar_one() == "force_custom_plan"
    finally:
        await engine.dispose()
