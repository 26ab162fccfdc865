"""Ledger routes: chain verification, anomalies, and the streaming CSV exports."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from services.common import auth, validation
from services.ledger import exports, verification
from services.ledger.adapters import case_queries
from services.ledger.api import cursors
from services.ledger.api.access import Auditor, ExportReach
from services.ledger.api.deps import Engine, Now
from services.ledger.api.schemas import AnomalyPage, AnomalyPublic, VerificationPublic
from services.ledger.domain import chain

router = APIRouter(prefix="/v1", tags=["ledger"], responses=auth.GUARDED)
CSV = "text/csv; charset=utf-8"


@router.get("/ledger/verify", response_model=VerificationPublic)
async def verify(
    engine: Engine,
    _: Auditor,
    anchor_seq: Annotated[int | None, Query(ge=1)] = None,
    anchor_hash: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$")] = None,
) -> VerificationPublic:
    """Check both hash chains; name the first broken entry. A published head may be given."""
    if (anchor_seq is None) != (anchor_hash is None):
        raise validation.invalid(
            ("query", "anchor_seq"), "give both anchor_seq and anchor_hash, or neither"
        )
    anchor = chain.Head(anchor_seq, anchor_hash) if anchor_seq and anchor_hash else None
    return VerificationPublic.of(await verification.verify(engine=engine, anchor=anchor))


@router.get("/ledger/anomalies", response_model=AnomalyPage)
async def list_anomalies(
    engine: Engine,
    _: Auditor,
    incident_id: uuid.UUID | None = None,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> AnomalyPage:
    """Recorded events that the case state machine does not allow, in ledger order."""
    after = None
    if cursor:
        values = cursors.decode(cursor)
        if len(values) != 2 or not isinstance(values[0], int):
            raise cursors.INVALID
        after = (values[0], str(values[1]))
    async with engine.connect() as connection:
        found = await case_queries.anomalies(
            connection=connection, incident_id=incident_id, kind=kind, after=after, limit=limit
        )
    next_cursor = cursors.encode([found[-1].seq, found[-1].kind]) if len(found) == limit else None
    return AnomalyPage(items=[AnomalyPublic.of(a) for a in found], next_cursor=next_cursor)


@router.get("/exports/cases.csv", response_class=StreamingResponse)
async def export_cases(
    engine: Engine,
    now: Now,
    reach: ExportReach,
    reported_from: Annotated[validation.Instant | None, Query(alias="from")] = None,
    reported_to: Annotated[validation.Instant | None, Query(alias="to")] = None,
) -> StreamingResponse:
    """Every case reported in the range, streamed as CSV (no description, address or phone).

    Grid leaders get their grid's cases, the committee every case."""
    body = exports.cases_csv(
        engine=engine,
        reported_from=reported_from,
        reported_to=reported_to,
        grid=reach.grid,
        now=now,
    )
    return StreamingResponse(body, media_type=CSV, headers=_attachment("cases.csv"))


@router.get("/exports/ledger.csv", response_class=StreamingResponse)
async def export_entries(
    engine: Engine,
    _: Auditor,
    recorded_from: Annotated[validation.Instant | None, Query(alias="from")] = None,
    recorded_to: Annotated[validation.Instant | None, Query(alias="to")] = None,
) -> StreamingResponse:
    """Every ledger entry recorded in the range, with its hashes, streamed as CSV."""
    body = exports.entries_csv(engine=engine, recorded_from=recorded_from, recorded_to=recorded_to)
    return StreamingResponse(body, media_type=CSV, headers=_attachment("ledger.csv"))


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}
