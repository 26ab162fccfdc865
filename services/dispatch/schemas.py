"""Request and response models of the dispatch API."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.common.events import PhotoRef


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Decline(Command):
    reason: str = Field(min_length=2, max_length=1000)


class Note(Command):
    note: str = Field(min_length=1, max_length=4000)


class Resolve(Command):
    result: str = Field(min_length=1, max_length=4000)
    photos: list[PhotoRef] = Field(default_factory=list, max_length=20)


class AskHelp(Command):
    role: str | None = Field(default=None, max_length=32)
    member_id: str | None = Field(default=None, max_length=64)


class Reassign(Command):
    member_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=2, max_length=1000)


class RequestExtension(Command):
    reason: str = Field(min_length=2, max_length=1000)
    extra_hours: float = Field(gt=0, le=24 * 60)


class DecideExtension(Command):
    approve: bool


class Park(Command):
    reason: str = Field(min_length=2, max_length=1000)


class Inspect(Command):
    passed: bool
    comment: str | None = Field(default=None, max_length=2000)


class Cancel(Command):
    reason: str = Field(min_length=2, max_length=1000)


class Duty(Command):
    on_duty: bool


class CasePublic(BaseModel):
    """A case as its handlers and supervisors see it (the reporter's phone only masked)."""

    incident_id: uuid.UUID
    category: str
    channel: str
    description: str
    address: str | None
    lat: float | None
    lon: float | None
    reporter_phone_masked: str | None
    household_id: str | None
    grid_id: str | None
    status: str
    assignee_id: str | None
    co_handler_ids: list[str]
    rung: str
    reason: str
    attempt: int
    rework_count: int
    merged_reports: int
    parked: bool
    extension_pending: bool
    reported_at: datetime
    assigned_at: datetime
    acknowledge_due_at: datetime | None
    resolve_due_at: datetime | None
    accepted_at: datetime | None
    started_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    result: str | None
