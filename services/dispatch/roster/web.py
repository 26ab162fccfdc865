"""What the roster routes share: their dependencies, and how refusals become responses."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.roster import convert, documents, schemas, service
from services.dispatch.roster.entities import DEFAULT_HOUSEHOLD_CAP, Entity, Kind

MAX_IMPORT_BYTES = 8 * 1024 * 1024  # an import file larger than this gets 413
TOTAL_HEADER = "X-Total-Count"
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
REFUSALS: dict[int | str, dict[str, object]] = {
    404: {"description": "unknown id"},
    409: {"model": schemas.Refusal, "description": "an invariant would break, or the id is taken"},
    422: {
        "description": "the request (or its result) is not valid",
        "content": {"application/json": {"schema": schemas.REFUSAL_OR_INVALID}},
    },
}


@dataclass(frozen=True)
class RosterPolicy:
    """The roster's configuration: the 1+10 cap and the largest import accepted."""

    household_cap: int = DEFAULT_HOUSEHOLD_CAP
    max_import_bytes: int = MAX_IMPORT_BYTES


def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.dispatch.deps.sessions  # type: ignore[no-any-return]


def _policy(request: Request) -> RosterPolicy:
    return getattr(request.app.state, "roster_policy", RosterPolicy())


Sessions = Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]
Policy = Annotated[RosterPolicy, Depends(_policy)]


async def create_entity(entity: Entity, *, sessions: Sessions, policy: Policy) -> Entity:
    """Add an entity through the service, in its own session."""
    async with sessions() as session:
        return await service.create(
            session=session, entity=entity, household_cap=policy.household_cap
        )


async def update_entity(
    kind: Kind, entity_id: str, body: BaseModel, *, sessions: Sessions, policy: Policy
) -> Entity:
    """Apply a PATCH body through the service, in its own session."""
    async with sessions() as session:
        return await service.update(
            session=session,
            kind=kind,
            entity_id=entity_id,
            change=lambda current: convert.patched(current, body),
            household_cap=policy.household_cap,
        )


def set_total(response: Response, total: int) -> None:
    """Pages carry the number of matching rows in a header, so the body stays a plain list."""
    response.headers[TOTAL_HEADER] = str(total)


def refusal(status_code: int, detail: str, problems: list[documents.RowProblem]) -> JSONResponse:
    """`{"detail": ..., "errors": [{"kind", "row", "id", "field", "reason"}, ...]}`."""
    body = schemas.Refusal(
        detail=detail,
        errors=[schemas.RowError(**vars(problem)) for problem in problems],
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code)


def add_error_handlers(app: FastAPI) -> None:
    """404 for an unknown id, 409 for a broken invariant or taken id, 422 for bad rows."""

    async def not_found(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=404)

    async def refused(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, service.Refused)
        return refusal(409, str(error), error.problems)

    async def invalid(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, service.Invalid)
        return refusal(422, str(error), error.problems)

    app.add_exception_handler(service.NotFound, not_found)
    app.add_exception_handler(service.Refused, refused)
    app.add_exception_handler(service.Invalid, invalid)
