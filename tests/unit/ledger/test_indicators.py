"""The indicators on hand-made ledgers: each count and formula as the docs define it."""

from datetime import UTC, datetime, timedelta

import pytest

from services.common import events
from services.ledger.domain import cohort, indicators, projection
from services.ledger.domain.cohort import Limits, Period, Scope
from services.ledger.domain.indicators import Counts
from tests.unit.ledger.stories import Story

NOVEMBER = Period(
    start=datetime(2026, 11, 1, tzinfo=UTC),
    end=datetime(2026, 12, 1, tzinfo=UTC),
    as_of=datetime(2026, 12, 1, tzinfo=UTC),
)
LIMITS = Limits(
    acknowledge=timedelta(minutes=60),
    resolve=timedelta(hours=72),
    close_grace=timedelta(hours=24),
    recurrence=timedelta(days=30),
)


EVERYWHERE = Scope()


def counts_of(*stories: Story, period: Period = NOVEMBER, scope: Scope = EVERYWHERE) -> Counts:
    states = [projection.audit(s.incident_id, s.records())[0] for s in stories]
    counts, _ = cohort.reference_counts(states, scope=scope, period=period, limits=LIMITS)
    return counts


def rate(counts: Counts, name: str) -> float | None:
    return indicators.evaluate(counts)[name].value


def test_handling_rate_is_resolved_cases_over_cases_not_cancelled() -> None:
    counts = counts_of(
        Story().reported(0).assigned(1).accepted(2).resolved(3),
        Story().reported(0).assigned(1),
        Story().reported(0).assigned(1).cancelled(2),
    )
    assert (counts.registered, counts.cancelled, counts.due, counts.handled) == (3, 1, 2, 1)
    assert rate(counts, "handling_rate") == 0.5


def test_on_time_handling_uses_the_deadline_in_force_after_extensions() -> None:
    late = Story().reported(0).assigned(1, resolve_within=60).accepted(2).resolved(200)
    extended = (
        Story()
        .reported(0)
        .assigned(1, resolve_within=60)
        .accepted(2)
        .extended(30, 300)
        .resolved(250)
    )
    no_deadline_in_time = Story().reported(0).assigned(1).accepted(2).resolved(71 * 60)
    no_deadline_late = Story().reported(0).assigned(1).accepted(2).resolved(73 * 60)
    counts = counts_of(late, extended, no_deadline_in_time, no_deadline_late)
    assert (counts.handled, counts.handled_on_time, counts.extended) == (4, 2, 1)
    assert rate(counts, "on_time_handling_rate") == 0.5
    assert rate(counts, "extension_rate") == 0.25


def test_closure_and_rework_rates_are_over_the_handled_cases() -> None:
    closed = Story().closed_loop()
    reworked = (
        Story()
        .reported(0)
        .assigned(1)
        .accepted(2)
        .resolved(3)
        .verified(4, passed=False)
        .reopened(5)
        .assigned(6)
        .accepted(7)
        .resolved(8)
        .verified(9)
        .closed(10)
    )
    waiting = Story().reported(0).assigned(1).accepted(2).resolved(3)
    counts = counts_of(closed, reworked, waiting)
    assert (counts.due_to_close, counts.closed, counts.reworked) == (3, 2, 1)
    assert rate(counts, "closure_rate") == pytest.approx(0.6667)
    assert rate(counts, "rework_rate") == pytest.approx(0.3333)


def test_closing_more_than_a_day_after_the_deadline_is_not_on_time() -> None:
    on_time = Story().reported(0).assigned(1, resolve_within=60).accepted(2).resolved(30)
    on_time.verified(40).closed(60 + 23 * 60)
    late = Story().reported(0).assigned(1, resolve_within=60).accepted(2).resolved(30)
    late.verified(40).closed(61 + 25 * 60)
    counts = counts_of(on_time, late)
    assert (counts.closed, counts.closed_on_time) == (2, 1)


def test_response_rate_uses_the_first_assignments_deadline_or_the_fallback() -> None:
    in_time = Story().reported(0).assigned(1, acknowledge_within=30).accepted(20)
    escalated = (
        Story()
        .reported(0)
        .assigned(1, acknowledge_within=30)
        .escalated(31)
        .assigned(32, "P002", attempt=2, acknowledge_within=30)
        .accepted(40)
    )
    fallback_in_time = Story().reported(0).assigned(1).accepted(50)
    never = Story().reported(0).assigned(1)
    counts = counts_of(in_time, escalated, fallback_in_time, never)
    assert (counts.response_due, counts.responded_on_time) == (4, 2)
    assert rate(counts, "response_rate") == 0.5


def test_resolution_rate_is_verified_passed_over_verified() -> None:
    passed = Story().closed_loop()
    failed = Story().reported(0).assigned(1).accepted(2).resolved(3).verified(4, passed=False)
    counts = counts_of(passed, failed, Story().reported(0))
    assert (counts.verified, counts.verified_passed) == (2, 1)
    assert rate(counts, "resolution_rate") == 0.5


def test_satisfaction_counts_basically_satisfied_at_ninety_percent() -> None:
    ratings = [events.Rating.SATISFIED] * 2 + [
        events.Rating.BASICALLY_SATISFIED,
        events.Rating.UNSATISFIED,
    ]
    stories = [Story().closed_loop().feedback(300, rating) for rating in ratings]
    counts = counts_of(*stories, Story().closed_loop())
    assert (counts.rated, counts.satisfied, counts.basically_satisfied) == (4, 2, 1)
    assert rate(counts, "satisfaction_rate") == pytest.approx((2 + 0.9) / 4, abs=1e-4)


def test_local_resolution_counts_transfers_out_against_the_community() -> None:
    disputes = [
        Story(category="neighbour_dispute").closed_loop(),
        Story(category="neighbour_dispute").closed_loop(),
        Story(category="family_dispute").reported(0).transferred(1),
    ]
    counts = counts_of(*disputes, Story(category="clutter").reported(0).transferred(1))
    assert (counts.resolved_locally, counts.transferred_out) == (2, 2)
    assert rate(counts, "local_resolution_rate") == 0.5
    assert rate(counts, "dispute_local_resolution_rate") == pytest.approx(0.6667)


def test_coverage_counts_households_handled_or_visited_by_their_linked_member() -> None:
    handled = Story(household="H1").closed_loop()  # P001 is H1's linked member
    visited = Story(household="H2").reported(0, reported_by="P002").assigned(1, "P002")
    by_other = Story(household="H3").reported(0).assigned(1, "P003").escalated(2)
    by_other.assigned(3, "L01", rung=events.Rung.GRID_LEADER, attempt=2).accepted(4).resolved(5)
    counts = counts_of(handled, visited, by_other)
    assert (counts.households_on_record, counts.households_touched) == (3, 2)
    assert rate(counts, "linked_household_coverage") == pytest.approx(0.6667)
    only_p002 = counts_of(handled, visited, by_other, scope=Scope(member="P002"))
    assert (only_p002.households_on_record, only_p002.households_touched) == (1, 1)


def test_a_case_reported_again_at_the_same_place_soon_after_closing_recurs() -> None:
    first = Story(household="H9", category="clutter").closed_loop()
    again = Story(household="H9", category="clutter", start=first.at(3 * 24 * 60)).reported(0)
    other_place = Story(household="H8", category="clutter").closed_loop()
    reopened = Story(household="H7").closed_loop().reopened(600)
    counts = counts_of(first, again, other_place, reopened)
    assert (counts.closed_in_period, counts.recurred) == (3, 2)
    assert rate(counts, "recurrence_rate") == pytest.approx(0.6667)


def test_overdue_open_counts_open_cases_past_a_deadline_at_the_period_end() -> None:
    overdue = Story().reported(0).assigned(1, resolve_within=60).accepted(2)
    warned = Story().reported(0).assigned(1).accepted(2).warned(30)
    parked = Story().reported(0).assigned(1, resolve_within=60).parked(2)
    in_time = Story().reported(0).assigned(1, resolve_within=60 * 24 * 60)
    resolved = Story().reported(0).assigned(1, resolve_within=60).accepted(2).resolved(100)
    october = (
        Story(start=datetime(2026, 10, 20, tzinfo=UTC)).reported(0).assigned(1, resolve_within=60)
    )
    counts = counts_of(overdue, warned, parked, in_time, resolved, october)
    assert counts.overdue_open == 3  # overdue, warned and the October case still open


def test_a_finished_period_is_judged_as_of_its_end() -> None:
    story = Story(start=datetime(2026, 11, 30, 20, tzinfo=UTC)).reported(0).assigned(1).accepted(2)
    story.resolved(8 * 60)  # the next day, in December
    counts = counts_of(story)
    assert (counts.registered, counts.handled) == (1, 0)


def test_cases_per_member_counts_cases_with_a_lead_per_distinct_lead() -> None:
    stories = [Story().reported(0).assigned(1, m) for m in ("P1", "P1", "P2")]
    counts = counts_of(*stories, Story().reported(0))
    assert (counts.assigned_cases, counts.members) == (3, 2)
    assert indicators.cases_per_member(counts) == 1.5


def test_the_composite_is_the_weighted_mean_of_the_indicators_that_have_a_value() -> None:
    counts = Counts(response_due=4, responded_on_time=2, rated=2, satisfied=2)
    values = indicators.evaluate(counts)
    weights = {"response_rate": 0.2, "resolution_rate": 0.4, "satisfaction_rate": 0.4}
    # resolution rate has no value (nothing verified): its weight drops out
    assert indicators.composite(values, weights) == round((0.2 * 0.5 + 0.4 * 1) / 0.6, 4)


def test_an_empty_period_has_counts_of_zero_and_no_rates() -> None:
    counts = counts_of()
    assert counts == Counts()
    assert all(value.value is None for value in indicators.evaluate(counts).values())


def test_unknown_or_negative_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown indicators"):
        indicators.check_weights({"speed": 1.0})
    with pytest.raises(ValueError, match="non-negative"):
        indicators.check_weights({"handling_rate": -1.0})


def test_percentiles_interpolate_between_ranks_like_postgresql() -> None:
    assert cohort.percentile([10, 20, 30, 40], 0.5) == 25
    assert cohort.percentile([10, 20, 30, 40], 0.9) == 37
    assert cohort.percentile([], 0.5) is None


def test_timings_measure_from_assignment_to_acceptance_and_report_to_resolution() -> None:
    stories = [
        Story().reported(0).assigned(10).accepted(10 + minutes).resolved(100 * minutes)
        for minutes in (10, 20, 30)
    ]
    states = [projection.audit(s.incident_id, s.records())[0] for s in stories]
    timings = cohort.timings(states, NOVEMBER)
    assert timings.acknowledge_median_s == 20 * 60
    assert timings.resolve_median_s == 2000 * 60
    assert timings.acknowledge_p90_s == pytest.approx(28 * 60)
