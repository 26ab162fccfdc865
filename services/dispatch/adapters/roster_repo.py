"""Reading and loading the roster in PostgreSQL."""

from collections.abc import Sequence

from sqlalchemy import delete, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch import demo_community
from services.dispatch.adapters import tables
from services.dispatch.domain import policy
from services.dispatch.roster import repository


async def household(*, session: AsyncSession, household_id: str) -> tables.HouseholdRow | None:
    """One household, or None when the id is unknown."""
    return await session.get(tables.HouseholdRow, household_id)


async def camera(*, session: AsyncSession, camera_id: str) -> tables.CameraRow | None:
    """One camera, or None when the id is unknown."""
    return await session.get(tables.CameraRow, camera_id)


async def grid_team(
    *, session: AsyncSession, grid_id: str
) -> tuple[policy.GridTeam, list[tables.MemberRow]] | None:
    """The grid's team and every roster member the ladder may reach for it: the grid's
    members and its committee member, read with the grid in one query."""
    grid, member = tables.GridRow, tables.MemberRow
    reachable = or_(
        col(member.grid_id) == col(grid.id), col(member.id) == col(grid.committee_member_id)
    )
    rows = (
        await session.execute(
            select(grid, member).outerjoin(member, reachable).where(col(grid.id) == grid_id)
        )
    ).all()
    if not rows:
        return None
    found = rows[0][0]
    people = [person for _, person in rows if person is not None]
    team = policy.GridTeam(
        grid_id=found.id,
        member_ids=tuple(sorted(person.id for person in people if person.grid_id == found.id)),
        leader_id=found.leader_id,
        committee_member_id=found.committee_member_id,
    )
    return team, people


async def count_households(*, session: AsyncSession) -> int:
    """How many households the roster holds."""
    return int(
        (await session.execute(select(func.count()).select_from(tables.HouseholdRow))).scalar_one()
    )


async def load_community(*, session: AsyncSession, community: demo_community.Community) -> None:
    """Replace the roster with the given community in one transaction."""
    await repository.lock(session=session)
    for model in reversed(tables.ROSTER_TABLES):
        await session.execute(delete(model))
    session.add_all(
        tables.GridRow(
            id=g.id,
            name=g.name,
            leader_id=g.leader_id,
            committee_member_id=g.committee_member_id,
            min_lat=g.bounds[0],
            min_lon=g.bounds[1],
            max_lat=g.bounds[2],
            max_lon=g.bounds[3],
        )
        for g in community.grids
    )
    session.add_all(
        tables.GridBoundaryRow(grid_id=g.id, geometry=g.boundary) for g in community.grids
    )
    session.add_all(
        tables.MemberRow(
            id=m.id, name=m.name, role=m.role, grid_id=m.grid_id, skills=list(m.skills)
        )
        for m in community.members
    )
    session.add_all(tables.HouseholdRow(**vars(h)) for h in community.households)
    session.add_all(tables.ResidentRow(**vars(r)) for r in community.residents)
    session.add_all(tables.CameraRow(**vars(c)) for c in community.cameras)
    await session.commit()


async def members_with_roles(
    *, session: AsyncSession, roles: Sequence[str]
) -> list[tables.MemberRow]:
    """Members of the given roles anywhere in the community (e.g. police, legal advisers)."""
    if not roles:
        return []
    query = select(tables.MemberRow).where(col(tables.MemberRow.role).in_(list(roles)))
    return list((await session.execute(query)).scalars().all())


async def member(*, session: AsyncSession, member_id: str) -> tables.MemberRow | None:
    """One member, or None when the id is unknown."""
    return await session.get(tables.MemberRow, member_id)
