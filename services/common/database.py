"""PostgreSQL through SQLModel on SQLAlchemy's asyncio engine with asyncpg."""

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import class_mapper
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

Row = TypeVar("Row", bound=SQLModel)
IMMUTABLE_DEFAULTS = (type(None), bool, int, float, str, bytes, tuple, frozenset)


def async_url(database_url: str) -> str:
    """Accept a plain postgresql:// URL and select the asyncpg driver."""
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+asyncpg://" + database_url[len(prefix) :]
    return database_url


# asyncpg prepares each statement once per connection, and PostgreSQL may then settle on one
# generic plan for it. For the hot lookups by a list of keys (`= any($1)`) generic plans cost
# several times what plans made for the values do, and one made while a table was nearly
# empty kept scanning the whole table as it grew. Planning every execution costs less (ADR 51).
SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan"}


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An engine that survives a restarted server, and plans each statement for its values.

    A pooled connection that the server has closed is replaced when it is checked out, which
    costs no round trip (`pool_pre_ping` costs three: BEGIN, an empty query, ROLLBACK); a
    statement that fails because the server went away discards the whole pool, which is
    SQLAlchemy's own handling of disconnects.
    """
    engine = create_async_engine(
        async_url(database_url),
        pool_size=pool_size,
        pool_recycle=1800,
        connect_args={"server_settings": SERVER_SETTINGS},
    )
    event.listen(engine.sync_engine, "checkout", _replace_if_closed)
    return engine


def _replace_if_closed(
    dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
) -> None:
    """The pool tries another connection when this one's socket is closed."""
    driver = record.driver_connection
    if driver is None or driver.is_closed():
        raise exc.DisconnectionError("the server closed this connection")


def column_arrays(rows: Sequence[Any], *fields: str) -> dict[str, list[Any]]:
    """Bind values for a statement that inserts from `unnest` of arrays, one execution for all
    the rows (a list of rows given to a statement is executed once per row): each field's
    values, in the rows' order, under the field's name."""
    return {field: [getattr(row, field) for row in rows] for field in fields}


def session_maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def new_row(model: type[Row], **values: Any) -> Row:
    """A new row of a table model, the same as `model(**values)`, about six times cheaper.

    SQLModel's constructor sets every field through SQLAlchemy's attribute events and then
    pydantic's, which costs about half a millisecond for a row of 35 columns. A new row
    needs neither: its history starts empty and its INSERT takes every value from the
    instance's dict. So this builds the instance as SQLAlchemy builds the rows it loads
    (`ClassManager.new_instance`) and fills its dict, defaults included. Like the table
    model's own constructor, it does not validate. Changes made afterwards are tracked as
    usual.
    """
    row: Row = class_mapper(model).class_manager.new_instance()
    defaults, factories = _defaults(model)
    fields = {**defaults, **{name: make() for name, make in factories.items()}, **values}
    row.__dict__.update(fields)
    object.__setattr__(row, "__pydantic_fields_set__", set(values))
    return row


@functools.cache
def _defaults(model: type[SQLModel]) -> tuple[dict[str, Any], dict[str, Callable[[], Any]]]:
    """A model's immutable defaults, and the factories of the others (called per row)."""
    defaults: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    for name, field in model.model_fields.items():
        if field.is_required():
            continue
        if field.default_factory is not None:
            factories[name] = field.default_factory  # type: ignore[assignment]
        elif isinstance(field.default, IMMUTABLE_DEFAULTS):
            defaults[name] = field.default
        else:
            factories[name] = functools.partial(field.get_default, call_default_factory=False)
    return defaults, factories


def refused_as_data(error: BaseException) -> bool:
    """Whether PostgreSQL refused the values themselves (SQLSTATE class 22: text it cannot
    store, a number out of range…), so the same values will always fail the same way."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, asyncpg.exceptions.DataError):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


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
