"""Bulk import (JSON, or CSV one kind at a time), CSV export, and a triage look-up."""

import codecs
import json
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse

from services.common import validation
from services.dispatch.roster import (
    csv_format,
    documents,
    locate,
    queries,
    repository,
    schemas,
    service,
)
from services.dispatch.roster.changes import Mode
from services.dispatch.roster.entities import Kind
from services.dispatch.roster.web import Policy, Sessions

router = APIRouter()
IMPORT_RESPONSES: dict[int | str, dict[str, object]] = {
    413: {"description": "the file is larger than the import limit"},
    415: {"description": "not a JSON (or, per kind, CSV) body"},
    422: {
        "description": "every bad row and why; nothing imported",
        "content": {"application/json": {"schema": schemas.REFUSAL_OR_INVALID}},
    },
}


def _document_schema() -> dict[str, object]:
    """RosterDocument, its row models referenced from the components the create routes add."""
    schema = schemas.RosterDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


JSON_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _document_schema()}},
    }
}
CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string", "description": "a header row first"}}
        },
    }
}


class FileKind(StrEnum):
    GRIDS = "grids"
    MEMBERS = "members"
    HOUSEHOLDS = "households"
    CAMERAS = "cameras"


@router.post(
    "/import",
    response_model=schemas.ImportResult,
    responses=IMPORT_RESPONSES,
    openapi_extra=JSON_BODY,
)
async def import_json(
    request: Request,
    sessions: Sessions,
    policy: Policy,
    mode: Mode = Mode.MERGE,
    dry_run: bool = False,
) -> schemas.ImportResult:
    """Import `{"grids": [...], "members": [...], "households": [...], "cameras": [...]}`.

    The whole file is checked against the roster it would leave (merge: stored rows plus the
    file; replace: each list given replaces that kind). Any bad row: 422 listing them all, and
    nothing is imported. Otherwise every change is applied in one transaction.
    """
    body = await _read(request, policy.max_import_bytes, media_types=("application/json",))
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as bad:
        problem = documents.RowProblem("document", None, None, None, f"not JSON: {bad}")
        raise service.Invalid([problem]) from bad
    return await _import(documents.from_json(payload), sessions, policy, mode, dry_run)


@router.post(
    "/import/{kind}",
    response_model=schemas.ImportResult,
    responses=IMPORT_RESPONSES,
    openapi_extra=CSV_BODY,
)
async def import_csv(
    kind: FileKind,
    request: Request,
    sessions: Sessions,
    policy: Policy,
    mode: Mode = Mode.MERGE,
    dry_run: bool = False,
) -> schemas.ImportResult:
    """Import one kind from `text/csv` (UTF-8 unless the charset parameter names another).

    Columns are named in the first row (see GET /v1/roster/export/{kind}); replace mode makes
    the file the whole list of that kind. Errors give spreadsheet row numbers (header = 1).
    """
    entity_kind = Kind(kind.value.removesuffix("s"))
    body = await _read(request, policy.max_import_bytes, media_types=("text/csv", "text/plain"))
    charset = _charset(request.headers.get("content-type", "")) or "utf-8"
    try:
        text = body.decode("utf-8-sig" if charset == "utf-8" else charset)  # drops a BOM
    except (LookupError, UnicodeDecodeError) as bad:
        reason = f"not readable as {charset} text ({bad}); save it as UTF-8 or name its charset"
        raise service.Invalid(
            [documents.RowProblem(entity_kind, None, None, None, reason)]
        ) from bad
    return await _import(csv_format.parse(entity_kind, text), sessions, policy, mode, dry_run)


class CsvResponse(PlainTextResponse):
    media_type = "text/csv"


@router.get("/export/{kind}", response_class=CsvResponse)
async def export_csv(kind: FileKind, sessions: Sessions) -> CsvResponse:
    """The whole list of one kind as CSV, in the columns the import reads."""
    entity_kind = Kind(kind.value.removesuffix("s"))
    async with sessions() as session:
        roster = await repository.load(session=session)
    entities = [roster.of_kind(entity_kind)[i] for i in sorted(roster.of_kind(entity_kind))]
    return CsvResponse(csv_format.write(entity_kind, entities))


@router.get("/locate", response_model=dict[str, str | None])
async def locate_report(
    sessions: Sessions,
    household_id: str | None = None,
    grid_id: str | None = None,
    camera_id: str | None = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
) -> dict[str, str | None]:
    """Which grid a report with these facts would go to, and how triage found it."""
    if (lat is None) != (lon is None):
        raise validation.invalid(("query", "lat"), "give both lat and lon, or neither")
    point = locate.Point(lat, lon) if lat is not None and lon is not None else None
    async with sessions() as session:
        grid, how = await queries.locate_incident(
            session=session,
            household_id=household_id,
            grid_id=grid_id,
            camera_id=camera_id,
            point=point,
        )
    return {"grid_id": grid, "how": how.value}


async def _import(
    document: documents.Document, sessions: Sessions, policy: Policy, mode: Mode, dry_run: bool
) -> schemas.ImportResult:
    async with sessions() as session:
        summary = await service.import_document(
            session=session,
            document=document,
            mode=mode,
            dry_run=dry_run,
            household_cap=policy.household_cap,
        )
    return schemas.ImportResult(**vars(summary))


async def _read(request: Request, limit: int, *, media_types: tuple[str, ...]) -> bytes:
    """The body, refusing other media types (415) and anything over `limit` bytes (413)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in media_types:
        allowed = " or ".join(media_types)
        raise HTTPException(415, f"send {allowed}, not {media_type or 'no content type'}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the file is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"the file is larger than {limit} bytes")
    return bytes(body)


def _charset(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
            try:
                return codecs.lookup(charset).name
            except LookupError:
                return charset
    return None
