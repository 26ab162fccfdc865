"""Constants, the error type and progress logging shared by the local stack modules."""

from __future__ import annotations

import sys

HOST = "127.0.0.1"
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
READY_TIMEOUT = 90.0  # without a line written to its log
READY_CEILING = 900.0  # even while it writes
STOP_TIMEOUT = 30.0


class StackError(Exception):
    """A failure reported to the user as a message and exit status 1."""


def log(message: str) -> None:
    """Print a progress message to stderr."""
    print(f"[stack] {message}", file=sys.stderr, flush=True)
