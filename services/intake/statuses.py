"""How our case lifecycle looks from outside: open or closed, and a short note. Pure."""

from services.common import events
from services.common.events import CaseStatus

# The closed loop ends with verification; a case handed to the town or cancelled is also done
# from the community's side. Everything before that is still open to the reporter.
CLOSED = frozenset(
    {CaseStatus.VERIFIED, CaseStatus.CLOSED, CaseStatus.CANCELLED, CaseStatus.TRANSFERRED}
)
# Statuses after which a case no longer takes further reports as duplicates.
ENDED = frozenset({CaseStatus.CLOSED, CaseStatus.CANCELLED, CaseStatus.TRANSFERRED})

NOTES: dict[CaseStatus, str] = {
    CaseStatus.REPORTED: "received; being assigned to a grid",
    CaseStatus.ASSIGNED: "assigned to the responsible grid officer",
    CaseStatus.ACCEPTED: "accepted by the handling officer",
    CaseStatus.IN_PROGRESS: "being handled",
    CaseStatus.RESOLVED: "handled; awaiting the reporter's verification",
    CaseStatus.VERIFIED: "the result has been verified",
    CaseStatus.CLOSED: "closed",
    CaseStatus.ESCALATED: "escalated to the next level",
    CaseStatus.REOPENED: "reopened after verification failed",
    CaseStatus.TRANSFERRED: "transferred to a town-level department",
    CaseStatus.CANCELLED: "cancelled",
}


def open311_status(status: str) -> str:
    """GeoReport v2 knows only `open` and `closed`."""
    try:
        return "closed" if CaseStatus(status) in CLOSED else "open"
    except ValueError:
        return "open"


def note_for(status: str) -> str:
    """The generic note for a status, when nothing more specific is known."""
    try:
        return NOTES[CaseStatus(status)]
    except ValueError:
        return status


def note_for_event(data: events.EventPayload) -> str | None:
    """A note for the status an event leads to, with the reason where the event carries one.

    Officers' ids are internal and stay out of notes meant for integrators and reporters.
    """
    status = events.status_after(data)
    if status is None:
        return None
    note = NOTES[status]
    if isinstance(data, events.IncidentResolved):
        return f"{note}: {data.result}"
    if isinstance(data, events.IncidentEscalated | events.IncidentReopened):
        return f"{note}: {data.reason}"
    if isinstance(data, events.IncidentCancelled):
        return f"{note}: {data.reason}"
    return note


def public_note(status: str, ledger_note: str | None) -> str:
    """What integrators and reporters are told: the status in words, plus the result once the
    case is handled. The ledger's other notes (assignment reasons) name officers: kept out."""
    note = note_for(status)
    if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED) and ledger_note:
        return f"{note}: {ledger_note}"
    return note
