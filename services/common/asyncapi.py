"""The AsyncAPI description of gridloop's topics, generated from the event models.

`python -m services.common.asyncapi > docs/asyncapi.json` rewrites the committed document;
a test fails when the models and the document disagree.
"""

import json
from typing import Any

from services.common import events
from services.common.settings import InfraSettings

REPORT_TYPES = ("reported", "merged", "feedback")


def _message_name(event_type: str) -> str:
    return event_type.removeprefix("gridloop.incident.").replace(".", "_")


def document() -> dict[str, Any]:
    """AsyncAPI 3.0: one channel per topic, one message per versioned event type."""
    defaults = InfraSettings.model_fields
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    by_channel: dict[str, dict[str, Any]] = {"reports": {}, "lifecycle": {}}
    for event_type, model in sorted(events.EVENT_TYPES.items()):
        name = _message_name(event_type)
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        messages[name] = {
            "name": event_type,
            "title": model.__name__,
            "summary": (model.__doc__ or model.__name__).strip().splitlines()[0],
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
            "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
            "bindings": {"kafka": {"key": {"type": "string", "format": "uuid"}}},
        }
        kind = event_type.split(".")[2]
        channel = "reports" if kind in REPORT_TYPES else "lifecycle"
        by_channel[channel][name] = {"$ref": f"#/components/messages/{name}"}
    schemas["CloudEventHeaders"] = _headers()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "gridloop events",
            "version": "1",
            "description": "CloudEvents 1.0 in Kafka binary content mode, keyed by incident id.",
        },
        "defaultContentType": "application/json",
        "channels": {
            "reports": {
                "address": defaults["topic_reports"].default,
                "description": "intake → dispatch, ledger",
                "messages": by_channel["reports"],
            },
            "lifecycle": {
                "address": defaults["topic_lifecycle"].default,
                "description": "dispatch → ledger and any subscriber",
                "messages": by_channel["lifecycle"],
            },
            "deadletters": {
                "address": defaults["topic_dead_letters"].default,
                "description": "records no consumer could process; the reason is "
                "in the dlq_reason header",
            },
        },
        "components": {"messages": messages, "schemas": schemas},
    }


def _headers() -> dict[str, Any]:
    names = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time")
    return {
        "type": "object",
        "required": list(names[:4]),
        "properties": {name: {"type": "string"} for name in names},
    }


def render() -> str:
    """The document as stable, indented JSON."""
    return json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
