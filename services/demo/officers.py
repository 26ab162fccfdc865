"""Simulated officers: they accept their assigned cases and resolve them a little later."""

import asyncio
import logging
import random

import httpx

logger = logging.getLogger(__name__)
RESULTS = (
    "已上门调解，双方达成一致 mediated at the door, both sides agreed",
    "已清理完毕 cleared away",
    "已代办完成 paperwork done on the resident's behalf",
    "已联系相关人员整改 the people concerned have put it right",
)


async def work(dispatch_url: str, *, stop: asyncio.Event, seed: int = 60) -> None:
    """Poll dispatch for cases to accept and to resolve until `stop` is set."""
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=dispatch_url, timeout=10) as client:
        while not stop.is_set():
            try:
                await _round(client, rng)
            except httpx.HTTPError as error:
                logger.warning("officers could not reach dispatch: %s", error)
            await asyncio.sleep(1.0)


async def _round(client: httpx.AsyncClient, rng: random.Random) -> None:
    assigned = (await client.get("/v1/cases", params={"status": "assigned"})).json()
    for case in assigned:
        if case["assignee_id"] and rng.random() < 0.5:
            await client.post(
                f"/v1/cases/{case['incident_id']}/accept", json={"member_id": case["assignee_id"]}
            )
    accepted = (await client.get("/v1/cases", params={"status": "accepted"})).json()
    for case in accepted:
        if rng.random() < 0.3:
            await client.post(
                f"/v1/cases/{case['incident_id']}/resolve",
                json={"member_id": case["assignee_id"], "result": rng.choice(RESULTS)},
            )
