"""Intake HTTP API: the front door for every channel."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from services.common import health, observability
from services.common.runtime import Infrastructure
from services.intake import handlers
from services.intake.schemas import IncidentAccepted, IncidentCreate
from services.intake.settings import IntakeSettings


def create_app(settings: IntakeSettings) -> FastAPI:
    """The intake application; its lifespan owns the Kafka producer and the other clients."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.infra = await Infrastructure.start(settings.infra, client_id="gridloop-intake")
        yield
        await app.state.infra.close()

    app = FastAPI(title="gridloop intake", version="0.1.0", lifespan=lifespan)
    observability.instrument(app, service="intake")
    app.include_router(
        health.health_router(lambda request: request.app.state.infra.readiness_checks())
    )

    @app.middleware("http")
    async def limit_body(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.max_body_bytes:
            return JSONResponse(
                {"detail": f"body larger than {settings.max_body_bytes} bytes"}, status_code=413
            )
        return await call_next(request)

    @app.post(
        "/v1/incidents",
        status_code=202,
        response_model=IncidentAccepted,
        responses={503: {"description": "the broker did not acknowledge; retry later"}},
    )
    async def report(body: IncidentCreate, request: Request) -> IncidentAccepted | JSONResponse:
        """Take a report; 202 only after Kafka has acknowledged the event."""
        infra: Infrastructure = request.app.state.infra
        try:
            incident_id = await handlers.report_incident(
                body,
                publisher=infra.publisher,
                topic=settings.infra.topic_reports,
                timeout_s=settings.publish_timeout_s,
                now=datetime.now(UTC),
                personal_data_key=settings.infra.personal_data_key,
            )
        except handlers.PublishFailed as failure:
            return JSONResponse(
                {"detail": f"the report was not taken, retry later: {failure}"},
                status_code=503,
                headers={"Retry-After": str(settings.retry_after_s)},
            )
        return IncidentAccepted(incident_id=incident_id)

    return app
