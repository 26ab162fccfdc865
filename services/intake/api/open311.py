"""GeoReport v2 (JSON) at /open311/v2: services, requests, and one request by id."""

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from services.intake.api import errors
from services.intake.api.deps import IdempotencyKey, IntakeDep, Open311Caller
from services.intake.open311 import handlers as open311
from services.intake.open311 import mapping
from services.intake.open311.schemas import (
    Open311Error,
    Service,
    ServiceRequest,
    ServiceRequestCreate,
    ServiceRequestCreated,
)

router = APIRouter(prefix="/open311/v2", tags=["open311"])
ERRORS: errors.Responses = {
    code: {"model": list[Open311Error], "description": text}
    for code, text in (
        (400, "the request is not valid: the reason is in the description"),
        (401, "no valid api_key, or a wrong request signature"),
        (403, "the key is not scoped for open311 or the platform channel"),
        (404, "no such jurisdiction, service or service request"),
        (429, "the key's rate limit is reached; see Retry-After"),
        (503, "a dependency did not answer; retry after Retry-After"),
    )
}
FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": ServiceRequestCreate.model_json_schema()
            },
            "application/json": {"schema": ServiceRequestCreate.model_json_schema()},
        },
    }
}
Jurisdiction = Annotated[str | None, Query(max_length=100)]


def _check_jurisdiction(jurisdiction_id: str | None, intake: IntakeDep) -> None:
    if jurisdiction_id and jurisdiction_id != intake.settings.open311_jurisdiction_id:
        raise open311.RequestNotFound(f"jurisdiction_id {jurisdiction_id!r} not found")


@router.get(
    "/services.json", response_model=list[Service], responses={400: ERRORS[400], 404: ERRORS[404]}
)
async def services(intake: IntakeDep, jurisdiction_id: Jurisdiction = None) -> list[Service]:
    """Our incident categories as GeoReport services (public: discovery needs no key)."""
    _check_jurisdiction(jurisdiction_id, intake)
    return mapping.services()


@router.post(
    "/requests.json",
    response_model=list[ServiceRequestCreated],
    responses={**ERRORS, **errors.TOO_LARGE},
    openapi_extra=FORM_BODY,
)
async def create_request(
    request: Request,
    principal: Open311Caller,
    intake: IntakeDep,
    idempotency_key: IdempotencyKey = None,
) -> list[ServiceRequestCreated]:
    """Create a service request (form-encoded, as the specification has it, or JSON)."""
    body = await _form(request)
    _check_jurisdiction(body.jurisdiction_id, intake)
    created = await open311.create_request(
        body,
        principal=principal,
        idempotency_key=idempotency_key,
        now=datetime.now(UTC),
        deps=intake.open311,
    )
    return [created]


@router.get("/requests.json", response_model=list[ServiceRequest], responses=ERRORS)
async def list_requests(
    principal: Open311Caller,
    intake: IntakeDep,
    jurisdiction_id: Jurisdiction = None,
    service_request_id: Annotated[str | None, Query(max_length=4000)] = None,
    service_code: Annotated[str | None, Query(max_length=1000)] = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> list[ServiceRequest]:
    """Your service requests, filtered as the specification describes (at most 1000)."""
    _check_jurisdiction(jurisdiction_id, intake)
    query = open311.Query(
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
    )
    return await open311.list_requests(
        query, principal=principal, now=datetime.now(UTC), deps=intake.open311
    )


@router.get(
    "/requests/{service_request_id}.json", response_model=list[ServiceRequest], responses=ERRORS
)
async def get_request(
    service_request_id: uuid.UUID,
    principal: Open311Caller,
    intake: IntakeDep,
    jurisdiction_id: Jurisdiction = None,
) -> list[ServiceRequest]:
    """One of your service requests (a list of one, as the specification has it)."""
    _check_jurisdiction(jurisdiction_id, intake)
    return [await open311.get_request(service_request_id, principal=principal, deps=intake.open311)]


async def _form(request: Request) -> ServiceRequestCreate:
    raw = await request.body()
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            fields = json.loads(raw or b"{}")
        else:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=False)
            fields = {name: value for name, value in pairs if not name.startswith("attribute[")}
        return ServiceRequestCreate.model_validate(fields)
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise mapping.InvalidRequest("the body is neither a form nor JSON") from error
