"""Pausing and restarting a case's clocks: extensions (延期) and parking (挂账)."""

import uuid
from datetime import datetime, timedelta

from services.common import events
from services.dispatch.adapters.tables import CaseRow
from services.dispatch.cases.work import CaseWork, Dependencies, existing_case
from services.dispatch.domain import deadlines
from services.dispatch.domain.lifecycle import Action, Actor


async def request_extension(
    *,
    incident_id: uuid.UUID,
    actor: Actor,
    reason: str,
    extra: timedelta,
    now: datetime,
    deps: Dependencies,
) -> CaseRow:
    """The lead asks for more time; the resolution clock pauses until a supervisor decides."""
    async with existing_case(deps, incident_id, now=now) as work:
        work.check(Action.REQUEST_EXTENSION, actor)
        await _pause_resolution(work)
        case = work.case
        case.extension_pending, case.extension_reason = True, reason
        case.extension_seconds = extra.total_seconds()
        work.emit(
            events.IncidentExtensionRequested(
                incident_id=incident_id,
                occurred_at=now,
                member_id=actor.member_id,
                reason=reason,
                extra_seconds=extra.total_seconds(),
            )
        )
    return work.case


async def decide_extension(
    *, incident_id: uuid.UUID, actor: Actor, approve: bool, now: datetime, deps: Dependencies
) -> CaseRow:
    """A supervisor grants or refuses the extension; the clock restarts either way."""
    async with existing_case(deps, incident_id, now=now) as work:
        work.check(Action.DECIDE_EXTENSION, actor)
        case = work.case
        extra = timedelta(seconds=case.extension_seconds or 0) if approve else timedelta(0)
        due = await _resume_resolution(work, extra=extra)
        handler = case.assignee_id or ""
        if approve:
            work.emit(
                events.IncidentExtended(
                    incident_id=incident_id,
                    occurred_at=now,
                    member_id=handler,
                    approved_by=actor.member_id,
                    reason=case.extension_reason or "",
                    resolve_due_at=due,
                )
            )
        else:
            work.emit(
                events.IncidentExtensionRefused(
                    incident_id=incident_id,
                    occurred_at=now,
                    member_id=handler,
                    refused_by=actor.member_id,
                    resolve_due_at=due,
                )
            )
        case.extension_pending, case.extension_reason, case.extension_seconds = False, None, None
    return work.case


async def park(
    *, incident_id: uuid.UUID, actor: Actor, reason: str, now: datetime, deps: Dependencies
) -> CaseRow:
    """挂账: the committee parks an unsolvable case; its clocks stop."""
    async with existing_case(deps, incident_id, now=now) as work:
        work.check(Action.PARK, actor)
        await work.cancel_timers(deadlines.ACKNOWLEDGE_KINDS)
        if not work.case.extension_pending:
            await _pause_resolution(work)
        work.case.parked = True
        work.emit(
            events.IncidentParked(
                incident_id=incident_id, occurred_at=now, member_id=actor.member_id, reason=reason
            )
        )
    return work.case


async def unpark(
    *, incident_id: uuid.UUID, actor: Actor, now: datetime, deps: Dependencies
) -> CaseRow:
    """The committee takes a parked case up again; its clocks restart."""
    async with existing_case(deps, incident_id, now=now) as work:
        work.check(Action.UNPARK, actor)
        case = work.case
        case.parked = False
        if not case.extension_pending:
            await _resume_resolution(work, extra=timedelta(0))
        if case.status == "assigned" and case.assignee_id:
            case.attempt += 1
            work.start_acknowledge_clock()
        work.emit(
            events.IncidentUnparked(
                incident_id=incident_id, occurred_at=now, member_id=actor.member_id
            )
        )
    return work.case


async def _pause_resolution(work: CaseWork) -> None:
    case = work.case
    await work.cancel_timers(deadlines.RESOLVE_KINDS)
    if case.resolve_due_at is not None:
        left = deadlines.paused_left(
            work.rules, work.deps.catalogue.calendar, now=work.now, due=case.resolve_due_at
        )
        case.paused_left_seconds = left.total_seconds()


async def _resume_resolution(work: CaseWork, *, extra: timedelta) -> datetime | None:
    case = work.case
    if case.paused_left_seconds is None:
        return case.resolve_due_at
    left = timedelta(seconds=case.paused_left_seconds) + extra
    due = deadlines.resumed_due(work.rules, work.deps.catalogue.calendar, now=work.now, left=left)
    case.paused_left_seconds = None
    case.attempt += 1
    work.start_resolve_clock(due)
    return case.resolve_due_at
