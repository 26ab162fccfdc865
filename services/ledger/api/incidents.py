"""Case routes: the filtered list, one case with its timeline, a household's ledger, stats."""

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from services.common import auth, events, validation
from services.ledger.adapters import case_queries, entries
from services.ledger.api import cursors
from services.ledger.api.access import CaseReach, HouseholdReach
from services.ledger.api.deps import Engine, Now
from services.ledger.api.schemas import (
    HouseholdLedger,
    IncidentDetail,
    IncidentPage,
    IncidentSummary,
    Stats,
    detail_of,
)

router = APIRouter(prefix="/v1", tags=["cases"])
HOUSEHOLD_CASES_MAX = 1000


@router.get("/incidents", response_model=IncidentPage, responses=auth.GUARDED)
async def list_incidents(
    engine: Engine,
    now: Now,
    reach: CaseReach,
    status: events.CaseStatus | None = None,
    category: str | None = None,
    channel: events.Channel | None = None,
    grid: str | None = None,
    member: Annotated[str | None, Query(description="assignee or co-handler")] = None,
    household: str | None = None,
    source_system: str | None = None,
    external_id: str | None = None,
    reported_from: Annotated[validation.Instant | None, Query(alias="from")] = None,
    reported_to: Annotated[validation.Instant | None, Query(alias="to")] = None,
    updated_since: validation.Instant | None = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> IncidentPage:
    """Cases matching every given filter, newest report first, a page at a time.

    Members see their own cases, grid leaders their grid's (asking for another is 403)."""
    wanted = case_queries.CaseFilter(
        status=status.value if status else None,
        category=category,
        channel=channel.value if channel else None,
        grid=grid,
        member=member,
        household=household,
        source_system=source_system,
        external_id=external_id,
        reported_from=reported_from,
        reported_to=reported_to,
        updated_since=updated_since,
        overdue=overdue,
    )
    wanted = reach.narrow(wanted)
    after = cursors.case_position(cursor) if cursor else None
    async with engine.connect() as connection:
        found, next_position = await case_queries.page(
            connection=connection, wanted=wanted, now=now, limit=limit, after=after
        )
    return IncidentPage(
        items=[IncidentSummary.of(state, now=now) for state in found],
        next_cursor=cursors.case_cursor(next_position),
    )


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentDetail,
    responses={**auth.GUARDED, 404: {"description": "no such case, or not yours to see"}},
)
async def get_incident(
    incident_id: uuid.UUID, engine: Engine, now: Now, reach: CaseReach
) -> IncidentDetail:
    """One case: its current state, its timeline from the ledger and its anomalies."""
    async with engine.connect() as connection:
        state = await case_queries.one(connection=connection, incident_id=incident_id)
        if state is None or not reach.admits(state):
            raise HTTPException(404, "no such incident in the ledger")
        timeline = await entries.timeline(connection=connection, incident_id=incident_id)
        anomalies = await case_queries.anomalies(
            connection=connection, incident_id=incident_id, kind=None, after=None, limit=500
        )
    return detail_of(state, now=now, timeline=timeline, anomalies=anomalies)


@router.get(
    "/households/{household_id}/ledger", response_model=HouseholdLedger, responses=auth.GUARDED
)
async def household_ledger(
    household_id: str, engine: Engine, now: Now, reach: HouseholdReach
) -> HouseholdLedger:
    """民生台账: every case of one household that the caller may see, newest first."""
    async with engine.connect() as connection:
        found, _ = await case_queries.page(
            connection=connection,
            wanted=reach.narrow(case_queries.CaseFilter(household=household_id)),
            now=now,
            limit=HOUSEHOLD_CASES_MAX,
        )
    by_status: dict[str, int] = {}
    for state in found:
        by_status[state.status] = by_status.get(state.status, 0) + 1
    return HouseholdLedger(
        household_id=household_id,
        total=len(found),
        by_status=by_status,
        cases=[IncidentSummary.of(state, now=now) for state in found],
    )


@router.get("/stats", response_model=Stats)
async def stats(engine: Engine) -> Stats:
    """Public aggregate counts by status; no personal data."""
    async with engine.connect() as connection:
        counts = await case_queries.counts_by_status(connection=connection)
    by_status = {status.value: counts.get(status.value, 0) for status in events.CaseStatus}
    return Stats(total=sum(counts.values()), by_status=by_status)
