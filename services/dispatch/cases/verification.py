"""Closing the loop: a resolved case is checked, then closed or reopened."""

from services.common import events
from services.dispatch.cases.assignment import climb, hand_over
from services.dispatch.cases.work import CaseWork
from services.dispatch.domain import deadlines, policy


async def conclude(
    work: CaseWork,
    *,
    verified_by: str,
    method: str,
    passed: bool,
    rating: events.Rating | None = None,
    comment: str | None = None,
) -> None:
    """Record the check; close the case, or reopen it (same handler first, then up a rung)."""
    case, now = work.case, work.now
    work.emit(
        events.IncidentVerified(
            incident_id=case.incident_id,
            occurred_at=now,
            verified_by=verified_by,
            method=method,
            passed=passed,
            rating=rating,
            comment=comment,
        )
    )
    if passed:
        await work.cancel_timers([*deadlines.ACKNOWLEDGE_KINDS, *deadlines.RESOLVE_KINDS])
        case.closed_at = now
        work.emit(
            events.IncidentClosed(
                incident_id=case.incident_id, occurred_at=now, closed_by=verified_by
            )
        )
        return
    case.rework_count += 1
    reason = f"verification failed ({method}): {comment or rating or 'not accepted'}"
    work.emit(
        events.IncidentReopened(
            incident_id=case.incident_id,
            occurred_at=now,
            reopened_by=verified_by,
            reason=reason,
            rework_count=case.rework_count,
        )
    )
    if case.rework_count == 1 and case.assignee_id:
        decision = policy.Decision(
            case.assignee_id, events.Rung(case.rung), f"reopened: back to the handler ({reason})"
        )
    else:
        decision = await climb(work, reason=f"reopened {case.rework_count} times")
    await hand_over(work, decision, restart_resolution=True)
