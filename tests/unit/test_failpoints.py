"""Failpoints end the process on the armed arrival, and do nothing when not armed."""

import subprocess
import sys
from pathlib import Path

import pytest

from services.common import failpoints

ROOT = Path(__file__).resolve().parents[2]
REACH_TWICE = (
    "from services.common import failpoints\n"
    "failpoints.reach('consumer.before_commit')\n"
    "print('first arrival passed', flush=True)\n"
    "failpoints.reach('consumer.before_commit')\n"
    "print('second arrival passed', flush=True)\n"
)


def test_reads_names_and_arrivals_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(failpoints.ENV, "consumer.before_commit=3, intake.before_answer")
    failpoints.armed.cache_clear()
    try:
        assert failpoints.armed() == {"consumer.before_commit": 3, "intake.before_answer": 1}
    finally:
        failpoints.armed.cache_clear()


def test_an_unarmed_failpoint_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(failpoints.ENV, raising=False)
    failpoints.armed.cache_clear()
    try:
        for _ in range(3):
            failpoints.reach("consumer.before_commit")
        assert failpoints.armed() == {}
    finally:
        failpoints.armed.cache_clear()


def test_the_armed_arrival_ends_the_process_at_once() -> None:
    result = subprocess.run(
        [sys.executable, "-c", REACH_TWICE],
        env={failpoints.ENV: "consumer.before_commit=2"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == failpoints.EXIT_STATUS
    assert result.stdout.splitlines() == ["first arrival passed"]
