"""Dispatch scenarios run with a catalogue of short wall-clock limits."""

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.demo.processes import ServiceProcess
from tests.support import runs, stack

FAST_CATALOGUE = Path(__file__).with_name("fast_catalogue.toml")


@pytest.fixture(scope="module")
def run_env(infra_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A private database and topics, a Redis database of its own, and fast deadlines; all of
    them are removed after the module."""
    name = runs.database_name()
    url = asyncio.run(stack.create_database(infra_env["DATABASE_URL"], name))
    env = stack.isolated_settings(infra_env, database_url=url)
    redis_base = infra_env["REDIS_URL"].rsplit("/", 1)[0]
    fast = {
        **env,
        "REDIS_URL": f"{redis_base}/{random.randint(1, 15)}",
        "DISPATCH_CATALOGUE_FILE": str(FAST_CATALOGUE),
        "DISPATCH_RECONCILE_INTERVAL_S": "1",
        # These scenarios are about dispatch; intake's keys are tested on their own.
        "INTAKE_REQUIRE_API_KEY": "false",
    }
    yield fast
    asyncio.run(stack.remove_run(fast))


@pytest.fixture(scope="module")
def services(run_env: dict[str, str], log_dir: Path) -> Iterator[dict[str, ServiceProcess]]:
    """Intake, dispatch and ledger with the fast catalogue and the demo community."""
    ServiceProcess("dispatch", run_env, log_dir, command="load-demo").run_to_completion()
    running = {
        name: ServiceProcess(name, run_env, log_dir).start()
        for name in ("dispatch", "ledger", "intake")
    }
    yield running
    for process in running.values():
        process.stop()
