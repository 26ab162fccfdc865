"""What each incident costs each service, and each server of the stack, in CPU time, read
from /proc around a step.

CPU time per incident does not depend on how busy the machine is, unlike throughput, so it
is the figure to compare between runs and between services. The servers' figures are the
whole server's: another client of the same stack would be counted in them.
"""

import os
from collections.abc import Callable, Mapping

from bench.intake_vs_bare import cpu_seconds
from services.demo.processes import ServiceProcess

Snapshot = dict[str, float | None]
Command = list[bytes]


def _program_is(name: str) -> Callable[[Command], bool]:
    return lambda command: bool(command) and os.path.basename(command[0]).startswith(name.encode())


# A server's processes, told by their command line: PostgreSQL's postmaster and backends,
# the Kafka broker's JVM (its main class is an argument of `java`), the Redis server.
SERVERS: dict[str, Callable[[Command], bool]] = {
    "postgres": _program_is("postgres"),
    "kafka": lambda command: b"kafka.Kafka" in command,
    "redis": _program_is("redis-server"),
}


def snapshot(processes: Mapping[str, ServiceProcess]) -> Snapshot:
    """Each service's and each server's CPU seconds so far."""
    return {
        **{name: cpu_seconds(process.pid) for name, process in processes.items()},
        **servers(),
    }


def servers() -> Snapshot:
    """Each server's CPU seconds so far, over all its processes, including children that have
    exited (PostgreSQL's backends of closed connections); None when /proc is not there."""
    totals: Snapshot = dict.fromkeys(SERVERS)
    try:
        pids = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return totals
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                command = file.read().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        server = next((name for name, runs in SERVERS.items() if runs(command)), None)
        if server is None:
            continue
        seconds = cpu_seconds(pid, with_exited_children=True)
        if seconds is not None:
            totals[server] = (totals[server] or 0.0) + seconds
    return totals


def per_incident_ms(before: Snapshot, after: Snapshot, incidents: int) -> Snapshot:
    """Milliseconds of CPU each service spent per incident between the two snapshots."""
    cost: Snapshot = {}
    for name, start in before.items():
        end = after.get(name)
        if start is None or end is None or incidents <= 0:
            cost[name] = None
        else:
            cost[name] = round((end - start) * 1000 / incidents, 2)
    return cost
