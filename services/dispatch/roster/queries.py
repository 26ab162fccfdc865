"""Reading the roster for the admin API and for triage: pages, single entities, locate."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import cast, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.adapters import tables
from services.dispatch.roster import locate, repository
from services.dispatch.roster.entities import Camera, Grid, Household, Member


async def grids(*, session: AsyncSession, limit: int, offset: int) -> tuple[list[Grid], int]:
    """A page of grids by id, and how many there are."""
    rows, total = await _page(session, tables.GridRow, [], limit=limit, offset=offset)
    shapes = await _shapes(session, [row.id for row in rows])
    return [repository.grid_entity(row, shapes.get(row.id)) for row in rows], total


async def grid(*, session: AsyncSession, grid_id: str) -> Grid | None:
    """One grid, or None."""
    row = await session.get(tables.GridRow, grid_id)
    if row is None:
        return None
    return repository.grid_entity(row, (await _shapes(session, [grid_id])).get(grid_id))


async def members(
    *,
    session: AsyncSession,
    grid_id: str | None,
    role: str | None,
    skill: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Member], int]:
    """A page of members by id, filtered by grid, role and skill, and how many match."""
    table = tables.MemberRow
    where = _equal({col(table.grid_id): grid_id, col(table.role): role})
    if skill is not None:
        where.append(cast(col(table.skills), JSONB).contains([skill]))
    rows, total = await _page(session, table, where, limit=limit, offset=offset)
    return [repository.member_entity(row) for row in rows], total


async def member(*, session: AsyncSession, member_id: str) -> Member | None:
    """One member, or None."""
    row = await session.get(tables.MemberRow, member_id)
    return repository.member_entity(row) if row else None


async def linked_counts(*, session: AsyncSession, member_ids: Sequence[str]) -> dict[str, int]:
    """How many households each of these members is linked to (1+10)."""
    linked = col(tables.HouseholdRow.linked_member_id)
    query = select(linked, func.count()).where(linked.in_(member_ids)).group_by(linked)
    counts = {member_id: int(n) for member_id, n in (await session.execute(query)).all()}
    return {member_id: counts.get(member_id, 0) for member_id in member_ids}


async def households(
    *,
    session: AsyncSession,
    filters: dict[str, Any],
    limit: int,
    offset: int,
) -> tuple[list[Household], int]:
    """A page of households by id; `filters` maps column names to required values."""
    table = tables.HouseholdRow
    where = _equal({col(getattr(table, name)): value for name, value in filters.items()})
    rows, total = await _page(session, table, where, limit=limit, offset=offset)
    return [repository.household_entity(row) for row in rows], total


async def household(*, session: AsyncSession, household_id: str) -> Household | None:
    """One household, or None."""
    row = await session.get(tables.HouseholdRow, household_id)
    return repository.household_entity(row) if row else None


async def cameras(
    *, session: AsyncSession, grid_id: str | None, limit: int, offset: int
) -> tuple[list[Camera], int]:
    """A page of cameras by id, filtered by grid, and how many match."""
    where = _equal({col(tables.CameraRow.grid_id): grid_id})
    rows, total = await _page(session, tables.CameraRow, where, limit=limit, offset=offset)
    return [repository.camera_entity(row) for row in rows], total


async def camera(*, session: AsyncSession, camera_id: str) -> Camera | None:
    """One camera, or None."""
    row = await session.get(tables.CameraRow, camera_id)
    return repository.camera_entity(row) if row else None


async def grid_areas_at(*, session: AsyncSession, point: locate.Point) -> list[locate.GridArea]:
    """The grids whose bounding box holds the point, with their boundaries.

    Every write keeps a grid's box columns around its boundary (a grid without a box has no
    boundary), so these are all the grids that can hold the point; the GiST index on the box
    finds them among any number of grids.
    """
    at = "box(point(:lon ::float8, :lat ::float8), point(:lon ::float8, :lat ::float8))"
    holds = text(f"{tables.GRID_BOX} @> {at}").bindparams(lon=point.lon, lat=point.lat)
    rows = (await session.execute(select(tables.GridRow).where(holds))).scalars().all()
    shapes = await _shapes(session, [row.id for row in rows])
    return [
        locate.GridArea(row.id, repository.grid_entity(row, shapes.get(row.id)).boundary)
        for row in rows
    ]


async def locate_incident(
    *,
    session: AsyncSession,
    household_id: str | None,
    grid_id: str | None = None,
    camera_id: str | None,
    point: locate.Point | None,
) -> locate.Location:
    """Load what triage needs for a report and say which grid it belongs to, and how."""
    found_household = await session.get(tables.HouseholdRow, household_id) if household_id else None
    found_camera = await session.get(tables.CameraRow, camera_id) if camera_id else None
    # Only the grids locate can choose: the named one, and those whose box holds the point.
    grids: dict[str, locate.GridArea] = {}
    if found_household is None and point is not None:
        grids = {area.grid_id: area for area in await grid_areas_at(session=session, point=point)}
    if found_household is None and grid_id is not None and grid_id not in grids:
        if await session.get(tables.GridRow, grid_id) is not None:
            grids[grid_id] = locate.GridArea(grid_id, None)
    return locate.locate(
        household_grid_id=found_household.grid_id if found_household else None,
        reported_grid_id=grid_id,
        point=point,
        camera_grid_id=found_camera.grid_id if found_camera else None,
        grids=list(grids.values()),
    )


async def _page(
    session: AsyncSession,
    table: type[Any],
    where: list[ColumnElement[bool]],
    *,
    limit: int,
    offset: int,
) -> tuple[Sequence[Any], int]:
    query = select(table).where(*where).order_by(col(table.id)).limit(limit).offset(offset)
    rows = (await session.execute(query)).scalars().all()
    count = select(func.count()).select_from(table).where(*where)
    return rows, int((await session.execute(count)).scalar_one())


async def _shapes(session: AsyncSession, grid_ids: list[str] | None) -> dict[str, dict[str, Any]]:
    query = select(tables.GridBoundaryRow)
    if grid_ids is not None:
        query = query.where(col(tables.GridBoundaryRow.grid_id).in_(grid_ids))
    return {row.grid_id: row.geometry for row in (await session.execute(query)).scalars().all()}


def _equal(required: dict[Any, Any]) -> list[ColumnElement[bool]]:
    return [column == value for column, value in required.items() if value is not None]
