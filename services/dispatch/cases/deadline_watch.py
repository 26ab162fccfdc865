"""Deadlines coming due: yellow warnings, red marks, and escalation of unacknowledged cases."""

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from services.common import events, observability, runtime
from services.dispatch.adapters import case_repo, timer_store
from services.dispatch.adapters.tables import GridRow
from services.dispatch.cases.assignment import climb, hand_over
from services.dispatch.cases.work import CaseNotFound, CaseWork, Dependencies, existing_case
from services.dispatch.domain import lifecycle
from services.dispatch.domain.deadlines import ACKNOWLEDGE_KINDS, TimerKind

logger = logging.getLogger(__name__)
OPEN = {"assigned", "accepted", "in_progress"}


async def fire(timer_id: str, *, deps: Dependencies, now: datetime) -> None:
    """Act on one due timer, once: stale or cancelled timers do nothing."""
    incident_id = uuid.UUID(timer_id.split(":", 1)[0])
    async with existing_case(deps, incident_id, now=now) as work:
        timer = await timer_store.mark_fired(session=work.session, timer_id=timer_id, now=now)
        if timer is None or work.case.parked:
            return
        kind = TimerKind(timer.kind)
        if kind in ACKNOWLEDGE_KINDS and timer.attempt != work.case.attempt:
            return
        if kind in ACKNOWLEDGE_KINDS and work.case.status != "assigned":
            return
        if work.case.status not in OPEN:
            return
        if kind == TimerKind.ACKNOWLEDGE_DUE:
            await _escalate(work, due=timer.due_at)
        else:
            await _warn(work, kind, due=timer.due_at)


async def _warn(work: CaseWork, kind: TimerKind, *, due: datetime) -> None:
    case = work.case
    red = kind == TimerKind.RESOLVE_DUE
    stage = (
        events.Stage.RESOLVE
        if kind in (TimerKind.RESOLVE_WARN, TimerKind.RESOLVE_DUE)
        else (events.Stage.ACKNOWLEDGE)
    )
    notified = [case.assignee_id] if case.assignee_id else []
    if red:
        leader = await _grid_leader(work)
        notified += [leader] if leader else []
    work.emit(
        events.IncidentDeadlineWarned(
            incident_id=case.incident_id,
            occurred_at=work.now,
            stage=stage,
            level="red" if red else "yellow",
            member_id=case.assignee_id,
            due_at=due,
            notified_ids=tuple(dict.fromkeys(notified)),
        )
    )
    work.notify(*notified)


async def _escalate(work: CaseWork, *, due: datetime) -> None:
    """The assignee let the acknowledgement deadline pass: climb the ladder one rung at a time."""
    case = work.case
    lifecycle.check(lifecycle.Action.ESCALATE, work.facts, lifecycle.SYSTEM)
    missed = case.assignee_id
    work.emit(
        events.IncidentDeadlineWarned(
            incident_id=case.incident_id,
            occurred_at=work.now,
            stage=events.Stage.ACKNOWLEDGE,
            level="red",
            member_id=missed,
            due_at=due,
            notified_ids=(missed,) if missed else (),
        )
    )
    if missed:
        case.missed_by = sorted({*case.missed_by, missed})
    decision = await climb(work, reason=f"acknowledgement deadline missed by {missed or 'nobody'}")
    await hand_over(work, decision)


async def _grid_leader(work: CaseWork) -> str | None:
    if work.case.grid_id is None:
        return None
    grid = await work.session.get(GridRow, work.case.grid_id)
    return grid.leader_id if grid else None


async def watch(
    stop: asyncio.Event,
    *,
    deps: Dependencies,
    poll_s: float = 0.2,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Claim due timers from Redis and fire them until `stop` is set."""
    while not stop.is_set():
        try:
            for timer_id in await deps.schedule.claim_due(now=clock()):
                with observability.log_context(incident_id=timer_id.split(":", 1)[0]):
                    try:
                        await fire(timer_id, deps=deps, now=clock())
                    except CaseNotFound:
                        logger.warning("timer %s refers to no case", timer_id)
                    except Exception:
                        # Still pending in PostgreSQL: the reconciler schedules it again.
                        logger.exception("timer %s failed; it will be retried", timer_id)
        except Exception:
            logger.exception("claiming due timers failed")
        await runtime.pause(stop, poll_s)


async def reconcile(
    stop: asyncio.Event,
    *,
    deps: Dependencies,
    interval_s: float = 2.0,
    horizon: timedelta = timedelta(minutes=10),
) -> None:
    """Put pending timers back into Redis (after a flush or a crash) and fix drifted loads."""
    suspected: dict[str, int] | None = None
    while not stop.is_set():
        try:
            async with deps.sessions() as session:
                pending = await timer_store.pending(
                    session=session, before=datetime.now(UTC) + horizon
                )
                truth = await case_repo.open_case_counts(session=session)
            await deps.schedule.add(pending)
            drift = _drift(truth, await deps.live.all_loads())
            if drift and drift == suspected:
                logger.warning("load counters drifted (%s); rebuilding from the database", drift)
                await deps.live.rebuild(truth)
                suspected = None
            else:
                suspected = drift or None
        except Exception:
            logger.exception("reconciling timers and loads failed")
        await runtime.pause(stop, interval_s)


def _drift(truth: dict[str, int], live: dict[str, int]) -> dict[str, int]:
    members = set(truth) | set(live)
    return {
        m: live.get(m, 0) - truth.get(m, 0) for m in members if live.get(m, 0) != truth.get(m, 0)
    }
