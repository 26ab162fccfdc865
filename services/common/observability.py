"""Metrics and logs shared by the services: request metrics, /metrics, and JSON log lines.

Log lines about a case carry its `incident_id` (and the `event_id` being handled, if any)
without every call passing them: `log_context` puts them in a context variable that the
handler's filter copies onto each record written inside it.
"""

import contextvars
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Response
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import ClientDisconnect

from services.common import metrics

logger = logging.getLogger(__name__)

# The metrics now live in services.common.metrics; these names stay for existing imports.
HTTP_REQUESTS = metrics.HTTP_REQUESTS
HTTP_LATENCY = metrics.HTTP_LATENCY
EVENTS_PRODUCED = metrics.EVENTS_PRODUCED
EVENTS_CONSUMED = metrics.EVENTS_CONSUMED
DEAD_LETTERS = metrics.DEAD_LETTERS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# gridloop's metrics are Prometheus's (below) and it configures no OpenTelemetry provider, so
# FastAPI's own instrumentation would only ask, on every request, whether one has appeared.
WITHOUT_OPENTELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}

CONTEXT_FIELDS = ("incident_id", "event_id")
# (name, value) pairs: a context variable's default must not be mutable.
_log_context: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "gridloop_log_context", default=()
)


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Within this block, log records carry these fields (None values are left out)."""
    known = {name: str(value) for name, value in fields.items() if value is not None}
    token = _log_context.set(tuple({**dict(_log_context.get()), **known}.items()))
    try:
        yield
    finally:
        _log_context.reset(token)


class ContextFilter(logging.Filter):
    """Copy the current `log_context` onto the record, unless the call passed its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _log_context.get():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


# A str as a JSON string literal, non-ASCII kept: what json.JSONEncoder(ensure_ascii=False)
# writes for each key and value, without building a dict and an encoder for every line.
_quoted = json.encoder.encode_basestring
_LINE_FIELDS = (*CONTEXT_FIELDS, "service")
_ABSENT = object()


class JsonFormatter(logging.Formatter):
    """One JSON object per line, carrying incident and event ids when the record has them."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC).isoformat()
        line = [
            f'{{"time": "{moment}", "level": {_quoted(record.levelname)}, ',
            f'"logger": {_quoted(record.name)}, "message": {_quoted(record.getMessage())}',
        ]
        given = record.__dict__
        for field in _LINE_FIELDS:
            value = given.get(field, _ABSENT)
            if value is not _ABSENT:
                line.append(f", {_quoted(field)}: {_quoted(str(value))}")
        if record.exc_info:
            line.append(f', "exception": {_quoted(self.formatException(record.exc_info))}')
        line.append("}")
        return "".join(line)


# Libraries whose lower levels trace their own machinery (every fetch, every connection step):
# at DEBUG an operator wants gridloop's line per event (ADR 47), not these.
_LIBRARY_FLOORS = {"aiokafka": logging.WARNING, "httpcore": logging.INFO}


def configure_logging(level: str) -> None:
    """Send JSON lines to stderr at the configured level: INFO for what an operator acts on,
    DEBUG adding a line for every report, decision and event (ADR 47)."""
    # The lines carry none of the caller's file and line, thread or process, so records need
    # not look them up (the logging HOWTO's "Optimization" switches).
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for library, floor in _LIBRARY_FLOORS.items():
        logging.getLogger(library).setLevel(max(floor, root.level))


# nginx's "client closed request": the caller hung up before it was answered.
CLIENT_CLOSED_REQUEST = 499


class HttpMetrics:
    """Counts and times requests by route template, as pure ASGI middleware.

    Not `@app.middleware("http")`: that wraps every request in a task group and memory
    streams, which cost a sixth of a service's CPU on its busiest route. A request that fails
    without an answer is counted as a 500; one whose caller hung up before it was answered
    (an officer's phone losing its network mid-upload) as a 499, not an error of the service.
    """

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self._app = app
        self._service = service
        # The labelled children of each (route, method, status), looked up once; routes and
        # statuses are few, and unmatched paths share one template.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None  # until the answer starts

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, noting_status)
        except ClientDisconnect:
            # The body ended before it was read: the caller hung up, or a refusal (a 413) that
            # was already sent stopped reading it. Nobody is left to tell.
            if status is None:
                status = CLIENT_CLOSED_REQUEST
            logger.debug("%s %s: the body ended before it was read", scope["method"], scope["path"])
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            answered = 500 if status is None else status  # failed without an answer: a 500
            series = (template, scope["method"], answered)
            counted = self._series.get(series)
            if counted is None:
                counted = self._series[series] = (
                    HTTP_REQUESTS.labels(self._service, template, scope["method"], str(answered)),
                    HTTP_LATENCY.labels(self._service, template),
                )
            counted[0].inc()
            counted[1].observe(time.perf_counter() - started)


def instrument(app: FastAPI, *, service: str) -> None:
    """Count and time every request by route template, and serve /metrics."""
    app.add_middleware(HttpMetrics, service=service)

    @app.get("/metrics", include_in_schema=False)
    async def metrics_route() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
