"""GeoReport v2 in XML against the real stack: every endpoint answers the specification's
elements, with the content, statuses and refusals of its JSON twin for the same request.

Reads go through the running ledger, so a test waits until the ledger shows its requests
assigned (their state then holds still) before comparing the two formats.
"""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.common import events
from tests.integration.intake import helpers
from tests.integration.intake.conftest import Stack
from tests.integration.intake.georeport import (
    CREATED_FIELDS,
    REQUEST_FIELDS,
    SERVICE_FIELDS,
    Row,
    as_xml,
    open311,
    post_request,
    xml_errors,
    xml_rows,
)
from tests.integration.intake.helpers import Integrator

PHONE = "13712345678"
NOBODYS = "00000000-0000-4000-8000-000000000311"  # nobody's request
DESCRIPTION = '墙面渗水 <water> & "damp" ]]> on the 3rd floor\r\nsecond line'
ASSIGNED = "assigned"


@pytest.fixture(scope="module")
def platform(stack: Stack) -> Integrator:
    """A platform whose requests only this module posts; polling stays under its rate limit."""
    return helpers.issue_key(stack, integrator_id="xml-platform", rate_limit_per_minute=100_000)


def requests_of(answer: httpx.Response) -> list[Row]:
    assert answer.status_code == 200, answer.text
    return xml_rows(answer, root="service_requests", item="request")


async def when_assigned(stack: Stack, integrator: Integrator, *ids: str) -> None:
    """Wait until the ledger shows every one of `ids` assigned, read through requests.xml."""
    url = f"{open311(stack)}/requests.xml"
    wanted = {"service_request_id": ",".join(ids), "api_key": integrator.api_key}
    async with httpx.AsyncClient() as client:

        async def all_assigned() -> bool:
            found = requests_of(await client.get(url, params=wanted))
            notes = [request["status_notes"] or "" for request in found]
            return len(found) == len(ids) and all(ASSIGNED in note for note in notes)

        await helpers.wait_until(all_assigned, within_s=30, what=f"{ids} shown assigned")


def test_services_xml_lists_what_services_json_lists(stack: Stack) -> None:
    as_json = httpx.get(f"{open311(stack)}/services.json").json()
    answer = httpx.get(f"{open311(stack)}/services.xml")
    assert answer.status_code == 200
    services = xml_rows(answer, root="services", item="service")
    assert services == as_xml(as_json)
    assert [list(service) for service in services] == [list(service) for service in as_json]
    assert all(set(service) == SERVICE_FIELDS for service in services)
    assert {service["metadata"] for service in services} == {"false"}


async def test_a_request_posted_as_xml_reads_back_as_json_reads_it(
    stack: Stack, platform: Integrator
) -> None:
    answer = post_request(
        stack,
        platform,
        fmt="xml",
        service_code="wall_seepage",
        address_id="H0101",
        description=DESCRIPTION,
        first_name="Xiaoming",
        phone=PHONE,
        **{"attribute[floor]": "3"},
    )
    [created] = requests_of(answer)
    assert set(created) == CREATED_FIELDS
    assert created["service_notice"] and created["token"] is None
    request_id = str(uuid.UUID(created["service_request_id"] or ""))
    await when_assigned(stack, platform, request_id)

    url = f"{open311(stack)}/requests/{request_id}"
    as_json = httpx.get(f"{url}.json", params={"api_key": platform.api_key})
    xml_answer = httpx.get(f"{url}.xml", params={"api_key": platform.api_key})
    [request] = requests_of(xml_answer)
    assert [request] == as_xml(as_json.json())
    assert list(request) == list(as_json.json()[0]) and set(request) == REQUEST_FIELDS
    assert request["description"] == DESCRIPTION  # markup, Chinese and CR LF read back intact
    assert "墙面渗水".encode() in xml_answer.content and b"&lt;water&gt;" in xml_answer.content
    assert (request["status"], request["service_code"], request["address_id"]) == (
        "open",
        "wall_seepage",
        "H0101",
    )
    for text in (answer.text, xml_answer.text):
        assert PHONE not in text and "Xiaoming" not in text


async def test_text_xml_cannot_carry_reads_as_the_replacement_character(
    stack: Stack, platform: Integrator
) -> None:
    created = post_request(
        stack, platform, service_code="safety_hazard", address_id="H0102", description="a\x0bb"
    )
    request_id = created.json()[0]["service_request_id"]
    await when_assigned(stack, platform, request_id)
    url = f"{open311(stack)}/requests/{request_id}"
    [as_json] = httpx.get(f"{url}.json", headers=platform.headers).json()
    [request] = requests_of(httpx.get(f"{url}.xml", headers=platform.headers))
    assert as_json["description"] == "a\x0bb" and request["description"] == "a\ufffdb"


async def test_requests_xml_filters_as_requests_json_does(stack: Stack) -> None:
    filtering = helpers.issue_key(stack, integrator_id="xml-filters", rate_limit_per_minute=100_000)
    ids = []
    for code, household in (("wall_seepage", "H0103"), ("clutter", "H0104")):
        answer = post_request(stack, filtering, fmt="xml", service_code=code, address_id=household)
        [created] = requests_of(answer)
        ids.append(created["service_request_id"] or "")
    seepage_id, clutter_id = ids
    await when_assigned(stack, filtering, *ids)
    closed = events.IncidentClosed(
        incident_id=uuid.UUID(clutter_id), occurred_at=datetime.now(UTC), closed_by="G01-L"
    )
    await helpers.publish_lifecycle(stack.env, closed, "closed")
    url = f"{open311(stack)}/requests"
    key = {"api_key": filtering.api_key}

    async def clutter_closed() -> bool:
        found = requests_of(httpx.get(f"{url}.xml", params={**key, "status": "closed"}))
        return [request["service_request_id"] for request in found] == [clutter_id]

    await helpers.wait_until(clutter_closed, within_s=30, what="the clutter request closed")

    def listed(**query: str) -> list[str]:
        """The ids requests.xml lists for `query`, checked against what requests.json says."""
        as_json = httpx.get(f"{url}.json", params={**key, **query}).json()
        found = requests_of(httpx.get(f"{url}.xml", params={**key, **query}))
        assert found == as_xml(as_json), query
        return sorted(request["service_request_id"] or "" for request in found)

    everything = sorted(ids)
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert listed() == everything
    assert listed(status="open") == [seepage_id]
    assert listed(status="open,closed") == everything
    assert listed(service_code="wall_seepage") == [seepage_id]
    assert listed(service_code="clutter,wall_seepage") == everything
    assert listed(start_date=an_hour_ago, service_code="clutter") == [clutter_id]
    assert listed(end_date="2020-01-01T00:00:00Z") == []
    assert listed(end_date="0001-01-05T00:02:00Z") == []  # its default span starts before 0001
    assert listed(service_request_id=f"{clutter_id},{NOBODYS}") == [clutter_id]


@pytest.fixture(scope="module")
def keys(stack: Stack, platform: Integrator) -> dict[str, dict[str, str]]:
    """The form or query field that carries each kind of key."""
    reporter_only = helpers.issue_key(stack, integrator_id="xml-reporter", operations=["report"])
    return {
        "valid": {"api_key": platform.api_key},
        "none": {},
        "wrong": {"api_key": "not-a-key"},
        "out_of_scope": {"api_key": reporter_only.api_key},
    }


LOCATED = {"service_code": "clutter", "address_string": "5 号楼"}


@pytest.mark.parametrize(
    ("method", "resource", "key", "fields", "status", "says"),
    [
        ("POST", "requests", "valid", {"lat": "30", "long": "120"}, 400, "service_code"),
        ("POST", "requests", "valid", {**LOCATED, "service_code": "ufo"}, 404, "'ufo' not found"),
        ("POST", "requests", "valid", {"service_code": "clutter"}, 400, "location is required"),
        ("POST", "requests", "valid", {**LOCATED, "lat": "30"}, 400, "lat and long"),
        ("POST", "requests", "valid", {**LOCATED, "phone": "137 1234 567x"}, 400, "phone"),
        ("POST", "requests", "valid", {**LOCATED, "jurisdiction_id": "x<&区"}, 404, "'x<&区'"),
        ("POST", "requests", "none", LOCATED, 401, "API key is required"),
        ("POST", "requests", "wrong", LOCATED, 401, ""),
        ("POST", "requests", "out_of_scope", LOCATED, 403, ""),
        ("GET", "requests", "valid", {"status": "pending"}, 400, "open or closed"),
        ("GET", "requests", "valid", {"start_date": "0001-01-01T00:00:01+00:01"}, 400, "range"),
        ("GET", "requests", "valid", {"end_date": "0001-01-01T00:00:01+00:01"}, 400, "range"),
        ("GET", "requests", "valid", {"service_code": "ufo"}, 400, "unknown service_code ufo"),
        ("GET", "requests", "valid", {"service_request_id": "nope"}, 400, "'nope' is not"),
        ("GET", "requests", "wrong", {}, 401, ""),
        ("GET", f"requests/{NOBODYS}", "valid", {}, 404, NOBODYS),
        ("GET", "requests/not-an-id", "valid", {}, 400, "service_request_id"),
        ("GET", f"requests/{NOBODYS}", "out_of_scope", {}, 403, ""),
        ("GET", "services", "none", {"jurisdiction_id": "elsewhere"}, 404, "'elsewhere'"),
    ],
)
def test_refusals_in_xml_are_those_of_json(
    stack: Stack,
    keys: dict[str, dict[str, str]],
    method: str,
    resource: str,
    key: str,
    fields: dict[str, str],
    status: int,
    says: str,
) -> None:
    sent = {**keys[key], **fields}
    as_json, xml_answer = (
        httpx.request(
            method,
            f"{open311(stack)}/{resource}.{fmt}",
            data=sent if method == "POST" else None,
            params=sent if method == "GET" else None,
        )
        for fmt in ("json", "xml")
    )
    assert (as_json.status_code, xml_answer.status_code) == (status, status), xml_answer.text
    errors = xml_errors(xml_answer)
    assert errors == as_xml(as_json.json())
    assert errors[0]["code"] == str(status) and says in (errors[0]["description"] or "")
    assert xml_answer.headers.get("www-authenticate") == as_json.headers.get("www-authenticate")
    assert "1234 567" not in xml_answer.text  # a rejected phone is not echoed


@pytest.mark.parametrize(
    ("method", "resource"),
    [
        ("GET", "services.csv"),
        ("GET", "services"),
        ("POST", "requests.csv"),
        ("GET", "requests.html"),
        ("GET", f"requests/{NOBODYS}.yaml"),
    ],
)
def test_a_format_other_than_xml_or_json_is_not_found(
    stack: Stack, platform: Integrator, method: str, resource: str
) -> None:
    answer = httpx.request(method, f"{open311(stack)}/{resource}", headers=platform.headers)
    assert answer.status_code == 404
    [error] = answer.json()
    assert error["code"] == 404 and "each as .xml or .json" in error["description"]


def test_a_resource_not_offered_is_not_found_in_xml(stack: Stack) -> None:
    answer = httpx.get(f"{open311(stack)}/services/clutter.xml")
    assert answer.status_code == 404
    [error] = xml_errors(answer)
    assert error["code"] == "404" and "no such resource" in (error["description"] or "")
