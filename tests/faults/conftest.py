"""Fault-injection fixtures: a private Kafka cluster, Redis and PostgreSQL, never the shared stack.

The scenarios kill and restart servers, so they run on a stack of their own: three KRaft
nodes (replication factor 3, min.insync.replicas 2), Redis and PostgreSQL in a temporary
directory, on ports the kernel chose, stopped by pid after the last scenario.
"""

import asyncio
import shutil
import sys
import tempfile
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from services.demo.processes import ROOT
from tests.faults.deployment import Deployment
from tests.support import runs, stack

sys.path.insert(0, str(ROOT / "deploy" / "local"))
from gridstack import cluster  # noqa: E402

FAULTS_CATALOGUE = Path(__file__).with_name("faults_catalogue.toml")
BROKERS = 3


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed scenario's report carries the services' warnings and errors, so that a run
    whose logs are gone still says what the services saw."""
    report = yield
    deployment = getattr(item, "funcargs", {}).get("deployment")
    if report.failed and report.when == "call" and isinstance(deployment, Deployment):
        report.sections.append(("services' warnings and errors", deployment.warnings()))
    return report


@pytest.fixture(scope="package")
def private_stack() -> Iterator[cluster.PrivateStack]:
    """The fault suite's own servers, started once and stopped after the last fault scenario."""
    root = Path(tempfile.mkdtemp(prefix="gridloop-faults-"))
    try:
        servers = cluster.private_stack(root, brokers=BROKERS)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    try:
        yield servers
    finally:
        servers.down()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="package")
def demo_template(
    private_stack: cluster.PrivateStack, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A database holding the demo community, copied for each scenario (faster than loading)."""
    infra = private_stack.env()
    name = f"gridloop_fault_demo_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(stack.create_database(infra["DATABASE_URL"], name))
    env = stack.isolated_settings(infra, database_url=url)
    Deployment(env, tmp_path_factory.mktemp("demo-template")).load_demo()
    runs.remove_key_files(env)
    return name


@pytest.fixture
def fault_env(private_stack: cluster.PrivateStack, demo_template: str) -> Iterator[dict[str, str]]:
    """A copy of the demo database, and fresh topics, groups and Redis namespace (they go with
    the private stack; the key files are removed after the scenario)."""
    infra = private_stack.env()
    name = f"gridloop_fault_{uuid.uuid4().hex[:12]}"
    url = asyncio.run(stack.create_database(infra["DATABASE_URL"], name, template=demo_template))
    env = {
        **stack.isolated_settings(infra, database_url=url),
        "TOPIC_REPLICATION_FACTOR": str(min(BROKERS, 3)),
        "DISPATCH_CATALOGUE_FILE": str(FAULTS_CATALOGUE),
        "DISPATCH_RECONCILE_INTERVAL_S": "1",
        "DISPATCH_OUTBOX_GRACE_S": "1",
        # These scenarios are about delivery; intake's keys are tested on their own.
        "INTAKE_REQUIRE_API_KEY": "false",
        "INTAKE_PUBLISH_TIMEOUT_S": "3",
    }
    yield env
    runs.remove_key_files(env)


@pytest.fixture
def deployment(fault_env: dict[str, str], tmp_path: Path) -> Iterator[Deployment]:
    """The services of one scenario; whatever is still running is stopped afterwards."""
    running = Deployment(fault_env, tmp_path)
    try:
        yield running
    finally:
        running.stop_all()
