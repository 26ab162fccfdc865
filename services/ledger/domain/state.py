"""The current state of one case, as projected from its ledger records. Pure."""

import uuid
from dataclasses import dataclass, fields
from datetime import datetime

from services.common.events import CaseStatus

# Open and not yet resolved: the statuses in which a deadline can be missed.
UNRESOLVED = frozenset(
    {
        CaseStatus.REPORTED,
        CaseStatus.ASSIGNED,
        CaseStatus.ACCEPTED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.ESCALATED,
        CaseStatus.REOPENED,
        CaseStatus.TRANSFERRED,
    }
)
TERMINAL = frozenset({CaseStatus.CLOSED, CaseStatus.CANCELLED})
OPEN = frozenset(CaseStatus) - TERMINAL


@dataclass(slots=True)
class CaseState:
    """Everything the read side and the indicators need to know about one case.

    `first_*` times never move once set, so indicators can ask "by then?"; the others hold
    the latest value. Times are the events' `occurred_at`, except `updated_at`, which is
    when the ledger last recorded an event of the case.
    """

    incident_id: uuid.UUID
    status: str = CaseStatus.REPORTED.value
    status_note: str | None = None
    # the report (reports topic)
    has_report: bool = False
    category: str | None = None
    channel: str | None = None
    description: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    household_id: str | None = None
    camera_id: str | None = None
    grid_id: str | None = None
    place_key: str | None = None
    source_system: str | None = None
    external_id: str | None = None
    reported_by: str | None = None
    reporter_phone_masked: str | None = None
    reported_at: datetime | None = None
    merged_reports: int = 0
    # assignment
    assignee_id: str | None = None
    co_handler_ids: tuple[str, ...] = ()
    rung: str | None = None
    assignment_reason: str | None = None
    attempt: int = 0
    linked_member_id: str | None = None
    first_assigned_at: datetime | None = None
    assigned_at: datetime | None = None
    first_acknowledge_due_at: datetime | None = None
    acknowledge_due_at: datetime | None = None
    resolve_due_at: datetime | None = None
    handling_deadline: datetime | None = None
    transferred_at: datetime | None = None
    escalation_count: int = 0
    # handling
    acknowledged_at: datetime | None = None
    first_resolved_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    extension_count: int = 0
    first_extended_at: datetime | None = None
    parked: bool = False
    parked_at: datetime | None = None
    red_stage: str | None = None
    first_red_at: datetime | None = None
    # verification and closure
    first_verified_at: datetime | None = None
    verified_at: datetime | None = None
    verification_passed: bool | None = None
    rating: str | None = None
    rated_at: datetime | None = None
    first_closed_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled_at: datetime | None = None
    rework_count: int = 0
    first_reopened_at: datetime | None = None
    reopened_after_close_at: datetime | None = None
    # bookkeeping
    first_seen_at: datetime | None = None
    last_occurred_at: datetime | None = None
    updated_at: datetime | None = None
    event_count: int = 0

    @property
    def member_ids(self) -> tuple[str, ...]:
        """The people on the case now: the assignee and the co-handlers."""
        lead = (self.assignee_id,) if self.assignee_id else ()
        return lead + tuple(m for m in self.co_handler_ids if m != self.assignee_id)

    @property
    def sort_at(self) -> datetime | None:
        """When the case began: its report, or the first event seen while the report is late."""
        return self.reported_at or self.first_seen_at


STATE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(CaseState))


def is_overdue(state: CaseState, now: datetime) -> bool:
    """Open, not parked (挂账 pauses the clock), and red-warned or past a deadline it carries."""
    if state.status not in UNRESOLVED or state.parked:
        return False
    if state.red_stage is not None:
        return True
    return any(due is not None and due < now for due in _pending_deadlines(state))


def _pending_deadlines(state: CaseState) -> tuple[datetime | None, ...]:
    return (state.acknowledge_due_at, state.resolve_due_at)
