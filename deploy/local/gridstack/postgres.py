"""PostgreSQL: a private cluster (initdb, pg_ctl) started or reused, and stopped."""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import signal

from .common import HOST, READY_TIMEOUT, STOP_TIMEOUT, StackError, log
from .logfiles import log_tail, rotate_log
from .pgtools import (
    PG_DATABASE,
    PG_DB_USER,
    PG_OS_USER,
    as_pg_user,
    pg_bin,
    pg_ensure_database,
    pg_ready,
)
from .ports import choose_ports
from .processes import run, signal_pid, terminate, wait_gone, wait_ready
from .state import Layout, State, live_pid, reuse_check, save_state


def pg_prepare_dirs(layout: Layout) -> None:
    """Create pg dirs and the log file, owned by the postgres user when running as root."""
    layout.pg_run.mkdir(parents=True, exist_ok=True)
    log_path = layout.log_file("postgres")
    rotate_log(log_path)
    log_path.touch()
    if os.geteuid() != 0:
        return
    try:
        user = pwd.getpwnam(PG_OS_USER)
    except KeyError as exc:
        raise StackError(f"OS user {PG_OS_USER!r} is missing (is postgresql installed?)") from exc
    for path in (layout.pg_dir, layout.pg_run, log_path):
        os.chown(path, user.pw_uid, user.pw_gid)
    access = run(as_pg_user(["test", "-w", str(layout.pg_dir)]), "access check", check=False)
    if access.returncode != 0:
        raise StackError(
            f"the {PG_OS_USER} OS user cannot reach {layout.pg_dir}; set GRIDLOOP_STACK_DIR to a "
            "directory whose parents are world-traversable (e.g. under /tmp)"
        )


def pg_initdb(layout: Layout) -> None:
    """Create the database cluster once (trust auth: loopback-only local development stack)."""
    if (layout.pg_data / "PG_VERSION").exists():
        return
    if layout.pg_data.exists():
        shutil.rmtree(layout.pg_data)
    log(f"postgres: initdb {layout.pg_data}")
    base = [
        pg_bin("initdb"),
        "-D",
        str(layout.pg_data),
        "-U",
        PG_DB_USER,
        # Trust auth is acceptable only because this is a local development stack that listens
        # on 127.0.0.1 and a private socket dir; never use these settings for a shared server.
        "--auth=trust",
        "--encoding=UTF8",
    ]
    first = run(as_pg_user([*base, "--locale=C.UTF-8"]), "initdb", cwd=layout.pg_dir, check=False)
    if first.returncode != 0:
        log("postgres: initdb with C.UTF-8 failed, retrying with --no-locale")
        if layout.pg_data.exists():
            shutil.rmtree(layout.pg_data)
        run(as_pg_user([*base, "--no-locale"]), "initdb", cwd=layout.pg_dir)


def pg_pid(layout: Layout) -> int | None:
    """Pid of our postmaster if it is running."""
    return live_pid(layout.pg_data / "postmaster.pid", "postgres", str(layout.pg_data))


def pg_start(layout: Layout, port: int) -> None:
    """Start the postmaster with pg_ctl and wait for it."""
    options = f"-p {port} -k {shlex.quote(str(layout.pg_run))} -c listen_addresses={HOST}"
    log_path = layout.log_file("postgres")
    cmd = [
        pg_bin("pg_ctl"),
        "-D",
        str(layout.pg_data),
        "-l",
        str(log_path),
        "-o",
        options,
        "-w",
        "-t",
        str(int(READY_TIMEOUT)),
        "start",
    ]
    log(f"postgres: starting on {HOST}:{port}")
    try:
        run(as_pg_user(cmd), "pg_ctl start", cwd=layout.pg_dir, new_session=True)
    except StackError as exc:
        pg_stop(layout)
        raise StackError(f"{exc}\n{log_tail(log_path)}") from exc


def pg_stop(layout: Layout) -> None:
    """Stop our postmaster: pg_ctl stop -m fast, escalating to signals if that fails."""
    pid = pg_pid(layout)
    if pid is None:
        return
    log(f"postgres: stopping pid {pid}")
    cmd = [
        pg_bin("pg_ctl"),
        "-D",
        str(layout.pg_data),
        "-m",
        "fast",
        "-w",
        "-t",
        str(int(STOP_TIMEOUT)),
        "stop",
    ]
    result = run(as_pg_user(cmd), "pg_ctl stop", cwd=layout.pg_dir, check=False)
    if result.returncode != 0:
        log(f"postgres: pg_ctl stop failed: {(result.stdout + result.stderr).strip()}")
        signal_pid(pid, signal.SIGQUIT, group=False)
    if not wait_gone(pid, STOP_TIMEOUT):
        terminate(pid, "postgres", timeout=1)


def postgres_up(layout: Layout, state: State) -> str:
    """Start (or reuse) PostgreSQL and its gridloop database; return DATABASE_URL."""
    port = int(state.get("postgres", {}).get("port", 0))
    pid = pg_pid(layout)
    if pid is None:
        port = choose_ports("postgres", state, ["port"])["port"]
        state["postgres"] = {"port": port}
        save_state(layout, state)
        pg_prepare_dirs(layout)
        pg_initdb(layout)
        pg_start(layout, port)
    else:
        reuse_check("postgres", pid, port, layout)
    wait_ready(
        "postgres",
        lambda: pg_ready(port),
        lambda: pg_pid(layout) is not None,
        layout.log_file("postgres"),
    )
    pg_ensure_database(port)
    if pid is None:
        log(f"postgres: ready (pid {pg_pid(layout)})")
    return f"postgresql://{PG_DB_USER}@{HOST}:{port}/{PG_DATABASE}"


def postgres_down(layout: Layout, state: State) -> None:
    """Stop our PostgreSQL if it runs."""
    if layout.pg_data.exists():
        pg_stop(layout)
