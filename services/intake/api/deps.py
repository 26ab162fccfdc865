"""FastAPI dependencies: the running intake, and who is calling with which rights."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, APIKeyQuery

from services.common import auth
from services.intake.bootstrap import Intake
from services.intake.integrators import handlers as integrators
from services.intake.integrators import signatures
from services.intake.integrators.keys import ANONYMOUS, KeyRefused, Operation, Principal

API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False)
API_KEY_QUERY = APIKeyQuery(name="api_key", auto_error=False)  # GeoReport clients send it so


async def _intake(request: Request) -> Intake:
    return request.app.state.intake  # type: ignore[no-any-return]


IntakeDep = Annotated[Intake, Depends(_intake)]


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


def caller(operation: Operation) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits a key scoped for `operation` (native API: X-API-Key)."""

    async def dependency(
        request: Request,
        intake: IntakeDep,
        api_key: Annotated[str | None, Security(API_KEY_HEADER)] = None,
    ) -> Principal:
        return await _principal(request, api_key, operation=operation, intake=intake)

    return dependency


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


Reporter = Annotated[Principal, Depends(caller(Operation.REPORT))]
FeedbackGiver = Annotated[Principal, Depends(caller(Operation.FEEDBACK))]
StatusReader = Annotated[Principal, Depends(caller(Operation.STATUS))]
CallbackOwner = Annotated[Principal, Depends(caller(Operation.CALLBACKS))]
Open311Caller = Annotated[Principal, Depends(open311_caller)]
Operator = Annotated[auth.Principal, Depends(operator)]
