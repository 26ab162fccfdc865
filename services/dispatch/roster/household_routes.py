"""Admin routes for households (with their 1+10 link) and cameras: list, get, create, update."""

from dataclasses import replace

from fastapi import APIRouter, Response

from services.dispatch.roster import convert, queries, schemas, service, web
from services.dispatch.roster.entities import Camera, Entity, Household, Kind
from services.dispatch.roster.web import REFUSALS, Limit, Offset, Policy, Sessions, set_total

router = APIRouter()


@router.get("/households", response_model=list[schemas.HouseholdPublic])
async def list_households(
    sessions: Sessions,
    response: Response,
    grid_id: str | None = None,
    linked_member_id: str | None = None,
    village_group: str | None = None,
    elderly_alone: bool | None = None,
    disabled: bool | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[schemas.HouseholdPublic]:
    """Households by id, filtered by grid, linked member, village group or flags."""
    filters = {
        "grid_id": grid_id,
        "linked_member_id": linked_member_id,
        "village_group": village_group,
        "elderly_alone": elderly_alone,
        "disabled": disabled,
    }
    async with sessions() as session:
        households, total = await queries.households(
            session=session, filters=filters, limit=limit, offset=offset
        )
    set_total(response, total)
    return [convert.household_public(household) for household in households]


@router.get(
    "/households/{household_id}", response_model=schemas.HouseholdPublic, responses=REFUSALS
)
async def get_household(household_id: str, sessions: Sessions) -> schemas.HouseholdPublic:
    """One household with its grid and linked party member."""
    async with sessions() as session:
        household = await queries.household(session=session, household_id=household_id)
    if household is None:
        raise service.NotFound(Kind.HOUSEHOLD, household_id)
    return convert.household_public(household)


@router.post(
    "/households", status_code=201, response_model=schemas.HouseholdPublic, responses=REFUSALS
)
async def create_household(
    body: schemas.HouseholdCreate, sessions: Sessions, policy: Policy
) -> schemas.HouseholdPublic:
    """Add a household, linked to a party member of its grid who has room (1+10)."""
    household = await web.create_entity(convert.entity_from(body), sessions=sessions, policy=policy)
    assert isinstance(household, Household)
    return convert.household_public(household)


@router.patch(
    "/households/{household_id}", response_model=schemas.HouseholdPublic, responses=REFUSALS
)
async def update_household(
    household_id: str, body: schemas.HouseholdUpdate, sessions: Sessions, policy: Policy
) -> schemas.HouseholdPublic:
    """Change a household; moving it to another grid needs a new linked member there too."""
    household = await web.update_entity(
        Kind.HOUSEHOLD, household_id, body, sessions=sessions, policy=policy
    )
    assert isinstance(household, Household)
    return convert.household_public(household)


@router.put(
    "/households/{household_id}/link", response_model=schemas.HouseholdPublic, responses=REFUSALS
)
async def link_household(
    household_id: str, body: schemas.HouseholdLink, sessions: Sessions, policy: Policy
) -> schemas.HouseholdPublic:
    """Link the household to another party member of its grid (1+10)."""
    async with sessions() as session:
        household = await service.update(
            session=session,
            kind=Kind.HOUSEHOLD,
            entity_id=household_id,
            change=lambda current: _relinked(current, body.linked_member_id),
            household_cap=policy.household_cap,
        )
    assert isinstance(household, Household)
    return convert.household_public(household)


def _relinked(current: Entity, linked_member_id: str) -> Entity:
    assert isinstance(current, Household)
    return replace(current, linked_member_id=linked_member_id)


@router.get("/cameras", response_model=list[schemas.CameraPublic])
async def list_cameras(
    sessions: Sessions,
    response: Response,
    grid_id: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[schemas.CameraPublic]:
    """Cameras by id, filtered by grid."""
    async with sessions() as session:
        cameras, total = await queries.cameras(
            session=session, grid_id=grid_id, limit=limit, offset=offset
        )
    set_total(response, total)
    return [convert.camera_public(camera) for camera in cameras]


@router.get("/cameras/{camera_id}", response_model=schemas.CameraPublic, responses=REFUSALS)
async def get_camera(camera_id: str, sessions: Sessions) -> schemas.CameraPublic:
    """One camera with its place and grid."""
    async with sessions() as session:
        camera = await queries.camera(session=session, camera_id=camera_id)
    if camera is None:
        raise service.NotFound(Kind.CAMERA, camera_id)
    return convert.camera_public(camera)


@router.post("/cameras", status_code=201, response_model=schemas.CameraPublic, responses=REFUSALS)
async def create_camera(
    body: schemas.CameraCreate, sessions: Sessions, policy: Policy
) -> schemas.CameraPublic:
    """Add a camera in a grid."""
    camera = await web.create_entity(convert.entity_from(body), sessions=sessions, policy=policy)
    assert isinstance(camera, Camera)
    return convert.camera_public(camera)


@router.patch("/cameras/{camera_id}", response_model=schemas.CameraPublic, responses=REFUSALS)
async def update_camera(
    camera_id: str, body: schemas.CameraUpdate, sessions: Sessions, policy: Policy
) -> schemas.CameraPublic:
    """Move a camera or change its place."""
    camera = await web.update_entity(Kind.CAMERA, camera_id, body, sessions=sessions, policy=policy)
    assert isinstance(camera, Camera)
    return convert.camera_public(camera)
