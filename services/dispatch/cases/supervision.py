"""Supervisors' checks: inspection of a result, and cancellation."""

import uuid
from datetime import datetime

from services.common import events
from services.dispatch.adapters.tables import CaseRow
from services.dispatch.cases import verification
from services.dispatch.cases.work import Dependencies, existing_case
from services.dispatch.domain import deadlines
from services.dispatch.domain.lifecycle import Action, Actor, IllegalTransition

ALL_TIMERS = [*deadlines.ACKNOWLEDGE_KINDS, *deadlines.RESOLVE_KINDS]


async def inspect(
    *,
    incident_id: uuid.UUID,
    actor: Actor,
    passed: bool,
    comment: str | None,
    now: datetime,
    deps: Dependencies,
) -> CaseRow:
    """A grid leader or the committee checks the result on the spot."""
    async with existing_case(deps, incident_id, now=now) as work:
        work.check(Action.INSPECT, actor)
        if work.rules.closing == "feedback":
            raise IllegalTransition("this category closes only on the reporter's feedback")
        await verification.conclude(
            work, verified_by=actor.member_id, method="inspection", passed=passed, comment=comment
        )
    return work.case


async def cancel(
    *, incident_id: uuid.UUID, actor: Actor, reason: str, now: datetime, deps: Dependencies
) -> CaseRow:
    """A supervisor cancels an open case (e.g. reported in error)."""
    async with existing_case(deps, incident_id, now=now) as work:
        work.check(Action.CANCEL, actor)
        await work.cancel_timers(ALL_TIMERS)
        work.move_load(from_member=work.case.assignee_id, to_member=None)
        work.case.closed_at = now
        work.emit(
            events.IncidentCancelled(
                incident_id=incident_id,
                occurred_at=now,
                cancelled_by=actor.member_id,
                reason=reason,
            )
        )
    return work.case
