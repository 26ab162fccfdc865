"""The current-state projection: how one event changes an incident's state. Pure."""

from typing import Any

from services.common import envelope, events

REPORTED_ONLY = 0
FROM_LIFECYCLE = 1


def changes(*, status_rank: int, event: envelope.CloudEvent) -> dict[str, Any]:
    """Field updates for one event.

    Lifecycle events of one incident arrive in order (one key, one partition), so each sets
    the status it leads to. The report travels on another topic and may arrive after them:
    it sets the status only while no lifecycle event has.
    """
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
    if status is None:
        return update
    if isinstance(data, events.IncidentReported):
        if status_rank == REPORTED_ONLY:
            update["status"] = status.value
    else:
        update["status"] = status.value
        update["status_rank"] = FROM_LIFECYCLE
    return update
