"""No mass assignment: every JSON request body of the three services refuses unknown fields."""

from typing import Any

import pytest
from fastapi import FastAPI

from services.dispatch import api as dispatch_api
from services.dispatch.settings import DispatchSettings
from services.intake import api as intake_api
from services.intake.settings import IntakeSettings
from services.ledger.api import create_app as ledger_app
from services.ledger.settings import LedgerSettings


def apps() -> dict[str, FastAPI]:
    return {
        "dispatch": dispatch_api.create_app(DispatchSettings()),
        "intake": intake_api.create_app(IntakeSettings()),
        "ledger": ledger_app(LedgerSettings()),
    }


def resolved(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """The schema behind a `$ref` (or the schema itself)."""
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def open_objects(schema: dict[str, Any], document: dict[str, Any], seen: set[str]) -> list[str]:
    """Titles of object schemas (this one and those nested in it) that accept unknown fields."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
    schema = resolved(schema, document)
    found = []
    if schema.get("type") == "object" and "properties" in schema:
        if schema.get("additionalProperties") is not False:
            found.append(schema.get("title", "?"))
    children = [*schema.get("properties", {}).values()]
    children += [schema["items"]] if isinstance(schema.get("items"), dict) else []
    children += schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", [])
    for child in children:
        if isinstance(child, dict):
            found += open_objects(child, document, seen)
    return found


@pytest.mark.parametrize("service", ["dispatch", "intake", "ledger"])
def test_every_json_body_forbids_unknown_fields(service: str) -> None:
    document = apps()[service].openapi()
    bodies = 0
    open_models = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            bodies += 1
            found = open_objects(content["application/json"]["schema"], document, set())
            if found:
                open_models[f"{method.upper()} {path}"] = found
    assert bodies > 0 or service == "ledger"
    assert not open_models, open_models
