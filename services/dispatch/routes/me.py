"""The officer's own routes: tasks, duty, heartbeats and a live stream of task changes."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from services.common import auth
from services.dispatch.adapters import case_repo
from services.dispatch.adapters.tables import CaseRow
from services.dispatch.cases.work import Dependencies
from services.dispatch.identity import CurrentActor
from services.dispatch.schemas import CasePublic, Duty

router = APIRouter(prefix="/v1/me", tags=["me"], responses=auth.GUARDED)
KEEPALIVE_S = 15.0


def _deps(request: Request) -> Dependencies:
    return request.app.state.dispatch.deps


Deps = Annotated[Dependencies, Depends(_deps)]


@router.get("/tasks", response_model=list[CasePublic])
async def my_tasks(actor: CurrentActor, deps: Deps, include_closed: bool = False) -> list[CaseRow]:
    """Cases I lead or co-handle; open ones unless `include_closed`."""
    async with deps.sessions() as session:
        return await case_repo.tasks_of(
            session=session, member_id=actor.member_id, include_closed=include_closed
        )


@router.post("/duty", status_code=204)
async def set_duty(body: Duty, actor: CurrentActor, deps: Deps) -> None:
    """Go on or off duty; off duty, no new case reaches me."""
    await deps.live.set_duty(actor.member_id, on_duty=body.on_duty, now=datetime.now(UTC))


@router.post("/heartbeat", status_code=204)
async def heartbeat(actor: CurrentActor, deps: Deps) -> None:
    """My client is alive; when heartbeats stop, I count as off duty."""
    await deps.live.heartbeat(actor.member_id, now=datetime.now(UTC))


@router.get("/stream", response_class=StreamingResponse)
async def stream(actor: CurrentActor, deps: Deps, request: Request) -> StreamingResponse:
    """Server-sent events: my open tasks first, then every new or changed task as it happens."""
    return StreamingResponse(
        _events(actor.member_id, deps=deps, request=request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(member_id: str, *, deps: Dependencies, request: Request) -> AsyncIterator[str]:
    changes: asyncio.Queue[str] = asyncio.Queue()
    subscribed = asyncio.Event()

    async def listen() -> None:
        stream = deps.live.task_changes(member_id)
        first = asyncio.ensure_future(anext(stream))
        subscribed.set()
        await changes.put(await first)
        async for change in stream:
            await changes.put(change)

    listener = asyncio.create_task(listen())
    try:
        await asyncio.wait_for(subscribed.wait(), 5)
        async with deps.sessions() as session:
            tasks = await case_repo.tasks_of(session=session, member_id=member_id)
        snapshot = [
            CasePublic.model_validate(t, from_attributes=True).model_dump(mode="json")
            for t in tasks
        ]
        yield f"event: tasks\ndata: {json.dumps(snapshot)}\n\n"
        while not await request.is_disconnected():
            try:
                change = await asyncio.wait_for(changes.get(), KEEPALIVE_S)
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            yield f"event: task\ndata: {change}\n\n"
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await listener
