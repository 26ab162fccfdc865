"""Case routes: reading cases and every lifecycle command, thin translators onto the commands."""

import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from services.common import auth
from services.dispatch.adapters import case_repo
from services.dispatch.adapters.tables import CaseRow
from services.dispatch.cases import clocks, commands, supervision
from services.dispatch.cases.work import CaseNotFound, Dependencies
from services.dispatch.domain.lifecycle import Actor, IllegalTransition
from services.dispatch.identity import CurrentActor, may_see
from services.dispatch.schemas import (
    AskHelp,
    CasePublic,
    DecideExtension,
    Decline,
    Inspect,
    Note,
    Park,
    Reassign,
    RequestExtension,
    Resolve,
)
from services.dispatch.schemas import Cancel as CancelBody

router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=auth.GUARDED)
REFUSALS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such case"},
    409: {"description": "not allowed now"},
}


def _deps(request: Request) -> Dependencies:
    return request.app.state.dispatch.deps


Deps = Annotated[Dependencies, Depends(_deps)]


async def _visible(incident_id: uuid.UUID, actor: Actor, deps: Dependencies) -> CaseRow:
    """The case if the actor may see it; 404 otherwise, so a refusal reveals nothing."""
    async with deps.sessions() as session:
        case = await case_repo.get(session=session, incident_id=incident_id)
    if case is None or not may_see(actor, case):
        raise HTTPException(404, "no such case")
    return case


async def _run(command: Awaitable[CaseRow]) -> CaseRow:
    try:
        return await command
    except CaseNotFound as missing:
        raise HTTPException(404, "no such case") from missing
    except IllegalTransition as illegal:
        raise HTTPException(409, str(illegal)) from illegal


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("", response_model=list[CasePublic])
async def list_cases(
    deps: Deps,
    actor: CurrentActor,
    status: str | None = None,
    assignee_id: str | None = None,
    grid_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CaseRow]:
    """Cases I may see (mine; my grid's as grid leader; all as committee), filtered.

    Asking for another grid's cases (grid leader) or another member's (member) is 403."""
    if actor.role == "grid_leader":
        if grid_id not in (None, actor.grid_id):
            raise HTTPException(403, "you may only read the cases of your own grid")
        grid_id = actor.grid_id
    if actor.role == "member" and assignee_id not in (None, actor.member_id):
        raise HTTPException(403, "you may only read your own cases")
    async with deps.sessions() as session:
        if actor.role == "member":
            cases = await case_repo.tasks_of(
                session=session, member_id=actor.member_id, include_closed=True
            )
            return [
                c
                for c in cases
                if status in (None, c.status)
                and assignee_id in (None, c.assignee_id)
                and grid_id in (None, c.grid_id)
            ][:limit]
        return await case_repo.search(
            session=session, status=status, assignee_id=assignee_id, grid_id=grid_id, limit=limit
        )


@router.get("/{incident_id}", response_model=CasePublic, responses=REFUSALS)
async def get_case(incident_id: uuid.UUID, actor: CurrentActor, deps: Deps) -> CaseRow:
    """One case, if I may see it."""
    return await _visible(incident_id, actor, deps)


@router.post("/{incident_id}/accept", response_model=CasePublic, responses=REFUSALS)
async def accept(incident_id: uuid.UUID, actor: CurrentActor, deps: Deps) -> CaseRow:
    """The assignee accepts the case."""
    await _visible(incident_id, actor, deps)
    return await _run(commands.accept(incident_id=incident_id, actor=actor, now=_now(), deps=deps))


@router.post("/{incident_id}/decline", response_model=CasePublic, responses=REFUSALS)
async def decline(
    incident_id: uuid.UUID, body: Decline, actor: CurrentActor, deps: Deps
) -> CaseRow:
    """The assignee declines, with a reason; the next candidate gets it."""
    await _visible(incident_id, actor, deps)
    return await _run(
        commands.decline(
            incident_id=incident_id, actor=actor, reason=body.reason, now=_now(), deps=deps
        )
    )


@router.post("/{incident_id}/start", response_model=CasePublic, responses=REFUSALS)
async def start(incident_id: uuid.UUID, actor: CurrentActor, deps: Deps) -> CaseRow:
    """The assignee starts work."""
    await _visible(incident_id, actor, deps)
    return await _run(commands.start(incident_id=incident_id, actor=actor, now=_now(), deps=deps))


@router.post("/{incident_id}/notes", response_model=CasePublic, responses=REFUSALS)
async def add_note(incident_id: uuid.UUID, body: Note, actor: CurrentActor, deps: Deps) -> CaseRow:
    """A handler adds a progress note."""
    await _visible(incident_id, actor, deps)
    return await _run(
        commands.add_note(
            incident_id=incident_id, actor=actor, note=body.note, now=_now(), deps=deps
        )
    )


@router.post("/{incident_id}/resolve", response_model=CasePublic, responses=REFUSALS)
async def resolve(
    incident_id: uuid.UUID, body: Resolve, actor: CurrentActor, deps: Deps
) -> CaseRow:
    """The assignee reports the result, with photos (time and place)."""
    await _visible(incident_id, actor, deps)
    return await _run(
        commands.resolve(
            incident_id=incident_id,
            actor=actor,
            result=body.result,
            photos=body.photos,
            now=_now(),
            deps=deps,
        )
    )


@router.post("/{incident_id}/help", response_model=CasePublic, responses=REFUSALS)
async def ask_help(
    incident_id: uuid.UUID, body: AskHelp, actor: CurrentActor, deps: Deps
) -> CaseRow:
    """The assignee asks for a co-handler (a role or a named member)."""
    await _visible(incident_id, actor, deps)
    return await _run(
        commands.ask_help(
            incident_id=incident_id,
            actor=actor,
            role=body.role,
            member_id=body.member_id,
            now=_now(),
            deps=deps,
        )
    )


@router.post("/{incident_id}/reassign", response_model=CasePublic, responses=REFUSALS)
async def reassign(
    incident_id: uuid.UUID, body: Reassign, actor: CurrentActor, deps: Deps
) -> CaseRow:
    """A grid leader (in the grid) or the committee reassigns the case."""
    await _visible(incident_id, actor, deps)
    return await _run(
        commands.reassign(
            incident_id=incident_id,
            actor=actor,
            member_id=body.member_id,
            reason=body.reason,
            now=_now(),
            deps=deps,
        )
    )


@router.post("/{incident_id}/extension", response_model=CasePublic, responses=REFUSALS)
async def request_extension(
    incident_id: uuid.UUID, body: RequestExtension, actor: CurrentActor, deps: Deps
) -> CaseRow:
    """The assignee asks for more time; the resolution clock pauses."""
    await _visible(incident_id, actor, deps)
    return await _run(
        clocks.request_extension(
            incident_id=incident_id,
            actor=actor,
            reason=body.reason,
            extra=timedelta(hours=body.extra_hours),
            now=_now(),
            deps=deps,
        )
    )


@router.post("/{incident_id}/extension/decision", response_model=CasePublic, responses=REFUSALS)
async def decide_extension(
    incident_id: uuid.UUID, body: DecideExtension, actor: CurrentActor, deps: Deps
) -> CaseRow:
    """A supervisor grants or refuses the pending extension."""
    await _visible(incident_id, actor, deps)
    return await _run(
        clocks.decide_extension(
            incident_id=incident_id, actor=actor, approve=body.approve, now=_now(), deps=deps
        )
    )


@router.post("/{incident_id}/park", response_model=CasePublic, responses=REFUSALS)
async def park(incident_id: uuid.UUID, body: Park, actor: CurrentActor, deps: Deps) -> CaseRow:
    """挂账: the committee parks an unsolvable case."""
    await _visible(incident_id, actor, deps)
    return await _run(
        clocks.park(incident_id=incident_id, actor=actor, reason=body.reason, now=_now(), deps=deps)
    )


@router.post("/{incident_id}/unpark", response_model=CasePublic, responses=REFUSALS)
async def unpark(incident_id: uuid.UUID, actor: CurrentActor, deps: Deps) -> CaseRow:
    """The committee takes a parked case up again."""
    await _visible(incident_id, actor, deps)
    return await _run(clocks.unpark(incident_id=incident_id, actor=actor, now=_now(), deps=deps))


@router.post("/{incident_id}/inspect", response_model=CasePublic, responses=REFUSALS)
async def inspect(
    incident_id: uuid.UUID, body: Inspect, actor: CurrentActor, deps: Deps
) -> CaseRow:
    """A grid leader or the committee checks a resolved case: closes or reopens it."""
    await _visible(incident_id, actor, deps)
    return await _run(
        supervision.inspect(
            incident_id=incident_id,
            actor=actor,
            passed=body.passed,
            comment=body.comment,
            now=_now(),
            deps=deps,
        )
    )


@router.post("/{incident_id}/cancel", response_model=CasePublic, responses=REFUSALS)
async def cancel(
    incident_id: uuid.UUID, body: CancelBody, actor: CurrentActor, deps: Deps
) -> CaseRow:
    """A supervisor cancels an open case."""
    await _visible(incident_id, actor, deps)
    return await _run(
        supervision.cancel(
            incident_id=incident_id, actor=actor, reason=body.reason, now=_now(), deps=deps
        )
    )
