"""GeoReport v2 ↔ our model: services from the catalogue, requests to reports, cases to requests."""

import uuid
from datetime import UTC, datetime

import pytest

from services.common.categories import CATALOGUE
from services.intake.adapters.ledger_client import IncidentSummary
from services.intake.open311 import mapping
from services.intake.open311.schemas import ServiceRequestCreate

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def request(**fields: object) -> ServiceRequestCreate:
    return ServiceRequestCreate.model_validate({"service_code": "clutter", **fields})


def test_every_category_is_a_realtime_service_in_a_group() -> None:
    services = mapping.services()
    assert [service.service_code for service in services] == list(CATALOGUE)
    assert all(service.type == "realtime" and service.group != "other" for service in services)


def test_a_request_becomes_a_platform_report_and_names_stay_behind() -> None:
    report = mapping.to_report(
        request(
            lat=30.1,
            long=120.2,
            description="boxes",
            first_name="Li",
            last_name="Wei",
            email="li@example.org",
            phone="13712345678",
            media_url="https://photos.example.org/1.jpg",
            address_id="H0007",
        ),
        now=NOW,
    )
    assert report.channel.value == "platform" and report.category == "clutter"
    assert report.location is not None and (report.location.lat, report.location.lon) == (
        30.1,
        120.2,
    )
    assert report.household_id == "H0007"
    assert report.photos[0].ref.endswith("1.jpg")
    assert report.reporter is not None and report.reporter.phone == "13712345678"
    assert "Li" not in report.model_dump_json() and "example.org/1" in report.model_dump_json()


def test_a_request_without_a_description_is_described_by_its_service() -> None:
    report = mapping.to_report(request(address_string="3 号楼"), now=NOW)
    assert report.description == CATALOGUE["clutter"].title


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"service_code": "ufo", "lat": 1, "long": 1}, mapping.UnknownService),
        ({}, mapping.InvalidRequest),
        ({"lat": 1}, mapping.InvalidRequest),
    ],
)
def test_requests_that_cannot_become_reports_say_why(fields: dict, error: type) -> None:
    with pytest.raises(error):
        mapping.to_report(request(**fields), now=NOW)


def test_a_ledger_case_becomes_a_service_request() -> None:
    case = IncidentSummary(
        incident_id=uuid.uuid4(),
        status="resolved",
        category="wall_seepage",
        description="seepage",
        address="5 号楼",
        location={"lat": 30.0, "lon": 120.0},
        household_id="H0100",
        grid_id="G03",
        reported_at=NOW,
        resolved_at=NOW,
    )
    service_request = mapping.to_service_request(case)
    assert service_request.status == "open"
    assert service_request.status_notes == "handled; awaiting the reporter's verification"
    assert service_request.service_name == CATALOGUE["wall_seepage"].title
    assert (service_request.lat, service_request.long) == (30.0, 120.0)
    assert service_request.agency_responsible == "grid G03"
    assert service_request.updated_datetime == NOW


def test_the_status_and_service_code_filters_are_checked() -> None:
    assert mapping.statuses_wanted("open,closed") == {"open", "closed"}
    assert mapping.codes_wanted("clutter,clutter") == ["clutter"]
    assert mapping.codes_wanted(None) == [None]
    with pytest.raises(mapping.InvalidRequest):
        mapping.statuses_wanted("pending")
    with pytest.raises(mapping.InvalidRequest):
        mapping.codes_wanted("ufo")
