"""GeoReport v2 documents in the specification's XML. Pure.

The specification derives its JSON from its XML by the Spark convention, so the XML is the
same document read back: a list is a root element holding one element per item, each field
an element of the same name, null an empty element, booleans `true` and `false`.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from xml.etree import ElementTree

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
# Characters XML 1.0 cannot carry, not even as references; they read as U+FFFD instead.
NOT_IN_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Value = str | int | float | bool | None


@dataclass(frozen=True)
class Shape:
    """One kind of GeoReport list: its root element and the element of each item."""

    root: str
    item: str


SERVICES = Shape("services", "service")
SERVICE_REQUESTS = Shape("service_requests", "request")
ERRORS = Shape("errors", "error")


def document(shape: Shape, items: Iterable[Mapping[str, Value]]) -> bytes:
    """Items as JSON has them (field name to value) as one UTF-8 XML document."""
    root = ElementTree.Element(shape.root)
    for fields in items:
        item = ElementTree.SubElement(root, shape.item)
        for name, value in fields.items():
            ElementTree.SubElement(item, name).text = _text(value)
    body = ElementTree.tostring(root, encoding="unicode")
    # ElementTree writes a carriage return as it is, and XML parsers read that as a line
    # feed; written as a reference it survives (form posts send line breaks as CR LF).
    return (DECLARATION + body.replace("\r", "&#13;")).encode()


def _text(value: Value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_IN_XML.sub("\ufffd", str(value))
