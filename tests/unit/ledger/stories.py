"""Hand-made incident histories for the ledger tests: write what happened, get the events.

    story = Story(household="H0001").reported(0).assigned(5, "P001").accepted(20).resolved(90)

Times are minutes after the story's start. Event ids are deterministic per incident and
step, like the ones dispatch produces, so a story replayed twice is a redelivery.
"""

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from services.common import envelope, events
from services.ledger.domain import records

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Story:
    """One incident's events in the order they are told (which is the arrival order)."""

    def __init__(
        self,
        *,
        incident_id: uuid.UUID | None = None,
        start: datetime = START,
        household: str | None = "H0001",
        grid: str = "G01",
        category: str = "clutter",
        channel: events.Channel = events.Channel.OFFICER_APP,
    ) -> None:
        self.incident_id = incident_id or uuid.uuid4()
        self.start = start
        self.household, self.grid, self.category, self.channel = household, grid, category, channel
        self.assignee: str | None = None
        self.events: list[envelope.CloudEvent] = []

    def at(self, minutes: float) -> datetime:
        return self.start + timedelta(minutes=minutes)

    def _add(
        self, step: str, model: type[events.EventPayload], minutes: float, **data: Any
    ) -> Self:
        payload = model(incident_id=self.incident_id, occurred_at=self.at(minutes), **data)
        event_id = events.event_id_for(self.incident_id, f"{step}/{len(self.events)}")
        self.events.append(envelope.new_event(event_id=event_id, source="test", data=payload))
        return self

    def reported(self, minutes: float = 0, **fields: Any) -> Self:
        defaults: dict[str, Any] = {
            "channel": self.channel,
            "category": self.category,
            "description": "boxes piled in front of the door",
            "household_id": self.household,
            "grid_id": self.grid,
            "reporter_token": "pd1:secret-token",
            "reporter_phone_masked": "138****5678",
        }
        return self._add("reported", events.IncidentReported, minutes, **{**defaults, **fields})

    def assigned(
        self,
        minutes: float,
        assignee: str | None = "P001",
        *,
        rung: events.Rung = events.Rung.LINKED_MEMBER,
        attempt: int = 1,
        acknowledge_within: float | None = None,
        resolve_within: float | None = None,
        co_handlers: tuple[str, ...] = (),
    ) -> Self:
        self.assignee = assignee
        return self._add(
            "assigned",
            events.IncidentAssigned,
            minutes,
            grid_id=self.grid,
            assignee_id=assignee,
            rung=rung,
            reason="linked party member of the household (1+10)",
            attempt=attempt,
            co_handler_ids=co_handlers,
            acknowledge_due_at=self.at(minutes + acknowledge_within)
            if acknowledge_within is not None
            else None,
            resolve_due_at=self.at(minutes + resolve_within)
            if resolve_within is not None
            else None,
        )

    def transferred(self, minutes: float) -> Self:
        return self.assigned(minutes, None, rung=events.Rung.TOWN)

    def _member(self, member: str | None) -> str:
        return member or self.assignee or "P001"

    def accepted(self, minutes: float, member: str | None = None) -> Self:
        return self._add(
            "accepted", events.IncidentAccepted, minutes, member_id=self._member(member)
        )

    def declined(self, minutes: float, member: str | None = None) -> Self:
        return self._add(
            "declined",
            events.IncidentDeclined,
            minutes,
            member_id=self._member(member),
            reason="away",
        )

    def started(self, minutes: float, member: str | None = None) -> Self:
        return self._add("started", events.IncidentStarted, minutes, member_id=self._member(member))

    def resolved(self, minutes: float, member: str | None = None, result: str = "cleared") -> Self:
        return self._add(
            "resolved",
            events.IncidentResolved,
            minutes,
            member_id=self._member(member),
            result=result,
        )

    def escalated(self, minutes: float, reason: str = "acknowledgement missed") -> Self:
        return self._add(
            "escalated",
            events.IncidentEscalated,
            minutes,
            from_assignee_id=self.assignee,
            from_rung=events.Rung.LINKED_MEMBER,
            to_rung=events.Rung.GRID_MEMBER,
            reason=reason,
        )

    def warned(self, minutes: float, stage: str = "resolve", level: str = "red") -> Self:
        return self._add(
            "warned",
            events.IncidentDeadlineWarned,
            minutes,
            stage=events.Stage(stage),
            level=level,
            member_id=self.assignee,
            due_at=self.at(minutes),
        )

    def extended(self, minutes: float, until: float) -> Self:
        return self._add(
            "extended",
            events.IncidentExtended,
            minutes,
            member_id=self._member(None),
            approved_by="L01",
            reason="waiting for materials",
            resolve_due_at=self.at(until),
        )

    def parked(self, minutes: float) -> Self:
        return self._add(
            "parked", events.IncidentParked, minutes, member_id="C01", reason="needs the town"
        )

    def unparked(self, minutes: float) -> Self:
        return self._add("unparked", events.IncidentUnparked, minutes, member_id="C01")

    def co_handler(self, minutes: float, member: str = "POLICE1") -> Self:
        return self._add(
            "co_handler", events.IncidentCoHandlerAdded, minutes, member_id=member, role="police"
        )

    def verified(
        self,
        minutes: float,
        *,
        passed: bool = True,
        rating: events.Rating | None = None,
        method: str = "inspection",
    ) -> Self:
        return self._add(
            "verified",
            events.IncidentVerified,
            minutes,
            verified_by="L01",
            method=method,
            passed=passed,
            rating=rating,
        )

    def feedback(self, minutes: float, rating: events.Rating) -> Self:
        return self._add(
            "feedback",
            events.IncidentFeedback,
            minutes,
            rating=rating,
            reporter_token="pd1:secret-token",
        )

    def closed(self, minutes: float) -> Self:
        return self._add("closed", events.IncidentClosed, minutes, closed_by="L01")

    def reopened(self, minutes: float, rework: int = 1) -> Self:
        return self._add(
            "reopened",
            events.IncidentReopened,
            minutes,
            reopened_by="L01",
            reason="reporter unsatisfied",
            rework_count=rework,
        )

    def cancelled(self, minutes: float) -> Self:
        return self._add(
            "cancelled", events.IncidentCancelled, minutes, cancelled_by="C01", reason="duplicate"
        )

    def merged(self, minutes: float) -> Self:
        return self._add(
            "merged",
            events.IncidentMerged,
            minutes,
            report_id=uuid.uuid4(),
            channel=events.Channel.HOTLINE,
            description="same boxes, reported again",
        )

    def closed_loop(self, minutes: float = 0, *, rating: events.Rating | None = None) -> Self:
        """Reported, assigned, accepted, resolved, verified and closed within a day."""
        return (
            self.reported(minutes)
            .assigned(minutes + 5, acknowledge_within=30, resolve_within=24 * 60)
            .accepted(minutes + 20)
            .resolved(minutes + 120)
            .verified(minutes + 180, rating=rating)
            .closed(minutes + 200)
        )

    def records(
        self, *, first_seq: int = 1, recorded_at: datetime | None = None
    ) -> list[records.Record]:
        """The events as ledger records, in the order told (seq = arrival order)."""
        return [
            records.Record(
                seq=first_seq + n,
                event_id=event.id,
                incident_id=self.incident_id,
                type=event.type,
                source=event.source,
                occurred_at=event.data.occurred_at,
                recorded_at=recorded_at or self.start + timedelta(days=1, seconds=n),
                data=event.data,
            )
            for n, event in enumerate(self.events)
        ]


def reordered(story: Story, order: list[int]) -> list[records.Record]:
    """The story's records arriving in another order (seq follows the new order)."""
    told = story.records()
    return [told[index]._replace(seq=n + 1) for n, index in enumerate(order)]


def interleaved(
    queues: list[list[envelope.CloudEvent]], generator: random.Random
) -> list[envelope.CloudEvent]:
    """One stream from several queues: each keeps its order, the next queue drawn at random."""
    arrived = []
    while queues:
        queue = generator.choice(queues)
        arrived.append(queue.pop(0))
        if not queue:
            queues.remove(queue)
    return arrived


def arrival(stories: list[Story], generator: random.Random) -> list[envelope.CloudEvent]:
    """Each incident's events in order; a third of the reports after their lifecycle."""
    queues = []
    for story in stories:
        first, *rest = story.events
        queues.append([*rest, first] if generator.random() < 0.33 else [first, *rest])
    return interleaved(queues, generator)
