"""The ledger projection, without IO."""

import uuid
from datetime import UTC, datetime

from services.common import envelope, events
from services.ledger import projection

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _event(data: events.EventPayload) -> envelope.CloudEvent:
    return envelope.new_event(event_id=str(uuid.uuid4()), source="test", data=data)


def test_projection_never_moves_status_backwards() -> None:
    incident = uuid.uuid4()
    assigned = _event(
        events.IncidentAssigned(
            incident_id=incident,
            occurred_at=NOW,
            grid_id="G01",
            assignee_id="P001",
            rung=events.Rung.LINKED_MEMBER,
            reason="linked",
        )
    )
    late_report = _event(
        events.IncidentReported(
            incident_id=incident,
            occurred_at=NOW,
            channel=events.Channel.PATROL,
            category="clutter",
            description="boxes",
            household_id="H0001",
        )
    )
    first = projection.changes(status_rank=0, event=assigned)
    assert first["status"] == "assigned" and first["assignee_id"] == "P001"
    second = projection.changes(status_rank=first["status_rank"], event=late_report)
    assert "status" not in second
    assert second["category"] == "clutter"


def test_transfer_out_is_its_own_status() -> None:
    transferred = _event(
        events.IncidentAssigned(
            incident_id=uuid.uuid4(),
            occurred_at=NOW,
            grid_id="G01",
            assignee_id=None,
            rung=events.Rung.TOWN,
            reason="nobody",
        )
    )
    assert projection.changes(status_rank=0, event=transferred)["status"] == "transferred"
