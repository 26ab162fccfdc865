"""A unit of work on one case: lock it, let the domain decide, commit the change with its events.

Events go to the outbox in the same transaction as the change, and are published right
after the commit (the relay sends any that a crash left behind). Redis effects (load
counters, timers, task notifications) follow the commit; Redis is rebuilt from PostgreSQL
when it loses them.
"""

import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import envelope, events, failpoints, observability
from services.common.kafka import Publisher
from services.dispatch import metrics
from services.dispatch.adapters import case_repo, outbox, timer_store
from services.dispatch.adapters.live_state import LiveState
from services.dispatch.adapters.tables import CaseRow, OutboxRow, TimerRow
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


@dataclass
class CaseWork:
    """What one command does to one case, collected until it is published and committed."""

    deps: Dependencies
    session: AsyncSession
    case: CaseRow
    now: datetime
    outgoing: list[envelope.CloudEvent] = field(default_factory=list)
    new_timers: list[TimerRow] = field(default_factory=list)
    cancelled_timers: list[str] = field(default_factory=list)
    load_changes: Counter[str] = field(default_factory=Counter)
    notified: set[str] = field(default_factory=set)
    stored_events: list[OutboxRow] = field(default_factory=list)

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
        self.cancelled_timers += await timer_store.cancel(
            session=self.session, incident_id=self.case.incident_id, kinds=list(kinds), now=self.now
        )

    def move_load(self, *, from_member: str | None, to_member: str | None) -> None:
        """The case's open-case count moves from one member to another."""
        if from_member:
            self.load_changes[from_member] -= 1
        if to_member:
            self.load_changes[to_member] += 1

    async def flush(self) -> None:
        """Store timers, the case and its events in the open transaction."""
        await timer_store.save(session=self.session, rows=self.new_timers)
        self.session.add(self.case)
        self.stored_events = outbox.rows_for(self.deps.lifecycle_topic, self.outgoing, now=self.now)
        self.session.add_all(self.stored_events)
        await self.session.flush()

    async def after_commit(self) -> None:
        """Log, count and publish the committed events, then the Redis effects."""
        for event in self.outgoing:
            logger.info(
                "committed %s; case %s", event.type, self.case.status, extra={"event_id": event.id}
            )
        metrics.count_committed(self.outgoing)
        failpoints.reach("dispatch.before_publish")
        await outbox.send(
            self.stored_events, publisher=self.deps.publisher, sessions=self.deps.sessions
        )
        for member_id, delta in self.load_changes.items():
            if delta:
                await self.deps.live.add_load(member_id, delta)
        await self.deps.schedule.remove(self.cancelled_timers)
        await self.deps.schedule.add(self.new_timers)
        if self.notified and self.outgoing:
            change: dict[str, Any] = {
                "incident_id": str(self.case.incident_id),
                "status": self.case.status,
                "events": [event.type for event in self.outgoing],
            }
            await self.deps.live.notify(self.notified, change)


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
async def case_work(
    deps: Dependencies, incident_id: uuid.UUID, *, now: datetime, new_case: CaseRow | None = None
) -> AsyncIterator[CaseWork | None]:
    """Lock the case for one command; commit, then publish, when the block succeeds.

    With `new_case`, the case is created first; the block gets None when it already existed
    (a redelivered report), so nothing is done twice. Log lines written meanwhile carry the
    incident id.
    """
    with observability.log_context(incident_id=incident_id):
        async with _locked_case(deps, incident_id, now=now, new_case=new_case) as work:
            yield work


@asynccontextmanager
async def _locked_case(
    deps: Dependencies, incident_id: uuid.UUID, *, now: datetime, new_case: CaseRow | None
) -> AsyncIterator[CaseWork | None]:
    async with deps.sessions() as session:
        async with session.begin():
            if new_case is not None and not await case_repo.insert_if_new(
                session=session, case=new_case
            ):
                yield None
                return
            case = await case_repo.lock(session=session, incident_id=incident_id)
            if case is None:
                raise CaseNotFound(str(incident_id))
            work = CaseWork(deps=deps, session=session, case=case, now=now)
            yield work
            await work.flush()
        await work.after_commit()


@asynccontextmanager
async def existing_case(
    deps: Dependencies, incident_id: uuid.UUID, *, now: datetime
) -> AsyncIterator[CaseWork]:
    """`case_work` for a case that must exist."""
    async with case_work(deps, incident_id, now=now) as work:
        assert work is not None
        yield work
