"""The ledger checks every sequence against the case state machine and flags what is illegal."""

from services.common import events
from services.ledger.domain import projection, sequence
from tests.unit.ledger.stories import Story


def _kinds(story: Story) -> list[tuple[str, str]]:
    _, anomalies = projection.audit(story.incident_id, story.records())
    return [(anomaly.event_type.split(".")[2], anomaly.kind) for anomaly in anomalies]


def test_a_closed_loop_has_no_anomaly() -> None:
    assert (
        _kinds(
            Story()
            .closed_loop(rating=events.Rating.SATISFIED)
            .feedback(300, events.Rating.SATISFIED)
        )
        == []
    )


def test_the_full_ladder_with_rework_parking_and_help_has_no_anomaly() -> None:
    story = (
        Story()
        .reported(0)
        .assigned(1, "P001", acknowledge_within=30)
        .warned(31, stage="acknowledge")
        .escalated(32)
        .assigned(33, "P002", rung=events.Rung.GRID_MEMBER, attempt=2)
        .declined(40)
        .assigned(41, "L01", rung=events.Rung.GRID_LEADER, attempt=3)
        .accepted(45)
        .started(50)
        .co_handler(55, "POLICE1")
        .parked(60)
        .unparked(600)
        .extended(601, until=3000)
        .resolved(700, member="POLICE1")
        .verified(710, passed=False, method="feedback", rating=events.Rating.UNSATISFIED)
        .reopened(711)
        .assigned(712, "L01", rung=events.Rung.GRID_LEADER, attempt=4)
        .accepted(713)
        .resolved(800)
        .verified(810)
        .closed(811)
    )
    assert _kinds(story) == []


def test_resolving_before_accepting_is_an_illegal_transition() -> None:
    story = Story().reported(0).assigned(1).resolved(2)
    _, anomalies = projection.audit(story.incident_id, story.records())
    assert [(a.kind, a.status_before) for a in anomalies] == [
        (sequence.ILLEGAL_TRANSITION, "assigned")
    ]
    assert "accepted" in anomalies[0].expected and "in_progress" in anomalies[0].expected


def test_an_event_after_closing_is_flagged_but_still_projected() -> None:
    story = Story().closed_loop().started(300).resolved(310)
    state, anomalies = projection.audit(story.incident_id, story.records())
    assert [(a.kind, a.status_before) for a in anomalies] == [(sequence.AFTER_TERMINAL, "closed")]
    assert state.status == "resolved"  # the ledger shows what happened, and flags it
    assert state.event_count == 8


def test_accepting_someone_elses_case_is_a_wrong_actor() -> None:
    assert _kinds(Story().reported(0).assigned(1, "P001").accepted(2, member="P999")) == [
        ("accepted", sequence.WRONG_ACTOR)
    ]


def test_a_co_handler_may_resolve_but_a_stranger_may_not() -> None:
    helped = Story().reported(0).assigned(1, "P001", co_handlers=("POLICE1",)).accepted(2)
    assert _kinds(helped.resolved(3, member="POLICE1")) == []
    stranger = Story().reported(0).assigned(1, "P001").accepted(2).resolved(3, member="P777")
    assert _kinds(stranger) == [("resolved", sequence.WRONG_ACTOR)]


def test_a_second_report_of_the_same_incident_is_flagged() -> None:
    assert _kinds(Story().reported(0).reported(1)) == [("reported", sequence.DUPLICATE_REPORT)]


def test_parking_twice_and_unparking_an_active_case_are_flagged() -> None:
    story = Story().reported(0).assigned(1).parked(2).parked(3).unparked(4).unparked(5)
    assert _kinds(story) == [
        ("parked", sequence.ILLEGAL_TRANSITION),
        ("unparked", sequence.ILLEGAL_TRANSITION),
    ]


def test_merging_into_a_closed_case_is_flagged() -> None:
    assert _kinds(Story().closed_loop().merged(500)) == [("merged", sequence.AFTER_TERMINAL)]


def test_feedback_before_any_resolution_is_flagged() -> None:
    story = Story().reported(0).assigned(1).feedback(2, events.Rating.SATISFIED)
    assert _kinds(story) == [("feedback", sequence.ILLEGAL_TRANSITION)]


def test_a_report_arriving_after_its_lifecycle_events_is_no_anomaly() -> None:
    story = Story().reported(0).assigned(1).accepted(2)
    late = [story.records()[i] for i in (1, 2, 0)]
    _, anomalies = projection.audit(story.incident_id, late)
    assert anomalies == []
