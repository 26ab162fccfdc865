"""FastAPI dependencies: the running intake, and who is calling with which rights.

Each dependency FastAPI resolves costs tens of microseconds per request, more than the work
some of them do. So a native caller is one dependency, a security scheme of its own that reads
X-API-Key, authenticates, checks the signature and admits the key in one call; the report
routes read the running intake and their Idempotency-Key from the request; and the busiest
route, `POST /v1/incidents`, calls `reporter` itself, before it reads its body.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, Header, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.models import APIKey, APIKeyIn
from fastapi.security import APIKeyHeader, APIKeyQuery
from fastapi.security.base import SecurityBase

from services.common import auth
from services.intake.bootstrap import Intake
from services.intake.integrators import handlers as integrators
from services.intake.integrators import signatures
from services.intake.integrators.keys import ANONYMOUS, KeyRefused, Operation, Principal

API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False)
API_KEY_QUERY = APIKeyQuery(name="api_key", auto_error=False)  # GeoReport clients send it so


IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 200
# The header as a route parameter; `idempotency_key` reads it for the route that takes none.
IdempotencyKey = Annotated[str | None, Header(min_length=1, max_length=IDEMPOTENCY_KEY_MAX)]


def intake_of(request: Request) -> Intake:
    """The running intake, wired by the application's lifespan."""
    return request.app.state.intake  # type: ignore[no-any-return]


async def _intake(request: Request) -> Intake:
    return intake_of(request)


IntakeDep = Annotated[Intake, Depends(_intake)]


def idempotency_key(request: Request) -> str | None:
    """The request's Idempotency-Key header (1 to 200 characters), if it has one."""
    value = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if value is not None and not 1 <= len(value) <= IDEMPOTENCY_KEY_MAX:
        problem = {
            "type": "string_too_long" if value else "string_too_short",
            "loc": ("header", IDEMPOTENCY_KEY_HEADER.lower()),
            "msg": f"{IDEMPOTENCY_KEY_HEADER} must have 1 to {IDEMPOTENCY_KEY_MAX} characters",
        }
        raise RequestValidationError([problem])
    return value


# The same header, in the OpenAPI document of routes that read it with `idempotency_key`.
IDEMPOTENCY_KEY_DOC = {
    "parameters": [
        {
            "name": IDEMPOTENCY_KEY_HEADER,
            "in": "header",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX},
        }
    ]
}


async def _principal(
    request: Request, api_key: str | None, *, operation: Operation, intake: Intake
) -> Principal:
    if not api_key:
        if not intake.settings.require_api_key:
            return ANONYMOUS
        raise KeyRefused("an API key is required (X-API-Key header)")
    deps = intake.integrators
    principal = await integrators.authenticate(api_key, now=datetime.now(UTC), deps=deps)
    timestamp = request.headers.get(signatures.TIMESTAMP_HEADER)
    signature = request.headers.get(signatures.SIGNATURE_HEADER)
    if timestamp or signature or principal.require_signature:
        query = request.url.query
        integrators.check_signature(
            principal,
            method=request.method,
            path=request.url.path + (f"?{query}" if query else ""),
            body=await request.body(),
            timestamp=timestamp,
            signature=signature,
            deps=deps,
        )
    await integrators.admit(principal, operation=operation, deps=deps)
    return principal


class ScopedKey(SecurityBase):
    """The native API's X-API-Key, admitted for one operation: one dependency, one call."""

    def __init__(self, operation: Operation) -> None:
        self.model = APIKey(**{"in": APIKeyIn.header}, name=API_KEY_HEADER.model.name)
        self.scheme_name = API_KEY_HEADER.scheme_name  # documented as the same scheme
        self.operation = operation

    async def __call__(self, request: Request) -> Principal:
        api_key = request.headers.get(API_KEY_HEADER.model.name)
        return await _principal(
            request, api_key, operation=self.operation, intake=intake_of(request)
        )


async def reporter(request: Request) -> Principal:
    """The report route's caller, admitted for reporting: what `Reporter` resolves, called by
    the route itself before it reads the body (a dependency costs FastAPI another walk)."""
    return await _REPORTER(request)


# The same scheme in the OpenAPI document of routes that call `reporter` themselves.
REPORTER_DOC: dict[str, Any] = {"security": [{API_KEY_HEADER.scheme_name: []}]}


def caller(operation: Operation) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits a key scoped for `operation` (native API: X-API-Key)."""
    return ScopedKey(operation)


async def open311_caller(
    request: Request,
    intake: IntakeDep,
    header_key: Annotated[str | None, Security(API_KEY_HEADER)] = None,
    query_key: Annotated[str | None, Security(API_KEY_QUERY)] = None,
) -> Principal:
    """GeoReport clients pass `api_key` in the query or form; X-API-Key works too."""
    api_key = header_key or query_key
    if api_key is None and request.method == "POST":
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = parse_qs((await request.body()).decode("utf-8", "replace"))
            api_key = next(iter(form.get("api_key", [])), None)
    return await _principal(request, api_key, operation=Operation.OPEN311, intake=intake)


def operator(
    principal: Annotated[
        auth.Principal, Depends(auth.bearer(lambda request: request.app.state.intake.keys))
    ],
) -> auth.Principal:
    """The admin API: an operator signed in at dispatch (a person's token, never an API key)."""
    return auth.require(auth.Role.OPERATOR)(principal)


_REPORTER = ScopedKey(Operation.REPORT)
Reporter = Annotated[Principal, Security(_REPORTER)]
FeedbackGiver = Annotated[Principal, Security(caller(Operation.FEEDBACK))]
StatusReader = Annotated[Principal, Security(caller(Operation.STATUS))]
CallbackOwner = Annotated[Principal, Security(caller(Operation.CALLBACKS))]
Open311Caller = Annotated[Principal, Depends(open311_caller)]
Operator = Annotated[auth.Principal, Depends(operator)]
