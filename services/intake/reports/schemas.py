"""Request and response models of the native report API."""

import uuid
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.common.categories import CATALOGUE
from services.common.events import Channel, GeoPoint, PhotoRef, Rating

ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
PHONE_PATTERN = r"^\+?[0-9][0-9 -]{5,19}$"
ID_NUMBER_PATTERN = r"^[0-9]{17}[0-9Xx]$"  # resident identity card number
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"  # stored in PostgreSQL, which refuses NUL in text


class Reporter(BaseModel):
    """Who reported it. Phone and ID number are tokenised and masked, never kept in clear."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    id_number: str | None = Field(default=None, pattern=ID_NUMBER_PATTERN)


class IncidentCreate(BaseModel):
    """A report from any channel; at least one of household, grid, camera, location or address."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel
    category: str
    description: str = Field(min_length=1, max_length=4000)
    household_id: str | None = Field(default=None, pattern=ID_PATTERN)
    grid_id: str | None = Field(default=None, pattern=ID_PATTERN)
    camera_id: str | None = Field(default=None, pattern=ID_PATTERN)
    location: GeoPoint | None = None
    address: str | None = Field(default=None, min_length=1, max_length=300)
    source_system: str | None = Field(default=None, pattern=ID_PATTERN)
    external_id: str | None = Field(default=None, max_length=128, pattern=PRINTABLE)
    reported_by: str | None = Field(default=None, pattern=ID_PATTERN)
    photos: list[PhotoRef] = Field(default_factory=list, max_length=20)
    reporter: Reporter | None = None
    reporter_phone: str | None = Field(default=None, pattern=PHONE_PATTERN)

    @field_validator("category")
    @classmethod
    def known_category(cls, category: str) -> str:
        if category not in CATALOGUE:
            raise ValueError(f"unknown category; known: {', '.join(sorted(CATALOGUE))}")
        return category

    @model_validator(mode="after")
    def complete_for_its_channel(self) -> Self:
        if not any((self.household_id, self.grid_id, self.camera_id, self.location, self.address)):
            raise ValueError(
                "say where: one of household_id, grid_id, camera_id, location or address"
            )
        if self.channel == Channel.CAMERA and not self.camera_id:
            raise ValueError("a camera alert carries its camera_id")
        if self.channel == Channel.PATROL and not self.reported_by:
            raise ValueError("a patrol report carries the officer in reported_by")
        if self.external_id and not self.source_system:
            raise ValueError("external_id needs the source_system that issued it")
        return self

    def phone(self) -> str | None:
        """The reporter's phone from either field."""
        return (self.reporter.phone if self.reporter else None) or self.reporter_phone


class IncidentAccepted(BaseModel):
    """The report is on the broker: a new case, or an additional report of an open one."""

    incident_id: uuid.UUID
    report_id: uuid.UUID
    status: str = "reported"
    merged: bool = False


class IncidentBatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incidents: list[IncidentCreate] = Field(min_length=1)


class BatchItemResult(BaseModel):
    """One report of a batch: 202 with its ids, or the status and reason it was refused."""

    index: int
    status_code: int
    incident_id: uuid.UUID | None = None
    report_id: uuid.UUID | None = None
    merged: bool = False
    detail: str | None = None


class IncidentBatchAccepted(BaseModel):
    results: list[BatchItemResult]


class FeedbackCreate(BaseModel):
    """The reporter's verdict on a resolved case."""

    model_config = ConfigDict(extra="forbid")

    rating: Rating
    comment: str | None = Field(default=None, min_length=1, max_length=2000)
    reporter: Reporter | None = None


class FeedbackAccepted(BaseModel):
    incident_id: uuid.UUID
    event_id: str
    rating: Rating


class IncidentStatus(BaseModel):
    """What a reporter or integrator may know about a case's progress."""

    incident_id: uuid.UUID
    status: str
    open311_status: str
    status_note: str
    category: str | None = None
    reported_at: datetime | None = None
    updated_at: datetime | None = None
    resolved_at: datetime | None = None
    merged_reports: int = 0
