"""State directory layout, the JSON state file, pid files, locking and reuse checks."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .common import HOST, PORT_ENV, StackError, log
from .processes import cmdline, pid_alive

State = dict[str, dict[str, int]]


@dataclass(frozen=True)
class Layout:
    """Paths inside the runtime state directory."""

    root: Path

    @property
    def logs(self) -> Path:
        """Directory holding the server logs."""
        return self.root / "logs"

    @property
    def state_file(self) -> Path:
        """Small JSON file remembering chosen ports."""
        return self.root / "state.json"

    @property
    def env_file(self) -> Path:
        """Shell-sourceable copy of the printed env lines."""
        return self.root / "stack.env"

    @property
    def redis_dir(self) -> Path:
        """Redis working directory."""
        return self.root / "redis"

    @property
    def redis_pid(self) -> Path:
        """Redis pid file."""
        return self.redis_dir / "redis.pid"

    @property
    def pg_dir(self) -> Path:
        """PostgreSQL directory, owned by the postgres OS user when running as root."""
        return self.root / "pg"

    @property
    def pg_data(self) -> Path:
        """PostgreSQL data directory (PGDATA)."""
        return self.pg_dir / "data"

    @property
    def pg_run(self) -> Path:
        """PostgreSQL unix socket directory."""
        return self.pg_dir / "run"

    def log_file(self, name: str) -> Path:
        """Log file of one server."""
        return self.logs / f"{name}.log"


def default_state_dir() -> Path:
    """Runtime state directory: $GRIDLOOP_STACK_DIR or /tmp/gridloop-stack-<uid>."""
    configured = os.environ.get("GRIDLOOP_STACK_DIR")
    return Path(configured) if configured else Path(f"/tmp/gridloop-stack-{os.getuid()}")


def cache_dir() -> Path:
    """Cache directory for the Kafka classpath: $GRIDLOOP_CACHE_DIR or ~/.cache/gridloop."""
    configured = os.environ.get("GRIDLOOP_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "gridloop"


def prepare_root(layout: Layout) -> None:
    """Create the state dir, check we own it and make it traversable for the postgres user."""
    layout.root.mkdir(parents=True, exist_ok=True)
    owner = layout.root.stat().st_uid
    if owner != os.getuid():
        raise StackError(f"{layout.root} belongs to uid {owner}, not to you (uid {os.getuid()})")
    layout.root.chmod(0o755)
    layout.logs.mkdir(exist_ok=True)


def load_state(layout: Layout) -> State:
    """Read the JSON state file (empty state if missing or unreadable)."""
    try:
        data = json.loads(layout.state_file.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_state(layout: Layout, state: State) -> None:
    """Atomically write the JSON state file."""
    tmp = layout.state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, layout.state_file)


@contextmanager
def state_lock(layout: Layout) -> Iterator[None]:
    """Serialise concurrent up/down/reset runs on the same state dir."""
    with open(layout.root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_pid(path: Path) -> int | None:
    """Pid from the first line of a pid file, or None."""
    try:
        first = path.read_text().split("\n", 1)[0].strip()
        return int(first)
    except (OSError, ValueError):
        return None


def live_pid(pid_file: Path, *needles: str) -> int | None:
    """Pid from pid_file if that process is alive and its command line has all needles."""
    pid = read_pid(pid_file)
    if pid is None or not pid_alive(pid):
        return None
    line = cmdline(pid)
    return pid if all(needle in line for needle in needles) else None


def reuse_check(name: str, pid: int, port: int, layout: Layout) -> None:
    """Log that a running server is reused; fail if its port was not remembered."""
    if not port:
        raise StackError(
            f"{name} is running (pid {pid}) but {layout.state_file} lacks its port; "
            "run 'down' first"
        )
    override = os.environ.get(PORT_ENV[name])
    if override and override.strip() != str(port):
        log(f"{name}: ignoring {PORT_ENV[name]}={override}; already running on {port} (run 'down')")
    log(f"{name}: already running (pid {pid}) on {HOST}:{port}")
