"""What dispatch does with what intake publishes: new reports, feedback and merged reports."""

import itertools
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import database, envelope, events, observability
from services.common.kafka import Rejection
from services.dispatch import metrics
from services.dispatch.adapters import case_repo
from services.dispatch.adapters.tables import CaseRow, ProcessedEventRow
from services.dispatch.cases import verification
from services.dispatch.cases.assignment import hand_over, locate, situation_of
from services.dispatch.cases.roster_view import RosterView
from services.dispatch.cases.work import (
    CaseNotFound,
    CaseWork,
    Dependencies,
    existing_case,
    settle,
    store,
)
from services.dispatch.domain import lifecycle, policy

logger = logging.getLogger(__name__)


async def handle(batch: Sequence[envelope.CloudEvent], *, deps: Dependencies) -> list[Rejection]:
    """Act on a batch in order; events that can never be acted on are rejected with why.

    Consecutive new reports are opened together, in one transaction (`open_cases`).
    """
    rejected: list[Rejection] = []
    for reports, run in itertools.groupby(batch, key=_is_report):
        if reports:
            await open_cases(list(run), deps=deps, now=datetime.now(UTC))
            continue
        for event in run:
            with observability.log_context(incident_id=event.data.incident_id, event_id=event.id):
                try:
                    await _follow_up(event, deps=deps, now=datetime.now(UTC))
                except (CaseNotFound, lifecycle.IllegalTransition) as refusal:
                    logger.warning("rejected: %s", refusal)
                    rejected.append((event.id, f"{type(refusal).__name__}: {refusal}"))
    return rejected


def _is_report(event: envelope.CloudEvent) -> bool:
    return isinstance(event.data, events.IncidentReported)


async def _follow_up(event: envelope.CloudEvent, *, deps: Dependencies, now: datetime) -> None:
    if isinstance(event.data, events.IncidentFeedback):
        await apply_feedback(event, deps=deps, now=now)
    elif isinstance(event.data, events.IncidentMerged):
        await record_merge(event, deps=deps, now=now)


async def open_cases(
    reported: Sequence[envelope.CloudEvent], *, deps: Dependencies, now: datetime
) -> None:
    """Create, locate and assign the cases of new reports, all in one transaction.

    A redelivered report (its case exists) changes nothing. Should another instance create
    one of these cases meanwhile, the insert fails, the batch is retried, and that report is
    then known.
    """
    works: list[CaseWork] = []
    async with deps.sessions() as session:
        async with session.begin():
            new = await _unknown(session, reported)
            view = RosterView(session, deps.live, now)
            await view.prefetch(
                household_ids={
                    report.household_id for report in new.values() if report.household_id
                },
                camera_ids={report.camera_id for report in new.values() if report.camera_id},
                grid_ids={report.grid_id for report in new.values() if report.grid_id},
            )
            for event_id, report in new.items():
                with observability.log_context(incident_id=report.incident_id, event_id=event_id):
                    case = _new_case(report, now=now)
                    work = CaseWork(deps, session, case, now, shared_view=view, fresh=True)
                    await _assign(work, report)
                    works.append(work)
            await store(session, works)
        await settle(deps, works)
    assigned_at = datetime.now(UTC)
    for report in new.values():
        elapsed = (assigned_at - report.occurred_at).total_seconds()
        metrics.REPORT_TO_ASSIGNMENT_SECONDS.observe(max(0.0, elapsed))


async def _unknown(
    session: AsyncSession, reported: Sequence[envelope.CloudEvent]
) -> dict[str, events.IncidentReported]:
    """The reports (by event id) whose case does not exist yet, each incident once."""
    known = await case_repo.existing(
        session=session, incident_ids=[event.data.incident_id for event in reported]
    )
    new: dict[str, events.IncidentReported] = {}
    for event in reported:
        assert isinstance(event.data, events.IncidentReported)
        if event.data.incident_id not in known:
            known.add(event.data.incident_id)
            new[event.id] = event.data
    return new


def _new_case(report: events.IncidentReported, *, now: datetime) -> CaseRow:
    return database.new_row(
        CaseRow,
        incident_id=report.incident_id,
        category=report.category,
        channel=report.channel.value,
        description=report.description,
        address=report.address,
        lat=report.location.lat if report.location else None,
        lon=report.location.lon if report.location else None,
        reporter_phone_masked=report.reporter_phone_masked,
        household_id=report.household_id,
        status=events.CaseStatus.REPORTED.value,
        rung=events.Rung.LINKED_MEMBER.value,
        reason="",
        attempt=0,
        reported_at=report.occurred_at,
        assigned_at=now,
    )


async def _assign(work: CaseWork, report: events.IncidentReported) -> None:
    """Locate a new case and put it in the hands the policy chooses, with its helpers."""
    work.case.grid_id = await locate(report, session=work.session)
    situation, team, officers = await situation_of(work)
    with metrics.DECISION_SECONDS.labels("assign").time():
        decision = policy.choose_assignee(situation, team, officers)
    helpers = policy.choose_helpers(
        work.rules.co_handler_roles, officers, exclude=[decision.assignee_id or ""]
    )
    await hand_over(work, decision, co_handlers=[helper.id for helper in helpers])
    logger.debug(
        "assigned to %s (%s): %s",
        decision.assignee_id,
        decision.rung,
        decision.reason,
        extra={"incident_id": report.incident_id},
    )


async def apply_feedback(event: envelope.CloudEvent, *, deps: Dependencies, now: datetime) -> None:
    """The reporter's rating of a resolved case closes it or reopens it."""
    feedback = event.data
    assert isinstance(feedback, events.IncidentFeedback)
    async with existing_case(deps, feedback.incident_id, now=now) as work:
        if not await _first_time(work, event.id):
            return
        lifecycle.check(lifecycle.Action.FEEDBACK, work.facts, lifecycle.SYSTEM)
        if work.rules.closing == "inspection":
            logger.debug(
                "feedback noted; this category closes on inspection",
                extra={"incident_id": feedback.incident_id},
            )
            return
        await verification.conclude(
            work,
            verified_by="reporter",
            method="feedback",
            passed=feedback.rating != events.Rating.UNSATISFIED,
            rating=feedback.rating,
            comment=feedback.comment,
        )


async def record_merge(event: envelope.CloudEvent, *, deps: Dependencies, now: datetime) -> None:
    """Another report of an open case: counted, and its handlers told."""
    async with existing_case(deps, event.data.incident_id, now=now) as work:
        if await _first_time(work, event.id):
            work.case.merged_reports += 1
            work.notify(work.case.assignee_id, *work.case.co_handler_ids)


async def _first_time(work: CaseWork, event_id: str) -> bool:
    """Remember a consumed event; False when it was acted on before."""
    statement = (
        insert(ProcessedEventRow)
        .values(event_id=event_id, incident_id=work.case.incident_id, processed_at=work.now)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(col(ProcessedEventRow.event_id))
    )
    return (await work.session.execute(statement)).first() is not None
