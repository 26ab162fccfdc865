"""Watching the far end: when each incident's assignment is recorded in the ledger, and lag.

The ledger is read straight from its table (`ledger_entry`, in the run's private database)
every few milliseconds: an incident counts as done end to end when its
`incident.assigned` entry is visible there. Consumer lag comes from the services' own
`gridloop_consumer_lag` gauges.
"""

import asyncio
import time
import uuid

import asyncpg
import httpx

from services.common.database import SERVER_SETTINGS

ASSIGNED = "gridloop.incident.assigned.v1"
REPORTED = "gridloop.incident.reported.v1"
POLL_S = 0.02


class LedgerWatch:
    """First time each incident's assignment became visible in the ledger (perf_counter), and
    the times its entries carry, for the stages in between."""

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self.recorded: dict[uuid.UUID, float] = {}
        # perf_counter of the report's `occurred_at` (intake built the event), of the first
        # assignment's `occurred_at` (dispatch decided) and of its `recorded_at` (the ledger
        # sealed it). Wall-clock times from the same machine, moved onto perf_counter.
        self.reported: dict[uuid.UUID, float] = {}
        self.assigned: dict[uuid.UUID, tuple[float, float]] = {}
        self._wall_to_perf = time.perf_counter() - time.time()
        self._last_seq = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Watch entries recorded from now on."""
        # Polled fifty times a second. Its generic plan, made while the ledger was empty,
        # scanned the whole table at each poll: the watcher cost the database more than
        # the services it watched.
        self._connection = await asyncpg.connect(
            self._database_url, server_settings=SERVER_SETTINGS
        )
        self._last_seq = int(
            await self._connection.fetchval("select coalesce(max(seq), 0) from ledger_entry")
        )
        self.first_seq = self._last_seq
        self._task = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._connection.close()

    async def _poll(self) -> None:
        query = """select seq, incident_id, type, extract(epoch from occurred_at)::float8,
                          extract(epoch from recorded_at)::float8
                   from ledger_entry where seq > $1 order by seq"""
        shift = self._wall_to_perf
        while True:
            rows = await self._connection.fetch(query, self._last_seq)
            now = time.perf_counter()
            for seq, incident_id, kind, occurred, recorded in rows:
                if kind == ASSIGNED and incident_id not in self.recorded:
                    self.recorded[incident_id] = now
                    self.assigned[incident_id] = (occurred + shift, recorded + shift)
                elif kind == REPORTED:
                    self.reported.setdefault(incident_id, occurred + shift)
                self._last_seq = max(self._last_seq, seq)
            await asyncio.sleep(POLL_S)

    async def settle(self, expected: set[uuid.UUID], *, quiet_s: float, within_s: float) -> None:
        """Wait until every expected incident is recorded, nothing new came for `quiet_s`, or
        `within_s` has passed."""
        seen, quiet_since = len(self.recorded), time.monotonic()
        deadline = quiet_since + within_s
        while not expected <= self.recorded.keys() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            if len(self.recorded) != seen:
                seen, quiet_since = len(self.recorded), time.monotonic()
            elif time.monotonic() - quiet_since > quiet_s:
                return

    async def census(self) -> dict[uuid.UUID, tuple[int, int]]:
        """Per incident recorded in this run: (reported entries, first-assignment entries)."""
        connection = await asyncpg.connect(self._database_url)  # the poller holds its own
        try:
            rows = await connection.fetch(
                """select incident_id,
                   count(*) filter (where type = $2),
                   count(*) filter (where type = $3 and (payload->>'attempt')::int = 1)
               from ledger_entry where seq > $1 group by incident_id""",
                self.first_seq,
                REPORTED,
                ASSIGNED,
            )
        finally:
            await connection.close()
        return {row[0]: (int(row[1]), int(row[2])) for row in rows}


async def consumer_lag(metrics_urls: list[str], client: httpx.AsyncClient) -> int:
    """Records not yet consumed, summed over every service's consumer groups and partitions."""
    total = 0.0
    for url in metrics_urls:
        try:
            text = (await client.get(url)).text
        except httpx.HTTPError:
            continue
        for line in text.splitlines():
            if line.startswith("gridloop_consumer_lag{"):
                total += float(line.rsplit(" ", 1)[1])
    return int(total)


class LagWatch:
    """The largest consumer lag seen since the last `take`.

    It keeps one HTTP client: making one per sample loads the TLS trust store each time, which
    held this process (and the load it offers) up for a tenth of a second every second. It
    samples every 5 s: a scrape of dispatch's /metrics costs dispatch 15-20 ms of CPU with the
    demo community, and once a second that was about 4 % of dispatch's CPU at 200/s, where
    Prometheus in a deployment scrapes every 15-30 s.
    """

    def __init__(self, metrics_urls: list[str], every_s: float = 5.0) -> None:
        self._urls, self._every_s, self.peak = metrics_urls, every_s, 0
        self._task: asyncio.Task[None] | None = None
        self._client = httpx.AsyncClient(timeout=2)

    def start(self) -> None:
        self._task = asyncio.create_task(self._sample())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._client.aclose()

    async def now(self) -> int:
        """The consumer lag at this moment."""
        return await consumer_lag(self._urls, self._client)

    def take(self) -> int:
        peak, self.peak = self.peak, 0
        return peak

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, await self.now())
            await asyncio.sleep(self._every_s)
