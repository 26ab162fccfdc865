"""Fixtures for tests against the real stack; unit tests use none of them."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import database
from services.demo.processes import ServiceProcess
from tests.support import runs, stack


@pytest.fixture(scope="session")
def infra_env() -> dict[str, str]:
    """The running local stack (started if needed), rid of what killed runs left on it."""
    infra = stack.stack_env()
    asyncio.run(stack.prune_leftovers(infra))
    return infra


@pytest.fixture(scope="module")
def run_env(infra_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A private database, topics, groups and Redis namespace for one test module; all of
    them are removed after the module."""
    name = runs.database_name()
    url = asyncio.run(stack.create_database(infra_env["DATABASE_URL"], name))
    env = stack.isolated_settings(infra_env, database_url=url)
    yield env
    asyncio.run(stack.remove_run(env))


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("service-logs")


@pytest.fixture(scope="module")
def services(run_env: dict[str, str], log_dir: Path) -> Iterator[dict[str, ServiceProcess]]:
    """Intake, dispatch (with the demo community) and ledger running as real processes."""
    loader = ServiceProcess("dispatch", run_env, log_dir, command="load-demo")
    loader.run_to_completion()
    dispatch = ServiceProcess("dispatch", run_env, log_dir).start()
    ledger = ServiceProcess("ledger", run_env, log_dir).start()
    env = stack.intake_env(run_env, dispatch_url=dispatch.url, ledger_url=ledger.url)
    running = {
        "dispatch": dispatch,
        "ledger": ledger,
        "intake": ServiceProcess("intake", env, log_dir).start(),
    }
    yield running
    for process in running.values():
        process.stop()


@pytest.fixture(scope="module")
async def engine(run_env: dict[str, str]) -> AsyncIterator[AsyncEngine]:
    """Direct access to the test database, to check what the services stored."""
    engine = database.create_engine(run_env["DATABASE_URL"], pool_size=2)
    yield engine
    await engine.dispose()
