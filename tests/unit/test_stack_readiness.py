"""The local stack waits for a server that is busy starting, and gives up on one that is stuck."""

import sys
import time
from pathlib import Path

import pytest

from services.demo.processes import ROOT

sys.path.insert(0, str(ROOT / "deploy" / "local"))
from gridstack.common import StackError  # noqa: E402
from gridstack.processes import wait_ready  # noqa: E402

TIMEOUT_S = 0.6


def test_a_server_still_writing_its_log_is_waited_for_past_the_timeout(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("starting\n")
    ready_at = time.monotonic() + 3 * TIMEOUT_S

    def ready() -> bool:
        with log.open("a") as handle:  # recovering partition after partition
            handle.write("loaded a partition\n")
        return time.monotonic() >= ready_at

    wait_ready("kafka", ready, lambda: True, log, timeout=TIMEOUT_S)
    assert time.monotonic() >= ready_at


def test_a_server_silent_for_the_timeout_is_given_up_on_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("waiting for the controller\n")
    started = time.monotonic()
    with pytest.raises(StackError, match="kafka not ready after") as refused:
        wait_ready("kafka", lambda: False, lambda: True, log, timeout=TIMEOUT_S)
    assert time.monotonic() - started < 10 * TIMEOUT_S
    assert "waiting for the controller" in str(refused.value)


def test_a_server_that_exits_is_reported_at_once(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("address already in use\n")
    with pytest.raises(StackError, match="exited during startup"):
        wait_ready("redis", lambda: False, lambda: False, log, timeout=60)
