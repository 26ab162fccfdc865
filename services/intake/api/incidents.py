"""The native report API: report, report in batches, give feedback, look up status."""

import asyncio
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response

from services.intake.api import deps, errors, json_body
from services.intake.api.deps import (
    FeedbackGiver,
    IdempotencyKey,
    IntakeDep,
    Reporter,
    StatusReader,
)
from services.intake.reports import follow_up
from services.intake.reports import handlers as reports
from services.intake.reports.schemas import (
    BatchItemResult,
    FeedbackAccepted,
    FeedbackCreate,
    IncidentAccepted,
    IncidentBatchAccepted,
    IncidentBatchCreate,
    IncidentCreate,
    IncidentStatus,
)

router = APIRouter(prefix="/v1", tags=["incidents"])
REPLAYED_HEADER = "Idempotent-Replayed"
CONFLICT: errors.Responses = {
    409: {"description": "the idempotency key was used for another report, or is in flight"}
}
PARTIAL: errors.Responses = {
    207: {"model": IncidentBatchAccepted, "description": "some reports were not taken"}
}
NOT_OURS: errors.Responses = {404: {"description": "no such case among the caller's"}}
NOT_RESOLVED: errors.Responses = {
    409: {"description": "the case is not awaiting the reporter's verification"}
}


@router.post(
    "/incidents",
    status_code=202,
    response_model=IncidentAccepted,
    responses={
        **errors.AUTH,
        **errors.TOO_LARGE,
        **errors.UNAVAILABLE,
        **CONFLICT,
        **json_body.VALIDATION_ERROR,
    },
    openapi_extra={
        **deps.IDEMPOTENCY_KEY_DOC,
        **deps.REPORTER_DOC,
        **json_body.documented(IncidentCreate),
    },
)
async def report(request: Request) -> Response:
    """Take a report; 202 only after Kafka has the event (a new case, or merged into one)."""
    # The busiest route: the caller, the body, the intake and the header come from the
    # request, not from FastAPI's dependencies (see services.intake.api.deps and json_body).
    # The key is admitted before the body is read, as a dependency would be. The answer is
    # written here too: FastAPI would validate the model it was just built from again.
    principal = await deps.reporter(request)
    body = await json_body.parse(request, IncidentCreate)
    taken = await reports.take_report(
        body,
        principal=principal,
        idempotency_key=deps.idempotency_key(request),
        now=datetime.now(UTC),
        deps=deps.intake_of(request).reports,
    )
    answer = Response(
        _accepted(taken).model_dump_json(), status_code=202, media_type="application/json"
    )
    if taken.replayed:
        answer.headers[REPLAYED_HEADER] = "true"
    return answer


@router.post(
    "/incidents:batch",
    status_code=202,
    response_model=IncidentBatchAccepted,
    responses={
        **errors.AUTH,
        **errors.TOO_LARGE,
        **PARTIAL,
    },
)
async def report_batch(
    body: IncidentBatchCreate,
    principal: Reporter,
    intake: IntakeDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> IncidentBatchAccepted:
    """Several reports at once; each is taken (or refused) on its own, with its own answer."""
    limit = intake.settings.batch_max_items
    if len(body.incidents) > limit:
        raise HTTPException(422, f"at most {limit} incidents per batch")
    now = datetime.now(UTC)

    async def one(index: int, item: IncidentCreate) -> BatchItemResult:
        key = f"{idempotency_key}#{index}" if idempotency_key else None
        try:
            taken = await reports.take_report(
                item, principal=principal, idempotency_key=key, now=now, deps=intake.reports
            )
        except Exception as error:
            refusal = next(
                (r for kind, r in errors.REFUSALS.items() if isinstance(error, kind)), None
            )
            if refusal is None:
                raise
            return BatchItemResult(index=index, status_code=refusal.status, detail=str(error))
        return BatchItemResult(
            index=index,
            status_code=202,
            incident_id=taken.incident_id,
            report_id=taken.report_id,
            merged=taken.merged,
        )

    results = await asyncio.gather(*(one(i, item) for i, item in enumerate(body.incidents)))
    if any(result.status_code != 202 for result in results):
        response.status_code = 207
    return IncidentBatchAccepted(results=list(results))


@router.post(
    "/incidents/{incident_id}/feedback",
    status_code=202,
    response_model=FeedbackAccepted,
    responses={
        **errors.AUTH,
        **errors.TOO_LARGE,
        **errors.UNAVAILABLE,
        **NOT_OURS,
        **NOT_RESOLVED,
    },
)
async def feedback(
    incident_id: uuid.UUID,
    body: FeedbackCreate,
    principal: FeedbackGiver,
    intake: IntakeDep,
    idempotency_key: IdempotencyKey = None,
) -> FeedbackAccepted:
    """The reporter's verification of a resolved case, produced as `incident.feedback`."""
    return await follow_up.give_feedback(
        body,
        incident_id=incident_id,
        principal=principal,
        idempotency_key=idempotency_key,
        now=datetime.now(UTC),
        deps=intake.follow_up,
    )


@router.get(
    "/incidents/{incident_id}/status",
    response_model=IncidentStatus,
    responses={
        **errors.AUTH,
        **errors.UNAVAILABLE,
        **NOT_OURS,
    },
)
async def status(
    incident_id: uuid.UUID, principal: StatusReader, intake: IntakeDep
) -> IncidentStatus:
    """The case's progress, from the ledger."""
    return await follow_up.status_of(incident_id, principal=principal, deps=intake.follow_up)


def _accepted(taken: reports.Taken) -> IncidentAccepted:
    return IncidentAccepted(
        incident_id=taken.incident_id,
        report_id=taken.report_id,
        status="merged" if taken.merged else "reported",
        merged=taken.merged,
    )
