"""PostgreSQL client tools: binaries, running as the postgres user, readiness and queries."""

from __future__ import annotations

import os

from .common import HOST, StackError, log
from .packages import pg_bindir
from .processes import run

PG_DATABASE = "gridloop"
PG_OS_USER = "postgres"
PG_DB_USER = "postgres"


def as_pg_user(cmd: list[str]) -> list[str]:
    """Prefix cmd so it runs as the postgres OS user when we are root (PostgreSQL refuses root)."""
    return ["runuser", "-u", PG_OS_USER, "--", *cmd] if os.geteuid() == 0 else cmd


def pg_bin(name: str) -> str:
    """Path of a PostgreSQL client/server binary."""
    bindir = pg_bindir()
    if bindir is None:
        raise StackError("PostgreSQL is not installed: sudo apt-get install -y postgresql")
    return str(bindir / name)


def pg_ready(port: int) -> bool:
    """True if pg_isready reports the server accepting connections."""
    cmd = [pg_bin("pg_isready"), "-q", "-h", HOST, "-p", str(port), "-t", "2"]
    return run(cmd, "pg_isready", check=False).returncode == 0


def pg_query(port: int, sql: str, database: str = "postgres") -> str:
    """Run one SQL statement with psql and return its unaligned output."""
    cmd = [
        pg_bin("psql"),
        "-X",
        "-q",
        "-h",
        HOST,
        "-p",
        str(port),
        "-U",
        PG_DB_USER,
        "-d",
        database,
        "-tAc",
        sql,
    ]
    return run(cmd, "psql", env=dict(os.environ, PGCONNECT_TIMEOUT="5")).stdout.strip()


def pg_ensure_database(port: int) -> None:
    """Create the gridloop database if it does not exist."""
    if pg_query(port, f"select 1 from pg_database where datname = '{PG_DATABASE}'") != "1":
        log(f"postgres: creating database {PG_DATABASE}")
        run(
            [pg_bin("createdb"), "-h", HOST, "-p", str(port), "-U", PG_DB_USER, PG_DATABASE],
            "createdb",
        )
