"""Loopback ports: probing, env overrides and choosing free listen ports."""

from __future__ import annotations

import os
import socket

from .common import DEFAULT_PORTS, HOST, PORT_ENV, StackError, log
from .state import State


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


def choose_ports(name: str, state: State, keys: list[str]) -> dict[str, int]:
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
