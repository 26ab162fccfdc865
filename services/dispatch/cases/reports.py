"""What dispatch does with what intake publishes: new reports, feedback and merged reports."""

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

from services.common import envelope, events, observability
from services.common.kafka import Rejection
from services.dispatch import metrics
from services.dispatch.adapters.tables import CaseRow, ProcessedEventRow
from services.dispatch.cases import verification
from services.dispatch.cases.assignment import hand_over, locate, situation_of
from services.dispatch.cases.work import (
    CaseNotFound,
    CaseWork,
    Dependencies,
    case_work,
    existing_case,
)
from services.dispatch.domain import lifecycle, policy

logger = logging.getLogger(__name__)


async def handle(batch: Sequence[envelope.CloudEvent], *, deps: Dependencies) -> list[Rejection]:
    """Act on each event of a batch; events that can never be acted on are rejected with why."""
    rejected: list[Rejection] = []
    for event in batch:
        now = datetime.now(UTC)
        with observability.log_context(incident_id=event.data.incident_id, event_id=event.id):
            try:
                if isinstance(event.data, events.IncidentReported):
                    await open_case(event.data, deps=deps, now=now)
                elif isinstance(event.data, events.IncidentFeedback):
                    await apply_feedback(event, deps=deps, now=now)
                elif isinstance(event.data, events.IncidentMerged):
                    await record_merge(event, deps=deps, now=now)
            except (CaseNotFound, lifecycle.IllegalTransition) as refusal:
                logger.warning("rejected: %s", refusal)
                rejected.append((event.id, f"{type(refusal).__name__}: {refusal}"))
    return rejected


async def open_case(report: events.IncidentReported, *, deps: Dependencies, now: datetime) -> None:
    """Create the case, locate it and assign it; a redelivered report changes nothing."""
    new_case = CaseRow(
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
    async with case_work(deps, report.incident_id, now=now, new_case=new_case) as work:
        if work is None:
            return
        work.case.grid_id = await locate(report, session=work.session)
        situation, team, officers = await situation_of(work)
        with metrics.DECISION_SECONDS.labels("assign").time():
            decision = policy.choose_assignee(situation, team, officers)
        helpers = policy.choose_helpers(
            work.rules.co_handler_roles, officers, exclude=[decision.assignee_id or ""]
        )
        await hand_over(work, decision, co_handlers=[helper.id for helper in helpers])
        logger.info(
            "assigned to %s (%s): %s",
            decision.assignee_id,
            decision.rung,
            decision.reason,
            extra={"incident_id": report.incident_id},
        )
    # Reached only when this call created the case (a redelivery returned above).
    elapsed = (datetime.now(UTC) - report.occurred_at).total_seconds()
    metrics.REPORT_TO_ASSIGNMENT_SECONDS.observe(max(0.0, elapsed))


async def apply_feedback(event: envelope.CloudEvent, *, deps: Dependencies, now: datetime) -> None:
    """The reporter's rating of a resolved case closes it or reopens it."""
    feedback = event.data
    assert isinstance(feedback, events.IncidentFeedback)
    async with existing_case(deps, feedback.incident_id, now=now) as work:
        if not await _first_time(work, event.id):
            return
        lifecycle.check(lifecycle.Action.FEEDBACK, work.facts, lifecycle.SYSTEM)
        if work.rules.closing == "inspection":
            logger.info(
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
