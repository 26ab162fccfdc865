"""The real local stack for tests: start it (idempotently) and give each test run its own slice."""

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from services.common import keys
from services.common.settings import InfraSettings
from tests.support import runs

ROOT = Path(__file__).resolve().parents[2]
STACK_SCRIPT = ROOT / "deploy" / "local" / "stack.py"
INFRA_VARIABLES = ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL", "DATABASE_URL")


def stack_env() -> dict[str, str]:
    """Connection settings of the running stack, starting it when needed."""
    if all(os.environ.get(name) for name in INFRA_VARIABLES):
        return {name: os.environ[name] for name in INFRA_VARIABLES}
    result = subprocess.run(
        [sys.executable, str(STACK_SCRIPT), "up"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"local stack did not start:\n{result.stderr[-4000:]}")
    pairs = (line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return {name.removeprefix("export ").strip(): value.strip() for name, value in pairs}


def with_database(database_url: str, name: str) -> str:
    """The same server, another database."""
    base, _, _ = database_url.rpartition("/")
    return f"{base}/{name}"


@asynccontextmanager
async def _server(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the server's `postgres` database, to create and drop others."""
    server_url = database_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        yield connection
    finally:
        await connection.close()


async def create_database(database_url: str, name: str, *, template: str | None = None) -> str:
    """Create a database for one test run (empty, or a copy of `template`); return its URL."""
    copy = f' template "{template}"' if template else ""
    async with _server(database_url) as connection:
        await connection.execute(f'create database "{name}"{copy}')
    return with_database(database_url, name)


async def drop_database(database_url: str, name: str) -> None:
    """Remove a run's database, even while something is still connected to it."""
    async with _server(database_url) as connection:
        await connection.execute(f'drop database if exists "{name}" with (force)')


async def database_exists(database_url: str, name: str) -> bool:
    async with _server(database_url) as connection:
        found = await connection.fetchval("select 1 from pg_database where datname = $1", name)
    return found is not None


async def prune_stale_databases(database_url: str) -> list[str]:
    """Drop the databases of test modules that were killed before their teardown."""
    async with _server(database_url) as connection:
        names = [row[0] for row in await connection.fetch("select datname from pg_database")]
    now = time.time()
    stale = [name for name in names if runs.stale_database(name, now=now)]
    for name in stale:
        await drop_database(database_url, name)
    return stale


async def remove_run(env: dict[str, str]) -> None:
    """Everything a run made on the stack: its topics, Redis keys and key files, and its
    database (the last part of its DATABASE_URL)."""
    await runs.release(env)
    await drop_database(env["DATABASE_URL"], env["DATABASE_URL"].rpartition("/")[2])


async def prune_leftovers(infra: dict[str, str]) -> None:
    """Remove the topics and databases of runs killed before their teardown."""
    await runs.prune_stale(infra["KAFKA_BOOTSTRAP_SERVERS"])
    await prune_stale_databases(infra["DATABASE_URL"])


def infra_settings(env: dict[str, str], **changes: str) -> InfraSettings:
    """The shared settings a service would read from `env` (as environment variables), with
    `changes` (by field name) on top."""
    values: dict[str, Any] = {name.lower(): value for name, value in {**env, **changes}.items()}
    return InfraSettings(**{k: v for k, v in values.items() if k in InfraSettings.model_fields})


def isolated_settings(infra: dict[str, str], *, database_url: str) -> dict[str, str]:
    """Unique topics, groups, Redis namespace and signing keys, so runs never share data."""
    run = runs.new_run()
    _, signing_key = keys.new_key(Path(tempfile.mkdtemp(prefix="gridloop-keys-")))
    return {
        **infra,
        "AUTH_JWKS_FILE": str(signing_key.with_name(keys.JWKS_NAME)),
        "AUTH_SIGNING_KEY_FILE": str(signing_key),
        # argon2id at a light cost: the demo accounts are hashed once per test module
        "DISPATCH_PASSWORD_TIME_COST": "1",
        "DISPATCH_PASSWORD_MEMORY_KIB": "8192",
        "INTAKE_CLIENT_SECRET": "demo-intake",  # the demo community's service account
        "DATABASE_URL": database_url,
        "TOPIC_REPORTS": runs.name(run, "reported"),
        "TOPIC_LIFECYCLE": runs.name(run, "lifecycle"),
        "TOPIC_DEAD_LETTERS": runs.name(run, "deadletters"),
        "TOPIC_PARTITIONS": "3",
        "DISPATCH_CONSUMER_GROUP": runs.name(run, "dispatch"),
        "LEDGER_CONSUMER_GROUP": runs.name(run, "ledger"),
        "DISPATCH_REDIS_NAMESPACE": f":{run}",
        "INTAKE_CONSUMER_GROUP": runs.name(run, "intake"),
        "INTAKE_REDIS_NAMESPACE": f":{run}",
        "LOG_LEVEL": "DEBUG",
        "LEDGER_VERIFY_INTERVAL_S": "2",
        "LEDGER_INDICATOR_GAUGES_INTERVAL_S": "2",
    }


def intake_env(env: dict[str, str], *, dispatch_url: str, ledger_url: str) -> dict[str, str]:
    """Intake's settings pointing at this run's dispatch (its token endpoint) and ledger."""
    return {
        **env,
        "INTAKE_LEDGER_URL": ledger_url,
        "INTAKE_TOKEN_URL": f"{dispatch_url}/v1/auth/token",
    }
