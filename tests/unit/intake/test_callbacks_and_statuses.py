"""Callbacks back off, refuse inward URLs, and speak of our lifecycle as open or closed."""

import uuid
from datetime import UTC, datetime

import pytest

from services.common import envelope, events
from services.intake import statuses
from services.intake.callbacks import domain

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def test_retries_back_off_exponentially_up_to_the_cap() -> None:
    delays = [domain.retry_delay_s(n, base_s=1, max_s=10) for n in range(1, 7)]
    assert delays == [1, 2, 4, 8, 10, 10]


def test_a_delivery_is_done_on_2xx_given_up_after_the_last_attempt_else_retried() -> None:
    assert domain.outcome(attempts=1, status_code=204, max_attempts=3) == "delivered"
    assert domain.outcome(attempts=2, status_code=500, max_attempts=3) == "pending"
    assert domain.outcome(attempts=3, status_code=None, max_attempts=3) == "failed"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/cb",
        "http://localhost/cb",
        "http://10.1.2.3/cb",
        "http://169.254.169.254/latest",
        "ftp://example.org/cb",
        "https://user:pass@example.org/cb",
    ],
)
def test_callback_urls_that_point_inward_or_are_odd_are_refused(url: str) -> None:
    with pytest.raises(domain.UnacceptableUrl):
        domain.check_url(url, allow_private=False)


def test_public_callback_urls_are_accepted_and_loopback_only_when_allowed() -> None:
    assert domain.check_url("https://city.example.org/hooks", allow_private=False)
    assert domain.check_url("http://127.0.0.1:9000/cb", allow_private=True)


def test_one_delivery_per_integrator_and_event() -> None:
    first = domain.delivery_id(integrator_id="city", event_id="e1")
    assert first == domain.delivery_id(integrator_id="city", event_id="e1")
    assert first != domain.delivery_id(integrator_id="app", event_id="e1")


def test_the_payload_names_the_status_in_both_vocabularies_without_officer_ids() -> None:
    data = events.IncidentResolved(
        incident_id=uuid.uuid4(), occurred_at=NOW, member_id="P017", result="cleared"
    )
    event = envelope.new_event(event_id="e9", source="test", data=data)
    body = domain.payload(event, delivery=uuid.uuid4(), reports=[])
    assert body["status"] == "resolved" and body["open311_status"] == "open"
    assert body["status_note"].endswith(": cleared")
    assert "P017" not in domain.body_of(body).decode()


@pytest.mark.parametrize(
    ("status", "open311"),
    [
        ("reported", "open"),
        ("assigned", "open"),
        ("resolved", "open"),
        ("reopened", "open"),
        ("verified", "closed"),
        ("closed", "closed"),
        ("cancelled", "closed"),
        ("transferred", "closed"),
    ],
)
def test_the_lifecycle_maps_onto_open_and_closed(status: str, open311: str) -> None:
    assert statuses.open311_status(status) == open311


def test_only_closed_cancelled_and_transferred_cases_stop_taking_reports() -> None:
    assert {s.value for s in statuses.ENDED} == {"closed", "cancelled", "transferred"}
