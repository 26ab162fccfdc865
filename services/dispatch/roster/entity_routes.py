"""Admin routes for grids and members: list, get, create, update."""

from fastapi import APIRouter, Response

from services.dispatch.roster import convert, queries, schemas, service, web
from services.dispatch.roster.entities import Grid, Kind, Member, Role
from services.dispatch.roster.web import REFUSALS, Limit, Offset, Policy, Sessions, set_total

router = APIRouter()


@router.get("/grids", response_model=list[schemas.GridPublic])
async def list_grids(
    sessions: Sessions, response: Response, limit: Limit = 100, offset: Offset = 0
) -> list[schemas.GridPublic]:
    """Grids by id, with leader, responsible committee member and boundary."""
    async with sessions() as session:
        grids, total = await queries.grids(session=session, limit=limit, offset=offset)
    set_total(response, total)
    return [convert.grid_public(grid) for grid in grids]


@router.get("/grids/{grid_id}", response_model=schemas.GridPublic, responses=REFUSALS)
async def get_grid(grid_id: str, sessions: Sessions) -> schemas.GridPublic:
    """One grid."""
    async with sessions() as session:
        grid = await queries.grid(session=session, grid_id=grid_id)
    if grid is None:
        raise service.NotFound(Kind.GRID, grid_id)
    return convert.grid_public(grid)


@router.post("/grids", status_code=201, response_model=schemas.GridPublic, responses=REFUSALS)
async def create_grid(
    body: schemas.GridCreate, sessions: Sessions, policy: Policy
) -> schemas.GridPublic:
    """Add a grid; its leader must be a member of it, its committee member a committee member."""
    grid = await web.create_entity(convert.entity_from(body), sessions=sessions, policy=policy)
    assert isinstance(grid, Grid)
    return convert.grid_public(grid)


@router.patch("/grids/{grid_id}", response_model=schemas.GridPublic, responses=REFUSALS)
async def update_grid(
    grid_id: str, body: schemas.GridUpdate, sessions: Sessions, policy: Policy
) -> schemas.GridPublic:
    """Change a grid's name, leader, committee member or boundary."""
    grid = await web.update_entity(Kind.GRID, grid_id, body, sessions=sessions, policy=policy)
    assert isinstance(grid, Grid)
    return convert.grid_public(grid)


@router.get("/members", response_model=list[schemas.MemberPublic])
async def list_members(
    sessions: Sessions,
    response: Response,
    grid_id: str | None = None,
    role: Role | None = None,
    skill: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[schemas.MemberPublic]:
    """Members by id, filtered by grid, role or skill, with how many households each links."""
    async with sessions() as session:
        members, total = await queries.members(
            session=session, grid_id=grid_id, role=role, skill=skill, limit=limit, offset=offset
        )
        counts = await queries.linked_counts(session=session, member_ids=[m.id for m in members])
    set_total(response, total)
    return [convert.member_public(m, linked_households=counts[m.id]) for m in members]


@router.get("/members/{member_id}", response_model=schemas.MemberPublic, responses=REFUSALS)
async def get_member(member_id: str, sessions: Sessions) -> schemas.MemberPublic:
    """One member, with how many households are linked to them."""
    async with sessions() as session:
        member = await queries.member(session=session, member_id=member_id)
    if member is None:
        raise service.NotFound(Kind.MEMBER, member_id)
    return await _member_public(member, sessions)


@router.post("/members", status_code=201, response_model=schemas.MemberPublic, responses=REFUSALS)
async def create_member(
    body: schemas.MemberCreate, sessions: Sessions, policy: Policy
) -> schemas.MemberPublic:
    """Add a member (party member, grid member or leader, committee, police, ...)."""
    member = await web.create_entity(convert.entity_from(body), sessions=sessions, policy=policy)
    assert isinstance(member, Member)
    return await _member_public(member, sessions)


@router.patch("/members/{member_id}", response_model=schemas.MemberPublic, responses=REFUSALS)
async def update_member(
    member_id: str, body: schemas.MemberUpdate, sessions: Sessions, policy: Policy
) -> schemas.MemberPublic:
    """Change a member; refused while it would strand their linked households or grid."""
    member = await web.update_entity(Kind.MEMBER, member_id, body, sessions=sessions, policy=policy)
    assert isinstance(member, Member)
    return await _member_public(member, sessions)


async def _member_public(member: Member, sessions: Sessions) -> schemas.MemberPublic:
    async with sessions() as session:
        counts = await queries.linked_counts(session=session, member_ids=[member.id])
    return convert.member_public(member, linked_households=counts[member.id])
