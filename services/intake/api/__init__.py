"""Intake's HTTP API: routes are thin translators onto the handlers wired in bootstrap."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.common import health, observability, runtime
from services.intake import bootstrap
from services.intake.api import admin, callbacks, errors, incidents, open311
from services.intake.api.body_limit import BodyLimit
from services.intake.settings import IntakeSettings


def create_app(settings: IntakeSettings) -> FastAPI:
    """The intake application; its lifespan owns the clients, the consumer and the worker."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.intake = await bootstrap.start(settings)
        runtime.freeze_startup_heap()
        yield
        await app.state.intake.close()

    app = FastAPI(
        title="gridloop intake",
        version="0.2.0",
        lifespan=lifespan,
        telemetry=observability.WITHOUT_OPENTELEMETRY,
    )
    # Inside the request metrics: they count its 413, and end quietly the body it cut short.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    observability.instrument(app, service="intake")
    errors.install(app, retry_after_s=settings.retry_after_s)
    for router in (incidents.router, open311.router, callbacks.router, admin.router):
        app.include_router(router)
    app.include_router(
        health.health_router(lambda request: request.app.state.intake.infra.readiness_checks())
    )
    return app
