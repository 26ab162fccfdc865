"""Alembic migrations run from code: each service keeps its own scripts and its own version table.

A service calls `upgrade` at start; its `migrations/env.py` calls `run_env`. Replicas starting
together are serialised by a transaction-scoped advisory lock, and the whole upgrade runs in
that one transaction (PostgreSQL has transactional DDL), so a failed migration leaves nothing.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, Table, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import database

logger = logging.getLogger(__name__)

MIGRATION_LOCK_ID = (
    database.SCHEMA_LOCK_ID
)  # the lock create_tables takes: one schema change at once


@dataclass(frozen=True)
class Schema:
    """One service's schema: the scripts in its `migrations` package, its version table
    `alembic_version_<service>` and its tables, all named `<service>_…`."""

    service: str
    scripts: Path

    @classmethod
    def of(cls, service: str, package: ModuleType) -> "Schema":
        return cls(service, Path(str(package.__file__)).parent)

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.service}"

    @property
    def table_prefix(self) -> str:
        return f"{self.service}_"

    def alembic_config(self) -> Config:
        """An Alembic configuration without an ini file: the scripts and this service's names."""
        alembic_config = Config()
        alembic_config.set_main_option("script_location", str(self.scripts))
        alembic_config.attributes["version_table"] = self.version_table
        alembic_config.attributes["table_prefix"] = self.table_prefix
        return alembic_config

    async def upgrade(self, engine: AsyncEngine) -> None:
        """Bring the service's tables to the latest revision (safe when replicas start
        together)."""
        await upgrade(engine, alembic_config=self.alembic_config())

    async def run_command(self, database_url: str, command: str, *, message: str | None) -> None:
        """The services' `migrate` command (to the latest revision) and `revision` command
        (autogenerate the next one, described by `message`), on an engine of their own."""
        engine = database.create_engine(database_url, pool_size=1)
        try:
            if command == "revision":
                await autogenerate(
                    engine, alembic_config=self.alembic_config(), message=message or "change"
                )
            else:
                await self.upgrade(engine)
        finally:
            await engine.dispose()


async def upgrade(engine: AsyncEngine, *, alembic_config: Config, revision: str = "head") -> None:
    """Bring the service's tables to `revision`, under the advisory lock, in one transaction."""
    await _locked(engine, alembic_config, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, *, alembic_config: Config, revision: str) -> None:
    """Take the service's tables back to `revision` ("base": none), as `upgrade` goes forward."""
    await _locked(engine, alembic_config, command.downgrade, revision)


async def _locked(
    engine: AsyncEngine,
    alembic_config: Config,
    step: Callable[[Config, str], object],
    revision: str,
) -> None:
    """Run an Alembic command in one transaction that holds the schema lock first."""
    async with engine.begin() as connection:
        await connection.execute(
            text("select pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID}
        )
        await connection.run_sync(_run_command, alembic_config, step, revision)


async def autogenerate(engine: AsyncEngine, *, alembic_config: Config, message: str) -> None:
    """Write a new revision from the difference between the models and the database."""
    async with engine.connect() as connection:
        await connection.run_sync(
            _run_command,
            alembic_config,
            lambda cfg, msg: command.revision(cfg, message=msg, autogenerate=True),
            message,
        )


def _run_command(
    connection: Connection, alembic_config: Config, run: Callable[[Config, str], object], arg: str
) -> None:
    alembic_config.attributes["connection"] = connection
    run(alembic_config, arg)


def run_env(*, target_metadata: MetaData) -> None:
    """The body of a service's env.py: migrate the connection `upgrade` lent, its tables only."""
    alembic_config = context.config
    connection = alembic_config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through services.common.migrations, not the alembic CLI")
    own = OwnTables(alembic_config.attributes["table_prefix"])
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=alembic_config.attributes["version_table"],
        include_name=own.include_name,
        include_object=own.include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


@dataclass(frozen=True)
class OwnTables:
    """Alembic's filters for one service's tables: in the database (`include_name`) and in the
    models (`include_object`, as another service's models may be imported too). Indexes and
    columns follow their table."""

    table_prefix: str

    def include_name(self, name: str | None, type_: str, parent_names: object) -> bool:
        return type_ != "table" or (name or "").startswith(self.table_prefix)

    def include_object(self, item: object, name: str | None, type_: str, *_: object) -> bool:
        return self.include_name(name, type_, None)


def require_columns(tables: Sequence[Table]) -> None:
    """In a first revision that creates tables only if missing: refuse a table that already
    stood without one of the columns, since `create_tables` never added columns to a table."""
    inspector = inspect(op.get_bind())
    for table in tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        missing = [column.name for column in table.columns if column.name not in present]
        if missing:
            raise RuntimeError(
                f"{table.name} was created before it had {', '.join(missing)}: add these "
                "columns by hand or drop the table, then migrate again"
            )
