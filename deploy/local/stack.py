#!/usr/bin/env python3
"""Local development stack for gridloop: Kafka (KRaft), Redis and PostgreSQL on 127.0.0.1.

Stdlib only: this runs before the project's virtualenv exists.

    python3 deploy/local/stack.py up [--reset]   start (or reuse) servers, print env lines
    python3 deploy/local/stack.py env            print env lines for the running stack
    python3 deploy/local/stack.py status         one line per server
    python3 deploy/local/stack.py down           stop everything this script started
    python3 deploy/local/stack.py reset          down, then wipe data, logs and state

Env lines go to stdout, progress to stderr, so this works:
    eval "$(python3 deploy/local/stack.py up | sed 's/^/export /')"

Setting KAFKA_BOOTSTRAP_SERVERS, REDIS_URL or DATABASE_URL makes the script use that external
server instead of starting its own. See deploy/local/README.md for ports and directories.
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
KAFKA_VERSION = "4.1.1"
KAFKA_HEAP = ("-Xms256m", "-Xmx768m")
PG_DATABASE = "gridloop"
PG_OS_USER = "postgres"
PG_DB_USER = "postgres"

SERVICES = ("kafka", "redis", "postgres")
DEFAULT_PORTS = {"kafka": 19092, "redis": 16379, "postgres": 15432}
PORT_ENV = {
    "kafka": "GRIDLOOP_KAFKA_PORT",
    "redis": "GRIDLOOP_REDIS_PORT",
    "postgres": "GRIDLOOP_PG_PORT",
}
URL_ENV = {
    "kafka": "KAFKA_BOOTSTRAP_SERVERS",
    "redis": "REDIS_URL",
    "postgres": "DATABASE_URL",
}

READY_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
LOG_ROTATE_BYTES = 50 * 1024 * 1024
KAFKA_STARTED_MARK = "Kafka Server started"
POM_PATH = Path(__file__).resolve().parent / "kafka" / "pom.xml"


class StackError(Exception):
    """A failure reported to the user as a message and exit status 1."""


def log(message: str) -> None:
    """Print a progress message to stderr."""
    print(f"[stack] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- layout and state


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


def load_state(layout: Layout) -> dict[str, dict[str, int]]:
    """Read the JSON state file (empty state if missing or unreadable)."""
    try:
        data = json.loads(layout.state_file.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_state(layout: Layout, state: dict[str, dict[str, int]]) -> None:
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


def rotate_log(path: Path) -> None:
    """Move a log aside once it grows large, keeping one old copy."""
    if path.exists() and path.stat().st_size > LOG_ROTATE_BYTES:
        os.replace(path, path.with_suffix(".log.1"))


def log_tail(path: Path, lines: int = 40) -> str:
    """Last lines of a log file, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return f"--- last {lines} lines of {path} ---\n" + "\n".join(text.splitlines()[-lines:])


def log_contains(path: Path, offset: int, needle: str) -> bool:
    """True if the log contains needle after byte offset."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            return needle in handle.read().decode(errors="replace")
    except OSError:
        return False


def log_size(path: Path) -> int:
    """Current size of a log file (0 if missing)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


# --------------------------------------------------------------------------- processes


def pid_alive(pid: int) -> bool:
    """True if the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return not Path("/proc/self").exists()
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def cmdline(pid: int) -> str:
    """Command line of a process, space separated ('' if unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


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


def scan_pids(needle: str) -> list[int]:
    """Pids of live processes whose command line contains needle."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        if needle in cmdline(int(entry.name)) and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait until pid has exited; True if it did within timeout."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def signal_pid(pid: int, sig: int, group: bool) -> None:
    """Send sig to pid, or to its process group when it leads one; ignore vanished pids."""
    try:
        if group and os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def terminate(pid: int, name: str, timeout: float = STOP_TIMEOUT, group: bool = True) -> None:
    """SIGTERM a process we started, SIGKILL it after timeout, and wait until it is gone."""
    log(f"{name}: stopping pid {pid}")
    signal_pid(pid, signal.SIGTERM, group)
    if wait_gone(pid, timeout):
        return
    log(f"{name}: still running after {timeout:.0f}s, sending SIGKILL")
    signal_pid(pid, signal.SIGKILL, group)
    if not wait_gone(pid, 10):
        raise StackError(f"{name}: pid {pid} survived SIGKILL")


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


def spawn(cmd: list[str], log_path: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start a detached server process (own session) logging to log_path."""
    with open(log_path, "ab") as out:
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
        )


def launch(
    name: str, cmd: list[str], log_path: Path, pid_file: Path, ready: Callable[[int], bool]
) -> int:
    """Spawn a server, write its pid file and wait for ready(log offset); kill it on failure."""
    rotate_log(log_path)
    offset = log_size(log_path)
    proc = spawn(cmd, log_path, pid_file.parent)
    pid_file.write_text(f"{proc.pid}\n")
    try:
        wait_ready(name, lambda: ready(offset), lambda: proc.poll() is None, log_path)
    except StackError:
        if proc.poll() is None:
            terminate(proc.pid, name)
        raise
    log(f"{name}: ready (pid {proc.pid})")
    return proc.pid


def wait_ready(
    name: str,
    ready: Callable[[], bool],
    alive: Callable[[], bool],
    log_path: Path,
    timeout: float = READY_TIMEOUT,
) -> None:
    """Poll ready() until true; fail with the log tail on exit or timeout."""
    deadline = time.monotonic() + timeout
    while not ready():
        if not alive():
            raise StackError(f"{name} exited during startup\n{log_tail(log_path)}")
        if time.monotonic() > deadline:
            raise StackError(f"{name} not ready after {timeout:.0f}s\n{log_tail(log_path)}")
        time.sleep(0.25)


def run(
    cmd: list[str],
    what: str,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    new_session: bool = False,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command capturing its output; with check, raise StackError showing it on failure."""
    result = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        start_new_session=new_session,
        check=False,
    )
    if check and result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise StackError(f"{what} failed (exit {result.returncode}): {shlex.join(cmd)}\n{output}")
    return result


# --------------------------------------------------------------------------- ports


def port_open(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_free(port: int) -> bool:
    """True if a server could listen on 127.0.0.1:port right now."""
    if port_open(port):
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def any_free_port(exclude: set[int]) -> int:
    """A free loopback port chosen by the kernel, not in exclude."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        if port not in exclude:
            return port


def env_port(var: str) -> int | None:
    """Port from an environment variable, or None if unset."""
    value = os.environ.get(var, "").strip()
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise StackError(f"{var}={value!r} is not a valid port")
    return int(value)


def pick_port(name: str, wanted: int, explicit: bool, taken: set[int]) -> int:
    """Use wanted if free; otherwise fail (explicit) or fall back to a kernel-chosen port."""
    if wanted not in taken and port_free(wanted):
        return wanted
    if explicit:
        raise StackError(f"{name} {wanted} was requested but is in use by another process")
    port = any_free_port(taken)
    log(f"{name} {wanted} is busy (not ours), using {port} instead")
    return port


def choose_ports(name: str, state: dict[str, dict[str, int]], keys: list[str]) -> dict[str, int]:
    """Choose listen ports: env override, else remembered in state, else defaults."""
    override = env_port(PORT_ENV[name])
    remembered = state.get(name, {})
    base = DEFAULT_PORTS[name]
    chosen: dict[str, int] = {}
    for offset, key in enumerate(keys):
        if override is not None:
            wanted, explicit = override + offset, True
        else:
            wanted, explicit = int(remembered.get(key, base + offset)), False
        label = f"{name}: {key.replace('_', ' ')}"
        chosen[key] = pick_port(label, wanted, explicit, set(chosen.values()))
    return chosen


# --------------------------------------------------------------------------- OS packages


def redis_binary() -> str | None:
    """Path of redis-server, if installed."""
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


def version_key(path: Path) -> tuple[int, ...]:
    """Sort key for /usr/lib/postgresql/<version> directories."""
    return tuple(int(part) for part in re.findall(r"\d+", path.name)) or (0,)


def pg_bindir() -> Path | None:
    """Highest PostgreSQL bin dir under /usr/lib/postgresql, else the one of pg_ctl on PATH."""
    candidates = [d for d in Path("/usr/lib/postgresql").glob("*") if (d / "bin/initdb").exists()]
    if candidates:
        return max(candidates, key=version_key) / "bin"
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl and (Path(pg_ctl).parent / "initdb").exists() else None


def missing_packages(services: list[str]) -> list[str]:
    """Debian packages needed for the given services that are not installed."""
    missing = []
    if "kafka" in services and not shutil.which("java"):
        missing.append("default-jre-headless")
    if "kafka" in services and not shutil.which("mvn"):
        missing.append("maven")
    if "redis" in services and not redis_binary():
        missing.append("redis-server")
    if "postgres" in services and not pg_bindir():
        missing.append("postgresql")
    return missing


def ensure_packages(services: list[str]) -> None:
    """Install missing OS packages when root on Debian; otherwise say what to install."""
    missing = missing_packages(services)
    if not missing:
        return
    command = "apt-get install -y " + " ".join(missing)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise StackError(f"missing packages: {' '.join(missing)}\ninstall with: sudo {command}")
    log(f"installing {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", *missing]):
        if subprocess.run(cmd, stdout=sys.stderr, env=env, check=False).returncode != 0:
            raise StackError(f"{shlex.join(cmd)} failed")
    still = missing_packages(services)
    if still:
        raise StackError(f"still missing after install: {' '.join(still)}")


# --------------------------------------------------------------------------- Kafka


@dataclass(frozen=True)
class KafkaNode:
    """One combined broker+controller KRaft node; a later cluster uses several of these."""

    node_id: int
    port: int
    controller_port: int
    home: Path
    log_path: Path

    @property
    def data_dir(self) -> Path:
        """Kafka log.dirs directory."""
        return self.home / "data"

    @property
    def props(self) -> Path:
        """server.properties of this node."""
        return self.home / "server.properties"

    @property
    def pid_file(self) -> Path:
        """Pid file written by this script."""
        return self.home / "kafka.pid"

    @property
    def controller_endpoint(self) -> str:
        """host:port of the controller listener."""
        return f"{HOST}:{self.controller_port}"


def single_kafka_node(layout: Layout, port: int, controller_port: int) -> KafkaNode:
    """The node of the default single-node stack."""
    return KafkaNode(1, port, controller_port, layout.root / "kafka", layout.log_file("kafka"))


def kafka_pid(node: KafkaNode) -> int | None:
    """Pid of this node's broker if it is running (pid file, else a /proc scan)."""
    pid = live_pid(node.pid_file, "kafka.Kafka", str(node.props))
    if pid is None:
        pids = scan_pids(f"kafka.Kafka {node.props}")
        pid = pids[0] if pids else None
    return pid


def java_major() -> int:
    """Major version of the java on PATH."""
    result = run(["java", "-version"], "java -version")
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if not match:
        raise StackError(f"cannot parse java -version output:\n{result.stderr}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def classpath_valid(path: Path) -> bool:
    """True if the cached classpath file exists and every jar it lists exists."""
    try:
        entries = [e for e in path.read_text().strip().split(os.pathsep) if e]
    except OSError:
        return False
    return bool(entries) and all(Path(entry).is_file() for entry in entries)


def kafka_classpath() -> str:
    """Broker classpath, resolved with Maven from the committed pom when not cached."""
    target = cache_dir() / f"kafka-{KAFKA_VERSION}" / "classpath.txt"
    if not classpath_valid(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        log(f"kafka: resolving Kafka {KAFKA_VERSION} jars with Maven (first run may take a while)")
        cmd = [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(POM_PATH),
            "dependency:build-classpath",
            f"-Dmdep.outputFile={tmp}",
        ]
        run(cmd, "mvn dependency:build-classpath")
        os.replace(tmp, target)
        if not classpath_valid(target):
            raise StackError(f"mvn wrote {target} but some listed jars do not exist")
    return target.read_text().strip()


def kafka_properties(node: KafkaNode, bootstrap_controllers: list[str]) -> str:
    """server.properties text for a combined broker+controller node."""
    return "\n".join(
        [
            "process.roles=broker,controller",
            f"node.id={node.node_id}",
            f"controller.quorum.bootstrap.servers={','.join(bootstrap_controllers)}",
            f"listeners=PLAINTEXT://{HOST}:{node.port},CONTROLLER://{node.controller_endpoint}",
            f"advertised.listeners=PLAINTEXT://{HOST}:{node.port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={node.data_dir}",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=false",
            "num.partitions=3",
            "",
        ]
    )


def new_cluster_id() -> str:
    """Random Kafka cluster id: base64url of 16 bytes without padding (never starting '-')."""
    while True:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def kafka_format(
    node: KafkaNode, classpath: str, cluster_id: str, initial_controllers: str | None = None
) -> None:
    """Format the node's storage once (standalone quorum unless initial_controllers given)."""
    if (node.data_dir / "meta.properties").exists():
        return
    quorum = (
        ["--standalone"]
        if initial_controllers is None
        else ["--initial-controllers", initial_controllers]
    )
    log(f"kafka: formatting storage of node {node.node_id} (cluster id {cluster_id})")
    cmd = [
        "java",
        "-cp",
        classpath,
        "kafka.tools.StorageTool",
        "format",
        *quorum,
        "-t",
        cluster_id,
        "-c",
        str(node.props),
    ]
    run(cmd, "kafka storage format")


def kafka_command(node: KafkaNode, classpath: str) -> list[str]:
    """Command line running the broker of a node on the java from PATH."""
    return [
        "java",
        *KAFKA_HEAP,
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        "-cp",
        classpath,
        "kafka.Kafka",
        str(node.props),
    ]


def recv_exact(sock: socket.socket, size: int) -> bytes:
    """Read exactly size bytes from a socket."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def read_string(data: bytes, pos: int) -> tuple[str | None, int]:
    """Decode a Kafka (nullable) int16-length string at pos."""
    (length,) = struct.unpack_from(">h", data, pos)
    pos += 2
    if length < 0:
        return None, pos
    return data[pos : pos + length].decode(), pos + length


def kafka_metadata(port: int, host: str = HOST, timeout: float = 3.0) -> tuple[int, list[int]]:
    """Ask a broker for (controller id, live broker ids) with a Metadata v4 request."""
    client = b"gridloop-stack"
    # header: api_key=3 (Metadata), version=4, correlation id, client id; body: no topics, no
    # auto-create.
    body = struct.pack(">hhih", 3, 4, 1, len(client)) + client + struct.pack(">i?", 0, False)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(struct.pack(">i", len(body)) + body)
        (size,) = struct.unpack(">i", recv_exact(sock, 4))
        data = recv_exact(sock, size)
    pos = 8  # correlation id, throttle time
    (count,) = struct.unpack_from(">i", data, pos)
    pos += 4
    brokers = []
    for _ in range(count):
        (node_id,) = struct.unpack_from(">i", data, pos)
        _, pos = read_string(data, pos + 4)  # host
        _, pos = read_string(data, pos + 4)  # port, then rack
        brokers.append(node_id)
    _, pos = read_string(data, pos)  # cluster id
    (controller,) = struct.unpack_from(">i", data, pos)
    return controller, brokers


def kafka_serving(node: KafkaNode) -> bool:
    """True if the broker answers metadata requests and lists itself with a controller."""
    try:
        controller, brokers = kafka_metadata(node.port)
    except (OSError, struct.error, UnicodeDecodeError):
        return False
    return controller >= 0 and node.node_id in brokers


def kafka_up(layout: Layout, state: dict[str, dict[str, int]]) -> str:
    """Start (or reuse) the single-node Kafka; return its bootstrap servers."""
    remembered = state.get("kafka", {})
    node = single_kafka_node(
        layout, int(remembered.get("port", 0)), int(remembered.get("controller_port", 0))
    )
    pid = kafka_pid(node)
    if pid is not None:
        reuse_check("kafka", pid, node.port, layout)
        wait_ready("kafka", lambda: kafka_serving(node), lambda: pid_alive(pid), node.log_path)
    else:
        node = kafka_fresh_start(layout, state)
    return f"{HOST}:{node.port}"


def kafka_fresh_start(layout: Layout, state: dict[str, dict[str, int]]) -> KafkaNode:
    """Choose ports, write config, format once, launch the broker and wait until it serves."""
    if java_major() < 17:
        raise StackError("Kafka 4 needs Java 17+: sudo apt-get install -y openjdk-17-jre-headless")
    classpath = kafka_classpath()
    ports = choose_ports("kafka", state, ["port", "controller_port"])
    node = single_kafka_node(layout, ports["port"], ports["controller_port"])
    node.home.mkdir(exist_ok=True)
    node.props.write_text(kafka_properties(node, [node.controller_endpoint]))
    kafka_format(node, classpath, new_cluster_id())
    state["kafka"] = ports
    save_state(layout, state)
    log(f"kafka: starting on {HOST}:{node.port} (controller {node.controller_endpoint})")
    launch(
        "kafka",
        kafka_command(node, classpath),
        node.log_path,
        node.pid_file,
        lambda offset: (
            kafka_serving(node) and log_contains(node.log_path, offset, KAFKA_STARTED_MARK)
        ),
    )
    return node


def kafka_down(layout: Layout, state: dict[str, dict[str, int]]) -> None:
    """Stop our Kafka broker if it runs."""
    remembered = state.get("kafka", {})
    node = single_kafka_node(
        layout, int(remembered.get("port", 0)), int(remembered.get("controller_port", 0))
    )
    pid = kafka_pid(node)
    if pid is not None:
        terminate(pid, "kafka")
    node.pid_file.unlink(missing_ok=True)


# --------------------------------------------------------------------------- Redis


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


def redis_up(layout: Layout, state: dict[str, dict[str, int]]) -> str:
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


def redis_down(layout: Layout, state: dict[str, dict[str, int]]) -> None:
    """Stop our Redis if it runs (SIGTERM; nothing is persisted since saving is off)."""
    pid = redis_pid(layout)
    if pid is not None:
        terminate(pid, "redis")
    layout.redis_pid.unlink(missing_ok=True)


# --------------------------------------------------------------------------- PostgreSQL


def as_pg_user(cmd: list[str]) -> list[str]:
    """Prefix cmd so it runs as the postgres OS user when we are root (PostgreSQL refuses root)."""
    return ["runuser", "-u", PG_OS_USER, "--", *cmd] if os.geteuid() == 0 else cmd


def pg_bin(name: str) -> str:
    """Path of a PostgreSQL client/server binary."""
    bindir = pg_bindir()
    if bindir is None:
        raise StackError("PostgreSQL is not installed: sudo apt-get install -y postgresql")
    return str(bindir / name)


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


def postgres_up(layout: Layout, state: dict[str, dict[str, int]]) -> str:
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


def postgres_down(layout: Layout, state: dict[str, dict[str, int]]) -> None:
    """Stop our PostgreSQL if it runs."""
    if layout.pg_data.exists():
        pg_stop(layout)


# --------------------------------------------------------------------------- stack


UP = {"kafka": kafka_up, "redis": redis_up, "postgres": postgres_up}
DOWN = {"kafka": kafka_down, "redis": redis_down, "postgres": postgres_down}


def external(service: str) -> str | None:
    """Externally provided connection value for a service, if set in the environment."""
    return os.environ.get(URL_ENV[service]) or None


def service_pid(layout: Layout, state: dict[str, dict[str, int]], service: str) -> int | None:
    """Pid of our server for a service, if running."""
    ports = state.get(service, {})
    if not ports:
        return None
    if service == "kafka":
        return kafka_pid(single_kafka_node(layout, ports["port"], ports["controller_port"]))
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


def check_port_overrides(
    layout: Layout, state: dict[str, dict[str, int]], services: list[str]
) -> None:
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


def cmd_up(layout: Layout, reset: bool) -> int:
    """Bring the stack up (idempotent) and print the env lines."""
    started = time.monotonic()
    prepare_root(layout)
    with state_lock(layout):
        if reset:
            stop_all(layout)
            wipe(layout)
            prepare_root(layout)
        local = [s for s in SERVICES if external(s) is None]
        ensure_packages(local)
        state = load_state(layout)
        check_port_overrides(layout, state, local)
        urls = {}
        for service in SERVICES:
            value = external(service)
            if value is not None:
                log(f"{service}: using external {URL_ENV[service]}={redact(value)}")
                urls[service] = value
            else:
                urls[service] = UP[service](layout, state)
        text = render_env(urls)
        layout.env_file.write_text(text)
    log(f"stack up in {time.monotonic() - started:.1f}s (env also in {layout.env_file})")
    sys.stdout.write(text)
    return 0


def cmd_env(layout: Layout) -> int:
    """Print the env lines of the running stack; exit 1 if part of it is down."""
    state = load_state(layout)
    urls, down = {}, []
    for service in SERVICES:
        value = external(service)
        port = state.get(service, {}).get("port")
        if value is not None:
            urls[service] = value
        elif port and service_pid(layout, state, service) and port_open(port):
            urls[service] = local_url(service, port)
        else:
            down.append(service)
    if down:
        log(f"not up: {', '.join(down)} (run: python3 {sys.argv[0]} up)")
        return 1
    sys.stdout.write(render_env(urls))
    return 0


def cmd_status(layout: Layout) -> int:
    """Print one line per server; exit 1 if any local server is down."""
    state = load_state(layout)
    all_up = True
    for service in SERVICES:
        value = external(service)
        if value is not None:
            print(f"{service:<9} external  {URL_ENV[service]}={redact(value)}")
            continue
        ports = state.get(service, {})
        port = ports.get("port", DEFAULT_PORTS[service])
        pid = service_pid(layout, state, service)
        status = "down" if pid is None else "up" if port_open(port) else "unresponsive"
        all_up = all_up and status == "up"
        extra = f" controller={ports['controller_port']}" if "controller_port" in ports else ""
        print(f"{service:<9} {status:<9} port={port}{extra} pid={pid or '-'}")
    return 0 if all_up else 1


def cmd_down(layout: Layout, wipe_data: bool) -> int:
    """Stop the stack (and optionally wipe its data)."""
    if not layout.root.exists():
        log(f"nothing to stop ({layout.root} does not exist)")
        return 0
    with state_lock(layout):
        stop_all(layout)
        if wipe_data:
            wipe(layout)
    log("stack down")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start or reuse the servers and print env lines")
    up.add_argument("--reset", action="store_true", help="stop and wipe all data first")
    commands.add_parser("env", help="print env lines for the running stack")
    commands.add_parser("status", help="one line per server")
    commands.add_parser("down", help="stop the servers started by this script")
    commands.add_parser("reset", help="stop the servers and wipe data, logs and state")
    args = parser.parse_args(argv)
    layout = Layout(default_state_dir())
    try:
        if args.command == "up":
            return cmd_up(layout, args.reset)
        if args.command == "env":
            return cmd_env(layout)
        if args.command == "status":
            return cmd_status(layout)
        return cmd_down(layout, wipe_data=args.command == "reset")
    except StackError as exc:
        print(f"[stack] error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("[stack] interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
