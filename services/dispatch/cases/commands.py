"""What officers, grid leaders and the committee do to a case. Each command is one unit of work."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from services.common import events
from services.dispatch import metrics
from services.dispatch.adapters import roster_repo
from services.dispatch.adapters.tables import CaseRow
from services.dispatch.cases.assignment import hand_over, situation_of
from services.dispatch.cases.work import CaseWork, Dependencies, existing_case
from services.dispatch.domain import deadlines, policy
from services.dispatch.domain.lifecycle import Action, Actor, IllegalTransition

ALL_TIMERS = [*deadlines.ACKNOWLEDGE_KINDS, *deadlines.RESOLVE_KINDS]


async def accept(
    *, incident_id: uuid.UUID, actor: Actor, now: datetime, deps: Dependencies
) -> CaseRow:
    """The assignee takes the case on; the acknowledgement clock stops."""
    async with existing_case(deps, incident_id, now=now) as work:
        work.check(Action.ACCEPT, actor)
        await work.cancel_timers(deadlines.ACKNOWLEDGE_KINDS)
        work.case.accepted_at = now
        work.emit(
            events.IncidentAccepted(
                incident_id=incident_id, occurred_at=now, member_id=actor.member_id
            )
        )
    return work.case


async def decline(
    *, incident_id: uuid.UUID, actor: Actor, reason: str, now: datetime, deps: Dependencies
) -> CaseRow:
    """The assignee declines with a reason; the case goes to the next candidate."""
    async with existing_case(deps, incident_id, now=now) as work:
        work.check(Action.DECLINE, actor)
        work.case.declined_by = sorted({*work.case.declined_by, actor.member_id})
        work.emit(
            events.IncidentDeclined(
                incident_id=incident_id, occurred_at=now, member_id=actor.member_id, reason=reason
            )
        )
        situation, team, officers = await situation_of(work)
        with metrics.DECISION_SECONDS.labels("assign").time():
            decision = policy.choose_assignee(situation, team, officers)
        await hand_over(work, decision)
    return work.case


async def start(
    *, incident_id: uuid.UUID, actor: Actor, now: datetime, deps: Dependencies
) -> CaseRow:
    """Work on the case has begun."""
    async with existing_case(deps, incident_id, now=now) as work:
        work.check(Action.START, actor)
        work.case.started_at = now
        work.emit(
            events.IncidentStarted(
                incident_id=incident_id, occurred_at=now, member_id=actor.member_id
            )
        )
    return work.case


async def add_note(
    *, incident_id: uuid.UUID, actor: Actor, note: str, now: datetime, deps: Dependencies
) -> CaseRow:
    """A handler records progress."""
    async with existing_case(deps, incident_id, now=now) as work:
        work.check(Action.NOTE, actor)
        work.emit(
            events.IncidentProgressNoted(
                incident_id=incident_id, occurred_at=now, member_id=actor.member_id, note=note
            )
        )
    return work.case


async def resolve(
    *,
    incident_id: uuid.UUID,
    actor: Actor,
    result: str,
    photos: Sequence[events.PhotoRef],
    now: datetime,
    deps: Dependencies,
) -> CaseRow:
    """The lead reports the result; the case waits for verification."""
    async with existing_case(deps, incident_id, now=now) as work:
        work.check(Action.RESOLVE, actor)
        await work.cancel_timers(ALL_TIMERS)
        work.move_load(from_member=work.case.assignee_id, to_member=None)
        work.case.resolved_at, work.case.result = now, result
        work.emit(
            events.IncidentResolved(
                incident_id=incident_id,
                occurred_at=now,
                member_id=actor.member_id,
                result=result,
                photos=tuple(photos),
            )
        )
    return work.case


async def ask_help(
    *,
    incident_id: uuid.UUID,
    actor: Actor,
    role: str | None,
    member_id: str | None,
    now: datetime,
    deps: Dependencies,
) -> CaseRow:
    """The lead asks for a co-handler: a named member, or the least loaded one of a role."""
    async with existing_case(deps, incident_id, now=now) as work:
        work.check(Action.ASK_HELP, actor)
        helper = await _helper(work, role=role, member_id=member_id)
        work.case.co_handler_ids = sorted({*work.case.co_handler_ids, helper.id})
        work.emit(
            events.IncidentCoHandlerAdded(
                incident_id=incident_id,
                occurred_at=now,
                member_id=helper.id,
                role=helper.role,
                requested_by=actor.member_id,
            )
        )
        work.notify(helper.id)
    return work.case


async def _helper(work: CaseWork, *, role: str | None, member_id: str | None) -> policy.Officer:
    exclude = {work.case.assignee_id or "", *work.case.co_handler_ids}
    if member_id:
        person = await roster_repo.member(session=work.session, member_id=member_id)
        if person is None:
            raise IllegalTransition(f"no member {member_id} on the roster")
        candidates = await work.view.officers([person])
        roles = [person.role]
    elif role:
        people = await roster_repo.members_with_roles(session=work.session, roles=[role])
        candidates = await work.view.officers(people)
        roles = [role]
    else:
        raise IllegalTransition("say which role or member should help")
    helpers = policy.choose_helpers(roles, candidates, exclude=exclude)
    if not helpers:
        raise IllegalTransition(f"no available {member_id or role} to help")
    return helpers[0]


async def reassign(
    *,
    incident_id: uuid.UUID,
    actor: Actor,
    member_id: str,
    reason: str,
    now: datetime,
    deps: Dependencies,
) -> CaseRow:
    """A grid leader (within the grid) or the committee gives the case to someone else."""
    async with existing_case(deps, incident_id, now=now) as work:
        work.check(Action.REASSIGN, actor)
        person = await roster_repo.member(session=work.session, member_id=member_id)
        if person is None:
            raise IllegalTransition(f"no member {member_id} on the roster")
        if actor.role == "grid_leader" and person.grid_id != work.case.grid_id:
            raise IllegalTransition("a grid leader reassigns only within the grid")
        decision = policy.Decision(
            member_id, _rung_of(person.role), f"reassigned by {actor.member_id}: {reason}"
        )
        await hand_over(work, decision, assigned_by=actor.member_id)
    return work.case


def _rung_of(role: str) -> events.Rung:
    return {"grid_leader": events.Rung.GRID_LEADER, "committee": events.Rung.COMMITTEE}.get(
        role, events.Rung.GRID_MEMBER
    )
