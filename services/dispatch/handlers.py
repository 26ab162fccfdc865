"""Dispatch use cases: assign a reported incident, and move a case through its lifecycle."""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import envelope, events
from services.common.kafka import Publisher
from services.dispatch.adapters import case_repo, roster_repo
from services.dispatch.adapters.live_state import LiveState
from services.dispatch.adapters.tables import CaseRow, MemberRow
from services.dispatch.domain import lifecycle, policy

logger = logging.getLogger(__name__)
SOURCE = "gridloop/dispatch"


class CaseNotFound(Exception):
    """No case with that incident id."""


@dataclass(frozen=True)
class Dependencies:
    sessions: async_sessionmaker[AsyncSession]
    live: LiveState
    publisher: Publisher
    lifecycle_topic: str


async def assign_reported(reports: Sequence[envelope.CloudEvent], *, deps: Dependencies) -> None:
    """Assign every reported incident of a batch, then publish the decisions."""
    decisions = []
    for report in reports:
        if isinstance(report.data, events.IncidentReported):
            case = await _assign_once(report.data, deps=deps)
            decisions.append(assigned_event(case))
    if decisions:
        await deps.publisher.publish_many(deps.lifecycle_topic, decisions)


async def _assign_once(report: events.IncidentReported, *, deps: Dependencies) -> CaseRow:
    """Decide and store the assignment; a redelivered report finds the stored decision."""
    async with deps.sessions() as session:
        existing = await case_repo.get(session=session, incident_id=report.incident_id)
        if existing is not None:
            return existing
        household = (
            await roster_repo.household(session=session, household_id=report.household_id)
            if report.household_id
            else None
        )
        grid_id = household.grid_id if household else await _locate(report, session=session)
        found = await roster_repo.grid_team(session=session, grid_id=grid_id) if grid_id else None
        team, people = found if found else (None, [])
        officers = await _officers(people, live=deps.live)
        situation = policy.Situation(
            grid_id=team.grid_id if team else None,
            linked_member_id=household.linked_member_id if household else None,
        )
        decision = policy.choose_assignee(situation, team, officers)
        case = _new_case(report, situation, decision)
        inserted = await case_repo.insert_if_new(session=session, case=case)
        await session.commit()
        if not inserted:
            stored = await case_repo.get(session=session, incident_id=report.incident_id)
            assert stored is not None
            return stored
    if case.assignee_id:
        await deps.live.add_load(case.assignee_id, 1)
    logger.info(
        "assigned to %s (%s): %s",
        case.assignee_id,
        case.rung,
        case.reason,
        extra={"incident_id": case.incident_id},
    )
    return case


async def _locate(report: events.IncidentReported, *, session: AsyncSession) -> str | None:
    """Grid from the given grid, the camera, or the point; None when nothing places it."""
    if report.grid_id:
        return report.grid_id
    if report.camera_id:
        camera = await roster_repo.camera(session=session, camera_id=report.camera_id)
        if camera is not None:
            return camera.grid_id
    if report.location:
        grid = await roster_repo.grid_at(
            session=session, lat=report.location.lat, lon=report.location.lon
        )
        return grid.id if grid else None
    return None


async def _officers(people: list[MemberRow], *, live: LiveState) -> dict[str, policy.Officer]:
    ids = [person.id for person in people]
    loads = await live.loads(ids)
    off_duty = await live.off_duty(ids)
    return {
        person.id: policy.Officer(
            id=person.id,
            role=person.role,
            grid_id=person.grid_id,
            on_duty=person.id not in off_duty,
            open_cases=loads.get(person.id, 0),
            case_capacity=person.case_capacity,
            skills=frozenset(person.skills),
        )
        for person in people
    }


def _new_case(
    report: events.IncidentReported, situation: policy.Situation, decision: policy.Decision
) -> CaseRow:
    transferred = decision.rung == events.Rung.TOWN
    return CaseRow(
        incident_id=report.incident_id,
        category=report.category,
        channel=report.channel.value,
        household_id=report.household_id,
        grid_id=situation.grid_id,
        status=(events.CaseStatus.TRANSFERRED if transferred else events.CaseStatus.ASSIGNED).value,
        assignee_id=decision.assignee_id,
        rung=decision.rung.value,
        reason=decision.reason,
        reported_at=report.occurred_at,
        assigned_at=report.occurred_at,
    )


def assigned_event(case: CaseRow) -> envelope.CloudEvent:
    """The assignment as an event; its id depends only on the case, so re-sending is harmless."""
    data = events.IncidentAssigned(
        incident_id=case.incident_id,
        occurred_at=case.assigned_at,
        grid_id=case.grid_id,
        assignee_id=case.assignee_id,
        rung=events.Rung(case.rung),
        reason=case.reason,
        attempt=case.attempt,
    )
    event_id = events.event_id_for(case.incident_id, f"assigned/{case.attempt}")
    return envelope.new_event(event_id=event_id, source=SOURCE, data=data)


async def accept_case(
    *, incident_id: uuid.UUID, member_id: str, now: datetime, deps: Dependencies
) -> CaseRow:
    """The assignee takes the case on."""
    async with deps.sessions() as session, session.begin():
        case = await _locked(incident_id, session=session)
        status = lifecycle.next_status(
            action="accept",
            current=events.CaseStatus(case.status),
            actor_id=member_id,
            assignee_id=case.assignee_id,
        )
        data = events.IncidentAccepted(
            incident_id=incident_id, occurred_at=now, member_id=member_id
        )
        await _publish(case, step="accepted", data=data, deps=deps)
        case.status, case.accepted_at = status.value, now
        session.add(case)
    return case


async def resolve_case(
    *, incident_id: uuid.UUID, member_id: str, result: str, now: datetime, deps: Dependencies
) -> CaseRow:
    """The assignee reports the case handled, with the result."""
    async with deps.sessions() as session, session.begin():
        case = await _locked(incident_id, session=session)
        status = lifecycle.next_status(
            action="resolve",
            current=events.CaseStatus(case.status),
            actor_id=member_id,
            assignee_id=case.assignee_id,
        )
        data = events.IncidentResolved(
            incident_id=incident_id, occurred_at=now, member_id=member_id, result=result
        )
        await _publish(case, step="resolved", data=data, deps=deps)
        case.status, case.resolved_at, case.result = status.value, now, result
        session.add(case)
    await deps.live.add_load(member_id, -1)
    return case


async def _locked(incident_id: uuid.UUID, *, session: AsyncSession) -> CaseRow:
    case = await case_repo.lock(session=session, incident_id=incident_id)
    if case is None:
        raise CaseNotFound(str(incident_id))
    return case


async def _publish(
    case: CaseRow, *, step: str, data: events.EventPayload, deps: Dependencies
) -> None:
    """Publish while the case row is locked; a retried command re-sends the same event id."""
    event_id = events.event_id_for(case.incident_id, f"{step}/{case.attempt}")
    event = envelope.new_event(event_id=event_id, source=SOURCE, data=data)
    await deps.publisher.publish(deps.lifecycle_topic, event)


async def rebuild_live_state(*, deps: Dependencies) -> None:
    """Restore Redis load counters from the open cases in PostgreSQL."""
    async with deps.sessions() as session:
        counts = await case_repo.open_case_counts(session=session)
    await deps.live.rebuild(counts)
    logger.info("rebuilt load counters for %d members", len(counts))
