"""A private throwaway stack in its own directory: N Kafka nodes, Redis and PostgreSQL.

Fault-injection tests stop, kill and restart these servers, so they never touch the shared
stack. Every port is chosen by the kernel; every process is started here and stopped by pid.
"""

from __future__ import annotations

import base64
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .common import HOST
from .kafka_jars import kafka_classpath, require_java17
from .kafka_node import KafkaNode, kafka_pid, new_cluster_id, prepare_node, start_node
from .packages import ensure_packages
from .pgtools import PG_DATABASE, PG_DB_USER, pg_ensure_database
from .ports import any_free_port
from .postgres import pg_initdb, pg_pid, pg_prepare_dirs, pg_start, pg_stop
from .processes import launch, signal_pid, terminate, wait_gone
from .redis import redis_command, redis_pid, redis_ping
from .state import Layout, prepare_root


@dataclass
class PrivateStack:
    """The servers of one private stack and how to reach them."""

    layout: Layout
    classpath: str
    nodes: list[KafkaNode]
    redis_port: int
    pg_port: int

    def env(self) -> dict[str, str]:
        """KAFKA_BOOTSTRAP_SERVERS, REDIS_URL and DATABASE_URL of this stack."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": ",".join(f"{HOST}:{node.port}" for node in self.nodes),
            "REDIS_URL": f"redis://{HOST}:{self.redis_port}/0",
            "DATABASE_URL": f"postgresql://{PG_DB_USER}@{HOST}:{self.pg_port}/{PG_DATABASE}",
        }

    def start_kafka(self, nodes: list[KafkaNode] | None = None) -> None:
        """Start nodes together (a quorum elects a leader only once a majority runs)."""
        chosen = self.nodes if nodes is None else nodes
        with ThreadPoolExecutor(len(chosen)) as pool:
            for started in [pool.submit(start_node, node, self.classpath) for node in chosen]:
                started.result()

    def kill_kafka(self, node: KafkaNode) -> None:
        """SIGKILL one node: no controlled shutdown, no leadership hand-over."""
        pid = kafka_pid(node)
        if pid is not None:
            signal_pid(pid, signal.SIGKILL, group=True)
            wait_gone(pid, 30)
        node.pid_file.unlink(missing_ok=True)

    def start_redis(self) -> None:
        """Start Redis on its port; it keeps nothing, so a restart comes back empty."""
        self.layout.redis_dir.mkdir(exist_ok=True)
        launch(
            "redis",
            redis_command(self.layout, self.redis_port),
            self.layout.log_file("redis"),
            self.layout.redis_pid,
            lambda _: redis_ping(self.redis_port),
        )

    def stop_redis(self) -> None:
        """Stop Redis (its data goes with it)."""
        pid = redis_pid(self.layout)
        if pid is not None:
            terminate(pid, "redis")

    def start_postgres(self) -> None:
        """Start PostgreSQL on its port (its data directory is kept)."""
        pg_start(self.layout, self.pg_port)

    def stop_postgres(self) -> None:
        """Stop PostgreSQL (fast shutdown)."""
        pg_stop(self.layout)

    def down(self) -> None:
        """Stop every server of this stack; its Kafka data is thrown away, so nodes are killed."""
        for node in self.nodes:
            self.kill_kafka(node)
        self.stop_redis()
        if pg_pid(self.layout) is not None:
            self.stop_postgres()


def directory_id() -> str:
    """A random KRaft directory id (base64url of 16 bytes, no padding)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def private_stack(root: Path, *, brokers: int = 1) -> PrivateStack:
    """Create and start a private stack under `root` with `brokers` Kafka nodes."""
    ensure_packages(["kafka", "redis", "postgres"])
    require_java17()
    layout = Layout(root)
    prepare_root(layout)
    classpath = kafka_classpath()
    ports: list[int] = []
    for _ in range(2 * brokers + 2):
        ports.append(any_free_port(set(ports)))
    nodes = [
        KafkaNode(
            n + 1,
            ports[2 * n],
            ports[2 * n + 1],
            root / f"kafka-{n + 1}",
            layout.log_file(f"kafka-{n + 1}"),
        )
        for n in range(brokers)
    ]
    stack = PrivateStack(layout, classpath, nodes, ports[-2], ports[-1])
    cluster_id = new_cluster_id()
    controllers = [node.controller_endpoint for node in nodes]
    initial = (
        None
        if brokers == 1
        else ",".join(
            f"{node.node_id}@{node.controller_endpoint}:{directory_id()}" for node in nodes
        )
    )
    try:
        for node in nodes:
            prepare_node(node, classpath, controllers, cluster_id, initial)
        stack.start_kafka()
        stack.start_redis()
        pg_prepare_dirs(layout)
        pg_initdb(layout)
        stack.start_postgres()
        pg_ensure_database(stack.pg_port)
    except BaseException:
        stack.down()
        raise
    return stack
