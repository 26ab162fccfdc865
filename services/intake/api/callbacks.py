"""The integrator's callback: register a URL, remove it, read the delivery log."""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from services.intake.api import errors
from services.intake.api.deps import CallbackOwner, IntakeDep
from services.intake.callbacks import handlers as callbacks
from services.intake.callbacks.schemas import (
    CallbackPublic,
    CallbackRegister,
    CallbackRegistered,
    DeliveryPublic,
)

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])
NOT_REGISTERED: errors.Responses = {404: {"description": "no callback registered"}}


@router.put(
    "",
    response_model=CallbackRegistered,
    responses={**errors.AUTH, **errors.TOO_LARGE, 422: {"description": "unacceptable URL"}},
)
async def register(
    body: CallbackRegister, principal: CallbackOwner, intake: IntakeDep
) -> CallbackRegistered:
    """Register (or replace) the URL that receives every status change of your cases."""
    return await callbacks.register(
        body, integrator_id=principal.integrator_id, now=datetime.now(UTC), deps=intake.callbacks
    )


@router.get("", response_model=CallbackPublic, responses={**errors.AUTH, **NOT_REGISTERED})
async def current(principal: CallbackOwner, intake: IntakeDep) -> CallbackPublic:
    """The registered callback (its secret is shown only when registering)."""
    return await callbacks.current(integrator_id=principal.integrator_id, deps=intake.callbacks)


@router.delete("", status_code=204, responses={**errors.AUTH, **NOT_REGISTERED})
async def remove(principal: CallbackOwner, intake: IntakeDep) -> Response:
    """Stop callbacks; deliveries not yet made are cancelled."""
    await callbacks.remove(integrator_id=principal.integrator_id, deps=intake.callbacks)
    return Response(status_code=204)


@router.get("/deliveries", response_model=list[DeliveryPublic], responses=errors.AUTH)
async def deliveries(
    principal: CallbackOwner,
    intake: IntakeDep,
    incident_id: uuid.UUID | None = None,
    state: Literal["pending", "delivered", "failed", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryPublic]:
    """The delivery log: every status callback, its state and each attempt."""
    return await callbacks.delivery_log(
        integrator_id=principal.integrator_id,
        incident_id=incident_id,
        state=state,
        limit=limit,
        deps=intake.callbacks,
    )
