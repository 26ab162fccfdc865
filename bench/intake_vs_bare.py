"""Intake against a bare FastAPI endpoint parsing the same body, under the same bounded load.

    .venv/bin/python bench/intake_vs_bare.py [--requests 4000] [--concurrency 64]

Starts (on loopback) the bare app and the real intake against the running local stack (its
own database, topics and Redis namespace), drives each in turn with the same number of
requests from the same number of keep-alive connections, and prints requests/s, p50 and p99
latency, the CPU time the server process spent per request (Linux), and the ratio intake/bare.
On a busy machine requests/s swing with other work; CPU per request is steadier.
Intake answers each 202 only after Kafka acknowledged it.
Modes: `plain` (an integrator key, no idempotency key) and `idempotent` (a fresh
Idempotency-Key per request, so every report is also claimed in PostgreSQL).
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.demo import integrator  # noqa: E402
from services.demo.processes import ServiceProcess, free_port  # noqa: E402
from tests.support import stack  # noqa: E402

BODY = json.dumps(
    {
        "channel": "hotline",
        "category": "neighbour_dispute",
        "description": "邻里因楼道堆物发生争吵 neighbours quarrel over things left on the stairs",
        "household_id": "H0001",
        "source_system": "city-hotline",
        "reporter": {"phone": "13812345678"},
    }
).encode()


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float]
    statuses: Counter[int]
    cpu_s: float | None = None  # the server process's CPU time over the run

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def line(self) -> str:
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[int(0.99 * (len(ordered) - 1))] * 1000
        codes = ", ".join(f"{code}×{n}" for code, n in sorted(self.statuses.items()))
        cpu = "n/a" if self.cpu_s is None else f"{self.cpu_ms_per_request:.3f}"
        return (
            f"{self.name:22s} {self.rps:8.0f} req/s   p50 {p50:6.1f} ms   "
            f"p99 {p99:6.1f} ms   cpu {cpu} ms/req   [{codes}]"
        )

    @property
    def cpu_ms_per_request(self) -> float:
        return (self.cpu_s or 0.0) / len(self.latencies) * 1000


def request_bytes(port: int, headers: dict[str, str]) -> bytes:
    lines = [
        "POST /v1/incidents HTTP/1.1",
        f"host: 127.0.0.1:{port}",
        "content-type: application/json",
        f"content-length: {len(BODY)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + BODY


async def drive(
    name: str,
    port: int,
    *,
    requests: int,
    concurrency: int,
    headers: dict[str, str],
    fresh_key: bool,
) -> Result:
    """`concurrency` keep-alive connections share `requests` requests; each waits for its answer."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    remaining = iter(range(requests))

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in remaining:
                extra = {"idempotency-key": uuid.uuid4().hex} if fresh_key else {}
                started = time.perf_counter()
                writer.write(request_bytes(port, {**headers, **extra}))
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                statuses[int(head[9:12])] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return Result(name, time.perf_counter() - started, latencies, statuses)


def cpu_seconds(pid: int | str | None, *, with_exited_children: bool = False) -> float | None:
    """User plus system CPU time of a process so far (Linux /proc), None elsewhere; with the
    times of its children that have exited and been waited for, when asked."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime, then cutime and cstime
    ticks = fields[11:15] if with_exited_children else fields[11:13]
    return sum(int(field) for field in ticks) / os.sysconf("SC_CLK_TCK")


def run(
    name: str,
    port: int,
    args: argparse.Namespace,
    headers: dict[str, str],
    fresh: bool,
    *,
    pid: int | None,
) -> Result:
    asyncio.run(
        drive(
            name,
            port,
            requests=args.warmup,
            concurrency=args.concurrency,
            headers=headers,
            fresh_key=fresh,
        )
    )
    cpu_before = cpu_seconds(pid)
    result = asyncio.run(
        drive(
            name,
            port,
            requests=args.requests,
            concurrency=args.concurrency,
            headers=headers,
            fresh_key=fresh,
        )
    )
    cpu_after = cpu_seconds(pid)
    if cpu_before is not None and cpu_after is not None:
        result.cpu_s = cpu_after - cpu_before
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--log-level", default="INFO", help="intake's LOG_LEVEL")
    args = parser.parse_args()

    infra = stack.stack_env()
    name = f"gridloop_bench_{uuid.uuid4().hex[:12]}"
    database = asyncio.run(stack.create_database(infra["DATABASE_URL"], name))
    env = {**stack.isolated_settings(infra, database_url=database), "LOG_LEVEL": args.log_level}
    log_dir = Path(tempfile.mkdtemp(prefix="gridloop-bench-"))

    intake = ServiceProcess("intake", env, log_dir)
    try:
        intake.start()
        key = integrator.provision_key(env, integrator="bench", extra=("--rate-limit", "1000000"))
        with bare_app() as (bare_port, bare_pid):
            print(
                f"{args.requests} requests after {args.warmup} warm-up, "
                f"{args.concurrency} connections, {os.cpu_count()} CPUs, "
                f"intake LOG_LEVEL={args.log_level}",
                flush=True,
            )
            with_key = {"x-api-key": key["api_key"]}
            bare_result = run("bare FastAPI", bare_port, args, {}, False, pid=bare_pid)
            print(bare_result.line(), flush=True)
            for mode, fresh in (("plain", False), ("idempotent", True)):
                result = run(f"intake ({mode})", intake.port, args, with_key, fresh, pid=intake.pid)
                ratio = f"ratio {result.rps / bare_result.rps:.2f}"
                if result.cpu_s and bare_result.cpu_s:
                    by_cpu = bare_result.cpu_ms_per_request / result.cpu_ms_per_request
                    ratio += f" (by CPU {by_cpu:.2f})"
                print(f"{result.line()}   {ratio}", flush=True)
        print(f"intake log: {log_dir}")
    finally:
        intake.stop()
        asyncio.run(stack.remove_run(env))


@contextmanager
def bare_app() -> Iterator[tuple[int, int]]:
    """The bare FastAPI app in its own process; yields its port and pid."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "bare_app.py"), str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        wait_for_url(f"http://127.0.0.1:{port}/docs")
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(10)


def wait_for_url(url: str, within_s: float = 30) -> None:
    """Return once `url` answers 200; TimeoutError after `within_s`."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer")


if __name__ == "__main__":
    main()
