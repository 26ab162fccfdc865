"""The projection folds a case's records as they happened, whatever order they arrived in."""

import dataclasses
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from services.common import events
from services.ledger.domain import projection, records, sequence
from services.ledger.domain.state import CaseState, is_overdue
from tests.unit.ledger.stories import Story, reordered


def _fold(story: Story) -> CaseState:
    state, _ = projection.audit(story.incident_id, story.records())
    return state


def test_a_closed_loop_leaves_a_closed_case_with_its_times() -> None:
    story = Story(household="H0042").closed_loop(rating=events.Rating.SATISFIED)
    state = _fold(story)
    assert state.status == "closed"
    assert state.status_note == "closed after verification"
    assert (state.household_id, state.grid_id, state.category) == ("H0042", "G01", "clutter")
    assert state.linked_member_id == "P001"
    assert state.place_key == "household:H0042"
    assert state.reported_at == story.at(0)
    assert state.first_assigned_at == story.at(5)
    assert state.acknowledged_at == story.at(20)
    assert state.first_resolved_at == state.resolved_at == story.at(120)
    assert state.handling_deadline == story.at(5 + 24 * 60)
    assert state.first_closed_at == story.at(200)
    assert state.rating == "satisfied"
    assert state.event_count == 6


def test_a_late_report_fills_the_case_without_moving_its_status_back() -> None:
    story = Story(grid="G07").reported(0, grid_id=None).assigned(1, "P070").accepted(2)
    late = [story.records()[i] for i in (1, 2, 0)]
    state, _ = projection.audit(story.incident_id, late)
    assert state.status == "accepted"
    assert state.grid_id == "G07"  # from the assignment
    assert state.category == "clutter"  # from the report


def test_reassignment_replaces_the_assignee_and_counts_the_escalation() -> None:
    story = (
        Story()
        .reported(0)
        .assigned(1, "P001", acknowledge_within=30)
        .escalated(31)
        .assigned(32, "L01", rung=events.Rung.GRID_LEADER, attempt=2, co_handlers=("LAW1",))
    )
    state = _fold(story)
    assert (state.assignee_id, state.rung, state.attempt) == ("L01", "grid_leader", 2)
    assert state.member_ids == ("L01", "LAW1")
    assert state.escalation_count == 1
    assert state.first_acknowledge_due_at == story.at(31)
    assert state.linked_member_id == "P001"


def test_transfer_out_is_its_own_status_and_is_remembered() -> None:
    state = _fold(Story().reported(0).transferred(1))
    assert state.status == "transferred" and state.transferred_at is not None


def test_rework_after_closing_is_counted_and_flags_the_false_closure() -> None:
    story = Story().closed_loop().reopened(300).assigned(301).accepted(302)
    state = _fold(story)
    assert state.rework_count == 1
    assert state.reopened_after_close_at == story.at(300)
    assert state.first_closed_at == story.at(200)  # never moves


def test_an_unsatisfied_reporter_reopens_the_case() -> None:
    story = (
        Story()
        .reported(0)
        .assigned(1)
        .accepted(2)
        .resolved(3)
        .verified(4, passed=False, method="feedback", rating=events.Rating.UNSATISFIED)
        .reopened(5)
    )
    state = _fold(story)
    assert state.status == "reopened" and state.verification_passed is False
    assert state.rating == "unsatisfied" and state.rework_count == 1


def test_lifecycle_events_out_of_arrival_order_are_flagged_and_folded_in_order() -> None:
    story = Story().reported(0).assigned(1).accepted(2).resolved(3)
    arrived = reordered(story, [0, 1, 3, 2])  # resolved arrives before accepted
    state, anomalies = projection.audit(story.incident_id, arrived)
    assert state == _fold(story)
    assert [(a.kind, a.event_type) for a in anomalies] == [
        (sequence.OUT_OF_ORDER, events.TYPE_OF[events.IncidentAccepted])
    ]


def _stories() -> list[Story]:
    return [
        Story()
        .closed_loop(rating=events.Rating.BASICALLY_SATISFIED)
        .feedback(190, events.Rating.SATISFIED),
        Story().reported(0).assigned(1).resolved(2).merged(3).closed(4),  # illegal, on purpose
        Story()
        .reported(0)
        .assigned(1, acknowledge_within=10)
        .warned(11, stage="acknowledge")
        .escalated(12)
        .assigned(13, "P002", attempt=2, resolve_within=60)
        .accepted(14)
        .extended(15, until=120)
        .parked(16)
        .unparked(17)
        .resolved(18)
        .verified(19, passed=False)
        .reopened(20)
        .cancelled(21),
    ]


@settings(max_examples=150, deadline=None)
@given(which=st.integers(0, 2), seed=st.integers(0, 10_000))
def test_any_arrival_order_folds_to_the_same_state(which: int, seed: int) -> None:
    story = _stories()[which]
    order = list(range(len(story.events)))
    random.Random(seed).shuffle(order)
    state, _ = projection.audit(story.incident_id, reordered(story, order))
    expected = _fold(story)
    assert dataclasses.replace(state, updated_at=None) == dataclasses.replace(
        expected, updated_at=None
    )


@settings(max_examples=150, deadline=None)
@given(which=st.integers(0, 2), seed=st.integers(0, 10_000), cuts=st.integers(1, 5))
def test_live_batches_give_what_a_replay_gives(which: int, seed: int, cuts: int) -> None:
    """The rule the recorder follows: apply a batch when it extends the fold, else re-fold."""
    story = _stories()[which]
    generator = random.Random(seed)
    order = list(range(len(story.events)))
    generator.shuffle(order)
    arrived = reordered(story, order)
    bounds = sorted(generator.sample(range(1, len(arrived)), min(cuts, len(arrived) - 1)))
    batches = [arrived[a:b] for a, b in zip([0, *bounds], [*bounds, len(arrived)], strict=True)]
    state = CaseState(incident_id=story.incident_id)
    anomalies: dict[tuple[str, str], sequence.Anomaly] = {}
    seen: list[records.Record] = []
    for batch in batches:
        seen.extend(batch)
        if projection.extends(state, batch):
            for record in batch:
                anomalies.update({(a.event_id, a.kind): a for a in projection.apply(state, record)})
        else:
            state, refound = projection.audit(story.incident_id, seen)
            anomalies = {(a.event_id, a.kind): a for a in refound}
    replayed, replayed_anomalies = projection.audit(story.incident_id, arrived)
    assert state == replayed
    assert sorted(anomalies) == sorted((a.event_id, a.kind) for a in replayed_anomalies)


def test_a_red_warning_makes_an_open_case_overdue_until_reassigned() -> None:
    story = Story().reported(0).assigned(1).accepted(2).warned(60)
    now = story.at(61)
    assert is_overdue(_fold(story), now)
    assert not is_overdue(_fold(story.extended(62, until=600)), now)


def test_a_missed_acknowledgement_is_overdue_and_acceptance_clears_it() -> None:
    story = Story().reported(0).assigned(1, acknowledge_within=30)
    assert not is_overdue(_fold(story), story.at(30))
    assert is_overdue(_fold(story), story.at(32))
    assert not is_overdue(_fold(story.accepted(33)), story.at(34))


def test_a_parked_or_resolved_case_is_never_overdue() -> None:
    story = Story().reported(0).assigned(1, resolve_within=10).accepted(2)
    assert is_overdue(_fold(story), story.at(20))
    assert not is_overdue(
        _fold(Story().reported(0).assigned(1, resolve_within=10).parked(2)), story.at(20)
    )
    assert not is_overdue(_fold(story.resolved(15)), story.at(20))
