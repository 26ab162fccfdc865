"""A stream of reports posted to intake the way a patient integrator posts them.

Each report carries its own `Idempotency-Key` and is retried (same key, same body) on 503,
409 and broken connections until intake answers 202, so every report ends up accepted once,
whatever was killed meanwhile. The incident ids of the 202 answers are what the invariants
are checked against.
"""

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from tests.support import flow

RETRYABLE = {409, 429, 500, 502, 503, 504}


@dataclass
class ReportStream:
    """`count` household reports, `concurrency` in flight, at most `per_second` started a second."""

    intake_url: Callable[[], str]
    count: int
    seed: int
    per_second: float = 25.0
    concurrency: int = 8
    give_up_after_s: float = 240.0
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    accepted: dict[uuid.UUID, str] = field(default_factory=dict)
    retries: int = 0
    refusals: list[str] = field(default_factory=list)

    async def post_all(self) -> None:
        """Post every report; returns once each has its 202 (or fails naming what went wrong)."""
        households = flow.distinct_households(self.count, seed=self.seed)
        limit = asyncio.Semaphore(self.concurrency)
        async with httpx.AsyncClient(timeout=15) as client:

            async def one(n: int, household_id: str) -> None:
                await asyncio.sleep(n / self.per_second)
                async with limit:
                    await self._post_until_accepted(client, n, household_id)

            await asyncio.gather(*(one(n, h) for n, h in enumerate(households)))
        assert not self.refusals, self.refusals[:5]
        assert len(self.accepted) == self.count, (len(self.accepted), self.count)

    async def reached(self, accepted: int) -> None:
        """Wait until this many reports were accepted (a fault is injected mid-stream)."""
        while len(self.accepted) < accepted:
            await asyncio.sleep(0.1)

    async def _post_until_accepted(
        self, client: httpx.AsyncClient, n: int, household_id: str
    ) -> None:
        body = {
            "channel": "officer_app",
            "category": flow.DEMO_CATEGORIES[n % len(flow.DEMO_CATEGORIES)],
            "description": f"fault stream {self.run} report {n}",
            "household_id": household_id,
        }
        headers = {"Idempotency-Key": f"{self.run}-{n}"}
        deadline = time.monotonic() + self.give_up_after_s
        while time.monotonic() < deadline:
            try:
                response = await client.post(
                    f"{self.intake_url()}/v1/incidents", json=body, headers=headers
                )
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code == 202:
                self.accepted[uuid.UUID(response.json()["incident_id"])] = household_id
                return
            if response is not None and response.status_code not in RETRYABLE:
                self.refusals.append(f"report {n}: {response.status_code} {response.text}")
                return
            self.retries += 1
            await asyncio.sleep(0.5)
        self.refusals.append(f"report {n}: no 202 within {self.give_up_after_s} s")
