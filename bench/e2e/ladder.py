"""The rate ladder: each rate offered for a bounded time, then the step's figures."""

import uuid
from collections import Counter
from dataclasses import asdict, dataclass

from bench.e2e import cpu, load, observe
from services.demo.processes import ServiceProcess

REFERENCE_RATE = 200


def percentile_ms(seconds: list[float], fraction: float) -> float | None:
    """The value below which `fraction` of the samples lie, in milliseconds (nearest rank);
    None when that sample never completed."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    value = ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
    return round(value * 1000, 1) if value != float("inf") else None


@dataclass
class Step:
    rate: int
    seconds: float
    offered: int
    accepted: int
    errors: dict[str, int]
    intake_rps: float
    intake_p50_ms: float | None
    intake_p95_ms: float | None
    intake_p99_ms: float | None
    recorded: int
    lost: int
    e2e_incidents_per_s: float
    e2e_p50_ms: float | None
    e2e_p95_ms: float | None
    e2e_p99_ms: float | None
    peak_consumer_lag: int
    kept_up: bool
    cpu_ms_per_incident: cpu.Snapshot
    e2e_stages_ms: dict[str, dict[str, float | None]]
    # How late the load wrote its requests: time the system was charged for but never saw.
    send_lag_p99_ms: float | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def summarise(
    rate: int,
    seconds: float,
    sent: list[load.Sent],
    watch: observe.LedgerWatch,
    *,
    peak_lag: int,
    cpu_ms_per_incident: cpu.Snapshot,
) -> Step:
    """The step's figures: intake answers, and which incidents reached the ledger, and when."""
    recorded = watch.recorded
    accepted = [s for s in sent if s.incident_id is not None]
    errors = Counter(
        {-1: "not sent in time", 0: "no answer"}.get(s.status, str(s.status))
        for s in sent
        if s.incident_id is None
    )
    done = [(s, recorded[s.incident_id]) for s in accepted if s.incident_id in recorded]
    # An incident not yet recorded when the step's drain ended counts as slower than any.
    e2e = [at - s.scheduled for s, at in done] + [float("inf")] * (len(accepted) - len(done))
    first = min((s.scheduled for s in sent), default=0.0)
    last_answer = max((s.answered for s in sent), default=first)
    last_recorded = max((at for _, at in done), default=first)
    e2e_rate = len(done) / (last_recorded - first) if last_recorded > first else 0.0
    return Step(
        rate=rate,
        seconds=seconds,
        offered=len(sent),
        accepted=len(accepted),
        errors=dict(errors),
        intake_rps=round(len(accepted) / max(last_answer - first, 1e-9), 1),
        intake_p50_ms=percentile_ms([s.intake_s for s in accepted], 0.50),
        intake_p95_ms=percentile_ms([s.intake_s for s in accepted], 0.95),
        intake_p99_ms=percentile_ms([s.intake_s for s in accepted], 0.99),
        recorded=len(done),
        lost=len(accepted) - len(done),
        e2e_incidents_per_s=round(e2e_rate, 1),
        e2e_p50_ms=percentile_ms(e2e, 0.50),
        e2e_p95_ms=percentile_ms(e2e, 0.95),
        e2e_p99_ms=percentile_ms(e2e, 0.99),
        peak_consumer_lag=peak_lag,
        # Keeping up: everything offered was accepted and recorded at (nearly) the offered rate.
        kept_up=not errors and len(done) == len(accepted) and e2e_rate >= 0.9 * rate,
        cpu_ms_per_incident=cpu_ms_per_incident,
        e2e_stages_ms=stages([s for s, _ in done], watch),
        send_lag_p99_ms=percentile_ms(
            [s.written - s.scheduled for s in sent if s.written is not None], 0.99
        ),
    )


def stages(done: list[load.Sent], watch: observe.LedgerWatch) -> dict[str, dict[str, float | None]]:
    """Where the end-to-end time of recorded incidents went (p50 and p99 of each stage):
    intake until it built the report, the report's way to dispatch's decision, the
    assignment's way to the ledger's seal, and the seal's way to being visible (the commit and
    this watch's polling)."""
    spans: dict[str, list[float]] = {"intake": [], "dispatch": [], "ledger": [], "visible": []}
    for sent in done:
        key = sent.incident_id
        if key is None or key not in watch.reported or key not in watch.assigned:
            continue
        reported, (decided, sealed) = watch.reported[key], watch.assigned[key]
        spans["intake"].append(reported - sent.scheduled)
        spans["dispatch"].append(decided - reported)
        spans["ledger"].append(sealed - decided)
        spans["visible"].append(watch.recorded[key] - sealed)
    return {
        name: {"p50": percentile_ms(values, 0.50), "p99": percentile_ms(values, 0.99)}
        for name, values in spans.items()
    }


@dataclass(frozen=True)
class Rig:
    """The running stack as the load sees it: intake's port and key, how many connections to
    offer reports on, the services' processes (for CPU), the ledger watch and the lag watch."""

    port: int
    api_key: str
    connections: int
    processes: dict[str, ServiceProcess]
    watch: observe.LedgerWatch
    lag: observe.LagWatch


async def climb(
    rig: Rig, *, rates: list[int], seconds: float, drain_s: float, drain_cap_s: float
) -> tuple[list[Step], set[uuid.UUID]]:
    """Offer each rate in turn; past 200/s (the reference rate), stop at the first that the
    system cannot keep up with."""
    steps: list[Step] = []
    accepted: set[uuid.UUID] = set()
    first = 0
    for rate in rates:
        step, ids = await offer_step(
            rig, rate=rate, seconds=seconds, first=first, drain=(drain_s, drain_cap_s)
        )
        first += step.offered
        accepted |= ids
        steps.append(step)
        print(line(step), flush=True)
        if not step.kept_up and rate >= REFERENCE_RATE:
            break
    return steps, accepted


async def offer_step(
    rig: Rig, *, rate: int, seconds: float, first: int, drain: tuple[float, float] | None
) -> tuple[Step, set[uuid.UUID]]:
    """Offer `rate`/s for `seconds` (reports numbered from `first`); with `drain` (quiet and
    cap seconds), wait for the ledger to record them. The step's figures, CPU included, and
    the accepted incidents."""
    processes, watch, lag = rig.processes, rig.watch, rig.lag
    lag.take()
    before = cpu.snapshot(processes)
    sent = await load.offer(
        rig.port, rig.api_key, rate=rate, seconds=seconds, connections=rig.connections, first=first
    )
    ids = {s.incident_id for s in sent if s.incident_id is not None}
    if drain is not None:
        await watch.settle(ids, quiet_s=drain[0], within_s=drain[1])
    cost = cpu.per_incident_ms(before, cpu.snapshot(processes), len(ids))
    step = summarise(rate, seconds, sent, watch, peak_lag=lag.take(), cpu_ms_per_incident=cost)
    return step, ids


def line(step: Step) -> str:
    """One row of the printed ladder."""
    return (
        f"{step.rate:>6}/s offered {step.offered:>6}  accepted {step.accepted:>6}  "
        f"intake p99 {step.intake_p99_ms} ms  e2e {step.e2e_incidents_per_s:>7.1f}/s "
        f"p50 {step.e2e_p50_ms} p99 {step.e2e_p99_ms} ms  lag≤{step.peak_consumer_lag}  "
        f"lost {step.lost}  errors {sum(step.errors.values())}  "
        f"{'kept up' if step.kept_up else 'fell behind'}  "
        f"CPU ms/incident {step.cpu_ms_per_incident}  "
        f"stages p50/p99 ms {_stages_text(step.e2e_stages_ms)}  "
        f"send lag p99 {step.send_lag_p99_ms} ms"
    )


def _stages_text(stages_ms: dict[str, dict[str, float | None]]) -> str:
    return " ".join(f"{name} {value['p50']}/{value['p99']}" for name, value in stages_ms.items())
