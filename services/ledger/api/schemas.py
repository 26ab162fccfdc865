"""Response models of the ledger's read API (cases, timeline, anomalies, verification)."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from services.ledger.domain import chain, privacy, verifier
from services.ledger.domain.sequence import Anomaly
from services.ledger.domain.state import CaseState, is_overdue


class Location(BaseModel):
    lat: float
    lon: float


class IncidentSummary(BaseModel):
    """One case as lists show it (the contract Open311 is built on: keep its shape)."""

    incident_id: uuid.UUID
    status: str
    category: str | None
    channel: str | None
    description: str | None
    address: str | None
    location: Location | None
    household_id: str | None
    grid_id: str | None
    assignee_id: str | None
    co_handler_ids: list[str]
    source_system: str | None
    external_id: str | None
    reported_at: datetime | None
    updated_at: datetime | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    status_note: str | None
    overdue: bool
    rework_count: int
    merged_reports: int

    @classmethod
    def of(cls, state: CaseState, *, now: datetime) -> "IncidentSummary":
        """The summary of a case state at `now` (overdue depends on the time)."""
        return cls(**_summary_fields(state, now))


class IncidentPage(BaseModel):
    items: list[IncidentSummary]
    next_cursor: str | None


class TimelineEntry(BaseModel):
    seq: int
    event_id: str
    type: str
    source: str
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]

    @classmethod
    def of(cls, entry: chain.Entry) -> "TimelineEntry":
        """An entry as officers see it: the reporter token is never shown."""
        return cls(
            seq=entry.seq,
            event_id=entry.event_id,
            type=entry.type,
            source=entry.source,
            occurred_at=entry.occurred_at,
            recorded_at=entry.recorded_at,
            payload=privacy.officer_view(entry.payload),
        )


class AnomalyPublic(BaseModel):
    event_id: str
    incident_id: uuid.UUID
    seq: int
    event_type: str
    kind: str
    status_before: str
    expected: str
    detail: str
    occurred_at: datetime
    recorded_at: datetime

    @classmethod
    def of(cls, anomaly: Anomaly) -> "AnomalyPublic":
        return cls.model_validate(anomaly, from_attributes=True)


class IncidentDetail(IncidentSummary):
    """The summary, how it was assigned and handled, its timeline and its anomalies."""

    rung: str | None
    assignment_reason: str | None
    assigned_at: datetime | None
    accepted_at: datetime | None
    acknowledge_due_at: datetime | None
    resolve_due_at: datetime | None
    parked: bool
    escalation_count: int
    extension_count: int
    rating: str | None
    reporter_phone_masked: str | None
    timeline: list[TimelineEntry]
    anomalies: list[AnomalyPublic]


class AnomalyPage(BaseModel):
    items: list[AnomalyPublic]
    next_cursor: str | None


class HouseholdLedger(BaseModel):
    """民生台账: every case of one household, newest first, with counts by status."""

    household_id: str
    total: int
    by_status: dict[str, int]
    cases: list[IncidentSummary]


class Stats(BaseModel):
    total: int
    by_status: dict[str, int]


class BrokenLink(BaseModel):
    seq: int
    event_id: str
    incident_id: uuid.UUID
    chain: str
    reason: str


class ChainHead(BaseModel):
    seq: int
    hash: str


class VerificationPublic(BaseModel):
    ok: bool
    entries_checked: int
    head: ChainHead
    breaks_found: int
    first_break: BrokenLink | None
    breaks: list[BrokenLink]

    @classmethod
    def of(cls, result: verifier.Verification) -> "VerificationPublic":
        breaks = [BrokenLink.model_validate(b, from_attributes=True) for b in result.breaks]
        return cls(
            ok=result.ok,
            entries_checked=result.entries_checked,
            head=ChainHead(seq=result.head.position, hash=result.head.hash),
            breaks_found=result.breaks_found,
            first_break=breaks[0] if breaks else None,
            breaks=breaks,
        )


def _summary_fields(state: CaseState, now: datetime) -> dict[str, Any]:
    location = Location(lat=state.lat, lon=state.lon) if state.lat is not None else None
    return {
        "incident_id": state.incident_id,
        "status": state.status,
        "category": state.category,
        "channel": state.channel,
        "description": state.description,
        "address": state.address,
        "location": location,
        "household_id": state.household_id,
        "grid_id": state.grid_id,
        "assignee_id": state.assignee_id,
        "co_handler_ids": list(state.co_handler_ids),
        "source_system": state.source_system,
        "external_id": state.external_id,
        "reported_at": state.reported_at,
        "updated_at": state.updated_at,
        "acknowledged_at": state.acknowledged_at,
        "resolved_at": state.resolved_at,
        "closed_at": state.closed_at,
        "status_note": state.status_note,
        "overdue": is_overdue(state, now),
        "rework_count": state.rework_count,
        "merged_reports": state.merged_reports,
    }


def detail_of(
    state: CaseState, *, now: datetime, timeline: list[chain.Entry], anomalies: list[Anomaly]
) -> IncidentDetail:
    """The full view of one case."""
    return IncidentDetail(
        **_summary_fields(state, now),
        rung=state.rung,
        assignment_reason=state.assignment_reason,
        assigned_at=state.assigned_at,
        accepted_at=state.acknowledged_at,
        acknowledge_due_at=state.acknowledge_due_at,
        resolve_due_at=state.resolve_due_at,
        parked=state.parked,
        escalation_count=state.escalation_count,
        extension_count=state.extension_count,
        rating=state.rating,
        reporter_phone_masked=state.reporter_phone_masked,
        timeline=[TimelineEntry.of(entry) for entry in timeline],
        anomalies=[AnomalyPublic.of(anomaly) for anomaly in anomalies],
    )
