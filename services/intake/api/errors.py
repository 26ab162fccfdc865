"""Domain refusals as HTTP answers, in one place; GeoReport paths get GeoReport error lists,
in XML on `.xml` paths and in JSON elsewhere."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response

from services.intake.adapters.ledger_client import LedgerUnavailable
from services.intake.api import open311_xml
from services.intake.callbacks.domain import UnacceptableUrl
from services.intake.callbacks.handlers import NoCallback
from services.intake.integrators.handlers import KeyNotFound
from services.intake.integrators.keys import KeyRefused, OutOfScope
from services.intake.integrators.rate_limit import RateLimited
from services.intake.integrators.signatures import SignatureRefused
from services.intake.open311.handlers import RequestNotFound
from services.intake.open311.mapping import InvalidRequest, UnknownService
from services.intake.reports.domain import IdempotencyConflict
from services.intake.reports.follow_up import CaseNotFound, NotAwaitingFeedback
from services.intake.reports.handlers import PublishFailed, StillInProgress, StoreUnavailable

OPEN311_PREFIX = "/open311/"
OPEN311_UNROUTED = (
    "no such resource: GeoReport v2 here is services, requests and"
    " requests/{service_request_id}, each as .xml or .json"
)
Responses = dict[int | str, dict[str, Any]]


def _described(text: str) -> dict[str, Any]:
    return {"description": text}


AUTH: Responses = {
    401: _described("no valid API key, or a missing, stale or wrong request signature"),
    403: _described("the key is not scoped for this operation or channel"),
    429: _described("the key's rate limit is reached; see Retry-After"),
}
UNAVAILABLE: Responses = {503: _described("a dependency did not answer; retry after Retry-After")}
TOO_LARGE: Responses = {
    413: _described("the body is larger than the configured limit"),
    400: _described("the body could not be read (not UTF-8 text)"),
}


class Refusal:
    """How one kind of refusal is answered."""

    def __init__(self, status: int, *, retry_after: bool = False) -> None:
        self.status = status
        self.retry_after = retry_after


REFUSALS: dict[type[Exception], Refusal] = {
    KeyRefused: Refusal(401),
    SignatureRefused: Refusal(401),
    OutOfScope: Refusal(403),
    RateLimited: Refusal(429, retry_after=True),
    IdempotencyConflict: Refusal(409),
    StillInProgress: Refusal(409, retry_after=True),
    NotAwaitingFeedback: Refusal(409),
    CaseNotFound: Refusal(404),
    RequestNotFound: Refusal(404),
    KeyNotFound: Refusal(404),
    NoCallback: Refusal(404),
    UnknownService: Refusal(404),
    InvalidRequest: Refusal(400),
    UnacceptableUrl: Refusal(422),
    PublishFailed: Refusal(503, retry_after=True),
    StoreUnavailable: Refusal(503, retry_after=True),
    LedgerUnavailable: Refusal(503, retry_after=True),
}


def install(app: FastAPI, *, retry_after_s: int) -> None:
    """Register one handler per refusal, plus GeoReport-shaped validation errors."""

    def respond(request: Request, status: int, detail: str, headers: dict[str, str]) -> Response:
        path = request.url.path
        if not path.startswith(OPEN311_PREFIX):
            return JSONResponse({"detail": detail}, status, headers=headers)
        listed = [{"code": status, "description": detail}]
        if path.endswith(".xml"):
            return open311_xml.ErrorsXml(listed, status, headers=headers)
        return JSONResponse(listed, status, headers=headers)

    async def refused(request: Request, error: Exception) -> Response:
        refusal = next(r for kind, r in REFUSALS.items() if isinstance(error, kind))
        headers: dict[str, str] = {}
        if refusal.retry_after:
            seconds = getattr(error, "retry_after_s", retry_after_s)
            headers["Retry-After"] = str(seconds)
        if refusal.status == 401:
            headers["WWW-Authenticate"] = "ApiKey"
        detail = str(error)
        if isinstance(error, PublishFailed):
            detail = f"the report was not taken, retry later: {error}"
        return respond(request, refusal.status, detail, headers)

    async def invalid(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        if request.url.path.startswith(OPEN311_PREFIX):
            first = error.errors()[0] if error.errors() else {}
            where = ".".join(str(part) for part in first.get("loc", ()))
            return respond(request, 400, f"{where}: {first.get('msg', 'invalid')}", {})
        # The rejected input is not echoed back: it may hold a phone or an ID number.
        problems = [
            {key: value for key, value in problem.items() if key not in ("input", "ctx")}
            for problem in error.errors()
        ]
        return JSONResponse({"detail": jsonable_encoder(problems)}, 422)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        detail = str(error.detail)
        if request.url.path.startswith(OPEN311_PREFIX) and "route" not in request.scope:
            detail = OPEN311_UNROUTED  # no route matched: another format or another resource
        return respond(request, error.status_code, detail, dict(error.headers or {}))

    for kind in REFUSALS:
        app.add_exception_handler(kind, refused)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
