"""Report use cases: take a report (new case or merged into an open one) exactly once per key.

The broker acknowledges before we answer 202. Every report is first claimed in intake_report
(its owner, its identity if it has one, its merge decision and a lease), in transactions shared
by concurrent requests; the winner publishes and marks it accepted; concurrent and later copies
of an identified report get the stored answer. If the broker refuses, the claim is
released. If the process dies in between, the lease runs out and a retry republishes the same
event id, which consumers already de-duplicate.
"""

import asyncio
import functools
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiokafka.errors import KafkaError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import envelope, failpoints
from services.common.group_commit import GroupCommit
from services.common.kafka import Publisher
from services.intake import metrics
from services.intake.adapters.geo_index import GeoIndex, IndexedCase
from services.intake.adapters.tables import ReportRow
from services.intake.integrators.keys import Principal
from services.intake.reports import domain, messages, repository
from services.intake.reports.schemas import IncidentCreate

logger = logging.getLogger(__name__)
CLAIM_ROUNDS = 3
REPLAY_POLL_S = 0.05


class PublishFailed(Exception):
    """The broker did not acknowledge the event in time: the report was not taken (503)."""


class StoreUnavailable(Exception):
    """PostgreSQL did not take the claim: the report was not taken (503)."""


class StillInProgress(Exception):
    """The first request with this key is still being taken (409, retry later)."""


@dataclass(frozen=True)
class Dependencies:
    sessions: async_sessionmaker[AsyncSession]
    # Claims are submitted (their outcome awaited); acceptances, report ids whose events the
    # broker has, are posted and written with the next claims.
    claims: GroupCommit[domain.Claim | uuid.UUID, bool | None]
    publisher: Publisher
    geo: GeoIndex
    reports_topic: str
    publish_timeout_s: float
    personal_data_key: str
    duplicate_radius_m: float
    duplicate_window: timedelta


@dataclass(frozen=True)
class Taken:
    """The answer to a report, the same for every replay of it."""

    incident_id: uuid.UUID
    report_id: uuid.UUID
    merged: bool
    replayed: bool = False


async def take_report(
    report: IncidentCreate,
    *,
    principal: Principal,
    idempotency_key: str | None,
    now: datetime,
    deps: Dependencies,
) -> Taken:
    """Publish a new case or a merged report, unless this report was already taken."""
    principal.require_channel(report.channel)
    identity = domain.identity_of(
        report, integrator_id=principal.integrator_id, idempotency_key=idempotency_key
    )
    # Only a report with an identity can come again, so only its content is compared.
    fingerprint = domain.fingerprint(report, key=deps.personal_data_key) if identity else ""
    target = await _case_to_join(report, now=now, deps=deps)
    report_id = identity.report_id() if identity else uuid.uuid4()
    row = domain.Claim(
        report_id=report_id,
        incident_id=target or report_id,
        merged=target is not None,
        integrator_id=principal.integrator_id,
        key_id=principal.key_id,
        channel=report.channel.value,
        category=report.category,
        source_system=report.source_system,
        external_id=report.external_id,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        lat=report.location.lat if report.location else None,
        lon=report.location.lon if report.location else None,
        created_at=now,
        lease_until=now + _lease(deps),
    )
    for _ in range(CLAIM_ROUNDS):
        try:
            claimed = await deps.claims.submit(row)
        except repository.STORE_ERRORS as error:
            raise StoreUnavailable(f"the report was not taken, retry later: {error!r}") from error
        if claimed:
            return await _publish_and_accept(row, report, now=now, deps=deps)
        assert identity is not None  # a random report id never collides
        async with deps.sessions() as session:
            existing = await repository.find(session=session, identity=identity)
        if existing is not None:
            domain.check_same_request(stored=existing.fingerprint, presented=fingerprint)
            answer = await _replay(existing, report, deps=deps)
            if answer is not None:
                return answer
    raise StillInProgress("the first request with this key has not finished; retry later")


async def _case_to_join(
    report: IncidentCreate, *, now: datetime, deps: Dependencies
) -> uuid.UUID | None:
    """An open case of the same category near the report, if the report says where it is."""
    if report.location is None:
        return None
    candidates = await deps.geo.nearby(
        category=report.category,
        lat=report.location.lat,
        lon=report.location.lon,
        radius_m=deps.duplicate_radius_m,
    )
    return domain.case_to_join(
        candidates, now=now, radius_m=deps.duplicate_radius_m, window=deps.duplicate_window
    )


async def _publish_and_accept(
    row: domain.Claim, report: IncidentCreate, *, now: datetime, deps: Dependencies
) -> Taken:
    event = _event_for(row, report, now=now, deps=deps)
    try:
        async with asyncio.timeout(deps.publish_timeout_s):
            await deps.publisher.publish(deps.reports_topic, event)
    except (KafkaError, TimeoutError) as error:
        logger.warning(
            "report not acknowledged by the broker: %r",
            error,
            extra={"incident_id": row.incident_id},
        )
        async with deps.sessions() as session, session.begin():
            await repository.forget(session=session, report_id=row.report_id)
        metrics.reports(row.channel, "unavailable").inc()
        raise PublishFailed(str(error) or type(error).__name__) from error
    failpoints.reach("intake.before_answer")
    # Not awaited: the answer is already certain. Should this never land, a replay finds the
    # lease run out and republishes the same event id, which consumers already de-duplicate.
    deps.claims.post(row.report_id)
    metrics.reports(row.channel, "merged" if row.merged else "reported").inc()
    if not row.merged and row.lat is not None and row.lon is not None:
        await deps.geo.add(
            IndexedCase(row.incident_id, row.category, row.lat, row.lon, row.created_at)
        )
    # One line per report at DEBUG: at INFO it would copy the ledger line by line (ADR 47).
    logger.debug(
        "%s %s via %s",
        "merged" if row.merged else "reported",
        row.category,
        row.channel,
        extra={"incident_id": row.incident_id, "event_id": event.id},
    )
    return Taken(incident_id=row.incident_id, report_id=row.report_id, merged=row.merged)


def _event_for(
    row: domain.Claim, report: IncidentCreate, *, now: datetime, deps: Dependencies
) -> envelope.CloudEvent:
    if row.merged:
        return messages.merged(
            report,
            incident_id=row.incident_id,
            report_id=row.report_id,
            now=now,
            personal_data_key=deps.personal_data_key,
        )
    return messages.reported(
        report, incident_id=row.incident_id, now=now, personal_data_key=deps.personal_data_key
    )


async def _replay(
    existing: ReportRow, report: IncidentCreate, *, deps: Dependencies
) -> Taken | None:
    """The stored answer; wait while the first request is in flight; None if it was released."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deps.publish_timeout_s + 1.0
    row: ReportRow | None = existing
    while row is not None:
        if row.state == "accepted":
            return Taken(row.incident_id, row.report_id, row.merged, replayed=True)
        now = _utcnow()
        async with deps.sessions() as session, session.begin():
            taken_over = await repository.take_over(
                session=session, report_id=row.report_id, now=now, lease_until=now + _lease(deps)
            )
        if taken_over:
            claim = domain.Claim(**row.model_dump(include=set(domain.Claim.__slots__)))
            return await _publish_and_accept(claim, report, now=now, deps=deps)
        if loop.time() > deadline:
            raise StillInProgress("the first request with this key has not finished; retry later")
        await asyncio.sleep(REPLAY_POLL_S)
        async with deps.sessions() as session:
            row = await session.get(ReportRow, existing.report_id, populate_existing=True)
    return None


def _lease(deps: Dependencies) -> timedelta:
    return _lease_for(deps.publish_timeout_s)


@functools.cache
def _lease_for(publish_timeout_s: float) -> timedelta:
    return timedelta(seconds=2 * publish_timeout_s + 1)


def _utcnow() -> datetime:
    return datetime.now(UTC)
