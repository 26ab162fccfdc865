"""A private slice of the running stack for one benchmark run, removed afterwards.

Its own database, topics, consumer groups and Redis namespace; the three services run as
real processes on loopback, dispatch with the demo community loaded.
"""

import asyncio
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from services.demo import integrator
from services.demo.processes import ServiceProcess
from tests.support import stack

# Officers close cases in real life; here nobody does, so a capacity this large keeps every
# report on the ladder's first rung (the household's linked member) for the whole run.
UNBOUNDED_CAPACITY = 1_000_000


@dataclass
class Slice:
    env: dict[str, str]
    database_url: str
    processes: dict[str, ServiceProcess]
    api_key: str
    log_dir: Path

    @property
    def intake(self) -> ServiceProcess:
        return self.processes["intake"]

    def start(self, *names: str) -> None:
        """Start these services on the slice's topics."""
        for name in names:
            self.processes[name] = ServiceProcess(name, self.env, self.log_dir).start()

    @contextmanager
    def intake_alone(self) -> Iterator[ServiceProcess]:
        """Intake publishing to a topic of its own, which nothing consumes (the comparison with
        the bare app measures intake alone and leaves no backlog for the end-to-end run)."""
        env = {**self.env, "TOPIC_REPORTS": self.env["TOPIC_REPORTS"] + ".alone"}
        intake = ServiceProcess("intake", env, self.log_dir).start()
        try:
            yield intake
        finally:
            intake.stop()


def plain_url(database_url: str) -> str:
    """The URL asyncpg understands."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


# The test settings check the chain and refresh the indicator gauges every 2 s, so that tests
# see them within seconds; a deployment does both far less often (the services' defaults).
TEST_INTERVALS = ("LEDGER_VERIFY_INTERVAL_S", "LEDGER_INDICATOR_GAUGES_INTERVAL_S")


@contextmanager
def running_slice(*, log_level: str) -> Iterator[Slice]:
    """Create the slice, start the services, yield; then stop them and remove what was made."""
    infra = stack.stack_env()
    name = f"gridloop_bench_{uuid.uuid4().hex[:12]}"
    database_url = asyncio.run(stack.create_database(infra["DATABASE_URL"], name))
    env = {**stack.isolated_settings(infra, database_url=database_url), "LOG_LEVEL": log_level}
    for tuned_for_tests in TEST_INTERVALS:  # the bench runs what a deployment runs
        env.pop(tuned_for_tests)
    log_dir = Path(tempfile.mkdtemp(prefix="gridloop-bench-"))
    processes: dict[str, ServiceProcess] = {}
    try:
        ServiceProcess("dispatch", env, log_dir, command="load-demo").run_to_completion()
        asyncio.run(_raise_capacity(database_url))
        key = integrator.provision_key(env, integrator="bench", extra=("--rate-limit", "1000000"))
        yield Slice(env, database_url, processes, key["api_key"], log_dir)
    finally:
        for process in processes.values():
            process.stop()
        asyncio.run(stack.remove_run(env))


async def _raise_capacity(database_url: str) -> None:
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        await connection.execute(
            "update dispatch_member set case_capacity = $1", UNBOUNDED_CAPACITY
        )
    finally:
        await connection.close()
