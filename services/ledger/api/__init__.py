"""Ledger HTTP API: the read side for status look-ups, dashboards, audits and public reports."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from services.common import health, observability, runtime, validation
from services.ledger import bootstrap
from services.ledger.api import incidents, indicators, ledger
from services.ledger.settings import LedgerSettings


def create_app(settings: LedgerSettings) -> FastAPI:
    """The ledger application; its lifespan owns the clients and the consumer."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ledger = await bootstrap.start(settings)
        runtime.freeze_startup_heap()
        yield
        await app.state.ledger.infra.close()

    app = FastAPI(
        title="gridloop ledger",
        version="0.2.0",
        lifespan=lifespan,
        telemetry=observability.WITHOUT_OPENTELEMETRY,
        dependencies=[Depends(validation.refuse_unstorable_text)],
    )
    observability.instrument(app, service="ledger")
    for router in (incidents.router, ledger.router, indicators.router):
        app.include_router(router)
    app.include_router(
        health.health_router(lambda request: request.app.state.ledger.infra.readiness_checks())
    )
    return app
