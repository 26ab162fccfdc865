"""Simulated officers and grid leaders: they accept, decline, work, ask for help and check.

Some officers are slow, so acknowledgement deadlines pass and cases climb the ladder.
"""

import asyncio
import logging
import random
from typing import Any

import httpx

logger = logging.getLogger(__name__)
RESULTS = (
    "已上门调解，双方达成一致 mediated at the door, both sides agreed",
    "已清理完毕 cleared away",
    "已代办完成 paperwork done on the resident's behalf",
    "已联系相关人员整改 the people concerned have put it right",
)
DECLINES = ("在外培训 away at a training course", "家中有事 family matter today")
NOTES = ("已电话联系当事人 phoned the people involved", "已到现场查看 visited the spot")


class Badges:
    """Each simulated person signs in once with their demo account."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client
        self._headers: dict[str, dict[str, str]] = {}

    async def of(self, username: str) -> dict[str, str]:
        if username not in self._headers:
            response = await self._client.post(
                "/v1/auth/token", data={"username": username, "password": f"demo-{username}"}
            )
            response.raise_for_status()
            self._headers[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self._headers[username]


async def work(
    dispatch_url: str,
    *,
    stop: asyncio.Event,
    intake_url: str | None = None,
    api_key: str | None = None,
    seed: int = 60,
) -> None:
    """Poll dispatch and act like a community's officers (and reporters) until `stop` is set."""
    rng = random.Random(seed)
    leaders = {}
    async with httpx.AsyncClient(base_url=dispatch_url, timeout=10) as client:
        badges = Badges(client)
        client.headers.update(await badges.of("C01"))
        for grid in (await client.get("/v1/roster/grids")).json():
            leaders[grid["id"]] = grid["leader_id"]
        while not stop.is_set():
            try:
                await _round(client, rng, leaders, badges)
                if intake_url and api_key:
                    await _reporters_answer(client, rng, intake_url=intake_url, api_key=api_key)
            except httpx.HTTPError as error:
                logger.warning("officers could not reach dispatch: %s", error)
            await asyncio.sleep(1.0)


async def _cases(client: httpx.AsyncClient, status: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/cases", params={"status": status, "limit": 200})
    return list(response.json())


async def _round(
    client: httpx.AsyncClient, rng: random.Random, leaders: dict[str, str], badges: Badges
) -> None:
    async def _act(
        case: dict[str, Any], action: str, member: str, body: dict[str, Any] | None = None
    ) -> None:
        await client.post(
            f"/v1/cases/{case['incident_id']}/{action}", json=body, headers=await badges.of(member)
        )

    for case in await _cases(client, "assigned"):
        lead = case["assignee_id"]
        if not lead:
            continue
        roll = rng.random()
        if roll < 0.04:
            await _act(case, "decline", lead, {"reason": rng.choice(DECLINES)})
        elif roll < 0.30:
            await _act(case, "accept", lead)
    for case in await _cases(client, "accepted"):
        if rng.random() < 0.5:
            await _act(case, "start", case["assignee_id"])
    for case in await _cases(client, "in_progress"):
        lead, roll = case["assignee_id"], rng.random()
        if roll < 0.05 and not case["co_handler_ids"]:
            await _act(case, "help", lead, {"role": "police"})
        elif roll < 0.15:
            await _act(case, "notes", lead, {"note": rng.choice(NOTES)})
        elif roll < 0.35:
            await _act(case, "resolve", lead, {"result": rng.choice(RESULTS)})
    for case in await _cases(client, "resolved"):
        inspector = leaders.get(case["grid_id"] or "")
        if inspector and inspector != case["assignee_id"] and rng.random() < 0.3:
            passed = rng.random() < 0.85
            await _act(
                case,
                "inspect",
                inspector,
                {"passed": passed, "comment": None if passed else "居民仍有意见 still unhappy"},
            )


async def _reporters_answer(
    client: httpx.AsyncClient, rng: random.Random, *, intake_url: str, api_key: str
) -> None:
    """Some reporters rate their resolved case through intake: it closes or reopens it."""
    answering = [case for case in await _cases(client, "resolved") if rng.random() < 0.15]
    async with httpx.AsyncClient(base_url=intake_url, timeout=10) as intake:
        for case in answering:
            rating = rng.choices(
                ("satisfied", "basically_satisfied", "unsatisfied"), weights=(7, 2, 1)
            )[0]
            await intake.post(
                f"/v1/incidents/{case['incident_id']}/feedback",
                json={"rating": rating},
                headers={"X-API-Key": api_key},
            )
