"""The case state machine: which action is allowed in which status, and for whom. Pure."""

from dataclasses import dataclass, field
from enum import StrEnum

from services.common.events import CaseStatus

OPEN = frozenset({CaseStatus.ASSIGNED, CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS})
WORKING = frozenset({CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS})
SUPERVISORS = frozenset({"grid_leader", "committee"})


class IllegalTransition(Exception):
    """The action is not allowed now, or not for this person; the message says why."""


class Action(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    START = "start"
    NOTE = "note"
    RESOLVE = "resolve"
    ASK_HELP = "ask_help"
    REASSIGN = "reassign"
    REQUEST_EXTENSION = "request_extension"
    DECIDE_EXTENSION = "decide_extension"
    PARK = "park"
    UNPARK = "unpark"
    INSPECT = "inspect"
    FEEDBACK = "feedback"
    CANCEL = "cancel"
    ESCALATE = "escalate"


@dataclass(frozen=True)
class Actor:
    member_id: str
    role: str
    grid_id: str | None = None


SYSTEM = Actor("system", "system")


@dataclass(frozen=True)
class CaseFacts:
    status: CaseStatus
    assignee_id: str | None
    grid_id: str | None
    co_handler_ids: frozenset[str] = field(default_factory=frozenset)
    parked: bool = False
    extension_pending: bool = False


ALLOWED_FROM: dict[Action, frozenset[CaseStatus]] = {
    Action.ACCEPT: frozenset({CaseStatus.ASSIGNED}),
    Action.DECLINE: frozenset({CaseStatus.ASSIGNED}),
    Action.START: frozenset({CaseStatus.ACCEPTED}),
    Action.NOTE: WORKING,
    Action.RESOLVE: WORKING,
    Action.ASK_HELP: WORKING,
    Action.REASSIGN: OPEN,
    Action.REQUEST_EXTENSION: WORKING,
    Action.DECIDE_EXTENSION: WORKING,
    Action.PARK: OPEN,
    Action.UNPARK: OPEN,
    Action.INSPECT: frozenset({CaseStatus.RESOLVED}),
    Action.FEEDBACK: frozenset({CaseStatus.RESOLVED}),
    Action.CANCEL: OPEN,
    Action.ESCALATE: frozenset({CaseStatus.ASSIGNED}),
}
BLOCKED_WHILE_PARKED = frozenset(
    {
        Action.ACCEPT,
        Action.DECLINE,
        Action.START,
        Action.RESOLVE,
        Action.ASK_HELP,
        Action.REQUEST_EXTENSION,
        Action.DECIDE_EXTENSION,
        Action.PARK,
        Action.ESCALATE,
    }
)
ASSIGNEE_ONLY = frozenset(
    {
        Action.ACCEPT,
        Action.DECLINE,
        Action.START,
        Action.RESOLVE,
        Action.ASK_HELP,
        Action.REQUEST_EXTENSION,
    }
)


def check(action: Action, case: CaseFacts, actor: Actor) -> None:
    """Raise IllegalTransition with the reason unless `actor` may do `action` on `case` now."""
    if case.status not in ALLOWED_FROM[action]:
        raise IllegalTransition(f"cannot {action.value} a case that is {case.status.value}")
    if case.parked and action in BLOCKED_WHILE_PARKED:
        raise IllegalTransition(f"cannot {action.value} a parked case")
    if action == Action.UNPARK and not case.parked:
        raise IllegalTransition("the case is not parked")
    if action == Action.DECIDE_EXTENSION and not case.extension_pending:
        raise IllegalTransition("no extension has been requested")
    if action == Action.REQUEST_EXTENSION and case.extension_pending:
        raise IllegalTransition("an extension request is already pending")
    _check_actor(action, case, actor)


def _check_actor(action: Action, case: CaseFacts, actor: Actor) -> None:
    handlers = {case.assignee_id, *case.co_handler_ids}
    if action in ASSIGNEE_ONLY and actor.member_id != case.assignee_id:
        raise IllegalTransition(f"only the assignee can {action.value} this case")
    if action == Action.NOTE and actor.member_id not in handlers:
        raise IllegalTransition("only the case's handlers can add notes")
    if action in (Action.REASSIGN, Action.CANCEL, Action.DECIDE_EXTENSION):
        _require_supervisor(action, case, actor)
    if action == Action.DECIDE_EXTENSION and actor.member_id == case.assignee_id:
        raise IllegalTransition("a handler cannot approve their own extension")
    if action in (Action.PARK, Action.UNPARK) and actor.role != "committee":
        raise IllegalTransition(f"only a committee member can {action.value} a case")
    if action == Action.INSPECT:
        _require_supervisor(action, case, actor)
        if actor.member_id in handlers:
            raise IllegalTransition("the result must be checked by someone other than its handlers")
    if action in (Action.FEEDBACK, Action.ESCALATE) and actor != SYSTEM:
        raise IllegalTransition(f"{action.value} is not a person's action")


def _require_supervisor(action: Action, case: CaseFacts, actor: Actor) -> None:
    if actor.role == "committee":
        return
    if actor.role == "grid_leader" and actor.grid_id == case.grid_id:
        return
    raise IllegalTransition(
        f"only the grid leader of {case.grid_id} or the committee can {action.value} this case"
    )
