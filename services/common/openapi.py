"""Small additions to the OpenAPI documents FastAPI builds, shared by the services."""

from typing import Any

from fastapi import FastAPI

MALFORMED_BODY = {"description": "the body could not be parsed (not JSON, or not valid form data)"}


def document_malformed_bodies(app: FastAPI) -> None:
    """Every operation that takes a body may answer 400 when the body cannot be parsed."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for operations in schema["paths"].values():
            for operation in operations.values():
                if "requestBody" in operation:
                    operation["responses"].setdefault("400", MALFORMED_BODY)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
