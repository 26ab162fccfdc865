"""Streaming CSV exports of cases and ledger entries: rows are written as they are read."""

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.adapters import case_queries, entries
from services.ledger.domain import chain, privacy
from services.ledger.domain.state import CaseState, is_overdue

ROWS_PER_CHUNK = 500
CASE_COLUMNS = (
    "incident_id",
    "status",
    "category",
    "channel",
    "household_id",
    "grid_id",
    "assignee_id",
    "co_handler_ids",
    "rung",
    "source_system",
    "external_id",
    "reported_at",
    "first_assigned_at",
    "acknowledged_at",
    "first_resolved_at",
    "resolved_at",
    "closed_at",
    "cancelled_at",
    "transferred_at",
    "rework_count",
    "extension_count",
    "escalation_count",
    "merged_reports",
    "rating",
    "overdue",
    "status_note",
)
ENTRY_COLUMNS = chain.STORED_FIELDS


async def cases_csv(
    *,
    engine: AsyncEngine,
    reported_from: datetime | None,
    reported_to: datetime | None,
    grid: str | None = None,
    now: datetime,
) -> AsyncIterator[str]:
    """Cases reported in the range (one grid's when given; no description, address or phone),
    as CSV chunks."""
    async with engine.connect() as connection:
        rows = (
            _case_row(state, now)
            async for state in case_queries.stream(
                connection=connection,
                reported_from=reported_from,
                reported_to=reported_to,
                grid=grid,
            )
        )
        async for chunk in _chunks(CASE_COLUMNS, rows):
            yield chunk


async def entries_csv(
    *, engine: AsyncEngine, recorded_from: datetime | None, recorded_to: datetime | None
) -> AsyncIterator[str]:
    """Ledger entries recorded in the range, with their hashes, as CSV chunks."""
    async with engine.connect() as connection:
        rows = (
            _entry_row(entry)
            async for entry in entries.stream(
                connection=connection, recorded_from=recorded_from, recorded_to=recorded_to
            )
        )
        async for chunk in _chunks(ENTRY_COLUMNS, rows):
            yield chunk


async def _chunks(columns: Iterable[str], rows: AsyncIterator[list[Any]]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    pending = 0
    async for row in rows:
        writer.writerow(row)
        pending += 1
        if pending >= ROWS_PER_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return " ".join(value)
    return "" if value is None else value


def _case_row(state: CaseState, now: datetime) -> list[Any]:
    values = {name: getattr(state, name, None) for name in CASE_COLUMNS}
    values["overdue"] = is_overdue(state, now)
    return [_cell(values[name]) for name in CASE_COLUMNS]


def _entry_row(entry: chain.Entry) -> list[Any]:
    values = {name: getattr(entry, name) for name in ENTRY_COLUMNS}
    # The token is withheld here too, so this payload no longer re-hashes to `hash`:
    # chain verification runs on the database (GET /v1/ledger/verify), not on exports.
    values["payload"] = json.dumps(privacy.officer_view(entry.payload), ensure_ascii=False)
    return [_cell(values[name]) for name in ENTRY_COLUMNS]
