"""Driving incidents through the running services and waiting for their effects."""

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.dispatch import demo_community

COMMUNITY = demo_community.generate()
LINKED_MEMBER = {h.id: h.linked_member_id for h in COMMUNITY.households}
DEMO_CATEGORIES = ("neighbour_dispute", "clutter", "illegal_construction", "paperwork_service")


def distinct_households(count: int, *, seed: int) -> list[str]:
    """`count` different households, so no linked member gets more than ten of them."""
    return random.Random(seed).sample(sorted(LINKED_MEMBER), count)


async def report(
    client: httpx.AsyncClient, intake_url: str, household_id: str, n: int, *, api_key: str
) -> uuid.UUID:
    """Post one household incident and return the id intake gave it (202 expected)."""
    body = {
        "channel": "officer_app",
        "category": DEMO_CATEGORIES[n % len(DEMO_CATEGORIES)],
        "description": f"test incident {n} at {household_id}",
        "household_id": household_id,
    }
    headers = {"X-API-Key": api_key}
    response = await client.post(f"{intake_url}/v1/incidents", json=body, headers=headers)
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["incident_id"])


async def report_all(
    intake_url: str,
    households: list[str],
    *,
    api_key: str,
    concurrency: int = 20,
    start: int = 0,
) -> dict[uuid.UUID, str]:
    """Post one incident per household, `concurrency` at a time; incident id → household."""
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(n: int, household_id: str) -> tuple[uuid.UUID, str]:
            async with limit:
                incident = await report(
                    client, intake_url, household_id, start + n, api_key=api_key
                )
                return incident, household_id

        pairs = await asyncio.gather(*(one(n, h) for n, h in enumerate(households)))
    return dict(pairs)


async def wait_for(condition: Callable[[], Awaitable[bool]], *, within_s: float, what: str) -> None:
    """Poll `condition` until it holds; fail after `within_s` seconds, naming what was awaited."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out after {within_s} s waiting for {what}")


async def ledger_rows(engine: AsyncEngine) -> list[tuple[uuid.UUID, str, int]]:
    """(incident, event type, entries) for every incident in the ledger."""
    query = text("select incident_id, type, count(*) from ledger_entry group by incident_id, type")
    async with engine.connect() as connection:
        return [tuple(row) for row in (await connection.execute(query)).all()]  # type: ignore[misc]


async def assigned_states(engine: AsyncEngine) -> dict[uuid.UUID, str | None]:
    """incident → assignee for every incident the ledger shows as assigned."""
    query = text(
        "select incident_id, assignee_id from ledger_incident_state where status = 'assigned'"
    )
    async with engine.connect() as connection:
        return dict((await connection.execute(query)).all())  # type: ignore[arg-type]
