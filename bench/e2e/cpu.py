"""What each incident costs each service, and each server of the stack, in CPU time, read
from /proc around a step.

CPU time per incident does not depend on how busy the machine is, unlike throughput, so it
is the figure to compare between runs and between services. The servers' figures are the
whole server's: another client of the same stack would be counted in them.
"""

import os
from collections.abc import Mapping

from bench.intake_vs_bare import cpu_seconds
from services.demo.processes import ServiceProcess

Snapshot = dict[str, float | None]
# A server's processes, told by their command line: PostgreSQL's postmaster and backends,
# the Kafka broker's JVM, the Redis server.
SERVERS = {"postgres": "postgres", "kafka": "kafka.Kafka", "redis": "redis-server"}


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
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                command = file.read().split(b"\0")
            with open(f"/proc/{pid}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        for name, mark in SERVERS.items():
            if _runs(command, mark):
                # utime, stime, and the times of waited-for children that exited
                ticks = sum(int(field) for field in fields[11:15])
                totals[name] = (totals[name] or 0.0) + ticks / tick
                break
    return totals


def _runs(command: list[bytes], mark: str) -> bool:
    program = os.path.basename(command[0].decode(errors="replace")) if command else ""
    if mark == "kafka.Kafka":
        return mark.encode() in command
    return program.startswith(mark)


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
