"""The committed AsyncAPI document describes exactly the event models in the code."""

from pathlib import Path

from services.common import asyncapi, events

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"


def test_the_committed_document_is_generated_from_the_current_models() -> None:
    assert COMMITTED.read_text() == asyncapi.render(), (
        "docs/asyncapi.json is stale: run python -m services.common.asyncapi > docs/asyncapi.json"
    )


def test_every_event_type_is_a_message_on_exactly_one_channel() -> None:
    channels = asyncapi.document()["channels"]
    carried = [name for channel in channels.values() for name in channel.get("messages", {})]
    assert sorted(carried) == sorted(
        t.removeprefix("gridloop.incident.").replace(".", "_") for t in events.EVENT_TYPES
    )
    assert "reported_v1" in channels["reports"]["messages"]
    assert "assigned_v1" in channels["lifecycle"]["messages"]
