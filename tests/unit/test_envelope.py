"""CloudEvents binary mode: what goes out comes back, and what cannot be read is poison."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common import envelope, events


@dataclass
class Record:
    key: bytes | None
    value: bytes | None
    headers: Any
    topic: str = "t"
    partition: int = 0
    offset: int = 0


def reported() -> envelope.CloudEvent:
    data = events.IncidentReported(
        incident_id=uuid.uuid4(),
        occurred_at=datetime(2026, 11, 27, 8, 30, tzinfo=UTC),
        channel=events.Channel.HOTLINE,
        category="neighbour_dispute",
        description="noise",
        household_id="H0001",
    )
    return envelope.new_event(
        event_id=events.event_id_for(data.incident_id, "reported"), source="test", data=data
    )


def test_round_trip_keeps_attributes_and_data() -> None:
    event = reported()
    out = envelope.encode(event)
    back = envelope.decode(Record(out.key, out.value, out.headers))
    assert back == event
    assert out.key == str(event.data.incident_id).encode()
    assert dict(out.headers)["ce_type"] == b"gridloop.incident.reported.v1"


def test_event_ids_are_deterministic_per_step() -> None:
    incident = uuid.uuid4()
    assert events.event_id_for(incident, "assigned/1") == events.event_id_for(
        incident, "assigned/1"
    )
    assert events.event_id_for(incident, "assigned/1") != events.event_id_for(
        incident, "assigned/2"
    )


@given(incident=st.uuids(), step=st.text())
def test_event_ids_are_the_uuid5_of_incident_and_step(incident: uuid.UUID, step: str) -> None:
    expected = uuid.uuid5(events.EVENT_ID_NAMESPACE, f"{incident}/{step}")
    assert events.event_id_for(incident, step) == str(expected)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h, v: (h, b"{not json"), "not JSON"),
        (
            lambda h, v: ([(k, b"x.v9" if k == "ce_type" else x) for k, x in h], v),
            "unknown event type",
        ),
        (
            lambda h, v: ([(k, x) for k, x in h if k != "ce_id"], v),
            "missing CloudEvents attributes: id",
        ),
        (lambda h, v: (h, b'{"incident_id": "nope"}'), "does not match"),
        (
            lambda h, v: ([(k, b"0.3" if k == "ce_specversion" else x) for k, x in h], v),
            "unsupported specversion",
        ),
    ],
)
def test_unreadable_records_are_poison_with_a_reason(mutate: Any, reason: str) -> None:
    out = envelope.encode(reported())
    headers, value = mutate(out.headers, out.value)
    with pytest.raises(envelope.PoisonMessage, match=reason):
        envelope.decode(Record(out.key, value, headers))
