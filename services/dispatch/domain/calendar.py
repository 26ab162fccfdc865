"""Working-time calendars: deadlines counted in office hours and working days, holidays excluded.

Pure: every function takes the instant it reasons about; nothing reads the clock.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Clock(StrEnum):
    WALL = "wall_clock"
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"


@dataclass(frozen=True)
class WorkCalendar:
    """Office hours on working days, in the community's time zone."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    periods: tuple[tuple[time, time], ...] = (
        (time(8, 30), time(12, 0)),
        (time(14, 0), time(17, 30)),
    )
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        """Weekdays that are not holidays, plus weekend days declared working (调休)."""
        if day in self.extra_workdays:
            return True
        return day.weekday() in self.weekdays and day not in self.holidays

    def _spans(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        return [
            (
                datetime.combine(day, start, self.timezone),
                datetime.combine(day, end, self.timezone),
            )
            for start, end in self.periods
        ]

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when `duration` of office time has passed after `start`."""
        remaining = duration
        moment = start.astimezone(self.timezone)
        day = moment.date()
        for _ in range(3660):  # ten years of days: a bound, never reached with sane input
            for span_start, span_end in self._spans(day):
                if span_end <= moment:
                    continue
                begin = max(span_start, moment)
                available = span_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += timedelta(days=1)
        raise ValueError("no working time found within ten years")

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Office time between two instants (zero when `end` is not after `start`)."""
        if end <= start:
            return timedelta(0)
        start, end = start.astimezone(self.timezone), end.astimezone(self.timezone)
        total = timedelta(0)
        day = start.date()
        while day <= end.date():
            for span_start, span_end in self._spans(day):
                overlap = min(span_end, end) - max(span_start, start)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """End of office hours on the `days`-th working day after the start's day."""
        day = start.astimezone(self.timezone).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        closing = max(end for _, end in self.periods)
        return datetime.combine(day, closing, self.timezone)


def deadline(
    calendar: WorkCalendar, *, clock: Clock, start: datetime, limit: timedelta
) -> datetime:
    """When a limit counted on `clock` from `start` runs out."""
    if clock == Clock.WALL:
        return start + limit
    if clock == Clock.WORKING_DAYS:
        whole_days = max(1, round(limit / timedelta(days=1)))
        return calendar.add_working_days(start, whole_days)
    return calendar.add_working_time(start, limit)


def remaining(calendar: WorkCalendar, *, clock: Clock, now: datetime, due: datetime) -> timedelta:
    """How much of a limit is left at `now`, counted on the same clock (for pausing it)."""
    if clock == Clock.WALL:
        return max(due - now, timedelta(0))
    return calendar.working_time_between(now, due)


def resume(calendar: WorkCalendar, *, clock: Clock, now: datetime, left: timedelta) -> datetime:
    """The new due time when a paused clock restarts at `now` with `left` remaining."""
    if clock == Clock.WALL:
        return now + left
    return calendar.add_working_time(now, left)
