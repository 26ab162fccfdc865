"""Dispatch HTTP API: cases and tasks for officers, the roster for operators."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from sqlmodel import select

from services.common import health, observability
from services.dispatch import bootstrap
from services.dispatch.adapters import roster_repo, tables
from services.dispatch.cases.work import Dependencies
from services.dispatch.routes import cases, me
from services.dispatch.schemas import GridPublic, HouseholdPublic
from services.dispatch.settings import DispatchSettings

router = APIRouter(prefix="/v1")


def _deps(request: Request) -> Dependencies:
    return request.app.state.dispatch.deps


Deps = Annotated[Dependencies, Depends(_deps)]


@router.get("/roster/grids", response_model=list[GridPublic])
async def list_grids(deps: Deps) -> list[tables.GridRow]:
    """Every grid with its leader and responsible committee member."""
    async with deps.sessions() as session:
        result = await session.execute(select(tables.GridRow).order_by(tables.GridRow.id))
        return list(result.scalars().all())


@router.get("/roster/households/{household_id}", response_model=HouseholdPublic)
async def get_household(household_id: str, deps: Deps) -> tables.HouseholdRow:
    """One household with its grid and linked party member."""
    async with deps.sessions() as session:
        household = await roster_repo.household(session=session, household_id=household_id)
    if household is None:
        raise HTTPException(404, "no such household")
    return household


def create_app(settings: DispatchSettings) -> FastAPI:
    """The dispatch application; its lifespan owns the clients and the background work."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.dispatch = await bootstrap.start(settings)
        yield
        await app.state.dispatch.infra.close()

    app = FastAPI(title="gridloop dispatch", version="0.1.0", lifespan=lifespan)
    observability.instrument(app, service="dispatch")
    app.include_router(cases.router)
    app.include_router(me.router)
    app.include_router(router)
    app.include_router(
        health.health_router(lambda request: request.app.state.dispatch.infra.readiness_checks())
    )
    return app
