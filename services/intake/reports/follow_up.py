"""After the report: the reporter's feedback on a resolved case, and status look-ups.

Both are answered for the cases the caller reported (object-level authorization), and both
read the case from the ledger, the system's read side.
"""

import asyncio
import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from aiokafka.errors import KafkaError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common.events import CaseStatus
from services.common.kafka import Publisher
from services.intake import statuses
from services.intake.adapters.ledger_client import IncidentSummary, LedgerClient
from services.intake.integrators.keys import Principal
from services.intake.reports import messages, repository
from services.intake.reports.handlers import PublishFailed
from services.intake.reports.schemas import FeedbackAccepted, FeedbackCreate, IncidentStatus

logger = logging.getLogger(__name__)


class CaseNotFound(Exception):
    """No such case among the caller's (404; another integrator's case looks the same)."""


class NotAwaitingFeedback(Exception):
    """Feedback is for resolved cases only (409)."""


@dataclass(frozen=True)
class Dependencies:
    sessions: async_sessionmaker[AsyncSession]
    publisher: Publisher
    ledger: LedgerClient
    reports_topic: str
    publish_timeout_s: float
    personal_data_key: str


async def give_feedback(
    verdict: FeedbackCreate,
    *,
    incident_id: uuid.UUID,
    principal: Principal,
    idempotency_key: str | None,
    now: datetime,
    deps: Dependencies,
) -> FeedbackAccepted:
    """Publish the reporter's verification of a resolved case as `incident.feedback`."""
    await _check_owner(incident_id, principal=principal, deps=deps)
    case = await deps.ledger.incident(incident_id)
    if case is None or case.status != CaseStatus.RESOLVED:
        current = case.status if case else CaseStatus.REPORTED.value
        raise NotAwaitingFeedback(f"the case is {current}; feedback is for resolved cases")
    # The same verdict on the same resolution is the same event, however often it is sent.
    resolution = case.resolved_at.isoformat() if case.resolved_at else "resolved"
    content = idempotency_key or _digest(verdict, key=deps.personal_data_key)
    step = f"{principal.integrator_id}/{resolution}/{content}"
    event = messages.feedback(
        verdict,
        incident_id=incident_id,
        step=step,
        now=now,
        personal_data_key=deps.personal_data_key,
    )
    try:
        async with asyncio.timeout(deps.publish_timeout_s):
            await deps.publisher.publish(deps.reports_topic, event)
    except (KafkaError, TimeoutError) as error:
        raise PublishFailed(str(error) or type(error).__name__) from error
    logger.debug("feedback %s", verdict.rating.value, extra={"incident_id": incident_id})
    return FeedbackAccepted(incident_id=incident_id, event_id=event.id, rating=verdict.rating)


async def status_of(
    incident_id: uuid.UUID, *, principal: Principal, deps: Dependencies
) -> IncidentStatus:
    """The case's progress from the ledger; just `reported` while the ledger catches up."""
    await _check_owner(incident_id, principal=principal, deps=deps)
    case = await deps.ledger.incident(incident_id)
    async with deps.sessions() as session:
        merged = await repository.merged_count(session=session, incident_id=incident_id)
        first = await repository.first_report(session=session, incident_id=incident_id)
    if case is None:
        if first is None:
            raise CaseNotFound(str(incident_id))
        return IncidentStatus(
            incident_id=incident_id,
            status=CaseStatus.REPORTED.value,
            open311_status="open",
            status_note=statuses.note_for(CaseStatus.REPORTED),
            category=first.category,
            reported_at=first.created_at,
            updated_at=first.created_at,
            merged_reports=merged,
        )
    return to_status(case, merged_reports=merged)


def to_status(case: IncidentSummary, *, merged_reports: int) -> IncidentStatus:
    """The public status view of a ledger case."""
    return IncidentStatus(
        incident_id=case.incident_id,
        status=case.status,
        open311_status=statuses.open311_status(case.status),
        status_note=statuses.public_note(case.status, case.status_note),
        category=case.category,
        reported_at=case.reported_at,
        updated_at=case.last_change(),
        resolved_at=case.resolved_at,
        merged_reports=max(merged_reports, case.merged_reports or 0),
    )


def _digest(verdict: FeedbackCreate, *, key: str) -> str:
    canonical = verdict.model_dump_json(exclude_none=True).encode()
    return hmac.new(key.encode(), canonical, hashlib.sha256).hexdigest()[:32]


async def _check_owner(incident_id: uuid.UUID, *, principal: Principal, deps: Dependencies) -> None:
    if principal.unrestricted:
        return
    async with deps.sessions() as session:
        owned = await repository.owns(
            session=session, integrator_id=principal.integrator_id, incident_id=incident_id
        )
    if not owned:
        raise CaseNotFound(str(incident_id))
