"""The case state machine as the ledger checks it: which event may follow which status. Pure.

Dispatch is the authority on transitions; the ledger records whatever happened and flags a
sequence the state machine does not allow, as an anomaly, instead of dropping it.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.common import events
from services.common.events import CaseStatus as S
from services.ledger.domain.state import OPEN, TERMINAL, UNRESOLVED, CaseState

ILLEGAL_TRANSITION = "illegal_transition"
AFTER_TERMINAL = "after_terminal"
WRONG_ACTOR = "wrong_actor"
DUPLICATE_REPORT = "duplicate_report"
OUT_OF_ORDER = "out_of_order"

_WORKING = frozenset({S.ACCEPTED, S.IN_PROGRESS})
_HANDLED = frozenset({S.RESOLVED, S.VERIFIED, S.CLOSED})

ALLOWED_FROM: dict[type[events.EventPayload], frozenset[S]] = {
    events.IncidentAssigned: UNRESOLVED,
    events.IncidentAccepted: frozenset({S.ASSIGNED, S.TRANSFERRED}),
    events.IncidentDeclined: frozenset({S.ASSIGNED, S.TRANSFERRED}),
    events.IncidentStarted: frozenset({S.ACCEPTED}),
    events.IncidentProgressNoted: _WORKING,
    events.IncidentCoHandlerAdded: UNRESOLVED,
    events.IncidentResolved: _WORKING,
    events.IncidentEscalated: UNRESOLVED - {S.TRANSFERRED},
    events.IncidentDeadlineWarned: UNRESOLVED,
    events.IncidentExtensionRequested: _WORKING,
    events.IncidentExtensionRefused: _WORKING,
    events.IncidentExtended: UNRESOLVED - {S.REPORTED, S.TRANSFERRED},
    events.IncidentParked: UNRESOLVED,
    events.IncidentUnparked: UNRESOLVED,
    events.IncidentVerified: frozenset({S.RESOLVED}),
    events.IncidentClosed: frozenset({S.VERIFIED}),
    events.IncidentReopened: _HANDLED,
    events.IncidentCancelled: OPEN,
    events.IncidentMerged: OPEN,
    events.IncidentFeedback: _HANDLED,
}
# Events whose member must be the assignee, or (for work on the case) one of its handlers.
_ASSIGNEE_ONLY = (events.IncidentAccepted, events.IncidentDeclined)
_HANDLERS = (events.IncidentStarted, events.IncidentProgressNoted, events.IncidentResolved)


@dataclass(frozen=True)
class Anomaly:
    """A recorded event that the state machine does not allow where it happened."""

    event_id: str
    incident_id: uuid.UUID
    seq: int
    event_type: str
    kind: str
    status_before: str
    expected: str
    detail: str
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True)
class Finding:
    kind: str
    expected: str
    detail: str


def check(state: CaseState, data: events.EventPayload) -> list[Finding]:
    """What is wrong with `data` happening to a case in `state`; empty when it is legal."""
    if isinstance(data, events.IncidentReported):
        if state.has_report:
            return [Finding(DUPLICATE_REPORT, "one report per incident", "a second report")]
        return []
    findings = []
    status = S(state.status)
    allowed = ALLOWED_FROM.get(type(data), frozenset())
    if status not in allowed:
        kind = AFTER_TERMINAL if status in TERMINAL else ILLEGAL_TRANSITION
        expected = "status " + " or ".join(sorted(s.value for s in allowed))
        findings.append(Finding(kind, expected, f"happened while the case was {status.value}"))
    if isinstance(data, events.IncidentParked) and state.parked:
        findings.append(Finding(ILLEGAL_TRANSITION, "a case not parked", "parked twice"))
    if isinstance(data, events.IncidentUnparked) and not state.parked:
        findings.append(Finding(ILLEGAL_TRANSITION, "a parked case", "unparked a case not parked"))
    actor = _actor_finding(state, data)
    if actor:
        findings.append(actor)
    return findings


def _actor_finding(state: CaseState, data: events.EventPayload) -> Finding | None:
    if state.assignee_id is None or not isinstance(data, _ASSIGNEE_ONLY + _HANDLERS):
        return None
    member = data.member_id
    if isinstance(data, _ASSIGNEE_ONLY) and member != state.assignee_id:
        return Finding(WRONG_ACTOR, f"the assignee {state.assignee_id}", f"by {member}")
    if isinstance(data, _HANDLERS) and member not in state.member_ids:
        expected = "one of the handlers " + ", ".join(state.member_ids)
        return Finding(WRONG_ACTOR, expected, f"by {member}")
    return None
