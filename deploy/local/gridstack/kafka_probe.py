"""A minimal Kafka Metadata v4 client used to check that a broker really serves."""

from __future__ import annotations

import socket
import struct

from .common import HOST


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
