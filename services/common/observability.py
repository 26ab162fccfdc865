"""Metrics and logs shared by the services: Prometheus counters and JSON log lines."""

import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

HTTP_REQUESTS = Counter(
    "gridloop_http_requests_total", "HTTP requests", ["service", "route", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "gridloop_http_request_duration_seconds", "HTTP request latency", ["service", "route"]
)
EVENTS_PRODUCED = Counter("gridloop_events_produced_total", "Events produced", ["topic", "type"])
EVENTS_CONSUMED = Counter("gridloop_events_consumed_total", "Events consumed", ["topic", "type"])
DEAD_LETTERS = Counter("gridloop_dead_letters_total", "Records sent to dead letters", ["topic"])


class JsonFormatter(logging.Formatter):
    """One JSON object per line, carrying incident and event ids when the record has them."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ("incident_id", "event_id", "service"):
            if hasattr(record, field):
                line[field] = str(getattr(record, field))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str) -> None:
    """Send JSON lines to stderr at the configured level."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
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
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
