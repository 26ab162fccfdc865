"""Between the API models and the roster entities. Pure."""

import dataclasses
from typing import Any

from pydantic import BaseModel

from services.dispatch.roster import schemas
from services.dispatch.roster.entities import (
    KIND_OF,
    Camera,
    Entity,
    Grid,
    Household,
    Kind,
    Member,
    Role,
)

CREATE_MODELS: dict[Kind, type[BaseModel]] = {
    Kind.GRID: schemas.GridCreate,
    Kind.MEMBER: schemas.MemberCreate,
    Kind.HOUSEHOLD: schemas.HouseholdCreate,
    Kind.CAMERA: schemas.CameraCreate,
}


def entity_from(model: BaseModel) -> Entity:
    """The entity an XCreate model describes."""
    fields = dict(model)
    if isinstance(model, schemas.GridCreate):
        return Grid(**fields)
    if isinstance(model, schemas.MemberCreate):
        return Member(**{**fields, "role": Role(model.role), "skills": tuple(model.skills)})
    if isinstance(model, schemas.HouseholdCreate):
        return Household(**fields)
    if isinstance(model, schemas.CameraCreate):
        return Camera(**fields)
    raise TypeError(f"not a create model: {type(model).__name__}")


def patched(entity: Entity, update: BaseModel) -> Entity:
    """The entity with the fields an XUpdate model sets (and only those)."""
    changes: dict[str, Any] = {name: getattr(update, name) for name in update.model_fields_set}
    if "skills" in changes:
        changes["skills"] = tuple(changes["skills"])
    if "role" in changes:
        changes["role"] = Role(changes["role"])
    return dataclasses.replace(entity, **changes)


def grid_public(grid: Grid) -> schemas.GridPublic:
    return schemas.GridPublic(**dataclasses.asdict(grid) | {"boundary": grid.boundary})


def member_public(member: Member, *, linked_households: int) -> schemas.MemberPublic:
    return schemas.MemberPublic(
        **dataclasses.asdict(member) | {"skills": list(member.skills)},
        linked_households=linked_households,
    )


def household_public(household: Household) -> schemas.HouseholdPublic:
    return schemas.HouseholdPublic(**dataclasses.asdict(household))


def camera_public(camera: Camera) -> schemas.CameraPublic:
    return schemas.CameraPublic(**dataclasses.asdict(camera))


def record(entity: Entity) -> dict[str, Any]:
    """The entity as plain JSON-ready values, the shape of one import row."""
    values = dataclasses.asdict(entity)
    if isinstance(entity, Grid):
        values["boundary"] = entity.boundary
    return CREATE_MODELS[KIND_OF[type(entity)]].model_validate(values).model_dump(mode="json")
