"""HTTP metrics for intake as pure ASGI middleware, on the shared Prometheus families.

The shared `observability.instrument` is an `@app.middleware("http")`, whose per-request task
group and streams cost intake a sixth of its CPU per report. This counts and times the same
`gridloop_http_*` series by route template, without them.
"""

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.common import observability

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class HttpMetrics:
    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self._app = app
        self._service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, noting_status)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            observability.HTTP_REQUESTS.labels(
                self._service, template, scope["method"], str(status)
            ).inc()
            observability.HTTP_LATENCY.labels(self._service, template).observe(
                time.perf_counter() - started
            )


def instrument(app: FastAPI, *, service: str) -> None:
    """Count and time every request by route template, and serve /metrics."""
    app.add_middleware(HttpMetrics, service=service)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
