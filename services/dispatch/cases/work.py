"""A unit of work on one case: lock it, let the domain decide, commit the change with its events.

Events go to the outbox in the same transaction as the change, and are handed to the producer
right after the commit; their acknowledgement is awaited in the background (the relay sends
any that a crash or a refusal left behind). Redis effects (load counters, timers, task
notifications) follow the commit; Redis is rebuilt from PostgreSQL when it loses them.
"""

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import envelope, events, failpoints, observability
from services.common.kafka import Publisher
from services.dispatch import metrics
from services.dispatch.adapters import case_repo, outbox, timer_store
from services.dispatch.adapters.live_state import LiveState
from services.dispatch.adapters.tables import CaseRow
from services.dispatch.cases.roster_view import RosterView
from services.dispatch.domain import deadlines, lifecycle
from services.dispatch.domain.catalogue import Catalogue, HandlingRules
from services.dispatch.domain.deadlines import Timer, TimerKind

SOURCE = "gridloop/dispatch"
logger = logging.getLogger(__name__)


class CaseNotFound(Exception):
    """No case with that incident id."""


@dataclass(frozen=True)
class Dependencies:
    sessions: async_sessionmaker[AsyncSession]
    live: LiveState
    publisher: Publisher
    lifecycle_topic: str
    catalogue: Catalogue
    schedule: timer_store.TimerSchedule
    confirmations: outbox.Confirmations


@dataclass
class CaseWork:
    """What one command does to one case, collected until it is published and committed.

    Works in one batch share a session and a roster view (`shared_view`), and with it the
    load they move; a `fresh` case was created in this transaction, so it has no timers yet.
    """

    deps: Dependencies
    session: AsyncSession
    case: CaseRow
    now: datetime
    shared_view: InitVar[RosterView | None] = None
    fresh: bool = False
    view: RosterView = field(init=False)
    outgoing: list[envelope.CloudEvent] = field(default_factory=list)
    new_timers: list[timer_store.NewTimer] = field(default_factory=list)
    cancelled_timers: list[str] = field(default_factory=list)
    notified: set[str] = field(default_factory=set)
    stored_events: list[outbox.Outgoing] = field(default_factory=list)

    def __post_init__(self, shared_view: RosterView | None) -> None:
        self.view = shared_view or RosterView(self.session, self.deps.live, self.now)

    @property
    def load_changes(self) -> Counter[str]:
        """Open cases moved between members by this work (by its batch, when shared)."""
        return self.view.pending_load

    @property
    def rules(self) -> HandlingRules:
        return self.deps.catalogue.for_category(self.case.category)

    @property
    def facts(self) -> lifecycle.CaseFacts:
        return facts_of(self.case)

    def check(self, action: lifecycle.Action, actor: lifecycle.Actor) -> None:
        """Raise IllegalTransition unless `actor` may do `action` on this case now."""
        lifecycle.check(action, self.facts, actor)

    def emit(self, data: events.EventPayload) -> None:
        """Queue an event; its id is fixed by the case version, so a retry re-sends the same."""
        self.case.version += 1
        event_id = events.event_id_for(self.case.incident_id, f"v{self.case.version}")
        self.outgoing.append(envelope.new_event(event_id=event_id, source=SOURCE, data=data))
        status = events.status_after(data)
        if status is not None:
            self.case.status = status.value
        self.notify(self.case.assignee_id, *self.case.co_handler_ids)

    def notify(self, *member_ids: str | None) -> None:
        """These members' task streams hear about this change."""
        self.notified.update(member for member in member_ids if member)

    def schedule(self, timers: Sequence[Timer], *, attempt: int) -> None:
        """Add timers for this case."""
        self.new_timers.extend(timer_store.new_rows(self.case.incident_id, attempt, timers))

    def start_acknowledge_clock(self) -> None:
        """The assignee's acknowledgement deadline from now, with its warning and due timers."""
        rules, calendar = self.rules, self.deps.catalogue.calendar
        due = deadlines.acknowledge_due(rules, calendar, assigned_at=self.now)
        self.case.acknowledge_due_at = due
        self._schedule_pair(due, TimerKind.ACKNOWLEDGE_WARN, TimerKind.ACKNOWLEDGE_DUE)

    def start_resolve_clock(self, due: datetime) -> None:
        """Resolution due at `due`, counted from now, with its warning and due timers."""
        self.case.resolve_due_at = due
        self._schedule_pair(due, TimerKind.RESOLVE_WARN, TimerKind.RESOLVE_DUE)

    def _schedule_pair(self, due: datetime, warn: TimerKind, expire: TimerKind) -> None:
        timers = deadlines.timers(
            self.rules,
            self.deps.catalogue.calendar,
            start=self.now,
            due=due,
            warn=warn,
            expire=expire,
        )
        self.schedule(timers, attempt=self.case.attempt)

    async def cancel_timers(self, kinds: Iterable[TimerKind]) -> None:
        """Stop pending timers of these kinds."""
        if self.fresh:
            return
        self.cancelled_timers += await timer_store.cancel(
            session=self.session, incident_id=self.case.incident_id, kinds=list(kinds), now=self.now
        )

    def move_load(self, *, from_member: str | None, to_member: str | None) -> None:
        """The case's open-case count moves from one member to another."""
        if from_member:
            self.load_changes[from_member] -= 1
        if to_member:
            self.load_changes[to_member] += 1

    def stage(self) -> None:
        """Add the case to the open transaction and encode its events (`store` writes both)."""
        self.session.add(self.case)
        self.stored_events = outbox.encoded(self.deps.lifecycle_topic, self.outgoing)


async def store(session: AsyncSession, works: Sequence[CaseWork]) -> None:
    """Write the works' timers, cases and events in the open transaction."""
    await timer_store.save(session=session, rows=[row for work in works for row in work.new_timers])
    for work in works:
        work.stage()
    await session.flush()
    events = [row for work in works for row in work.stored_events]
    if events:
        await outbox.store(session=session, rows=events, now=works[0].now)


async def settle(deps: Dependencies, works: Sequence[CaseWork]) -> None:
    """After the commit: log and count the events, hand them to the producer in order, and
    apply the Redis effects, which the next unit of work's decisions read. The broker's
    acknowledgement is not awaited here (outbox.Confirmations): the events are durable in
    the outbox since the commit, and later sends cannot overtake them."""
    for work in works:
        if logger.isEnabledFor(logging.DEBUG):  # a line per event is DEBUG's (ADR 47)
            for event in work.outgoing:
                logger.debug(
                    "committed %s; case %s",
                    event.type,
                    work.case.status,
                    extra={"event_id": event.id, "incident_id": work.case.incident_id},
                )
        metrics.count_committed(work.outgoing)
    failpoints.reach("dispatch.before_publish")
    # Neither waits for the other, and both are done (or have failed) before the next unit of
    # work decides: a refused hand-over does not leave the loads unapplied.
    outcomes = await asyncio.gather(
        deps.confirmations.hand_over([row for work in works for row in work.stored_events]),
        _live_effects(deps, works),
        return_exceptions=True,
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


async def _live_effects(deps: Dependencies, works: Sequence[CaseWork]) -> None:
    """Members' loads, the case timers and the members' task streams, in Redis."""
    moved: Counter[str] = Counter()
    for view in {id(work.view): work.view for work in works}.values():
        moved.update(view.pending_load)
    await deps.live.add_loads(moved)
    await deps.schedule.remove([timer for work in works for timer in work.cancelled_timers])
    await deps.schedule.add([timer for work in works for timer in work.new_timers])
    await deps.live.notify(
        (work.notified, _change(work)) for work in works if work.notified and work.outgoing
    )


def _change(work: CaseWork) -> dict[str, Any]:
    """What a member's task stream hears about a committed change."""
    return {
        "incident_id": str(work.case.incident_id),
        "status": work.case.status,
        "events": [event.type for event in work.outgoing],
    }


def facts_of(case: CaseRow) -> lifecycle.CaseFacts:
    """What the state machine needs to know about a stored case."""
    return lifecycle.CaseFacts(
        status=events.CaseStatus(case.status),
        assignee_id=case.assignee_id,
        grid_id=case.grid_id,
        co_handler_ids=frozenset(case.co_handler_ids),
        parked=case.parked,
        extension_pending=case.extension_pending,
    )


@asynccontextmanager
async def existing_case(
    deps: Dependencies, incident_id: uuid.UUID, *, now: datetime
) -> AsyncIterator[CaseWork]:
    """Lock the case for one command; commit, then publish, when the block succeeds.

    Raises CaseNotFound when there is no such case. Log lines written meanwhile carry the
    incident id.
    """
    with observability.log_context(incident_id=incident_id):
        async with deps.sessions() as session:
            async with session.begin():
                case = await case_repo.lock(session=session, incident_id=incident_id)
                if case is None:
                    raise CaseNotFound(str(incident_id))
                work = CaseWork(deps=deps, session=session, case=case, now=now)
                yield work
                await store(session, [work])
            await settle(deps, [work])
