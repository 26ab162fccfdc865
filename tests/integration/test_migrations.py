"""Each service's migrations on a real PostgreSQL: exactly the models' schema, adopted old
databases, repeated and concurrent upgrades."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

from services.common import database, migrations
from services.dispatch import bootstrap as dispatch_bootstrap
from services.dispatch.adapters import tables as dispatch_tables
from services.intake import bootstrap as intake_bootstrap
from services.intake.adapters import tables as intake_tables
from services.intake.reports import repository as reports_repository
from services.ledger import bootstrap as ledger_bootstrap
from tests.support import runs, schema, stack

pytestmark = pytest.mark.stack


@dataclass(frozen=True)
class Service:
    schema: migrations.Schema
    models: list[type[SQLModel]]  # what `create_tables` was given
    # A row that an old database holds, and the index a database older still lacked.
    sample_row: str
    later_index: str

    @property
    def version_table(self) -> str:
        return self.schema.version_table

    @property
    def table_prefix(self) -> str:
        return self.schema.table_prefix

    @property
    def head(self) -> str | None:
        return ScriptDirectory.from_config(self.schema.alembic_config()).get_current_head()

    async def differences(self, engine: AsyncEngine) -> list[object]:
        return await schema.differences(
            engine, metadata=SQLModel.metadata, table_prefix=self.table_prefix
        )

    async def catalogue(self, engine: AsyncEngine) -> dict[str, list[tuple[object, ...]]]:
        return await schema.catalogue(engine, table_prefix=self.table_prefix)


DISPATCH = Service(
    schema=dispatch_bootstrap.SCHEMA,
    models=dispatch_tables.ALL_TABLES,
    sample_row="insert into dispatch_grid (id, name) values ('G01', 'first grid')",
    later_index="ix_dispatch_grid_box",
)
INTAKE = Service(
    schema=intake_bootstrap.SCHEMA,
    models=intake_tables.ALL_TABLES,
    sample_row=(
        "insert into intake_callback_subscription (integrator_id, subscription_id, url, "
        "created_at) values ('city', 'S1', 'https://city.example/hook', now())"
    ),
    later_index="intake_report_idempotency_key",
)
SERVICES = [pytest.param(DISPATCH, id="dispatch"), pytest.param(INTAKE, id="intake")]


@pytest.fixture
async def empty_database(infra_env: dict[str, str]) -> AsyncIterator[AsyncEngine]:
    """A new, empty database on the stack's server, dropped after the test."""
    name = runs.database_name()
    url = await stack.create_database(infra_env["DATABASE_URL"], name)
    engine = database.create_engine(url, pool_size=2)
    yield engine
    await engine.dispose()
    await stack.drop_database(infra_env["DATABASE_URL"], name)


async def upgrade(engine: AsyncEngine, service: Service) -> None:
    await migrations.upgrade(engine, alembic_config=service.schema.alembic_config())


async def version(engine: AsyncEngine, service: Service) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text(f"select version_num from {service.version_table}"))
        return [row.version_num for row in rows]


async def create_the_old_way(engine: AsyncEngine, service: Service) -> None:
    """What `create_tables` did before migrations: `create_all` on the service's tables."""
    async with engine.begin() as connection:
        await connection.run_sync(
            SQLModel.metadata.create_all,
            tables=[model.__table__ for model in service.models],  # type: ignore[attr-defined]
        )


@pytest.mark.parametrize("service", SERVICES)
def test_the_table_prefix_covers_the_service_s_tables_and_no_other_s(service: Service) -> None:
    modelled = {name for name in SQLModel.metadata.tables if name.startswith(service.table_prefix)}
    assert modelled == {model.__tablename__ for model in service.models}
    assert not service.version_table.startswith(service.table_prefix)


@pytest.mark.parametrize("service", SERVICES)
async def test_an_empty_database_migrates_to_exactly_the_models(
    service: Service, empty_database: AsyncEngine, infra_env: dict[str, str]
) -> None:
    await upgrade(empty_database, service)
    assert await version(empty_database, service) == [service.head]
    assert await service.differences(empty_database) == []
    # Autogenerate does not compare a partial index's condition: compare the catalogue with
    # what `create_all` makes from the same models too.
    name = runs.database_name()
    url = await stack.create_database(infra_env["DATABASE_URL"], name)
    reference = database.create_engine(url, pool_size=1)
    try:
        await create_the_old_way(reference, service)
        expected = await service.catalogue(reference)
    finally:
        await reference.dispose()
        await stack.drop_database(infra_env["DATABASE_URL"], name)
    assert await service.catalogue(empty_database) == expected
    assert any(service.later_index == row[1] for row in expected["indexes"])


@pytest.mark.parametrize("service", SERVICES)
async def test_a_database_made_by_create_tables_is_adopted_with_its_rows(
    service: Service, empty_database: AsyncEngine
) -> None:
    await create_the_old_way(empty_database, service)
    before = await service.catalogue(empty_database)
    async with empty_database.begin() as connection:
        await connection.execute(text(service.sample_row))
        # An older database still: made before this index was added to the models.
        await connection.execute(text(f"drop index {service.later_index}"))
    await upgrade(empty_database, service)
    assert await version(empty_database, service) == [service.head]
    assert await service.catalogue(empty_database) == before
    assert await service.differences(empty_database) == []
    table = service.sample_row.split()[2]
    async with empty_database.connect() as connection:
        count = await connection.execute(text(f"select count(*) from {table}"))
        assert count.scalar_one() == 1


async def test_a_table_made_before_one_of_its_columns_is_refused_and_nothing_is_stamped(
    empty_database: AsyncEngine,
) -> None:
    await create_the_old_way(empty_database, DISPATCH)
    async with empty_database.begin() as connection:
        await connection.execute(text("alter table dispatch_case drop column paused_left_seconds"))
    with pytest.raises(RuntimeError, match="dispatch_case .* paused_left_seconds"):
        await upgrade(empty_database, DISPATCH)
    async with empty_database.connect() as connection:
        stamped = await connection.execute(
            text("select to_regclass(:name)"), {"name": DISPATCH.version_table}
        )
        assert stamped.scalar_one() is None


@pytest.mark.parametrize("service", SERVICES)
async def test_upgrading_twice_changes_nothing(
    service: Service, empty_database: AsyncEngine
) -> None:
    await upgrade(empty_database, service)
    first = await service.catalogue(empty_database)
    await upgrade(empty_database, service)
    assert await service.catalogue(empty_database) == first
    assert await version(empty_database, service) == [service.head]


@pytest.mark.parametrize("service", SERVICES)
async def test_replicas_upgrading_at_once_both_succeed(
    service: Service, empty_database: AsyncEngine
) -> None:
    replica = database.create_engine(
        empty_database.url.render_as_string(hide_password=False), pool_size=1
    )
    try:
        await asyncio.gather(upgrade(empty_database, service), upgrade(replica, service))
    finally:
        await replica.dispose()
    assert await version(empty_database, service) == [service.head]
    assert await service.differences(empty_database) == []


async def test_both_services_share_one_database_each_with_its_own_version(
    empty_database: AsyncEngine,
) -> None:
    await asyncio.gather(upgrade(empty_database, DISPATCH), upgrade(empty_database, INTAKE))
    for service in (DISPATCH, INTAKE):
        assert await version(empty_database, service) == [service.head]
        assert await service.differences(empty_database) == []


@pytest.mark.parametrize(
    "service_schema",
    [
        pytest.param(dispatch_bootstrap.SCHEMA, id="dispatch"),
        pytest.param(intake_bootstrap.SCHEMA, id="intake"),
        pytest.param(ledger_bootstrap.SCHEMA, id="ledger"),
    ],
)
async def test_every_revision_goes_back_down_to_nothing_and_up_again(
    service_schema: migrations.Schema, empty_database: AsyncEngine
) -> None:
    prefix = service_schema.table_prefix
    await service_schema.upgrade(empty_database)
    at_head = await schema.catalogue(empty_database, table_prefix=prefix)
    assert at_head["columns"]
    await migrations.downgrade(
        empty_database, alembic_config=service_schema.alembic_config(), revision="base"
    )
    emptied = await schema.catalogue(empty_database, table_prefix=prefix)
    assert emptied == {kind: [] for kind in at_head}
    async with empty_database.connect() as connection:
        versions = await connection.execute(
            text(f"select count(*) from {service_schema.version_table}")
        )
        assert versions.scalar_one() == 0
    await service_schema.upgrade(empty_database)
    assert await schema.catalogue(empty_database, table_prefix=prefix) == at_head


async def test_the_claim_row_type_has_the_claim_s_fields_with_the_table_s_types(
    empty_database: AsyncEngine,
) -> None:
    # Intake binds each batch of claims as one array of this type, in CLAIMED's order.
    await upgrade(empty_database, INTAKE)
    async with empty_database.connect() as connection:
        attributes = await _attributes(connection, reports_repository.CLAIM_TYPE)
        columns = dict(await _attributes(connection, "intake_report"))
    assert attributes == [(name, columns[name]) for name in reports_repository.CLAIMED]
    await migrations.downgrade(
        empty_database, alembic_config=INTAKE.schema.alembic_config(), revision="0001"
    )
    async with empty_database.connect() as connection:
        gone = await connection.execute(
            text("select to_regtype(:type)"), {"type": reports_repository.CLAIM_TYPE}
        )
        assert gone.scalar_one() is None


async def _attributes(connection: AsyncConnection, relation: str) -> list[tuple[str, str]]:
    """A table's columns or a row type's attributes, in order: (name, type)."""
    rows = await connection.execute(
        text(
            "select attname, format_type(atttypid, atttypmod) from pg_attribute "
            "where attrelid = cast(:relation as regclass) and attnum > 0 and not attisdropped "
            "order by attnum"
        ),
        {"relation": relation},
    )
    return [(row[0], row[1]) for row in rows]
