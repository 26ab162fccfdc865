"""GeoReport v2 XML: the JSON rows as the specification's elements, escaped, in UTF-8."""

from xml.etree import ElementTree

from hypothesis import given
from hypothesis import strategies as st

from services.intake.open311 import xml_format

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def read(document: bytes) -> ElementTree.Element:
    assert document.startswith(DECLARATION)
    return ElementTree.fromstring(document)


def test_a_list_is_a_root_element_holding_one_element_per_item_named_as_in_json() -> None:
    rows = [{"service_code": "clutter", "metadata": False}, {"service_code": "wall_seepage"}]
    root = read(xml_format.document(xml_format.SERVICES, rows))
    assert root.tag == "services"
    assert [item.tag for item in root] == ["service", "service"]
    assert [[field.tag for field in item] for item in root] == [
        ["service_code", "metadata"],
        ["service_code"],
    ]


def test_null_is_an_empty_element_booleans_are_lowercase_and_numbers_as_json_writes_them() -> None:
    rows = [{"token": None, "metadata": True, "closed": False, "lat": 30.27, "code": 404}]
    [item] = read(xml_format.document(xml_format.SERVICE_REQUESTS, rows))
    assert {field.tag: field.text for field in item} == {
        "token": None,
        "metadata": "true",
        "closed": "false",
        "lat": "30.27",
        "code": "404",
    }


def test_markup_and_chinese_text_are_escaped_and_written_as_utf8() -> None:
    description = "门前 <b>乱堆</b> & \"boxes\" ]]> 'here'\r\nnext line"
    document = xml_format.document(xml_format.ERRORS, [{"description": description}])
    assert "门前".encode() in document and b"&#" not in document.replace(b"&#13;", b"")
    assert b"&lt;b&gt;" in document and b"&amp;" in document
    [[field]] = read(document)
    assert field.text == description


def test_characters_xml_cannot_carry_read_as_the_replacement_character() -> None:
    document = xml_format.document(xml_format.ERRORS, [{"description": "a\x00b\x0bc\ud800d"}])
    [[field]] = read(document)
    assert field.text == "a\ufffdb\ufffdc\ufffdd"


def test_an_empty_list_is_an_empty_root() -> None:
    root = read(xml_format.document(xml_format.SERVICE_REQUESTS, []))
    assert root.tag == "service_requests" and len(root) == 0


@given(text=st.text())
def test_any_text_reads_back_as_written_but_for_what_xml_cannot_carry(text: str) -> None:
    [[field]] = read(xml_format.document(xml_format.SERVICE_REQUESTS, [{"description": text}]))
    assert (field.text or "") == xml_format.NOT_IN_XML.sub("\ufffd", text)
