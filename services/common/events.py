"""Event contracts: the payloads that travel between the services, one model per versioned type."""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

EVENT_ID_NAMESPACE = uuid.UUID("5b0f8f0e-6b7a-4f0c-9d59-6f7269646c6f")


class Channel(StrEnum):
    PLATFORM = "platform"
    OFFICER_APP = "officer_app"
    RESIDENT_APP = "resident_app"
    HOTLINE = "hotline"
    SERVICE_HALL = "service_hall"
    CAMERA = "camera"
    PATROL = "patrol"


class CaseStatus(StrEnum):
    REPORTED = "reported"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"
    CLOSED = "closed"
    TRANSFERRED = "transferred"


class Rung(StrEnum):
    """Rungs of the escalation ladder, lowest first."""

    LINKED_MEMBER = "linked_member"
    GRID_MEMBER = "grid_member"
    GRID_LEADER = "grid_leader"
    COMMITTEE = "committee"
    TOWN = "town"


class GeoPoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class EventPayload(BaseModel):
    """Base of every payload: frozen, strict about unknown fields, keyed by incident."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    incident_id: uuid.UUID
    occurred_at: datetime


class IncidentReported(EventPayload):
    channel: Channel
    category: str
    description: str
    household_id: str | None = None
    grid_id: str | None = None
    camera_id: str | None = None
    location: GeoPoint | None = None
    address: str | None = None
    reporter_token: str | None = None
    reporter_phone_masked: str | None = None


class IncidentAssigned(EventPayload):
    grid_id: str | None
    assignee_id: str | None
    rung: Rung
    reason: str
    attempt: int = 1


class IncidentAccepted(EventPayload):
    member_id: str


class IncidentResolved(EventPayload):
    member_id: str
    result: str


EVENT_TYPES: dict[str, type[EventPayload]] = {
    "gridloop.incident.reported.v1": IncidentReported,
    "gridloop.incident.assigned.v1": IncidentAssigned,
    "gridloop.incident.accepted.v1": IncidentAccepted,
    "gridloop.incident.resolved.v1": IncidentResolved,
}
TYPE_OF: dict[type[EventPayload], str] = {model: name for name, model in EVENT_TYPES.items()}


def status_after(data: EventPayload) -> CaseStatus:
    """The case status an event leaves its incident in."""
    if isinstance(data, IncidentAssigned):
        return CaseStatus.TRANSFERRED if data.rung == Rung.TOWN else CaseStatus.ASSIGNED
    if isinstance(data, IncidentAccepted):
        return CaseStatus.ACCEPTED
    if isinstance(data, IncidentResolved):
        return CaseStatus.RESOLVED
    return CaseStatus.REPORTED


def event_id_for(incident_id: uuid.UUID, step: str) -> str:
    """Deterministic event id, so that a redelivered command produces the same event again."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{incident_id}/{step}"))
