"""GeoReport v2 contract: every endpoint answers with the specification's field names.

GET requests/{id}.json and GET requests.json?service_request_id= run here against the real
ledger (`GET /v1/incidents/{id}`). The filtered GET requests.json needs the ledger's list
endpoint, which is tested against a fake ledger in tests/unit/intake/test_ledger_adapter.py.
"""

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from services.common import events
from services.common.categories import CATALOGUE
from services.intake import statuses
from tests.integration.intake import helpers
from tests.integration.intake.conftest import Stack
from tests.integration.intake.georeport import (
    CREATED_FIELDS,
    REQUEST_FIELDS,
    SERVICE_FIELDS,
    open311,
    post_request,
)
from tests.integration.intake.helpers import Integrator


def test_services_lists_the_category_catalogue_without_a_key(stack: Stack) -> None:
    answer = httpx.get(f"{open311(stack)}/services.json")
    assert answer.status_code == 200
    services = answer.json()
    assert {service["service_code"] for service in services} == set(CATALOGUE)
    for service in services:
        assert set(service) == SERVICE_FIELDS
        assert service["type"] in {"realtime", "batch", "blackbox"}
        assert service["metadata"] is False


def test_posting_a_request_answers_with_its_id_and_notice(stack: Stack, city: Integrator) -> None:
    answer = post_request(
        stack,
        city,
        service_code="garden_encroachment",
        lat="30.61",
        long="120.61",
        description="公共绿地被开垦种菜",
        first_name="Li",
        email="li@example.org",
        phone="13712345678",
        **{"attribute[size]": "large"},
    )
    assert answer.status_code == 200, answer.text
    [created] = answer.json()
    assert set(created) == CREATED_FIELDS
    uuid.UUID(created["service_request_id"])
    assert created["service_notice"]


@pytest.mark.parametrize(
    ("fields", "status", "says"),
    [
        ({"lat": "30", "long": "120"}, 400, "service_code"),
        ({"service_code": "ufo", "lat": "30", "long": "120"}, 404, "not found"),
        ({"service_code": "clutter"}, 400, "location is required"),
        ({"service_code": "clutter", "lat": "30"}, 400, "lat and long"),
        ({"service_code": "clutter", "lat": "300", "long": "120"}, 400, "lat"),
        ({"service_code": "clutter", "address_string": "x", "jurisdiction_id": "x"}, 404, "x"),
    ],
)
def test_bad_requests_get_the_specification_error_list(
    stack: Stack, city: Integrator, fields: dict[str, str], status: int, says: str
) -> None:
    answer = post_request(stack, city, **fields)
    assert answer.status_code == status
    [error] = answer.json()
    assert set(error) == {"code", "description"}
    assert error["code"] == status and says in error["description"]


def test_posting_without_a_key_gets_401_in_the_specification_error_format(stack: Stack) -> None:
    answer = httpx.post(f"{open311(stack)}/requests.json", data={"service_code": "clutter"})
    assert answer.status_code == 401
    assert answer.json()[0]["code"] == 401


async def test_a_request_is_open_while_handled_and_closed_once_closed(
    stack: Stack, city: Integrator
) -> None:
    created = post_request(stack, city, service_code="wall_seepage", address_id="H0100")
    request_id = created.json()[0]["service_request_id"]
    url = f"{open311(stack)}/requests/{request_id}.json"
    key = {"api_key": city.api_key}

    async with httpx.AsyncClient() as client:

        async def with_note(note: str) -> dict | None:
            answer = await client.get(url, params=key)
            assert answer.status_code == 200, answer.text
            [request] = answer.json()
            # The whole note: a reported case's ("received; being assigned to a grid") also
            # holds the word "assigned".
            return request if request["status_notes"] == note else None

        assigned = await helpers.wait_until(
            lambda: with_note(statuses.NOTES[events.CaseStatus.ASSIGNED]),
            within_s=30,
            what="the ledger to show the assignment",
        )
        assert set(assigned) == REQUEST_FIELDS
        assert assigned["status"] == "open"
        assert assigned["service_code"] == "wall_seepage"
        assert assigned["service_name"] == CATALOGUE["wall_seepage"].title
        assert assigned["address_id"] == "H0100"
        assert assigned["requested_datetime"].endswith(("Z", "+00:00"))
        assert assigned["agency_responsible"].startswith("grid ")

        closed = events.IncidentClosed(
            incident_id=uuid.UUID(request_id), occurred_at=datetime.now(UTC), closed_by="G01-L"
        )
        await helpers.publish_lifecycle(stack.env, closed, "closed")

        async def is_closed() -> bool:
            [request] = (await client.get(url, params=key)).json()
            return request["status"] == "closed"

        await helpers.wait_until(is_closed, within_s=30, what="the request to show closed")


def test_requests_by_id_lists_only_the_callers_own(stack: Stack, city: Integrator) -> None:
    mine = post_request(stack, city, service_code="clutter", address_string="3 号楼")
    other = helpers.issue_key(stack, integrator_id="co-governance-app")
    theirs = post_request(stack, other, service_code="clutter", address_string="5 号楼")
    ids = [mine.json()[0]["service_request_id"], theirs.json()[0]["service_request_id"]]
    listed = httpx.get(
        f"{open311(stack)}/requests.json",
        params={"service_request_id": ",".join(ids)},
        headers=city.headers,
    )
    assert listed.status_code == 200
    assert [request["service_request_id"] for request in listed.json()] == ids[:1]
    assert set(listed.json()[0]) == REQUEST_FIELDS
    not_mine = httpx.get(f"{open311(stack)}/requests/{ids[1]}.json", headers=city.headers)
    assert not_mine.status_code == 404
    assert not_mine.json()[0]["code"] == 404


def test_reading_requests_needs_a_key_scoped_for_open311(stack: Stack) -> None:
    reporter_only = helpers.issue_key(stack, integrator_id="no-open311", operations=["report"])
    url = f"{open311(stack)}/requests/{uuid.uuid4()}.json"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers=reporter_only.headers).status_code == 403
