"""What each event does to a case's state (the status itself is set by `events.status_after`).

Pure. A report only fills fields that lifecycle events never read, so it commutes with them.
Status notes are short and never carry personal data: they come from officers' results and
reasons, never from the reporter.
"""

from datetime import datetime

from services.common import events
from services.common.events import CaseStatus, Rung, Stage
from services.ledger.domain.state import CaseState

NOTE_LENGTH = 200


def _note(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= NOTE_LENGTH else text[: NOTE_LENGTH - 1] + "…"


def _first(current: datetime | None, moment: datetime) -> datetime:
    return current if current is not None else moment


def place_key(data: events.IncidentReported) -> str | None:
    """Where the case is, for recurrence: the household, camera, address or ~100 m square."""
    if data.household_id:
        return f"household:{data.household_id}"
    if data.camera_id:
        return f"camera:{data.camera_id}"
    if data.address:
        return "address:" + " ".join(data.address.lower().split())
    if data.location:
        return f"point:{data.location.lat:.3f},{data.location.lon:.3f}"
    return None


def reported(state: CaseState, data: events.IncidentReported) -> None:
    if state.has_report:
        return  # a second report is an anomaly; the first one stands
    state.has_report = True
    state.category, state.channel = data.category, data.channel.value
    state.description, state.address = data.description, data.address
    if data.location:
        state.lat, state.lon = data.location.lat, data.location.lon
    state.household_id, state.camera_id = data.household_id, data.camera_id
    state.grid_id = state.grid_id or data.grid_id
    state.place_key = place_key(data)
    state.source_system, state.external_id = data.source_system, data.external_id
    state.reported_by = data.reported_by
    state.reporter_phone_masked = data.reporter_phone_masked
    state.reported_at = data.occurred_at


def merged(state: CaseState, data: events.IncidentMerged) -> None:
    state.merged_reports += 1


def feedback(state: CaseState, data: events.IncidentFeedback) -> None:
    state.rating, state.rated_at = data.rating.value, data.occurred_at


def assigned(state: CaseState, data: events.IncidentAssigned) -> None:
    state.grid_id = data.grid_id or state.grid_id
    state.assignee_id, state.rung = data.assignee_id, data.rung.value
    state.co_handler_ids = data.co_handler_ids
    state.assignment_reason, state.attempt = data.reason, data.attempt
    if data.rung == Rung.LINKED_MEMBER and data.assignee_id:
        state.linked_member_id = data.assignee_id
    if state.first_assigned_at is None:
        state.first_acknowledge_due_at = data.acknowledge_due_at
    state.first_assigned_at = _first(state.first_assigned_at, data.occurred_at)
    state.assigned_at = data.occurred_at
    state.acknowledge_due_at = data.acknowledge_due_at
    state.resolve_due_at = data.resolve_due_at or state.resolve_due_at
    if state.first_resolved_at is None:
        state.handling_deadline = state.resolve_due_at
    if data.rung == Rung.TOWN:
        state.transferred_at = _first(state.transferred_at, data.occurred_at)
    state.red_stage = None
    state.status_note = _note(data.reason)


def accepted(state: CaseState, data: events.IncidentAccepted) -> None:
    state.acknowledged_at = _first(state.acknowledged_at, data.occurred_at)
    state.acknowledge_due_at = None
    if state.red_stage == Stage.ACKNOWLEDGE.value:
        state.red_stage = None
    state.status_note = "accepted by the handler"


def started(state: CaseState, data: events.IncidentStarted) -> None:
    state.status_note = "work on site started"


def co_handler_added(state: CaseState, data: events.IncidentCoHandlerAdded) -> None:
    if data.member_id not in state.co_handler_ids:
        state.co_handler_ids = (*state.co_handler_ids, data.member_id)


def resolved(state: CaseState, data: events.IncidentResolved) -> None:
    if state.first_resolved_at is None:
        state.handling_deadline = state.resolve_due_at
    state.first_resolved_at = _first(state.first_resolved_at, data.occurred_at)
    state.resolved_at, state.resolved_by = data.occurred_at, data.member_id
    state.acknowledge_due_at, state.red_stage = None, None
    state.status_note = _note(data.result)


def escalated(state: CaseState, data: events.IncidentEscalated) -> None:
    state.escalation_count += 1
    state.status_note = _note(data.reason)


def deadline_warned(state: CaseState, data: events.IncidentDeadlineWarned) -> None:
    if data.level == "red":
        state.red_stage = data.stage.value
        state.first_red_at = _first(state.first_red_at, data.occurred_at)


def extended(state: CaseState, data: events.IncidentExtended) -> None:
    state.extension_count += 1
    state.first_extended_at = _first(state.first_extended_at, data.occurred_at)
    state.resolve_due_at = data.resolve_due_at
    if state.first_resolved_at is None:
        state.handling_deadline = data.resolve_due_at
    if state.red_stage == Stage.RESOLVE.value:
        state.red_stage = None


def extension_refused(state: CaseState, data: events.IncidentExtensionRefused) -> None:
    """The clock restarts with what was left: the due time moves by the paused time."""
    state.resolve_due_at = data.resolve_due_at
    if state.first_resolved_at is None:
        state.handling_deadline = data.resolve_due_at


def parked(state: CaseState, data: events.IncidentParked) -> None:
    state.parked, state.parked_at = True, data.occurred_at


def unparked(state: CaseState, data: events.IncidentUnparked) -> None:
    state.parked = False


def verified(state: CaseState, data: events.IncidentVerified) -> None:
    state.first_verified_at = _first(state.first_verified_at, data.occurred_at)
    state.verified_at, state.verification_passed = data.occurred_at, data.passed
    if data.rating is not None:
        state.rating, state.rated_at = data.rating.value, data.occurred_at
    outcome = "passed" if data.passed else "failed"
    state.status_note = f"verification by {data.method} {outcome}"


def closed(state: CaseState, data: events.IncidentClosed) -> None:
    state.first_closed_at = _first(state.first_closed_at, data.occurred_at)
    state.closed_at = data.occurred_at
    state.status_note = "closed after verification"


def reopened(state: CaseState, data: events.IncidentReopened) -> None:
    if state.status == CaseStatus.CLOSED.value:
        state.reopened_after_close_at = _first(state.reopened_after_close_at, data.occurred_at)
    state.rework_count += 1
    state.first_reopened_at = _first(state.first_reopened_at, data.occurred_at)
    state.acknowledge_due_at = state.resolve_due_at = None  # the next assignment sets them
    state.red_stage = None
    state.status_note = _note(data.reason)


def cancelled(state: CaseState, data: events.IncidentCancelled) -> None:
    state.cancelled_at = _first(state.cancelled_at, data.occurred_at)
    state.status_note = _note(data.reason)


def nothing(state: CaseState, data: events.EventPayload) -> None:
    """Declines and progress notes are recorded; the state does not change."""
