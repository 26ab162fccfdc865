"""Response models of the ledger's read API."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel


class TimelineEntry(BaseModel):
    seq: int
    event_id: str
    type: str
    source: str
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]


class IncidentPublic(BaseModel):
    incident_id: uuid.UUID
    status: str
    category: str | None
    channel: str | None
    household_id: str | None
    grid_id: str | None
    assignee_id: str | None
    rung: str | None
    assignment_reason: str | None
    reported_at: datetime | None
    assigned_at: datetime | None
    accepted_at: datetime | None
    resolved_at: datetime | None
    timeline: list[TimelineEntry]


class Stats(BaseModel):
    total: int
    by_status: dict[str, int]
