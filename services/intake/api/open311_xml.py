"""GeoReport v2 answers in XML: what FastAPI serialises for JSON, written as XML elements."""

from typing import Any, ClassVar

from pydantic import BaseModel
from starlette.responses import Response

from services.intake.open311 import xml_format


class GeoReportXml(Response):
    """An answer as FastAPI serialises it (a list of field mappings), written as `shape`."""

    media_type = "text/xml"  # Starlette adds `; charset=utf-8`, as the specification asks
    shape: ClassVar[xml_format.Shape]

    def render(self, content: Any) -> bytes:
        return xml_format.document(self.shape, content)


class ServicesXml(GeoReportXml):
    shape = xml_format.SERVICES


class ServiceRequestsXml(GeoReportXml):
    shape = xml_format.SERVICE_REQUESTS


class ErrorsXml(GeoReportXml):
    shape = xml_format.ERRORS


def schema(shape: xml_format.Shape, model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI schema of a `shape` document of `model` items, naming its elements."""
    return {
        "type": "array",
        "xml": {"name": shape.root, "wrapped": True},
        "items": {"$ref": f"#/components/schemas/{model.__name__}", "xml": {"name": shape.item}},
    }
