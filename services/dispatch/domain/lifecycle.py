"""The case state machine: which action may move a case from which status."""

from services.common.events import CaseStatus


class IllegalTransition(Exception):
    """The action is not allowed from the case's current status, or not by this person."""


TRANSITIONS: dict[str, tuple[CaseStatus, CaseStatus]] = {
    "assign": (CaseStatus.REPORTED, CaseStatus.ASSIGNED),
    "accept": (CaseStatus.ASSIGNED, CaseStatus.ACCEPTED),
    "resolve": (CaseStatus.ACCEPTED, CaseStatus.RESOLVED),
}


def next_status(
    *, action: str, current: CaseStatus, actor_id: str, assignee_id: str | None
) -> CaseStatus:
    """The status after `action`, or IllegalTransition with the reason."""
    if action not in TRANSITIONS:
        raise IllegalTransition(f"unknown action {action!r}")
    source, target = TRANSITIONS[action]
    if current != source:
        raise IllegalTransition(f"cannot {action} a case that is {current.value}")
    if action != "assign" and actor_id != assignee_id:
        raise IllegalTransition(f"only the assignee can {action} this case")
    return target
