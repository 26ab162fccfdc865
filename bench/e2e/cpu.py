"""What each incident costs each service in CPU time, read from /proc around a step.

CPU time per incident does not depend on how busy the machine is, unlike throughput, so it
is the figure to compare between runs and between services.
"""

import os
from collections.abc import Mapping
from pathlib import Path

from services.demo.processes import ServiceProcess

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
Snapshot = dict[str, float | None]


def cpu_seconds(pid: int | None) -> float | None:
    """User plus system time of a process so far (None when it is gone)."""
    stat = Path(f"/proc/{pid}/stat")
    if pid is None or not stat.exists():
        return None
    # The command name may hold spaces; the fields after its closing parenthesis do not.
    fields = stat.read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def snapshot(processes: Mapping[str, ServiceProcess]) -> Snapshot:
    """Each service's CPU seconds so far."""
    return {name: cpu_seconds(process.pid) for name, process in processes.items()}


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
