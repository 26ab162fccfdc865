"""Intake against the real stack: dispatch (demo community), ledger and intake as processes.

Intake gets an admin token, loopback callbacks and quick retries; the ledger's URL is the
running ledger, so status look-ups and GeoReport reads go through the ledger's read API.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.demo.processes import ServiceProcess
from tests.integration.intake import helpers
from tests.support import stack as local_stack


@dataclass
class Stack:
    intake: ServiceProcess
    dispatch: ServiceProcess
    ledger: ServiceProcess
    env: dict[str, str]


@pytest.fixture(scope="module")
def intake_env(run_env: dict[str, str]) -> dict[str, str]:
    """This module's settings for intake (a module may override this fixture)."""
    return {**run_env, **helpers.INTAKE_TEST_SETTINGS}


@pytest.fixture(scope="module")
def stack(intake_env: dict[str, str], log_dir: Path) -> Iterator[Stack]:
    """The three services, intake pointed at this ledger."""
    ServiceProcess("dispatch", intake_env, log_dir, command="load-demo").run_to_completion()
    dispatch = ServiceProcess("dispatch", intake_env, log_dir).start()
    ledger = ServiceProcess("ledger", intake_env, log_dir).start()
    env = local_stack.intake_env(intake_env, dispatch_url=dispatch.url, ledger_url=ledger.url)
    intake = ServiceProcess("intake", env, log_dir).start()
    yield Stack(intake=intake, dispatch=dispatch, ledger=ledger, env=env)
    for process in (intake, ledger, dispatch):
        process.stop()


@pytest.fixture(scope="module")
def city(stack: Stack) -> helpers.Integrator:
    """The city platform: every channel and operation."""
    return helpers.issue_key(stack, integrator_id="city-platform")
