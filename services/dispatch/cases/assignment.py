"""Putting a case in someone's hands: the first assignment, reassignments and transfers."""

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import events
from services.dispatch import metrics
from services.dispatch.adapters.tables import CaseRow, MemberRow
from services.dispatch.cases.work import CaseWork
from services.dispatch.domain import deadlines, policy
from services.dispatch.roster import queries as roster_queries
from services.dispatch.roster.locate import Point as locate_point

logger = logging.getLogger(__name__)


async def situation_of(
    case: CaseWork,
) -> tuple[policy.Situation, policy.GridTeam | None, dict[str, policy.Officer]]:
    """The policy's view of a stored case: its grid team and everyone the ladder may reach."""
    view = case.view
    household = await view.household(case.case.household_id) if case.case.household_id else None
    team: policy.GridTeam | None = None
    people: list[MemberRow] = []
    if case.case.grid_id:
        found = await view.grid_team(case.case.grid_id)
        if found:
            team, people = found[0], list(found[1])
    people += await view.members_with_roles(case.rules.co_handler_roles)
    officers = await view.officers(people)
    situation = policy.Situation(
        grid_id=team.grid_id if team else None,
        linked_member_id=household.linked_member_id if household else None,
        required_skills=case.rules.skills,
        declined_by=frozenset(case.case.declined_by),
        missed_by=frozenset(case.case.missed_by),
    )
    return situation, team, officers


async def climb(work: CaseWork, *, reason: str) -> policy.Decision:
    """Escalate one rung at a time from the case's rung; one `incident.escalated` per rung."""
    case = work.case
    situation, team, officers = await situation_of(work)
    with metrics.DECISION_SECONDS.labels("escalate").time():
        climbs, decision = policy.escalate(
            situation, team, officers, current_rung=events.Rung(case.rung), reason=reason
        )
    for step in climbs:
        work.emit(
            events.IncidentEscalated(
                incident_id=case.incident_id,
                occurred_at=work.now,
                from_assignee_id=case.assignee_id,
                from_rung=step.from_rung,
                to_rung=step.to_rung,
                reason=step.reason,
            )
        )
    return decision


async def hand_over(
    work: CaseWork,
    decision: policy.Decision,
    *,
    assigned_by: str | None = None,
    co_handlers: Sequence[str] = (),
    restart_resolution: bool = False,
) -> None:
    """Give the case to the decision's assignee (or transfer it out), with fresh deadlines."""
    case, now = work.case, work.now
    was_open = case.status in {"assigned", "accepted", "in_progress"}
    work.move_load(
        from_member=case.assignee_id if was_open else None, to_member=decision.assignee_id
    )
    await work.cancel_timers(deadlines.ACKNOWLEDGE_KINDS)
    case.attempt += 1
    case.assignee_id, case.rung, case.reason = (
        decision.assignee_id,
        decision.rung.value,
        decision.reason,
    )
    case.assigned_at = now
    case.accepted_at = case.started_at = None
    if co_handlers:
        case.co_handler_ids = sorted({*case.co_handler_ids, *co_handlers})
    if decision.assignee_id is None:
        await _leave_community(work, decision)
        return
    work.start_acknowledge_clock()
    if case.resolve_due_at is None or restart_resolution:
        await work.cancel_timers(deadlines.RESOLVE_KINDS)
        work.start_resolve_clock(
            deadlines.resolve_due(work.rules, work.deps.catalogue.calendar, start=now)
        )
    work.emit(_assigned(case, assigned_by=assigned_by, now=now))


async def _leave_community(work: CaseWork, decision: policy.Decision) -> None:
    """Nobody in the community can take it: transferred out, or queued for the committee."""
    case = work.case
    await work.cancel_timers([*deadlines.ACKNOWLEDGE_KINDS, *deadlines.RESOLVE_KINDS])
    case.acknowledge_due_at = None
    if decision.rung == events.Rung.TOWN:
        case.resolve_due_at = None
        case.closed_at = work.now
    work.emit(_assigned(case, assigned_by=None, now=work.now))


def _assigned(case: CaseRow, *, assigned_by: str | None, now: datetime) -> events.IncidentAssigned:
    return events.IncidentAssigned(
        incident_id=case.incident_id,
        occurred_at=now,
        grid_id=case.grid_id,
        assignee_id=case.assignee_id,
        rung=events.Rung(case.rung),
        reason=case.reason,
        attempt=case.attempt,
        co_handler_ids=tuple(case.co_handler_ids),
        assigned_by=assigned_by,
        acknowledge_due_at=case.acknowledge_due_at,
        resolve_due_at=case.resolve_due_at,
    )


async def locate(report: events.IncidentReported, *, session: AsyncSession) -> str | None:
    """The grid of a report: household, given grid, boundary of the point, camera; else None."""
    point = locate_point(report.location.lat, report.location.lon) if report.location else None
    found = await roster_queries.locate_incident(
        session=session,
        household_id=report.household_id,
        grid_id=report.grid_id,
        camera_id=report.camera_id,
        point=point,
    )
    logger.debug(
        "located in %s by %s", found.grid_id, found.how, extra={"incident_id": report.incident_id}
    )
    return found.grid_id
