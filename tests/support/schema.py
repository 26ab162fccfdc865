"""A service's tables as PostgreSQL holds them, and what Alembic finds against the models."""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import migrations

# Each query lists one kind of thing on the tables whose names start with :prefix.
CATALOGUE = {
    "columns": """
        select table_name, column_name, data_type, is_nullable, column_default
        from information_schema.columns
        where table_schema = 'public' and table_name like :prefix || '%'
        order by 1, 2""",
    "indexes": """
        select tablename, indexname, indexdef from pg_indexes
        where schemaname = 'public' and tablename like :prefix || '%'
        order by 1, 2""",
    "constraints": """
        select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint
        where conrelid::regclass::text like :prefix || '%'
        order by 1, 2""",
}


async def catalogue(engine: AsyncEngine, *, table_prefix: str) -> dict[str, list[tuple[Any, ...]]]:
    """Columns, indexes (with their definitions) and constraints of the service's tables."""
    async with engine.connect() as connection:
        return {
            kind: [
                tuple(row)
                for row in await connection.execute(text(query), {"prefix": table_prefix})
            ]
            for kind, query in CATALOGUE.items()
        }


async def differences(engine: AsyncEngine, *, metadata: MetaData, table_prefix: str) -> list[Any]:
    """What autogenerate would write for the service: its models (in `metadata`, which other
    services' models may share) against the database, filtered as `migrations.run_env` does."""
    own = migrations.OwnTables(table_prefix)

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_name": own.include_name,
                "include_object": own.include_object,
                "compare_type": True,
            },
        )
        return list(compare_metadata(context, metadata))

    async with engine.connect() as connection:
        return await connection.run_sync(compare)
