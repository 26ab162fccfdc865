"""GeoReport v2 in intake's tests: the specification's field names, its URLs, a form POST,
and an XML answer read back as the rows its JSON twin would hold."""

from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

import httpx

from tests.integration.intake.helpers import Integrator

if TYPE_CHECKING:
    from tests.integration.intake.conftest import Stack

SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords"}
SERVICE_FIELDS |= {"group"}
CREATED_FIELDS = {"service_request_id", "token", "service_notice", "account_id"}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
XML_CONTENT_TYPE = "text/xml; charset=utf-8"

Row = dict[str, str | None]


def open311(stack: "Stack") -> str:
    return f"{stack.intake.url}/open311/v2"


def post_request(
    stack: "Stack", integrator: Integrator, *, fmt: str = "json", **fields: str
) -> httpx.Response:
    """A form-encoded POST, with the key in the form as GeoReport clients send it."""
    form = {"api_key": integrator.api_key, "jurisdiction_id": "gridloop", **fields}
    return httpx.post(f"{open311(stack)}/requests.{fmt}", data=form)


def xml_rows(answer: httpx.Response, *, root: str, item: str) -> list[Row]:
    """The items of an XML answer, each as field name to text (None for an empty element),
    after checking the content type, the declaration and the element names."""
    assert answer.headers["content-type"] == XML_CONTENT_TYPE, answer.headers
    assert answer.content.startswith(XML_DECLARATION), answer.content[:80]
    document = ElementTree.fromstring(answer.content)
    assert document.tag == root, document.tag
    assert all(element.tag == item for element in document), [e.tag for e in document]
    return [{field.tag: field.text for field in element} for element in document]


def as_xml(rows: list[dict[str, Any]]) -> list[Row]:
    """JSON rows as the XML writes them: null empty, booleans `true`/`false`, the rest as text."""
    return [{name: _text(value) for name, value in row.items()} for row in rows]


def xml_errors(answer: httpx.Response) -> list[Row]:
    """The `<errors>` of an XML refusal, each with exactly a code and a description."""
    errors = xml_rows(answer, root="errors", item="error")
    assert errors and all(list(error) == ["code", "description"] for error in errors), errors
    return errors


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
