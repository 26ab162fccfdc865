"""The three services as a whole: dispatch, external overrides, env lines, stop and wipe."""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Callable

from .common import HOST, PORT_ENV, SERVICES, URL_ENV, StackError, log
from .kafka import kafka_down, kafka_up, remembered_node
from .kafka_node import kafka_pid
from .pgtools import PG_DATABASE, PG_DB_USER
from .ports import env_port, port_free
from .postgres import pg_pid, postgres_down, postgres_up
from .redis import redis_down, redis_pid, redis_up
from .state import Layout, State, load_state

UP: dict[str, Callable[[Layout, State], str]] = {
    "kafka": kafka_up,
    "redis": redis_up,
    "postgres": postgres_up,
}
DOWN: dict[str, Callable[[Layout, State], None]] = {
    "kafka": kafka_down,
    "redis": redis_down,
    "postgres": postgres_down,
}


def external(service: str) -> str | None:
    """Externally provided connection value for a service, if set in the environment."""
    return os.environ.get(URL_ENV[service]) or None


def service_pid(layout: Layout, state: State, service: str) -> int | None:
    """Pid of our server for a service, if running."""
    if not state.get(service, {}):
        return None
    if service == "kafka":
        return kafka_pid(remembered_node(layout, state))
    if service == "redis":
        return redis_pid(layout)
    return pg_pid(layout)


def local_url(service: str, port: int) -> str:
    """Connection value of one of our servers."""
    if service == "kafka":
        return f"{HOST}:{port}"
    if service == "redis":
        return f"redis://{HOST}:{port}/0"
    return f"postgresql://{PG_DB_USER}@{HOST}:{port}/{PG_DATABASE}"


def redact(value: str) -> str:
    """Hide a password inside a URL for log output."""
    return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", value)


def check_port_overrides(layout: Layout, state: State, services: list[str]) -> None:
    """Fail before starting anything if an explicitly requested port is taken by a stranger."""
    for service in services:
        port = env_port(PORT_ENV[service])
        if port is None or service_pid(layout, state, service) is not None:
            continue
        wanted = [port, port + 1] if service == "kafka" else [port]
        busy = [str(p) for p in wanted if not port_free(p)]
        if busy:
            raise StackError(
                f"{service}: {PORT_ENV[service]}={port} but port {', '.join(busy)} is in use "
                "by another process"
            )


def render_env(urls: dict[str, str]) -> str:
    """Shell lines NAME=value for the connection environment."""
    return "".join(f"{URL_ENV[s]}={shlex.quote(urls[s])}\n" for s in SERVICES)


def stop_all(layout: Layout) -> None:
    """Stop every server of this state dir and wait until they are gone."""
    state = load_state(layout)
    for service in SERVICES:
        DOWN[service](layout, state)
    layout.env_file.unlink(missing_ok=True)


def wipe(layout: Layout) -> None:
    """Delete data, logs and state of a stopped stack (only the names this script creates)."""
    for name in ("kafka", "redis", "pg", "logs", "state.json", "state.tmp", "stack.env"):
        path = layout.root / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    log(f"wiped data in {layout.root}")
