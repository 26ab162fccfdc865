"""Ledger HTTP API: the read side for status look-ups, dashboards and public figures."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request

from services.common import events, health, observability
from services.ledger import bootstrap, handlers, repository
from services.ledger.schemas import IncidentPublic, Stats, TimelineEntry
from services.ledger.settings import LedgerSettings
from services.ledger.tables import IncidentState

router = APIRouter(prefix="/v1")


def _deps(request: Request) -> handlers.Dependencies:
    return request.app.state.ledger.deps


Deps = Annotated[handlers.Dependencies, Depends(_deps)]


@router.get("/incidents/{incident_id}", response_model=IncidentPublic)
async def get_incident(incident_id: uuid.UUID, deps: Deps) -> IncidentPublic:
    """The incident's current state and its timeline from the ledger."""
    async with deps.sessions() as session:
        state = await session.get(IncidentState, incident_id)
        if state is None:
            raise HTTPException(404, "no such incident in the ledger")
        entries = await repository.timeline(session=session, incident_id=incident_id)
    return IncidentPublic(
        **state.model_dump(exclude={"status_rank", "event_count"}),
        timeline=[TimelineEntry.model_validate(entry, from_attributes=True) for entry in entries],
    )


@router.get("/stats", response_model=Stats)
async def stats(deps: Deps) -> Stats:
    """Public aggregate counts by status; no personal data."""
    async with deps.sessions() as session:
        counts = await repository.counts_by_status(session=session)
    by_status = {status.value: counts.get(status.value, 0) for status in events.CaseStatus}
    return Stats(total=sum(counts.values()), by_status=by_status)


def create_app(settings: LedgerSettings) -> FastAPI:
    """The ledger application; its lifespan owns the clients and the consumer."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ledger = await bootstrap.start(settings)
        yield
        await app.state.ledger.infra.close()

    app = FastAPI(title="gridloop ledger", version="0.1.0", lifespan=lifespan)
    observability.instrument(app, service="ledger")
    app.include_router(router)
    app.include_router(
        health.health_router(lambda request: request.app.state.ledger.infra.readiness_checks())
    )
    return app
