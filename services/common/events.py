"""Event contracts: the payloads that travel between the services, one model per versioned type.

Reports topic (intake → dispatch, ledger): reported, feedback, merged.
Lifecycle topic (dispatch → ledger and any subscriber): everything else.
"""

import hashlib
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
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    CLOSED = "closed"
    ESCALATED = "escalated"
    REOPENED = "reopened"
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"


class Rung(StrEnum):
    """Rungs of the escalation ladder, lowest first."""

    LINKED_MEMBER = "linked_member"
    GRID_MEMBER = "grid_member"
    GRID_LEADER = "grid_leader"
    COMMITTEE = "committee"
    TOWN = "town"


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"


class Stage(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class GeoPoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class PhotoRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ref: str = Field(min_length=1, max_length=500)
    taken_at: datetime
    location: GeoPoint | None = None


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
    source_system: str | None = None
    external_id: str | None = None
    reported_by: str | None = None
    photos: tuple[PhotoRef, ...] = ()
    reporter_token: str | None = None
    reporter_phone_masked: str | None = None


class IncidentMerged(EventPayload):
    """A further report of an open case (`incident_id`), from another channel or reporter."""

    report_id: uuid.UUID
    channel: Channel
    description: str
    source_system: str | None = None
    external_id: str | None = None
    needs_callback: bool = False
    reporter_token: str | None = None
    reporter_phone_masked: str | None = None


class IncidentFeedback(EventPayload):
    """The reporter's verification of a resolved case."""

    rating: Rating
    comment: str | None = None
    reporter_token: str | None = None


class IncidentAssigned(EventPayload):
    grid_id: str | None
    assignee_id: str | None
    rung: Rung
    reason: str
    attempt: int = 1
    co_handler_ids: tuple[str, ...] = ()
    assigned_by: str | None = None
    acknowledge_due_at: datetime | None = None
    resolve_due_at: datetime | None = None


class IncidentAccepted(EventPayload):
    member_id: str


class IncidentDeclined(EventPayload):
    member_id: str
    reason: str


class IncidentStarted(EventPayload):
    member_id: str


class IncidentProgressNoted(EventPayload):
    member_id: str
    note: str


class IncidentCoHandlerAdded(EventPayload):
    member_id: str
    role: str
    requested_by: str | None = None


class IncidentResolved(EventPayload):
    member_id: str
    result: str
    photos: tuple[PhotoRef, ...] = ()


class IncidentEscalated(EventPayload):
    """A missed deadline or an empty rung moved the case up the ladder."""

    from_assignee_id: str | None
    from_rung: Rung
    to_rung: Rung
    reason: str


class IncidentDeadlineWarned(EventPayload):
    """Yellow: the deadline is near. Red: it has passed."""

    stage: Stage
    level: str = Field(pattern="^(yellow|red)$")
    member_id: str | None
    due_at: datetime
    notified_ids: tuple[str, ...] = ()


class IncidentExtensionRequested(EventPayload):
    """The handler asked for more time; the resolution clock is paused until it is decided."""

    member_id: str
    reason: str
    extra_seconds: float


class IncidentExtensionRefused(EventPayload):
    member_id: str
    refused_by: str
    resolve_due_at: datetime


class IncidentExtended(EventPayload):
    """The resolution deadline was extended on the handler's request."""

    member_id: str
    approved_by: str
    reason: str
    resolve_due_at: datetime


class IncidentParked(EventPayload):
    """挂账: the committee parked an unsolvable case; its clock is paused."""

    member_id: str
    reason: str


class IncidentUnparked(EventPayload):
    member_id: str


class IncidentVerified(EventPayload):
    """The result was checked by someone other than the handler."""

    verified_by: str
    method: str = Field(pattern="^(feedback|inspection)$")
    passed: bool
    rating: Rating | None = None
    comment: str | None = None


class IncidentClosed(EventPayload):
    closed_by: str


class IncidentReopened(EventPayload):
    reopened_by: str
    reason: str
    rework_count: int


class IncidentCancelled(EventPayload):
    cancelled_by: str
    reason: str


EVENT_TYPES: dict[str, type[EventPayload]] = {
    f"gridloop.incident.{name}.v1": model
    for name, model in (
        ("reported", IncidentReported),
        ("merged", IncidentMerged),
        ("feedback", IncidentFeedback),
        ("assigned", IncidentAssigned),
        ("accepted", IncidentAccepted),
        ("declined", IncidentDeclined),
        ("started", IncidentStarted),
        ("progress_noted", IncidentProgressNoted),
        ("co_handler_added", IncidentCoHandlerAdded),
        ("resolved", IncidentResolved),
        ("escalated", IncidentEscalated),
        ("deadline_warned", IncidentDeadlineWarned),
        ("extension_requested", IncidentExtensionRequested),
        ("extension_refused", IncidentExtensionRefused),
        ("extended", IncidentExtended),
        ("parked", IncidentParked),
        ("unparked", IncidentUnparked),
        ("verified", IncidentVerified),
        ("closed", IncidentClosed),
        ("reopened", IncidentReopened),
        ("cancelled", IncidentCancelled),
    )
}
TYPE_OF: dict[type[EventPayload], str] = {model: name for name, model in EVENT_TYPES.items()}

_STATUS_OF: dict[type[EventPayload], CaseStatus] = {
    IncidentReported: CaseStatus.REPORTED,
    IncidentAccepted: CaseStatus.ACCEPTED,
    IncidentStarted: CaseStatus.IN_PROGRESS,
    IncidentResolved: CaseStatus.RESOLVED,
    IncidentEscalated: CaseStatus.ESCALATED,
    IncidentClosed: CaseStatus.CLOSED,
    IncidentReopened: CaseStatus.REOPENED,
    IncidentCancelled: CaseStatus.CANCELLED,
}


def status_after(data: EventPayload) -> CaseStatus | None:
    """The case status an event leaves its incident in; None when the status does not change."""
    if isinstance(data, IncidentAssigned):
        return CaseStatus.TRANSFERRED if data.rung == Rung.TOWN else CaseStatus.ASSIGNED
    if isinstance(data, IncidentVerified):
        return CaseStatus.VERIFIED if data.passed else None
    return _STATUS_OF.get(type(data))


def event_id_for(incident_id: uuid.UUID, step: str) -> str:
    """Deterministic event id, so that a redelivered command produces the same event again.

    `str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{incident_id}/{step}"))`, computed without the two
    UUID objects, which cost more than the hash on intake's busiest path.
    """
    name = f"{incident_id}/{step}".encode()
    digest = bytearray(hashlib.sha1(EVENT_ID_NAMESPACE.bytes + name).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
