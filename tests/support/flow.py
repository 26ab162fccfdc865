"""Driving incidents through the running services and waiting for their effects."""

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.demo.processes import ServiceProcess
from services.dispatch import demo_community
from tests.support import tokens

COMMUNITY = demo_community.generate()
LINKED_MEMBER = {h.id: h.linked_member_id for h in COMMUNITY.households}
DEMO_CATEGORIES = ("neighbour_dispute", "clutter", "illegal_construction", "paperwork_service")


def distinct_households(count: int, *, seed: int) -> list[str]:
    """`count` different households, so no linked member gets more than ten of them."""
    return random.Random(seed).sample(sorted(LINKED_MEMBER), count)


async def report(
    client: httpx.AsyncClient,
    intake_url: str,
    household_id: str,
    n: int,
    category: str | None = None,
    *,
    api_key: str | None,
) -> uuid.UUID:
    """Post one household incident and return the id intake gave it (202 expected)."""
    body = {
        "channel": "officer_app",
        "category": category or DEMO_CATEGORIES[n % len(DEMO_CATEGORIES)],
        "description": f"test incident {n} at {household_id}",
        "household_id": household_id,
    }
    headers = {"X-API-Key": api_key} if api_key else {}
    response = await client.post(f"{intake_url}/v1/incidents", json=body, headers=headers)
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["incident_id"])


async def report_all(
    intake_url: str,
    households: list[str],
    *,
    api_key: str | None = None,
    concurrency: int = 20,
    start: int = 0,
    category: str | None = None,
) -> dict[uuid.UUID, str]:
    """Post one incident per household, `concurrency` at a time; incident id → household."""
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(n: int, household_id: str) -> tuple[uuid.UUID, str]:
            async with limit:
                incident = await report(
                    client, intake_url, household_id, start + n, category, api_key=api_key
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


async def timeline(ledger: ServiceProcess, incident_id: uuid.UUID) -> list[dict[str, object]]:
    """The ledger's entries for one incident, read as the committee (empty while it has none)."""
    headers = tokens.committee(ledger.env)
    async with httpx.AsyncClient(base_url=ledger.url, timeout=10, headers=headers) as client:
        response = await client.get(f"/v1/incidents/{incident_id}")
    assert response.status_code in (200, 404), response.text
    return response.json()["timeline"] if response.status_code == 200 else []


def kinds(entries: list[dict[str, object]]) -> list[str]:
    """Event types of timeline entries without the `gridloop.incident.` prefix and version."""
    return [
        str(entry["type"]).removeprefix("gridloop.incident.").removesuffix(".v1")
        for entry in entries
    ]


_tokens: dict[tuple[str, str], dict[str, str]] = {}


async def signed_in(dispatch_url: str, username: str) -> dict[str, str]:
    """Authorization headers for a demo account, signing in once per service and account."""
    if (dispatch_url, username) not in _tokens:
        async with httpx.AsyncClient(base_url=dispatch_url, timeout=10) as client:
            response = await client.post(
                "/v1/auth/token", data={"username": username, "password": f"demo-{username}"}
            )
        assert response.status_code == 200, response.text
        _tokens[dispatch_url, username] = {
            "Authorization": f"Bearer {response.json()['access_token']}"
        }
    return _tokens[dispatch_url, username]
