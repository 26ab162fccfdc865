"""The callback worker: takes due deliveries from the outbox and POSTs them, signed.

It runs beside the API and the lifecycle consumer and shares nothing with them but the
database, so a slow or dead callback only ever occupies one of the worker's slots for at most
the callback timeout; the consumer keeps consuming and intake keeps taking reports.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import runtime
from services.intake import metrics
from services.intake.adapters.tables import CallbackAttemptRow, CallbackDeliveryRow
from services.intake.callbacks import domain, repository
from services.intake.callbacks.handlers import callback_secret
from services.intake.integrators import signatures

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerSettings:
    timeout_s: float
    max_attempts: int
    backoff_base_s: float
    backoff_max_s: float
    poll_interval_s: float
    concurrency: int
    signing_key: str


class CallbackWorker:
    """Keeps up to `concurrency` deliveries in flight; each is leased while it is tried."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient,
        settings: WorkerSettings,
    ) -> None:
        self._sessions = sessions
        self._http = http
        self._settings = settings
        self._in_flight: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; attempts in flight are finished or their lease runs out."""
        while not stop.is_set():
            free = self._settings.concurrency - len(self._in_flight)
            claimed = await self._claim(free) if free > 0 else []
            for delivery in claimed:
                task = asyncio.create_task(self._deliver(delivery))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
            if len(claimed) < free or free <= 0:
                await runtime.pause(stop, self._settings.poll_interval_s)
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=self._settings.timeout_s)

    async def _claim(self, limit: int) -> list[CallbackDeliveryRow]:
        now = datetime.now(UTC)
        lease = timedelta(seconds=self._settings.timeout_s + 30)
        try:
            async with self._sessions() as session, session.begin():
                return await repository.claim_due(
                    session=session, now=now, lease_until=now + lease, limit=limit
                )
        except Exception:
            logger.exception("could not read the callback outbox; trying again")
            return []

    async def _deliver(self, delivery: CallbackDeliveryRow) -> None:
        attempt = delivery.attempts + 1
        body = domain.body_of(delivery.payload)
        timestamp = str(int(time.time()))
        secret = callback_secret(delivery.subscription_id, signing_key=self._settings.signing_key)
        headers = {
            "content-type": "application/json",
            signatures.TIMESTAMP_HEADER: timestamp,
            signatures.SIGNATURE_HEADER: signatures.sign(
                signatures.callback_message(timestamp=timestamp, body=body), secret=secret
            ),
            "X-Gridloop-Delivery": str(delivery.delivery_id),
            "X-Gridloop-Attempt": str(attempt),
        }
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            response = await self._http.post(
                delivery.url, content=body, headers=headers, timeout=self._settings.timeout_s
            )
            status_code = response.status_code
            if not domain.is_delivered(status_code):
                error = f"answered {status_code}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:500]
        await self._record(delivery, attempt, status_code, error, started)

    async def _record(
        self,
        delivery: CallbackDeliveryRow,
        attempt: int,
        status_code: int | None,
        error: str | None,
        started: float,
    ) -> None:
        now = datetime.now(UTC)
        delivery.attempts = attempt
        delivery.state = domain.outcome(
            attempts=attempt, status_code=status_code, max_attempts=self._settings.max_attempts
        )
        delivery.last_status_code = status_code
        delivery.last_error = error
        if delivery.state == "delivered":
            delivery.delivered_at = now
        else:
            delay = domain.retry_delay_s(
                attempt,
                base_s=self._settings.backoff_base_s,
                max_s=self._settings.backoff_max_s,
            )
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        log = CallbackAttemptRow(
            delivery_id=delivery.delivery_id,
            attempt=attempt,
            attempted_at=now,
            status_code=status_code,
            error=error,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        try:
            async with self._sessions() as session, session.begin():
                await repository.record_attempt(session=session, delivery=delivery, attempt=log)
        except Exception:
            # The lease runs out and the delivery is tried again: at least once, never lost.
            logger.exception("could not record callback attempt %s", delivery.delivery_id)
            return
        metrics.CALLBACK_ATTEMPTS.labels(delivery.state).inc()
        metrics.CALLBACK_SECONDS.observe(time.perf_counter() - started)
        logger.info(
            "callback %s attempt %d: %s",
            delivery.state,
            attempt,
            status_code if error is None else error,
            extra={"incident_id": delivery.incident_id},
        )
