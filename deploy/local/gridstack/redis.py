"""Redis: a loopback-only, non-persistent redis-server started or reused, and stopped."""

from __future__ import annotations

import socket

from .common import HOST, log
from .packages import redis_binary
from .ports import choose_ports
from .processes import launch, pid_alive, terminate, wait_ready
from .state import Layout, State, live_pid, reuse_check, save_state


def redis_pid(layout: Layout) -> int | None:
    """Pid of our redis-server if it is running."""
    return live_pid(layout.redis_pid, "redis-server")


def redis_ping(port: int, host: str = HOST, timeout: float = 2.0) -> bool:
    """True if Redis answers PING with PONG."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def redis_command(layout: Layout, port: int) -> list[str]:
    """redis-server command line: loopback only, no persistence, pid file in the state dir."""
    options = {
        "port": str(port),
        "bind": HOST,
        "daemonize": "no",
        "dir": str(layout.redis_dir),
        "save": "",
        "appendonly": "no",
        "pidfile": str(layout.redis_pid),
    }
    return [str(redis_binary())] + [
        arg for key, value in options.items() for arg in (f"--{key}", value)
    ]


def redis_up(layout: Layout, state: State) -> str:
    """Start (or reuse) Redis; return its URL."""
    port = int(state.get("redis", {}).get("port", 0))
    pid = redis_pid(layout)
    if pid is not None:
        reuse_check("redis", pid, port, layout)
        wait_ready(
            "redis", lambda: redis_ping(port), lambda: pid_alive(pid), layout.log_file("redis")
        )
    else:
        port = choose_ports("redis", state, ["port"])["port"]
        state["redis"] = {"port": port}
        save_state(layout, state)
        layout.redis_dir.mkdir(exist_ok=True)
        log(f"redis: starting on {HOST}:{port}")
        cmd = redis_command(layout, port)
        launch("redis", cmd, layout.log_file("redis"), layout.redis_pid, lambda _: redis_ping(port))
    return f"redis://{HOST}:{port}/0"


def redis_down(layout: Layout, state: State) -> None:
    """Stop our Redis if it runs (SIGTERM; nothing is persisted since saving is off)."""
    pid = redis_pid(layout)
    if pid is not None:
        terminate(pid, "redis")
    layout.redis_pid.unlink(missing_ok=True)
