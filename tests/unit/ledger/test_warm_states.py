"""WarmStates: recalled only under the head it was left at, least recently written dropped."""

import uuid

from services.ledger.domain.chain import Head
from services.ledger.domain.state import CaseState
from services.ledger.warm_states import WarmStates


def _case(n: int) -> tuple[CaseState, Head]:
    return CaseState(incident_id=uuid.UUID(int=n)), Head(n, f"{n:064x}")


def test_recalled_under_the_head_it_was_left_at() -> None:
    warm = WarmStates()
    warm.remember(Head(7, "a" * 64), [_case(1), _case(2)])
    found = warm.recall(Head(7, "a" * 64), [uuid.UUID(int=1), uuid.UUID(int=3)])
    assert list(found) == [uuid.UUID(int=1)]
    assert found[uuid.UUID(int=1)][1] == Head(1, f"{1:064x}")


def test_another_head_forgets_everything() -> None:
    warm = WarmStates()
    warm.remember(Head(7, "a" * 64), [_case(1)])
    assert warm.recall(Head(8, "b" * 64), [uuid.UUID(int=1)]) == {}
    assert len(warm) == 0 and warm.head is None
    # Even the old head is no longer trusted afterwards.
    assert warm.recall(Head(7, "a" * 64), [uuid.UUID(int=1)]) == {}


def test_the_least_recently_written_go_first() -> None:
    warm = WarmStates(capacity=2)
    warm.remember(Head(1, "a" * 64), [_case(1), _case(2)])
    warm.remember(Head(2, "b" * 64), [_case(1)])
    warm.remember(Head(3, "c" * 64), [_case(3)])
    assert set(warm.recall(Head(3, "c" * 64), [uuid.UUID(int=n) for n in (1, 2, 3)])) == {
        uuid.UUID(int=1),
        uuid.UUID(int=3),
    }


def test_no_capacity_keeps_nothing() -> None:
    warm = WarmStates(capacity=0)
    warm.remember(Head(1, "a" * 64), [_case(1)])
    assert warm.recall(Head(1, "a" * 64), [uuid.UUID(int=1)]) == {}
