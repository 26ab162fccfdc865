"""Dispatch HTTP API: cases for officers and the roster, thin translators onto the handlers."""

import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request

from services.common import health, observability
from services.dispatch import bootstrap, handlers
from services.dispatch.adapters import case_repo, tables
from services.dispatch.domain.lifecycle import IllegalTransition
from services.dispatch.roster import routes as roster_routes
from services.dispatch.schemas import CaseAction, CasePublic, CaseResolve
from services.dispatch.settings import DispatchSettings

router = APIRouter(prefix="/v1")


def _deps(request: Request) -> handlers.Dependencies:
    return request.app.state.dispatch.deps


Deps = Annotated[handlers.Dependencies, Depends(_deps)]


@router.get("/cases", response_model=list[CasePublic])
async def list_cases(
    deps: Deps,
    status: str | None = None,
    assignee_id: str | None = None,
    grid_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[tables.CaseRow]:
    """Cases filtered by status, assignee or grid."""
    async with deps.sessions() as session:
        return await case_repo.search(
            session=session, status=status, assignee_id=assignee_id, grid_id=grid_id, limit=limit
        )


@router.get("/cases/{incident_id}", response_model=CasePublic)
async def get_case(incident_id: uuid.UUID, deps: Deps) -> tables.CaseRow:
    """One case as dispatch sees it."""
    async with deps.sessions() as session:
        case = await case_repo.get(session=session, incident_id=incident_id)
    if case is None:
        raise HTTPException(404, "no such case")
    return case


@router.post("/cases/{incident_id}/accept", response_model=CasePublic)
async def accept(incident_id: uuid.UUID, body: CaseAction, deps: Deps) -> tables.CaseRow:
    """The assignee accepts the case."""
    return await _transition(
        handlers.accept_case(
            incident_id=incident_id, member_id=body.member_id, now=datetime.now(UTC), deps=deps
        )
    )


@router.post("/cases/{incident_id}/resolve", response_model=CasePublic)
async def resolve(incident_id: uuid.UUID, body: CaseResolve, deps: Deps) -> tables.CaseRow:
    """The assignee reports the case resolved."""
    return await _transition(
        handlers.resolve_case(
            incident_id=incident_id,
            member_id=body.member_id,
            result=body.result,
            now=datetime.now(UTC),
            deps=deps,
        )
    )


async def _transition(command: Awaitable[tables.CaseRow]) -> tables.CaseRow:
    try:
        return await command
    except handlers.CaseNotFound as missing:
        raise HTTPException(404, "no such case") from missing
    except IllegalTransition as illegal:
        raise HTTPException(409, str(illegal)) from illegal


def create_app(settings: DispatchSettings) -> FastAPI:
    """The dispatch application; its lifespan owns the clients and the consumer."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.dispatch = await bootstrap.start(settings)
        yield
        await app.state.dispatch.infra.close()

    app = FastAPI(title="gridloop dispatch", version="0.1.0", lifespan=lifespan)
    observability.instrument(app, service="dispatch")
    app.include_router(router)
    roster_routes.install(app)
    app.include_router(
        health.health_router(lambda request: request.app.state.dispatch.infra.readiness_checks())
    )
    return app
