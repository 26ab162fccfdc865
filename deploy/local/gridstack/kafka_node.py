"""One KRaft broker+controller node: config, storage format, start, readiness and stop."""

from __future__ import annotations

import base64
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from .common import HOST, log
from .kafka_probe import kafka_metadata
from .logfiles import log_contains
from .processes import launch, run, scan_pids, terminate
from .state import live_pid

KAFKA_HEAP = ("-Xms256m", "-Xmx768m")
# The client (C1) compiler only. A local broker shares a small machine with everything it
# serves, and lives minutes to hours: the optimising compiler took a sixth to a fifth of a
# core for its first minutes under load, more than the broker's own work (ADR 52).
KAFKA_JIT = ("-XX:TieredStopAtLevel=1",)
KAFKA_STARTED_MARK = "Kafka Server started"


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


def kafka_pid(node: KafkaNode) -> int | None:
    """Pid of this node's broker if it is running (pid file, else a /proc scan)."""
    pid = live_pid(node.pid_file, "kafka.Kafka", str(node.props))
    if pid is None:
        pids = scan_pids(f"kafka.Kafka {node.props}")
        pid = pids[0] if pids else None
    return pid


def replication_properties(cluster_size: int) -> list[str]:
    """Replication of internal and new topics: 1 alone; 3 with min.insync.replicas 2 together."""
    replicas = min(cluster_size, 3)
    min_isr = 2 if replicas >= 3 else 1
    lines = [
        f"offsets.topic.replication.factor={replicas}",
        f"transaction.state.log.replication.factor={replicas}",
        f"transaction.state.log.min.isr={min_isr}",
    ]
    if cluster_size > 1:
        lines += [f"default.replication.factor={replicas}", f"min.insync.replicas={min_isr}"]
    return lines


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
            *replication_properties(len(bootstrap_controllers)),
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
        *KAFKA_JIT,
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


def prepare_node(
    node: KafkaNode,
    classpath: str,
    bootstrap_controllers: list[str],
    cluster_id: str,
    initial_controllers: str | None = None,
) -> None:
    """Create the node's directory, write its server.properties and format its storage once."""
    node.home.mkdir(exist_ok=True)
    node.props.write_text(kafka_properties(node, bootstrap_controllers))
    kafka_format(node, classpath, cluster_id, initial_controllers)


def kafka_command(node: KafkaNode, classpath: str) -> list[str]:
    """Command line running the broker of a node on the java from PATH."""
    return [
        "java",
        *KAFKA_HEAP,
        *KAFKA_JIT,
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        "-cp",
        classpath,
        "kafka.Kafka",
        str(node.props),
    ]


def kafka_serving(node: KafkaNode) -> bool:
    """True if the broker answers metadata requests and lists itself with a controller."""
    try:
        controller, brokers = kafka_metadata(node.port)
    except (OSError, struct.error, UnicodeDecodeError):
        return False
    return controller >= 0 and node.node_id in brokers


def start_node(node: KafkaNode, classpath: str) -> int:
    """Launch a prepared node and wait until it serves and logs that it started; return its pid."""
    log(f"kafka: starting on {HOST}:{node.port} (controller {node.controller_endpoint})")
    return launch(
        "kafka",
        kafka_command(node, classpath),
        node.log_path,
        node.pid_file,
        lambda offset: (
            kafka_serving(node) and log_contains(node.log_path, offset, KAFKA_STARTED_MARK)
        ),
    )


def stop_node(node: KafkaNode) -> None:
    """Stop a node's broker if it runs and remove its pid file."""
    pid = kafka_pid(node)
    if pid is not None:
        terminate(pid, "kafka")
    node.pid_file.unlink(missing_ok=True)
