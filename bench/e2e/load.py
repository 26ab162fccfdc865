"""An open-loop load: reports offered to intake at a fixed rate over keep-alive connections.

Each report has a scheduled send time; latency counts from that time, so a slow answer that
delays the next send is charged to the system, not hidden (no coordinated omission).
"""

import asyncio
import json
import time
import uuid
from dataclasses import dataclass

from services.dispatch import demo_community

HOUSEHOLDS = [household.id for household in demo_community.generate().households]
CATEGORIES = ("neighbour_dispute", "paperwork_service", "employment_service", "home_service")
ANSWER_TIMEOUT_S = 30.0
SEND_GRACE_S = 5.0
# Intake's server closes a keep-alive connection after 5 s without a request (uvicorn's
# default). A connection idle for longer than this is opened again before its next request,
# as a client's connection pool does; writing to it would find it closed, and the report
# would count as unanswered. At 96 connections that happens below about 20 reports a second.
REOPEN_IDLE_AFTER_S = 4.0


@dataclass(frozen=True)
class Sent:
    """One offered report: when it was due, when its answer came, and what the answer was;
    when the request was written (late when the connections or this process were busy)."""

    scheduled: float
    answered: float
    status: int
    incident_id: uuid.UUID | None
    written: float | None = None

    @property
    def intake_s(self) -> float:
        return self.answered - self.scheduled


def report_body(n: int) -> bytes:
    """The n-th report: households and categories in turn, as the city hotline sends them."""
    household = HOUSEHOLDS[n % len(HOUSEHOLDS)]
    return json.dumps(
        {
            "channel": "hotline",
            "category": CATEGORIES[n % len(CATEGORIES)],
            "description": f"邻里因楼道堆物发生争吵 bench report {n} at {household}",
            "household_id": household,
            "source_system": "city-hotline",
            "reporter": {"phone": "13812345678"},
        }
    ).encode()


def request_bytes(port: int, api_key: str, body: bytes) -> bytes:
    """A complete HTTP/1.1 POST /v1/incidents."""
    head = (
        "POST /v1/incidents HTTP/1.1\r\n"
        f"host: 127.0.0.1:{port}\r\n"
        "content-type: application/json\r\n"
        f"x-api-key: {api_key}\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def offer(
    port: int, api_key: str, *, rate: float, seconds: float, connections: int, first: int = 0
) -> list[Sent]:
    """Offer `rate` reports a second for `seconds`; every answer (or failure) is returned.

    A report still waiting for a free connection `SEND_GRACE_S` after the last one was due is
    not sent (status -1): the step stays bounded in time however slow the answers are.
    """
    due: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    results: list[Sent] = []
    give_up_at = time.perf_counter() + seconds + SEND_GRACE_S

    async def schedule() -> None:
        start = time.perf_counter()
        for n in range(int(rate * seconds)):
            scheduled = start + n / rate
            if (wait := scheduled - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            due.put_nowait((first + n, scheduled))
        for _ in range(connections):
            due.put_nowait(None)

    async def connection() -> None:
        stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        last_used = 0.0
        while (item := await due.get()) is not None:
            n, scheduled = item
            if time.perf_counter() > give_up_at:
                results.append(Sent(scheduled, time.perf_counter(), -1, None))
                continue
            if stream is not None and time.perf_counter() - last_used > REOPEN_IDLE_AFTER_S:
                _close(stream)
                stream = None
            written = None
            try:
                if stream is None:
                    stream = await asyncio.open_connection("127.0.0.1", port)
                written = time.perf_counter()
                status, answer = await asyncio.wait_for(
                    _exchange(*stream, request_bytes(port, api_key, report_body(n))),
                    ANSWER_TIMEOUT_S,
                )
            except (OSError, TimeoutError, asyncio.IncompleteReadError):
                _close(stream)
                stream = None
                results.append(Sent(scheduled, time.perf_counter(), 0, None, written))
                continue
            last_used = time.perf_counter()
            incident = uuid.UUID(json.loads(answer)["incident_id"]) if status == 202 else None
            results.append(Sent(scheduled, last_used, status, incident, written))
        _close(stream)

    await asyncio.gather(schedule(), *(connection() for _ in range(connections)))
    return results


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return int(head[9:12]), await reader.readexactly(length)


def _close(stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
    if stream is not None:
        stream[1].close()
