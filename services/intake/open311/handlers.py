"""GeoReport v2 use cases on top of the report handlers and the ledger's read API."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake import statuses
from services.intake.adapters.ledger_client import IncidentSummary, LedgerClient
from services.intake.integrators.keys import Principal
from services.intake.open311 import mapping
from services.intake.open311.schemas import (
    ServiceRequest,
    ServiceRequestCreate,
    ServiceRequestCreated,
)
from services.intake.reports import handlers as report_handlers
from services.intake.reports import repository

DEFAULT_SPAN = timedelta(days=90)  # the specification's default query span
MAX_IDS = 100
LEDGER_PAGE = 500
MAX_LEDGER_PAGES = 10
LOOKUPS_AT_ONCE = 16


class RequestNotFound(LookupError):
    """No such service request among the caller's (404)."""


@dataclass(frozen=True)
class Dependencies:
    sessions: async_sessionmaker[AsyncSession]
    ledger: LedgerClient
    reports: report_handlers.Dependencies


@dataclass(frozen=True)
class Query:
    service_request_id: str | None = None
    service_code: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    status: str | None = None
    limit: int = 1000


async def create_request(
    request: ServiceRequestCreate,
    *,
    principal: Principal,
    idempotency_key: str | None,
    now: datetime,
    deps: Dependencies,
) -> ServiceRequestCreated:
    """Take a GeoReport POST as a platform report (merged into an open case when one is near)."""
    report = mapping.to_report(request, now=now)
    taken = await report_handlers.take_report(
        report,
        principal=principal,
        idempotency_key=idempotency_key,
        now=now,
        deps=deps.reports,
    )
    return ServiceRequestCreated(
        service_request_id=taken.incident_id,
        service_notice=mapping.NOTICE_MERGED if taken.merged else mapping.NOTICE_NEW,
    )


async def get_request(
    incident_id: uuid.UUID, *, principal: Principal, deps: Dependencies
) -> ServiceRequest:
    """One of the caller's service requests."""
    if not principal.unrestricted:
        async with deps.sessions() as session:
            owned = await repository.owns(
                session=session, integrator_id=principal.integrator_id, incident_id=incident_id
            )
        if not owned:
            raise RequestNotFound(str(incident_id))
    found = await _one(incident_id, deps=deps)
    if found is None:
        raise RequestNotFound(str(incident_id))
    return found


async def list_requests(
    query: Query, *, principal: Principal, now: datetime, deps: Dependencies
) -> list[ServiceRequest]:
    """The caller's service requests matching the specification's filters."""
    wanted = mapping.statuses_wanted(query.status)
    if query.service_request_id:
        found = await _by_ids(query.service_request_id, principal=principal, deps=deps)
    else:
        found = await _by_filters(query, principal=principal, wanted=wanted, now=now, deps=deps)
    return [request for request in found if not wanted or request.status in wanted][: query.limit]


async def _by_ids(listed: str, *, principal: Principal, deps: Dependencies) -> list[ServiceRequest]:
    """service_request_id overrides every other filter (comma-separated ids)."""
    ids: list[uuid.UUID] = []
    for part in listed.split(",")[:MAX_IDS]:
        try:
            ids.append(uuid.UUID(part.strip()))
        except ValueError as error:
            raise mapping.InvalidRequest(f"{part.strip()!r} is not a service_request_id") from error
    if not principal.unrestricted:
        async with deps.sessions() as session:
            owned = await repository.owned_among(
                session=session, integrator_id=principal.integrator_id, incident_ids=ids
            )
        ids = [incident_id for incident_id in ids if incident_id in owned]
    limit = asyncio.Semaphore(LOOKUPS_AT_ONCE)

    async def lookup(incident_id: uuid.UUID) -> ServiceRequest | None:
        async with limit:
            return await _one(incident_id, deps=deps)

    found = await asyncio.gather(*(lookup(incident_id) for incident_id in dict.fromkeys(ids)))
    return [request for request in found if request is not None]


async def _by_filters(
    query: Query, *, principal: Principal, wanted: set[str], now: datetime, deps: Dependencies
) -> list[ServiceRequest]:
    """Pages of the ledger's case list, narrowed to the caller's own cases."""
    start = query.start_date or _span_before(query.end_date or now)
    found: list[ServiceRequest] = []
    for category in mapping.codes_wanted(query.service_code):
        cursor: str | None = None
        for _ in range(MAX_LEDGER_PAGES):
            page = await deps.ledger.incidents(
                category=category,
                **{"from": start.isoformat()},
                to=query.end_date.isoformat() if query.end_date else None,
                limit=LEDGER_PAGE,
                cursor=cursor,
            )
            found.extend(await _visible(page.items, principal=principal, deps=deps))
            cursor = page.next_cursor
            matching = [r for r in found if not wanted or r.status in wanted]
            if cursor is None or len(matching) >= query.limit:
                break
    return found


def _span_before(end: datetime) -> datetime:
    """The default span ending at `end`, cut at the calendar's first day."""
    first = datetime.min.replace(tzinfo=end.tzinfo)
    return end - DEFAULT_SPAN if end - first > DEFAULT_SPAN else first


async def _visible(
    cases: list[IncidentSummary], *, principal: Principal, deps: Dependencies
) -> list[ServiceRequest]:
    if not principal.unrestricted and cases:
        async with deps.sessions() as session:
            owned = await repository.owned_among(
                session=session,
                integrator_id=principal.integrator_id,
                incident_ids=[case.incident_id for case in cases],
            )
        cases = [case for case in cases if case.incident_id in owned]
    return [mapping.to_service_request(case) for case in cases]


async def _one(incident_id: uuid.UUID, *, deps: Dependencies) -> ServiceRequest | None:
    """From the ledger; from intake's own record while the ledger has not caught up."""
    case = await deps.ledger.incident(incident_id)
    if case is not None:
        return mapping.to_service_request(case)
    async with deps.sessions() as session:
        first = await repository.first_report(session=session, incident_id=incident_id)
    if first is None:
        return None
    return ServiceRequest(
        service_request_id=incident_id,
        status="open",
        status_notes=statuses.note_for("reported"),
        service_code=first.category,
        requested_datetime=first.created_at,
        updated_datetime=first.created_at,
        lat=first.lat,
        long=first.lon,
    )
