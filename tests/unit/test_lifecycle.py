"""The case state machine: who may do what, when."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.events import CaseStatus
from services.dispatch.domain.lifecycle import (
    ALLOWED_FROM,
    SYSTEM,
    Action,
    Actor,
    CaseFacts,
    IllegalTransition,
    check,
)

LEAD = Actor("P002", "party_member", "G01")
HELPER = Actor("POL01", "police", None)
LEADER = Actor("P001", "grid_leader", "G01")
OTHER_LEADER = Actor("P008", "grid_leader", "G02")
COMMITTEE = Actor("C01", "committee", None)


def case(status: CaseStatus, **fields: object) -> CaseFacts:
    base: dict[str, object] = {
        "status": status,
        "assignee_id": "P002",
        "grid_id": "G01",
        "co_handler_ids": frozenset({"POL01"}),
    }
    return CaseFacts(**{**base, **fields})  # type: ignore[arg-type]


def test_the_assignee_accepts_starts_and_resolves() -> None:
    check(Action.ACCEPT, case(CaseStatus.ASSIGNED), LEAD)
    check(Action.START, case(CaseStatus.ACCEPTED), LEAD)
    check(Action.RESOLVE, case(CaseStatus.IN_PROGRESS), LEAD)


def test_resolving_an_unaccepted_case_is_illegal() -> None:
    with pytest.raises(IllegalTransition, match="cannot resolve a case that is assigned"):
        check(Action.RESOLVE, case(CaseStatus.ASSIGNED), LEAD)


def test_only_the_assignee_may_accept_or_decline() -> None:
    for action in (Action.ACCEPT, Action.DECLINE):
        with pytest.raises(IllegalTransition, match="only the assignee"):
            check(action, case(CaseStatus.ASSIGNED), HELPER)


def test_co_handlers_add_notes_but_strangers_do_not() -> None:
    check(Action.NOTE, case(CaseStatus.IN_PROGRESS), HELPER)
    with pytest.raises(IllegalTransition, match="handlers"):
        check(Action.NOTE, case(CaseStatus.IN_PROGRESS), LEADER)


def test_grid_leaders_reassign_only_in_their_grid_and_the_committee_anywhere() -> None:
    check(Action.REASSIGN, case(CaseStatus.ACCEPTED), LEADER)
    check(Action.REASSIGN, case(CaseStatus.ACCEPTED), COMMITTEE)
    with pytest.raises(IllegalTransition, match="grid leader of G01"):
        check(Action.REASSIGN, case(CaseStatus.ACCEPTED), OTHER_LEADER)


def test_the_result_is_checked_by_someone_other_than_its_handlers() -> None:
    check(Action.INSPECT, case(CaseStatus.RESOLVED), LEADER)
    leader_led = case(CaseStatus.RESOLVED, assignee_id="P001")
    with pytest.raises(IllegalTransition, match="other than its handlers"):
        check(Action.INSPECT, leader_led, LEADER)


def test_only_the_committee_parks_and_a_parked_case_cannot_be_resolved() -> None:
    with pytest.raises(IllegalTransition, match="committee"):
        check(Action.PARK, case(CaseStatus.ACCEPTED), LEADER)
    check(Action.PARK, case(CaseStatus.ACCEPTED), COMMITTEE)
    parked = case(CaseStatus.ACCEPTED, parked=True)
    with pytest.raises(IllegalTransition, match="parked"):
        check(Action.RESOLVE, parked, LEAD)
    check(Action.UNPARK, parked, COMMITTEE)


def test_extensions_are_asked_once_and_decided_by_a_supervisor() -> None:
    check(Action.REQUEST_EXTENSION, case(CaseStatus.IN_PROGRESS), LEAD)
    pending = case(CaseStatus.IN_PROGRESS, extension_pending=True)
    with pytest.raises(IllegalTransition, match="already pending"):
        check(Action.REQUEST_EXTENSION, pending, LEAD)
    with pytest.raises(IllegalTransition, match="grid leader"):
        check(Action.DECIDE_EXTENSION, pending, LEAD)
    check(Action.DECIDE_EXTENSION, pending, LEADER)


def test_feedback_and_escalation_are_not_peoples_actions() -> None:
    check(Action.FEEDBACK, case(CaseStatus.RESOLVED), SYSTEM)
    check(Action.ESCALATE, case(CaseStatus.ASSIGNED), SYSTEM)
    with pytest.raises(IllegalTransition, match="not a person's action"):
        check(Action.ESCALATE, case(CaseStatus.ASSIGNED), COMMITTEE)


@given(
    action=st.sampled_from(list(Action)),
    status=st.sampled_from(list(CaseStatus)),
    actor=st.sampled_from([LEAD, HELPER, LEADER, OTHER_LEADER, COMMITTEE, SYSTEM]),
    parked=st.booleans(),
)
def test_no_action_is_allowed_from_a_status_outside_its_sources(
    action: Action, status: CaseStatus, actor: Actor, parked: bool
) -> None:
    facts = case(status, parked=parked)
    try:
        check(action, facts, actor)
    except IllegalTransition as refusal:
        assert str(refusal)
    else:
        assert status in ALLOWED_FROM[action]
        assert status not in (CaseStatus.CLOSED, CaseStatus.CANCELLED, CaseStatus.TRANSFERRED)
