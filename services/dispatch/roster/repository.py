"""The roster in PostgreSQL: load it whole; write a planned change in the caller's transaction."""

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, func, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.adapters import tables
from services.dispatch.roster import geometry
from services.dispatch.roster.changes import Plan
from services.dispatch.roster.entities import Camera, Grid, Household, Kind, Member, Role, Roster

ROSTER_LOCK_ID = 0x726F7374  # serialises roster writes, so invariants hold across replicas
CHUNK = 1000  # rows per statement, well under PostgreSQL's bind parameter limit

TABLE_OF: dict[Kind, type[SQLModel]] = {
    Kind.GRID: tables.GridRow,
    Kind.MEMBER: tables.MemberRow,
    Kind.HOUSEHOLD: tables.HouseholdRow,
    Kind.CAMERA: tables.CameraRow,
}


async def lock(*, session: AsyncSession) -> None:
    """Hold the roster write lock until the transaction ends."""
    await session.execute(text("select pg_advisory_xact_lock(:id)"), {"id": ROSTER_LOCK_ID})


async def load(*, session: AsyncSession) -> Roster:
    """The whole roster as entities."""
    boundaries = await _all(session, tables.GridBoundaryRow)
    shapes = {row.grid_id: row.geometry for row in boundaries}
    grids = [grid_entity(row, shapes.get(row.id)) for row in await _all(session, tables.GridRow)]
    members = [member_entity(row) for row in await _all(session, tables.MemberRow)]
    households = [household_entity(row) for row in await _all(session, tables.HouseholdRow)]
    cameras = [camera_entity(row) for row in await _all(session, tables.CameraRow)]
    return Roster(
        grids={grid.id: grid for grid in grids},
        members={member.id: member for member in members},
        households={household.id: household for household in households},
        cameras={camera.id: camera for camera in cameras},
    )


async def apply(*, session: AsyncSession, plan: Plan) -> int:
    """Write the plan (upserts, then deletions); returns how many residents left with households."""
    for kind, table in TABLE_OF.items():
        changed = [*plan.created.get(kind, []), *plan.updated.get(kind, [])]
        await _upsert(session, table, [row_values(entity) for entity in changed])
    grids = [*plan.created.get(Kind.GRID, []), *plan.updated.get(Kind.GRID, [])]
    shaped = [g for g in grids if isinstance(g, Grid) and g.boundary is not None]
    await _upsert(
        session,
        tables.GridBoundaryRow,
        [
            {"grid_id": g.id, "geometry": geometry.to_geojson(g.boundary)}
            for g in shaped
            if g.boundary
        ],
        key="grid_id",
    )
    unshaped = [g.id for g in grids if isinstance(g, Grid) and g.boundary is None]
    await _delete(session, tables.GridBoundaryRow, "grid_id", unshaped)
    await _delete(session, tables.GridBoundaryRow, "grid_id", plan.deleted.get(Kind.GRID, []))
    gone = plan.deleted.get(Kind.HOUSEHOLD, [])
    residents = await _delete(session, tables.ResidentRow, "household_id", gone)
    for kind, table in TABLE_OF.items():
        await _delete(session, table, "id", plan.deleted.get(kind, []))
    return residents


def grid_entity(row: tables.GridRow, shape: dict[str, Any] | None) -> Grid:
    """A grid; one stored before boundaries existed keeps its box as its boundary."""
    if shape is not None:
        boundary: geometry.Area | None = geometry.parse(shape)
    elif None not in (row.min_lat, row.min_lon, row.max_lat, row.max_lon):
        boundary = geometry.rectangle(row.min_lat, row.min_lon, row.max_lat, row.max_lon)  # type: ignore[arg-type]
    else:
        boundary = None
    return Grid(row.id, row.name, row.leader_id, row.committee_member_id, boundary)


def member_entity(row: tables.MemberRow) -> Member:
    return Member(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        grid_id=row.grid_id,
        skills=tuple(row.skills),
        case_capacity=row.case_capacity,
    )


def household_entity(row: tables.HouseholdRow) -> Household:
    return Household(**row.model_dump())


def camera_entity(row: tables.CameraRow) -> Camera:
    return Camera(**row.model_dump())


def row_values(entity: Grid | Member | Household | Camera) -> dict[str, Any]:
    """The column values of an entity's table row."""
    if isinstance(entity, Grid):
        box = entity.boundary.bbox if entity.boundary else (None, None, None, None)
        return {
            "id": entity.id,
            "name": entity.name,
            "leader_id": entity.leader_id,
            "committee_member_id": entity.committee_member_id,
            **dict(zip(("min_lat", "min_lon", "max_lat", "max_lon"), box, strict=True)),
        }
    if isinstance(entity, Member):
        return {
            "id": entity.id,
            "name": entity.name,
            "role": entity.role.value,
            "grid_id": entity.grid_id,
            "skills": list(entity.skills),
            "case_capacity": entity.case_capacity,
        }
    return dict(vars(entity))


async def _all(session: AsyncSession, table: type[Any]) -> Sequence[Any]:
    return (await session.execute(select(table))).scalars().all()


async def _upsert(
    session: AsyncSession, table: type[SQLModel], rows: list[dict[str, Any]], *, key: str = "id"
) -> None:
    for chunk in _chunks(rows):
        statement = insert(table).values(chunk)
        columns = {name: statement.excluded[name] for name in chunk[0] if name != key}
        await session.execute(statement.on_conflict_do_update(index_elements=[key], set_=columns))


async def _delete(session: AsyncSession, table: type[Any], column: str, ids: list[str]) -> int:
    removed = 0
    for chunk in _chunks(ids):
        result = await session.execute(delete(table).where(col(getattr(table, column)).in_(chunk)))
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


Item = TypeVar("Item")


def _chunks(items: list[Item]) -> Iterator[list[Item]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def count_residents(*, session: AsyncSession, household_ids: list[str]) -> int:
    """How many residents these households hold."""
    total = 0
    for chunk in _chunks(household_ids):
        query = (
            select(func.count())
            .select_from(tables.ResidentRow)
            .where(col(tables.ResidentRow.household_id).in_(chunk))
        )
        total += int((await session.execute(query)).scalar_one())
    return total
