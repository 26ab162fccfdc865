"""Fixtures for the ledger's integration tests: a ledger process alone, fed hand-made events.

Each test module gets its own database, topics and consumer group (the root `run_env`), a
real `python -m services.ledger serve`, and a producer that publishes stories the way intake
and dispatch would: reports-topic types to the reports topic, the rest to the lifecycle topic.
"""

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import envelope
from services.demo.processes import ROOT, ServiceProcess
from services.ledger.domain.records import REPORTS_TOPIC_TYPES
from tests.support import flow, reports, tokens
from tests.unit.ledger.stories import Story


@pytest.fixture(scope="module")
def ledger(run_env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    """The ledger service alone, consuming this module's topics."""
    process = ServiceProcess("ledger", run_env, log_dir).start()
    yield process
    process.stop()


class Publisher:
    """Publishes stories' events to the module's topics, keyed by incident."""

    def __init__(self, producer: AIOKafkaProducer, run_env: dict[str, str]) -> None:
        self._producer = producer
        self._env = run_env

    def topic_of(self, event: envelope.CloudEvent) -> str:
        to_reports = event.type in REPORTS_TOPIC_TYPES
        return self._env["TOPIC_REPORTS"] if to_reports else self._env["TOPIC_LIFECYCLE"]

    async def events(self, events: Sequence[envelope.CloudEvent]) -> None:
        """Publish in this order and wait until Kafka has them all."""
        for event in events:
            record = envelope.encode(event)
            await self._producer.send_and_wait(
                self.topic_of(event), value=record.value, key=record.key, headers=record.headers
            )

    async def stories(self, *stories: Story) -> int:
        """Publish every story's events; how many were sent."""
        sent = [event for story in stories for event in story.events]
        await self.events(sent)
        return len(sent)


@pytest.fixture(scope="module")
async def publish(run_env: dict[str, str]) -> AsyncIterator[Publisher]:
    producer = AIOKafkaProducer(
        bootstrap_servers=run_env["KAFKA_BOOTSTRAP_SERVERS"], acks="all", linger_ms=5
    )
    await producer.start()
    yield Publisher(producer, run_env)
    await producer.stop()


async def entry_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(
            (await connection.execute(text("select count(*) from ledger_entry"))).scalar_one()
        )


async def wait_for_entries(engine: AsyncEngine, count: int, *, within_s: float = 60) -> None:
    """Poll until the ledger holds `count` entries."""

    async def recorded() -> bool:
        return await entry_count(engine) >= count

    await flow.wait_for(recorded, within_s=within_s, what=f"{count} ledger entries")


async def wait_until_consumed(run_env: dict[str, str], *, within_s: float = 60) -> None:
    """Poll until the ledger's group has committed every record published so far.

    Offsets are committed only after a batch is recorded, so this is the moment every
    published event has had its effect, including redeliveries that write nothing.
    """
    await reports.wait_committed(
        run_env["KAFKA_BOOTSTRAP_SERVERS"],
        run_env["LEDGER_CONSUMER_GROUP"],
        (run_env["TOPIC_REPORTS"], run_env["TOPIC_LIFECYCLE"]),
        partitions=int(run_env["TOPIC_PARTITIONS"]),
        within_s=within_s,
    )


@pytest.fixture(scope="module")
def api(ledger: ServiceProcess) -> Iterator[httpx.Client]:
    """The ledger's read API as the committee, who may read every case."""
    headers = tokens.committee(ledger.env)
    with httpx.Client(base_url=ledger.url, timeout=30, headers=headers) as client:
        yield client


def run_cli(run_env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    """`python -m services.ledger …` against this module's database."""
    return subprocess.run(
        [sys.executable, "-m", "services.ledger", *arguments],
        cwd=ROOT,
        env={**os.environ, **run_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
