"""What makes two reports one request, and which open case a new report joins."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.intake.reports import domain
from services.intake.reports.schemas import IncidentCreate

NOW = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
WINDOW = timedelta(hours=24)


def report(**changes: object) -> IncidentCreate:
    fields: dict[str, object] = {
        "channel": "hotline",
        "category": "clutter",
        "description": "clutter on the stairs",
        "household_id": "H0001",
        "reporter": {"phone": "13812345678"},
    }
    fields.update(changes)
    return IncidentCreate.model_validate(fields)


def case(distance_m: float, hours_ago: float) -> domain.OpenCase:
    return domain.OpenCase(uuid.uuid4(), distance_m, NOW - timedelta(hours=hours_ago))


def test_joins_the_nearest_open_case_within_the_radius_and_window() -> None:
    near, nearer = case(30, 1), case(10, 2)
    chosen = domain.case_to_join([near, nearer], now=NOW, radius_m=50, window=WINDOW)
    assert chosen == nearer.incident_id


def test_opens_a_new_case_when_the_open_one_is_too_far_or_too_old() -> None:
    too_far, too_old = case(80, 1), case(5, 30)
    assert domain.case_to_join([too_far, too_old], now=NOW, radius_m=50, window=WINDOW) is None


def test_a_report_without_a_key_or_external_id_has_no_identity() -> None:
    assert domain.identity_of(report(), integrator_id="city", idempotency_key=None) is None


def test_the_report_id_is_the_same_for_a_retry_and_differs_between_integrators() -> None:
    ours = domain.identity_of(report(), integrator_id="city", idempotency_key="k1")
    again = domain.identity_of(report(), integrator_id="city", idempotency_key="k1")
    theirs = domain.identity_of(report(), integrator_id="app", idempotency_key="k1")
    assert ours is not None and again is not None and theirs is not None
    assert ours.report_id() == again.report_id() != theirs.report_id()


def test_an_external_id_alone_identifies_a_report_of_its_source_system() -> None:
    identity = domain.identity_of(
        report(source_system="city", external_id="SR-9"), integrator_id="city", idempotency_key=None
    )
    assert identity is not None
    assert (identity.source_system, identity.external_id) == ("city", "SR-9")


def test_equal_requests_have_equal_fingerprints_and_any_change_shows() -> None:
    assert domain.fingerprint(report(), key="k") == domain.fingerprint(report(), key="k")
    assert domain.fingerprint(report(), key="k") != domain.fingerprint(
        report(description="other"), key="k"
    )


def test_a_fingerprint_does_not_reveal_the_phone_without_the_key() -> None:
    keyed = domain.fingerprint(report(), key="secret")
    assert keyed != domain.fingerprint(report(), key="guess")
    assert "13812345678" not in keyed


def test_a_replay_with_another_body_is_a_conflict() -> None:
    with pytest.raises(domain.IdempotencyConflict):
        domain.check_same_request(stored="a" * 64, presented="b" * 64)


@given(
    lat=st.floats(min_value=-80, max_value=80),
    lon=st.floats(min_value=-179, max_value=179),
    d_lat=st.floats(min_value=-0.01, max_value=0.01),
)
def test_distance_is_symmetric_and_never_negative(lat: float, lon: float, d_lat: float) -> None:
    there = (lat + d_lat, lon)
    forth = domain.distance_m(lat, lon, *there)
    back = domain.distance_m(*there, lat, lon)
    assert forth >= 0 and abs(forth - back) < 1e-6


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"channel": "camera"}, "camera_id"),
        ({"channel": "patrol"}, "reported_by"),
        ({"external_id": "X1"}, "source_system"),
        ({"reporter": {"id_number": "123"}}, "id_number"),
    ],
)
def test_each_channel_brings_what_it_owes(changes: dict[str, object], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        report(**changes)


def test_a_case_reported_just_now_is_within_the_window_and_a_future_one_too() -> None:
    just_now, clock_skew = case(1, 0), case(1, -0.5)
    assert domain.case_to_join([just_now], now=NOW, radius_m=50, window=WINDOW)
    assert domain.case_to_join([clock_skew], now=NOW, radius_m=50, window=WINDOW)
