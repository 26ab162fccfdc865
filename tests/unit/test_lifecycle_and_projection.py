"""The case state machine, without IO (the ledger projection: tests/unit/ledger/)."""

import pytest

from services.common import events
from services.dispatch.domain import lifecycle


def test_assignee_accepts_then_resolves() -> None:
    accepted = lifecycle.next_status(
        action="accept", current=events.CaseStatus.ASSIGNED, actor_id="P1", assignee_id="P1"
    )
    resolved = lifecycle.next_status(
        action="resolve", current=accepted, actor_id="P1", assignee_id="P1"
    )
    assert (accepted, resolved) == (events.CaseStatus.ACCEPTED, events.CaseStatus.RESOLVED)


def test_resolving_an_unaccepted_case_is_illegal() -> None:
    with pytest.raises(lifecycle.IllegalTransition, match="cannot resolve a case that is assigned"):
        lifecycle.next_status(
            action="resolve", current=events.CaseStatus.ASSIGNED, actor_id="P1", assignee_id="P1"
        )


def test_only_the_assignee_may_accept() -> None:
    with pytest.raises(lifecycle.IllegalTransition, match="only the assignee"):
        lifecycle.next_status(
            action="accept", current=events.CaseStatus.ASSIGNED, actor_id="P2", assignee_id="P1"
        )
