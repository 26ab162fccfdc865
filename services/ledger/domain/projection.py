"""The projection: fold a case's records, in the order they happened, into its state. Pure.

The fold runs in logical order (`records.logical_key`): the report first, then by time. The
live ledger applies a new record incrementally only when it extends that order (`extends`);
otherwise it re-folds the incident from all its records (`audit`), which replay also does,
so the live projection and a rebuilt one are the same by construction.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from services.common import events
from services.ledger.domain import effects, sequence
from services.ledger.domain.records import REPORTED, Record, in_logical_order
from services.ledger.domain.state import CaseState


def apply(state: CaseState, record: Record) -> list[sequence.Anomaly]:
    """Check `record` against the state machine, then let it change the state."""
    findings = sequence.check(state, record.data)
    status_before = state.status
    _EFFECTS[type(record.data)](state, record.data)
    status = events.status_after(record.data)
    if status is not None and record.type != REPORTED:
        state.status = status.value
    _bookkeep(state, record)
    return [
        sequence.Anomaly(
            event_id=record.event_id,
            incident_id=record.incident_id,
            seq=record.seq,
            event_type=record.type,
            kind=finding.kind,
            status_before=status_before,
            expected=finding.expected,
            detail=finding.detail,
            occurred_at=record.occurred_at,
            recorded_at=record.recorded_at,
        )
        for finding in findings
    ]


def extends(state: CaseState, records: Sequence[Record]) -> bool:
    """True when applying `records` in arrival order keeps the logical order of the fold.

    A first report commutes with everything else (it only fills fields that lifecycle
    events never read), so it may come at any point; any other record must not have
    happened before the last one applied.
    """
    has_report, last = state.has_report, state.last_occurred_at
    for record in records:
        if record.type == REPORTED:
            if has_report:
                return False
            has_report = True
            continue
        if last is not None and record.occurred_at < last:
            return False
        last = record.occurred_at
    return True


def audit(
    incident_id: uuid.UUID, records: Iterable[Record]
) -> tuple[CaseState, list[sequence.Anomaly]]:
    """The state of one case and every anomaly of its sequence, from all of its records."""
    arrived = sorted(records, key=lambda record: record.seq)
    state = CaseState(incident_id=incident_id)
    anomalies = _arrival_anomalies(arrived)
    for record in in_logical_order(arrived):
        anomalies.extend(apply(state, record))
    anomalies.sort(key=lambda anomaly: (anomaly.seq, anomaly.kind))
    return state, anomalies


def _arrival_anomalies(arrived: list[Record]) -> list[sequence.Anomaly]:
    """Lifecycle events of one incident share a partition, so they should arrive in order."""
    anomalies = []
    latest: Record | None = None
    for record in arrived:
        if not record.is_lifecycle:
            continue
        if latest is not None and record.occurred_at < latest.occurred_at:
            anomalies.append(
                sequence.Anomaly(
                    event_id=record.event_id,
                    incident_id=record.incident_id,
                    seq=record.seq,
                    event_type=record.type,
                    kind=sequence.OUT_OF_ORDER,
                    status_before="",
                    expected=f"to arrive before {latest.type} (seq {latest.seq})",
                    detail="arrived after an event that happened later",
                    occurred_at=record.occurred_at,
                    recorded_at=record.recorded_at,
                )
            )
        if latest is None or record.occurred_at >= latest.occurred_at:
            latest = record
    return anomalies


def _bookkeep(state: CaseState, record: Record) -> None:
    state.event_count += 1
    if state.first_seen_at is None or record.occurred_at < state.first_seen_at:
        state.first_seen_at = record.occurred_at
    if state.updated_at is None or record.recorded_at > state.updated_at:
        state.updated_at = record.recorded_at
    last = state.last_occurred_at
    if record.type != REPORTED and (last is None or record.occurred_at > last):
        state.last_occurred_at = record.occurred_at


Effect = Callable[[CaseState, Any], None]
_EFFECTS: dict[type[events.EventPayload], Effect] = {
    events.IncidentReported: effects.reported,
    events.IncidentMerged: effects.merged,
    events.IncidentFeedback: effects.feedback,
    events.IncidentAssigned: effects.assigned,
    events.IncidentAccepted: effects.accepted,
    events.IncidentDeclined: effects.nothing,
    events.IncidentStarted: effects.started,
    events.IncidentProgressNoted: effects.nothing,
    events.IncidentCoHandlerAdded: effects.co_handler_added,
    events.IncidentResolved: effects.resolved,
    events.IncidentEscalated: effects.escalated,
    events.IncidentDeadlineWarned: effects.deadline_warned,
    events.IncidentExtensionRequested: effects.nothing,
    events.IncidentExtensionRefused: effects.extension_refused,
    events.IncidentExtended: effects.extended,
    events.IncidentParked: effects.parked,
    events.IncidentUnparked: effects.unparked,
    events.IncidentVerified: effects.verified,
    events.IncidentClosed: effects.closed,
    events.IncidentReopened: effects.reopened,
    events.IncidentCancelled: effects.cancelled,
}
