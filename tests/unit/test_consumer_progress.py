"""A consumer loop's progress: when it counts as stalled, and the lag it reports."""

import pytest
from prometheus_client import REGISTRY

from services.common import metrics

STALL_S = 30.0
REPORTS = ("reports", 0)


class Clock:
    """A hand-moved monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def progress_of(clock: Clock, group: str) -> metrics.ConsumerProgress:
    progress = metrics.ConsumerProgress(
        group, stall_after_s=STALL_S, clock=clock, wall_clock=lambda: 1_700_000_000.0
    )
    progress.started()
    return progress


def lag_sample(group: str, topic: str, partition: int) -> float | None:
    return REGISTRY.get_sample_value(
        "gridloop_consumer_lag", {"group": group, "topic": topic, "partition": str(partition)}
    )


def stalled_sample(group: str) -> float | None:
    return REGISTRY.get_sample_value("gridloop_consumer_stalled", {"group": group})


def test_a_loop_that_polls_and_keeps_up_is_not_stalled(clock: Clock) -> None:
    progress = progress_of(clock, "keeps-up")
    for offset in range(10):
        clock.advance(20)
        progress.polled()
        progress.assigned([REPORTS])
        progress.observe(REPORTS, position=offset, end=offset, fetch_mark=offset)
    assert progress.stall_reason() is None
    assert stalled_sample("keeps-up") == 0.0


def test_a_loop_that_never_returns_from_a_poll_is_stalled(clock: Clock) -> None:
    progress = progress_of(clock, "never-polls")
    clock.advance(STALL_S - 1)
    assert progress.stall_reason() is None
    clock.advance(2)
    reason = progress.stall_reason()
    assert reason is not None and "has not returned from a poll" in reason
    assert stalled_sample("never-polls") == 1.0


def test_a_poll_stuck_after_earlier_progress_is_a_stall(clock: Clock) -> None:
    progress = progress_of(clock, "stuck-later")
    progress.polled()
    clock.advance(STALL_S + 1)
    assert "has not returned from a poll for 31 s" in (progress.stall_reason() or "")


def test_lag_that_does_not_move_is_a_stall_but_lag_that_moves_is_not(clock: Clock) -> None:
    progress = progress_of(clock, "lagging")
    progress.assigned([REPORTS])
    for step in range(5):  # behind, but catching up: position moves every poll
        clock.advance(10)
        progress.polled()
        progress.observe(REPORTS, position=100 + step, end=500, fetch_mark=step)
    assert progress.stall_reason() is None
    assert lag_sample("lagging", "reports", 0) == 396
    for step in range(5, 10):  # polls go on, fetches are answered, the position stays
        clock.advance(10)
        progress.polled()
        progress.observe(REPORTS, position=104, end=500, fetch_mark=step)
    reason = progress.stall_reason()
    assert reason is not None
    assert "reports-0 has lag 396" in reason and "has not moved for 50 s" in reason


def test_no_lag_and_no_new_records_is_idle_not_stalled(clock: Clock) -> None:
    progress = progress_of(clock, "idle")
    progress.assigned([REPORTS])
    for step in range(10):
        clock.advance(10)
        progress.polled()
        progress.observe(REPORTS, position=42, end=42, fetch_mark=step)
    assert progress.stall_reason() is None
    assert lag_sample("idle", "reports", 0) == 0


def test_a_partition_the_broker_no_longer_answers_for_is_a_stall(clock: Clock) -> None:
    """What a fetcher wedged after a broker restart looks like: polls return, nothing moves."""
    progress = progress_of(clock, "unanswered")
    progress.assigned([REPORTS])
    progress.polled()
    progress.observe(REPORTS, position=7, end=7, fetch_mark="t0")
    for _ in range(4):
        clock.advance(10)
        progress.polled()
        progress.observe(REPORTS, position=7, end=7, fetch_mark="t0")
    reason = progress.stall_reason()
    assert reason is not None and "no fetch answer for reports-0 for 40 s" in reason


def test_a_partition_never_fetched_since_its_assignment_is_a_stall(clock: Clock) -> None:
    progress = progress_of(clock, "never-fetched")
    progress.assigned([REPORTS])
    for _ in range(4):
        clock.advance(10)
        progress.polled()
    assert "no fetch answer for reports-0" in (progress.stall_reason() or "")


def test_revoked_partitions_are_forgotten_with_their_lag_series(clock: Clock) -> None:
    progress = progress_of(clock, "rebalanced")
    progress.assigned([REPORTS, ("reports", 1)])
    progress.polled()
    progress.observe(("reports", 1), position=3, end=9, fetch_mark=1)
    assert lag_sample("rebalanced", "reports", 1) == 6
    progress.assigned([REPORTS])
    assert lag_sample("rebalanced", "reports", 1) is None
    assert progress.lag() == {REPORTS: 0}
    assert (
        REGISTRY.get_sample_value("gridloop_consumer_assigned_partitions", {"group": "rebalanced"})
        == 1
    )


def test_a_stopped_loop_is_not_judged_and_drops_its_series(clock: Clock) -> None:
    progress = progress_of(clock, "stopped")
    progress.assigned([REPORTS])
    progress.observe(REPORTS, position=1, end=5, fetch_mark=1)
    progress.stopped()
    clock.advance(10 * STALL_S)
    assert progress.stall_reason() is None
    assert lag_sample("stopped", "reports", 0) is None
    assert stalled_sample("stopped") is None


def test_the_last_poll_time_is_exported_as_unix_time(clock: Clock) -> None:
    progress = progress_of(clock, "timestamped")
    progress.polled()
    sample = REGISTRY.get_sample_value(
        "gridloop_consumer_last_poll_timestamp_seconds", {"group": "timestamped"}
    )
    assert sample == 1_700_000_000.0


def test_a_loop_without_partitions_for_too_long_is_stalled(clock: Clock) -> None:
    """It cannot join its group, or the group has more consumers than partitions."""
    progress = progress_of(clock, "unassigned")
    for _ in range(4):
        clock.advance(10)
        progress.polled()
        progress.assigned([])
    reason = progress.stall_reason()
    assert reason is not None and "no partition assigned for 40 s" in reason


def test_a_short_rebalance_without_partitions_is_not_a_stall(clock: Clock) -> None:
    progress = progress_of(clock, "rebalancing")
    progress.assigned([REPORTS])
    for step in range(6):
        clock.advance(10)
        progress.polled()
        progress.assigned([] if step in (2, 3) else [REPORTS])
        if step not in (2, 3):
            progress.observe(REPORTS, position=5, end=5, fetch_mark=step)
    assert progress.stall_reason() is None
    progress.assigned([])
    clock.advance(STALL_S + 1)
    progress.polled()
    assert "no partition assigned" in (progress.stall_reason() or "")


def test_unanswered_fetches_are_told_apart_from_other_stalls(clock: Clock) -> None:
    progress = progress_of(clock, "unanswered")
    progress.assigned([REPORTS])
    progress.polled()
    progress.observe(REPORTS, position=5, end=9, fetch_mark=1)
    clock.advance(STALL_S + 1)
    progress.polled()
    progress.observe(REPORTS, position=6, end=9, fetch_mark=1)
    assert progress.unanswered_fetch() == f"no fetch answer for reports-0 for {STALL_S + 1:.0f} s"
    progress.observe(REPORTS, position=6, end=9, fetch_mark=2)
    assert progress.unanswered_fetch() is None
    progress.assigned([])
    clock.advance(STALL_S + 1)
    assert progress.unanswered_fetch() is None, "no partition is not a wedged fetcher"
    assert progress.stall_reason() is not None


def test_offsets_no_commit_is_accepted_for_are_a_stall_that_a_new_consumer_would_mend(
    clock: Clock,
) -> None:
    progress = progress_of(clock, "uncommitted")
    progress.assigned([REPORTS])
    progress.awaiting_commit(True)
    for offset in range(1, 4):  # fetches answered and handled, commits never accepted
        clock.advance(STALL_S / 2)
        progress.polled()
        progress.observe(REPORTS, position=offset, end=offset, fetch_mark=offset)
        progress.awaiting_commit(True)
    assert progress.unanswered_fetch() is None
    assert progress.wedged() == f"handled offsets not committed for {1.5 * STALL_S:.0f} s"
    assert progress.stall_reason() == f"consumer uncommitted: {progress.wedged()}"
    progress.commit_accepted()
    assert progress.wedged() is None and progress.stall_reason() is None


def test_commits_that_keep_being_accepted_or_nothing_to_commit_are_no_stall(
    clock: Clock,
) -> None:
    progress = progress_of(clock, "commits")
    progress.assigned([REPORTS])
    progress.awaiting_commit(True)
    for offset in range(1, 6):  # under load something always waits, and commits go through
        clock.advance(STALL_S / 2)
        progress.polled()
        progress.observe(REPORTS, position=offset, end=offset, fetch_mark=offset)
        progress.commit_accepted()
    assert progress.wedged() is None
    progress.awaiting_commit(False)
    clock.advance(2 * STALL_S)
    progress.polled()
    progress.observe(REPORTS, position=5, end=5, fetch_mark=6)
    assert progress.wedged() is None and progress.stall_reason() is None
    progress.awaiting_commit(True)
    progress.stopped()
    clock.advance(2 * STALL_S)
    assert progress.wedged() is None, "a stopped loop is not judged"
