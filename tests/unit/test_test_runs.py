"""Which topics on the shared stack a test session may remove as left behind by earlier runs."""

import time

from tests.support import runs


def test_a_fresh_runs_topics_and_groups_are_not_stale() -> None:
    run = runs.new_run()
    now = time.time()
    assert not runs.stale(runs.name(run, "reported"), now=now)
    assert not runs.stale(runs.name(run, "reported.alone"), now=now + runs.STALE_AFTER_S - 60)


def test_a_run_older_than_the_limit_is_stale() -> None:
    made = 1_700_000_000
    topic = runs.name(f"{made}-abc123", "lifecycle")
    assert runs.stale(topic, now=made + runs.STALE_AFTER_S + 1)
    assert not runs.stale(topic, now=made + runs.STALE_AFTER_S - 1)


def test_topics_named_before_runs_told_their_age_are_stale() -> None:
    assert runs.stale("test.1f3a9c0b7e.reported", now=time.time())
    assert runs.stale("test.1f3a9c0b.single", now=time.time())


def test_topics_that_are_not_a_test_runs_are_never_stale() -> None:
    now = time.time()
    others = (
        "gridloop.reported",
        "bench.1f3a9c0b7e.raw",
        "__consumer_offsets",
        "test.orders",
        "test.readiness.1f3a9c0b",
    )
    for topic in others:
        assert not runs.stale(topic, now=now)


def test_a_runs_settings_name_their_run() -> None:
    run = runs.new_run()
    env = {"TOPIC_REPORTS": runs.name(run, "reported")}
    assert runs.run_of(env) == run


def test_test_databases_are_stale_by_the_same_rule_and_nothing_else_is() -> None:
    now = time.time()
    assert not runs.stale_database(runs.database_name(), now=now)
    assert runs.stale_database("gridloop_test_1700000000_abc123", now=now)
    assert runs.stale_database("gridloop_test_1f3a9c0b7e2d", now=now)
    for name in ("gridloop", "postgres", "gridloop_bench_1f3a9c0b7e2d", "gridloop_test_x"):
        assert not runs.stale_database(name, now=now)
