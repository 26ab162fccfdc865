"""The operators' API for integrator keys, behind the bootstrap admin token for now."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.intake.api import errors
from services.intake.api.deps import IntakeDep, Operator
from services.intake.integrators import handlers as integrators
from services.intake.integrators.schemas import (
    INTEGRATOR_PATTERN,
    KeyCreate,
    KeyIssued,
    KeyPublic,
    KeyRotate,
)

router = APIRouter(prefix="/admin/v1/keys", tags=["admin"])
GUARDED: errors.Responses = {
    401: {"description": "no valid token (sign in at dispatch)"},
    403: {"description": "only operators manage integrator keys"},
}
UNKNOWN: errors.Responses = {404: {"description": "no such key"}}
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]


@router.post(
    "", status_code=201, response_model=KeyIssued, responses={**GUARDED, **errors.TOO_LARGE}
)
async def create(body: KeyCreate, _: Operator, intake: IntakeDep) -> KeyIssued:
    """Issue a key; the key and its signing secret are shown in this answer only."""
    return await integrators.create_key(body, now=datetime.now(UTC), deps=intake.integrators)


@router.get("", response_model=list[KeyPublic], responses=GUARDED)
async def list_keys(
    _: Operator,
    intake: IntakeDep,
    integrator_id: Annotated[str | None, Query(pattern=INTEGRATOR_PATTERN)] = None,
) -> list[KeyPublic]:
    """Every key, without secrets."""
    return await integrators.list_keys(integrator_id=integrator_id, deps=intake.integrators)


@router.post(
    "/{key_id}/rotate",
    status_code=201,
    response_model=KeyIssued,
    responses={**GUARDED, **UNKNOWN, **errors.TOO_LARGE},
)
async def rotate(key_id: KeyId, body: KeyRotate, _: Operator, intake: IntakeDep) -> KeyIssued:
    """A successor key with the same scopes; the old one lives on for the grace time."""
    return await integrators.rotate_key(
        key_id, body, now=datetime.now(UTC), deps=intake.integrators
    )


@router.delete("/{key_id}", response_model=KeyPublic, responses={**GUARDED, **UNKNOWN})
async def revoke(key_id: KeyId, _: Operator, intake: IntakeDep) -> KeyPublic:
    """Revoke a key at once."""
    return await integrators.revoke_key(key_id, now=datetime.now(UTC), deps=intake.integrators)
