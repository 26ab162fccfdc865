"""GeoReport v2 at /open311/v2: services, requests and one request by id, in XML and JSON.

Each operation is one endpoint routed at `.json` and at `.xml`. FastAPI validates and
serialises its answer for both; the `.xml` route's response class writes that as the
specification's XML. Errors take the format of the path they answer (errors.py).
"""

import json
import uuid
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response
from fastapi.datastructures import Default, DefaultPlaceholder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from services.common import validation
from services.intake.api import errors, open311_xml
from services.intake.api.deps import IdempotencyKey, IntakeDep, Open311Caller
from services.intake.open311 import handlers as open311
from services.intake.open311 import mapping, xml_format
from services.intake.open311.schemas import (
    Open311Error,
    Service,
    ServiceRequest,
    ServiceRequestCreate,
    ServiceRequestCreated,
)

router = APIRouter(prefix="/open311/v2", tags=["open311"])
REFUSALS = {
    400: "the request is not valid: the reason is in the description",
    401: "no valid api_key, or a wrong request signature",
    403: "the key is not scoped for open311 or the platform channel",
    404: "no such jurisdiction, service or service request",
    429: "the key's rate limit is reached; see Retry-After",
    503: "a dependency did not answer; retry after Retry-After",
}
ERRORS_JSON: errors.Responses = {
    code: {"model": list[Open311Error], "description": text} for code, text in REFUSALS.items()
}
ERRORS_XML: errors.Responses = {
    code: {
        "description": text,
        "content": {"text/xml": {"schema": open311_xml.schema(xml_format.ERRORS, Open311Error)}},
    }
    for code, text in REFUSALS.items()
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
Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Any]])


def _georeport(
    method: str,
    path: str,
    *,
    model: type[BaseModel],
    xml: type[open311_xml.GeoReportXml],
    refusals: Collection[int] = tuple(REFUSALS),
    also: errors.Responses | None = None,
    openapi_extra: dict[str, Any] | None = None,
) -> Callable[[Endpoint], Endpoint]:
    """Route one endpoint at `path.json` and `path.xml`; it answers a list of `model`."""
    formats: list[tuple[str, type[Response] | DefaultPlaceholder]] = [
        (".json", Default(JSONResponse)),  # FastAPI's own, which keeps its fast path
        (".xml", xml),
    ]

    def route(endpoint: Endpoint) -> Endpoint:
        for suffix, response_class in formats:
            documented = _documented(suffix, model=model, shape=xml.shape, refusals=refusals)
            router.add_api_route(
                path + suffix,
                endpoint,
                methods=[method],
                response_model=list[model],  # type: ignore[valid-type]
                response_class=response_class,
                responses={**documented, **(also or {})},
                openapi_extra=openapi_extra,
            )
        return endpoint

    return route


def _documented(
    suffix: str, *, model: type[BaseModel], shape: xml_format.Shape, refusals: Collection[int]
) -> errors.Responses:
    """What the route at `suffix` documents beyond FastAPI: its XML list, its refusals."""
    if suffix == ".json":
        return {code: ERRORS_JSON[code] for code in refusals}
    listed = {"content": {"text/xml": {"schema": open311_xml.schema(shape, model)}}}
    return {200: listed, **{code: ERRORS_XML[code] for code in refusals}}


Jurisdiction = Annotated[str | None, Query(max_length=100)]


def _check_jurisdiction(jurisdiction_id: str | None, intake: IntakeDep) -> None:
    if jurisdiction_id and jurisdiction_id != intake.settings.open311_jurisdiction_id:
        raise open311.RequestNotFound(f"jurisdiction_id {jurisdiction_id!r} not found")


@_georeport("GET", "/services", model=Service, xml=open311_xml.ServicesXml, refusals=(400, 404))
async def services(intake: IntakeDep, jurisdiction_id: Jurisdiction = None) -> list[Service]:
    """Our incident categories as GeoReport services (public: discovery needs no key)."""
    _check_jurisdiction(jurisdiction_id, intake)
    return mapping.services()


@_georeport(
    "POST",
    "/requests",
    model=ServiceRequestCreated,
    xml=open311_xml.ServiceRequestsXml,
    also={413: errors.TOO_LARGE[413]},
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


@_georeport("GET", "/requests", model=ServiceRequest, xml=open311_xml.ServiceRequestsXml)
async def list_requests(
    principal: Open311Caller,
    intake: IntakeDep,
    jurisdiction_id: Jurisdiction = None,
    service_request_id: Annotated[str | None, Query(max_length=4000)] = None,
    service_code: Annotated[str | None, Query(max_length=1000)] = None,
    start_date: validation.Instant | None = None,
    end_date: validation.Instant | None = None,
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


@_georeport(
    "GET",
    "/requests/{service_request_id}",
    model=ServiceRequest,
    xml=open311_xml.ServiceRequestsXml,
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
