"""CloudEvents 1.0 in Kafka binary content mode: `ce_*` headers for attributes, JSON data."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from services.common import events

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
REQUIRED_ATTRIBUTES = ("id", "source", "type", "specversion")


class PoisonMessage(Exception):
    """A record that can never be processed: it belongs in the dead-letter topic."""


@dataclass(frozen=True)
class CloudEvent:
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    data: events.EventPayload


@dataclass(frozen=True)
class KafkaRecordOut:
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class ConsumedRecord(Protocol):
    key: bytes | None
    value: bytes | None
    headers: Any
    topic: str
    partition: int
    offset: int


def new_event(*, event_id: str, source: str, data: events.EventPayload) -> CloudEvent:
    """Wrap a payload in an envelope whose subject is the incident id."""
    return CloudEvent(
        id=event_id,
        source=source,
        type=events.TYPE_OF[type(data)],
        subject=str(data.incident_id),
        time=datetime.now(UTC),
        data=data,
    )


def encode(event: CloudEvent) -> KafkaRecordOut:
    """Binary content mode: keyed by incident id so one incident's events stay in order."""
    headers = [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", event.id.encode()),
        ("ce_source", event.source.encode()),
        ("ce_type", event.type.encode()),
        ("ce_subject", event.subject.encode()),
        ("ce_time", event.time.isoformat().encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    return KafkaRecordOut(
        key=event.subject.encode(),
        value=event.data.model_dump_json().encode(),
        headers=headers,
    )


def decode(record: ConsumedRecord) -> CloudEvent:
    """Parse and validate a consumed record; raise PoisonMessage with the reason if it cannot be."""
    attributes = _attributes(record.headers)
    missing = [name for name in REQUIRED_ATTRIBUTES if name not in attributes]
    if missing:
        raise PoisonMessage(f"missing CloudEvents attributes: {', '.join(missing)}")
    if attributes["specversion"] != SPEC_VERSION:
        raise PoisonMessage(f"unsupported specversion {attributes['specversion']!r}")
    model = events.EVENT_TYPES.get(attributes["type"])
    if model is None:
        raise PoisonMessage(f"unknown event type {attributes['type']!r}")
    try:
        body = json.loads(record.value or b"")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PoisonMessage(f"value is not JSON: {error}") from error
    try:
        data = model.model_validate(body)
    except ValidationError as error:
        raise PoisonMessage(f"payload does not match {attributes['type']}: {error}") from error
    try:
        time = datetime.fromisoformat(attributes.get("time", ""))
    except ValueError as error:
        raise PoisonMessage(f"bad ce_time: {error}") from error
    return CloudEvent(
        id=attributes["id"],
        source=attributes["source"],
        type=attributes["type"],
        subject=attributes.get("subject", str(data.incident_id)),
        time=time,
        data=data,
    )


def _attributes(headers: Any) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for name, value in headers or ():
        if name.startswith("ce_") and value is not None:
            try:
                attributes[name[3:]] = value.decode()
            except UnicodeDecodeError as error:
                raise PoisonMessage(f"header {name} is not UTF-8") from error
    return attributes
