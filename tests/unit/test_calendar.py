"""Working-time calendars count across nights, weekends and holidays."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from services.dispatch.domain.calendar import Clock, WorkCalendar, deadline, remaining, resume

TZ = ZoneInfo("Asia/Shanghai")
NATIONAL_DAY = frozenset(date(2026, 10, d) for d in (1, 2, 5, 6, 7))
CALENDAR = WorkCalendar(
    timezone=TZ, holidays=NATIONAL_DAY, extra_workdays=frozenset({date(2026, 10, 10)})
)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def test_two_hours_from_late_afternoon_continue_next_morning() -> None:
    # Wednesday 16:30 → one hour today (to 17:30), one hour from 08:30 on Thursday.
    assert CALENDAR.add_working_time(at(25, 16, 30), timedelta(hours=2)) == at(26, 9, 30)


def test_the_lunch_break_does_not_count() -> None:
    assert CALENDAR.add_working_time(at(25, 11, 30), timedelta(hours=1)) == at(25, 14, 30)


def test_friday_evening_rolls_over_the_weekend() -> None:
    # Friday 27 November 2026, 17:00 → 30 minutes left today, 90 on Monday.
    assert CALENDAR.add_working_time(at(27, 17), timedelta(hours=2)) == at(30, 10, 0)


def test_a_report_at_night_starts_counting_at_opening_time() -> None:
    assert CALENDAR.add_working_time(at(25, 23), timedelta(minutes=30)) == at(26, 9, 0)


def test_holidays_are_skipped_and_makeup_weekend_days_count() -> None:
    # 30 September 2026 (Wednesday) 17:00; 1–7 October is the holiday, but 3–4 are a weekend
    # and 8–9 are working days; Saturday 10 October is a make-up working day.
    assert CALENDAR.is_working_day(date(2026, 10, 10))
    assert not CALENDAR.is_working_day(date(2026, 10, 1))
    due = CALENDAR.add_working_time(at(30, 17, month=9), timedelta(hours=1))
    assert due == at(8, 9, 0, month=10)


def test_working_days_end_at_closing_time_of_the_nth_working_day() -> None:
    due = deadline(CALENDAR, clock=Clock.WORKING_DAYS, start=at(27, 10), limit=timedelta(days=3))
    assert due == datetime.combine(date(2026, 12, 2), time(17, 30), TZ)


def test_wall_clock_ignores_the_calendar() -> None:
    start = at(28, 3)
    assert deadline(CALENDAR, clock=Clock.WALL, start=start, limit=timedelta(minutes=15)) == (
        start + timedelta(minutes=15)
    )


def test_a_paused_clock_resumes_with_what_was_left() -> None:
    due = at(26, 10)
    left = remaining(CALENDAR, clock=Clock.WORKING_HOURS, now=at(25, 17), due=due)
    assert left == timedelta(hours=2)
    assert resume(CALENDAR, clock=Clock.WORKING_HOURS, now=at(30, 8, 30), left=left) == at(
        30, 10, 30
    )


moments = st.datetimes(
    min_value=datetime(2026, 9, 1), max_value=datetime(2026, 12, 31), timezones=st.just(TZ)
)
spans = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=60))


@given(start=moments, first=spans, second=spans)
def test_adding_working_time_in_two_steps_equals_one_step(
    start: datetime, first: timedelta, second: timedelta
) -> None:
    stepwise = CALENDAR.add_working_time(CALENDAR.add_working_time(start, first), second)
    assert stepwise == CALENDAR.add_working_time(start, first + second)


@given(start=moments, duration=spans)
def test_the_working_time_between_start_and_deadline_is_the_duration(
    start: datetime, duration: timedelta
) -> None:
    due = CALENDAR.add_working_time(start, duration)
    assert due >= start
    assert CALENDAR.working_time_between(start, due) == duration


@given(
    start=moments,
    duration=st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(hours=60)),
)
def test_deadlines_fall_inside_office_hours_on_working_days(
    start: datetime, duration: timedelta
) -> None:
    due = CALENDAR.add_working_time(start, duration).astimezone(TZ)
    assert CALENDAR.is_working_day(due.date())
    assert any(begin < due.time() <= end for begin, end in CALENDAR.periods)
