"""Dispatch HTTP API: cases and tasks for officers, the roster for operators."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from services.common import health, observability, openapi, validation
from services.dispatch import bootstrap
from services.dispatch.identity import roster_access
from services.dispatch.roster import routes as roster_routes
from services.dispatch.routes import auth, cases, me
from services.dispatch.settings import DispatchSettings


def create_app(settings: DispatchSettings) -> FastAPI:
    """The dispatch application; its lifespan owns the clients and the background work."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.dispatch = await bootstrap.start(settings)
        yield
        await app.state.dispatch.close()

    app = FastAPI(
        title="gridloop dispatch",
        version="0.1.0",
        lifespan=lifespan,
        telemetry=observability.WITHOUT_OPENTELEMETRY,
        dependencies=[Depends(validation.refuse_unstorable_text)],
    )
    observability.instrument(app, service="dispatch")
    openapi.document_malformed_bodies(app)
    app.include_router(auth.router)
    app.include_router(cases.router)
    app.include_router(me.router)
    roster_routes.install(
        app, household_cap=settings.household_cap, dependencies=[Depends(roster_access)]
    )
    app.include_router(
        health.health_router(lambda request: request.app.state.dispatch.infra.readiness_checks())
    )
    return app
