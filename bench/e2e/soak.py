"""The soak: a steady 200 reports a second for minutes, with every service's memory sampled."""

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.e2e import ladder

CHUNK_S = 30.0
PAGE_KIB = 1


def rss_mib(pid: int | None) -> float | None:
    """Resident memory of a process, from /proc (None when it is gone)."""
    if pid is None:
        return None
    status = Path(f"/proc/{pid}/status")
    for row in status.read_text().splitlines() if status.exists() else []:
        if row.startswith("VmRSS:"):
            return round(int(row.split()[1]) * PAGE_KIB / 1024, 1)
    return None


@dataclass
class Soak:
    minutes: float
    rate: int
    warmup_minutes: float
    rss_after_warmup_mib: dict[str, float | None] = field(default_factory=dict)
    rss_at_end_mib: dict[str, float | None] = field(default_factory=dict)
    rss_samples_mib: list[dict[str, float | None]] = field(default_factory=list)
    steps: list[dict[str, object]] = field(default_factory=list)

    def growth(self) -> dict[str, float | None]:
        """End over after-warm-up, per service."""
        return {
            name: round(end / start, 3)
            if (start := self.rss_after_warmup_mib.get(name)) and end
            else None
            for name, end in self.rss_at_end_mib.items()
        }

    def within(self, limit: float = 1.10) -> bool:
        ratios = self.growth().values()
        return bool(ratios) and all(ratio is not None and ratio <= limit for ratio in ratios)


async def run(rig: ladder.Rig, *, minutes: float, rate: int) -> tuple[Soak, set[uuid.UUID]]:
    """Offer `rate`/s in chunks; sample memory after the warm-up (a fifth, at least a minute)."""
    warmup = min(max(1.0, minutes / 5), minutes / 2)
    soak = Soak(minutes=minutes, rate=rate, warmup_minutes=round(warmup, 2))
    accepted: set[uuid.UUID] = set()
    elapsed, first = 0.0, 10_000_000
    while elapsed < minutes * 60:
        seconds = min(CHUNK_S, minutes * 60 - elapsed)
        # No waiting for the chunk's assignments: a backlog is the load the soak keeps up (and
        # the CPU per incident is that of the chunk's time, whichever incidents it served).
        step, ids = await ladder.offer_step(
            rig, rate=rate, seconds=seconds, first=first, drain=None
        )
        first += step.offered
        accepted |= ids
        soak.steps.append(step.as_dict())
        elapsed += seconds
        sample = {name: rss_mib(process.pid) for name, process in rig.processes.items()}
        soak.rss_samples_mib.append(sample)
        if not soak.rss_after_warmup_mib and elapsed >= warmup * 60:
            soak.rss_after_warmup_mib = sample
        print(f"soak {elapsed / 60:5.1f} min  rss MiB {sample}  {ladder.line(step)}", flush=True)
    soak.rss_at_end_mib = soak.rss_samples_mib[-1] if soak.rss_samples_mib else {}
    return soak, accepted
