"""The single-node Kafka of the stack: start or reuse it, and stop it."""

from __future__ import annotations

from .common import HOST
from .kafka_jars import kafka_classpath, require_java17
from .kafka_node import (
    KafkaNode,
    kafka_pid,
    kafka_serving,
    new_cluster_id,
    prepare_node,
    start_node,
    stop_node,
)
from .ports import choose_ports
from .processes import pid_alive, wait_ready
from .state import Layout, State, reuse_check, save_state


def single_kafka_node(layout: Layout, port: int, controller_port: int) -> KafkaNode:
    """The node of the default single-node stack."""
    return KafkaNode(1, port, controller_port, layout.root / "kafka", layout.log_file("kafka"))


def remembered_node(layout: Layout, state: State) -> KafkaNode:
    """The single node with the ports remembered in state (0 when unknown)."""
    remembered = state.get("kafka", {})
    return single_kafka_node(
        layout, int(remembered.get("port", 0)), int(remembered.get("controller_port", 0))
    )


def kafka_up(layout: Layout, state: State) -> str:
    """Start (or reuse) the single-node Kafka; return its bootstrap servers."""
    node = remembered_node(layout, state)
    pid = kafka_pid(node)
    if pid is not None:
        reuse_check("kafka", pid, node.port, layout)
        wait_ready("kafka", lambda: kafka_serving(node), lambda: pid_alive(pid), node.log_path)
    else:
        node = kafka_fresh_start(layout, state)
    return f"{HOST}:{node.port}"


def kafka_fresh_start(layout: Layout, state: State) -> KafkaNode:
    """Choose ports, write config, format once, launch the broker and wait until it serves."""
    require_java17()
    classpath = kafka_classpath()
    ports = choose_ports("kafka", state, ["port", "controller_port"])
    node = single_kafka_node(layout, ports["port"], ports["controller_port"])
    prepare_node(node, classpath, [node.controller_endpoint], new_cluster_id())
    state["kafka"] = ports
    save_state(layout, state)
    start_node(node, classpath)
    return node


def kafka_down(layout: Layout, state: State) -> None:
    """Stop our Kafka broker if it runs."""
    stop_node(remembered_node(layout, state))
