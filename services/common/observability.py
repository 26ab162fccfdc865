"""Metrics and logs shared by the services: request metrics, /metrics, and JSON log lines.

Log lines about a case carry its `incident_id` (and the `event_id` being handled, if any)
without every call passing them: `log_context` puts them in a context variable that the
handler's filter copies onto each record written inside it.
"""

import contextvars
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.common import metrics

# The metrics now live in services.common.metrics; these names stay for existing imports.
HTTP_REQUESTS = metrics.HTTP_REQUESTS
HTTP_LATENCY = metrics.HTTP_LATENCY
EVENTS_PRODUCED = metrics.EVENTS_PRODUCED
EVENTS_CONSUMED = metrics.EVENTS_CONSUMED
DEAD_LETTERS = metrics.DEAD_LETTERS

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


class JsonFormatter(logging.Formatter):
    """One JSON object per line, carrying incident and event ids when the record has them."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in (*CONTEXT_FIELDS, "service"):
            if hasattr(record, field):
                line[field] = str(getattr(record, field))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str) -> None:
    """Send JSON lines to stderr at the configured level."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))


def instrument(app: FastAPI, *, service: str) -> None:
    """Count and time every request by route template, and serve /metrics."""

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        HTTP_REQUESTS.labels(service, template, request.method, str(response.status_code)).inc()
        HTTP_LATENCY.labels(service, template).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics", include_in_schema=False)
    async def metrics_route() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
