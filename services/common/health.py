"""Liveness and readiness: /healthz says the process lives, /readyz that its dependencies answer."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.common import metrics

logger = logging.getLogger(__name__)

Check = Callable[[], Awaitable[object]]
CHECK_TIMEOUT_S = 3.0


async def run_checks(checks: Mapping[str, Check]) -> dict[str, str]:
    """Run every check with a timeout; a check passes when it returns without raising."""

    async def one(name: str, check: Check) -> tuple[str, str]:
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
        except Exception as error:  # noqa: BLE001 - any failure means not ready
            logger.warning("readiness check %s failed: %s", name, error)
            metrics.READINESS.labels(name).set(0)
            return name, f"failing: {type(error).__name__}: {error}"[:300]
        metrics.READINESS.labels(name).set(1)
        return name, "ok"

    results = await asyncio.gather(*(one(name, check) for name, check in checks.items()))
    return dict(results)


def health_router(checks_of: Callable[[Request], Mapping[str, Check]]) -> APIRouter:
    """The two probe routes; `checks_of` finds the running app's named readiness checks."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        """Kafka, Redis and the database answer and the workers progress; 503 names the failing."""
        results = await run_checks(checks_of(request))
        ready = all(value == "ok" for value in results.values())
        body = {"status": "ready" if ready else "not ready", "checks": results}
        return JSONResponse(body, status_code=200 if ready else 503)

    return router
