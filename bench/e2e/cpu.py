"""What each incident costs each service in CPU time, read from /proc around a step.

CPU time per incident does not depend on how busy the machine is, unlike throughput, so it
is the figure to compare between runs and between services.
"""

from collections.abc import Mapping

from bench.intake_vs_bare import cpu_seconds
from services.demo.processes import ServiceProcess

Snapshot = dict[str, float | None]


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
