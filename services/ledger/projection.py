"""The current-state projection: how one event changes an incident's state. Pure."""

from typing import Any

from services.common import envelope, events

STATUS_RANK: dict[events.CaseStatus, int] = {
    events.CaseStatus.REPORTED: 0,
    events.CaseStatus.ASSIGNED: 1,
    events.CaseStatus.TRANSFERRED: 1,
    events.CaseStatus.ACCEPTED: 2,
    events.CaseStatus.RESOLVED: 3,
    events.CaseStatus.CLOSED: 4,
}


def changes(*, status_rank: int, event: envelope.CloudEvent) -> dict[str, Any]:
    """Field updates for one event; status only moves forward, so late arrivals don't undo it."""
    data = event.data
    update: dict[str, Any] = {}
    if isinstance(data, events.IncidentReported):
        update = {
            "category": data.category,
            "channel": data.channel.value,
            "household_id": data.household_id,
            "reported_at": data.occurred_at,
        }
        if data.grid_id:
            update["grid_id"] = data.grid_id
    elif isinstance(data, events.IncidentAssigned):
        update = {
            "grid_id": data.grid_id,
            "assignee_id": data.assignee_id,
            "rung": data.rung.value,
            "assignment_reason": data.reason,
            "assigned_at": data.occurred_at,
        }
    elif isinstance(data, events.IncidentAccepted):
        update = {"accepted_at": data.occurred_at}
    elif isinstance(data, events.IncidentResolved):
        update = {"resolved_at": data.occurred_at}
    status = events.status_after(data)
    if STATUS_RANK[status] >= status_rank:
        update["status"] = status.value
        update["status_rank"] = STATUS_RANK[status]
    return update
