"""States kept in memory between batches never stand in for what another writer changed.

Two writers with their own `WarmStates` record one shuffled stream in alternating batches,
so each often finds the other has appended since its last batch. Then a batch fails after
its states were changed in memory, and is recorded again. Each time the chains must verify
and the live projection must equal the one replay rebuilds from the entries alone.
"""

import random
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import envelope
from services.ledger import bootstrap, recording, replay, verification
from services.ledger.adapters import states
from services.ledger.warm_states import WarmStates
from tests.unit.ledger.stories import START, Story, interleaved

pytestmark = pytest.mark.stack

Snapshot = tuple[list[tuple[object, ...]], ...]


def _stream(seed: int, count: int) -> list[envelope.CloudEvent]:
    """Closed loops interleaved; some reports late, some lifecycles out of order."""
    generator = random.Random(seed)
    queues = []
    for _ in range(count):
        story = Story(
            start=START + timedelta(hours=generator.randrange(0, 24 * 10)),
            household=f"H{generator.randrange(4)}",
            category=generator.choice(["clutter", "noise"]),
        ).closed_loop()
        first, *rest = story.events
        if generator.random() < 0.3:
            rest.append(first)
        else:
            rest.insert(0, first)
        if generator.random() < 0.15:
            rest[-1], rest[-2] = rest[-2], rest[-1]
        queues.append(rest)
    return interleaved(queues, generator)


async def _snapshot(engine: AsyncEngine) -> Snapshot:
    async with engine.connect() as connection:
        tables = (
            "select * from ledger_incident_state order by incident_id",
            "select * from ledger_anomaly order by event_id, kind",
            "select * from ledger_recurrence order by incident_id",
        )
        return tuple(
            [
                [tuple(row) for row in (await connection.execute(text(query))).all()]
                for query in tables
            ]
        )


async def _assert_consistent(engine: AsyncEngine) -> None:
    report = await verification.verify(engine=engine)
    assert report.ok, report
    live = await _snapshot(engine)
    await replay.rebuild(engine=engine)
    assert await _snapshot(engine) == live


async def _record_alternately(
    stream: Sequence[envelope.CloudEvent], writers: Sequence[WarmStates], engine: AsyncEngine
) -> None:
    generator = random.Random(len(stream))
    offset, turn = 0, 0
    while offset < len(stream):
        size = generator.randrange(1, 30)
        warm = writers[turn % len(writers)]
        await recording.record_batch(stream[offset : offset + size], engine=engine, warm=warm)
        offset, turn = offset + size, turn + generator.randrange(1, 3)


async def test_two_writers_each_see_what_the_other_appended(engine: AsyncEngine) -> None:
    await bootstrap.migrate(engine)
    writers = [WarmStates(), WarmStates()]
    await _record_alternately(_stream(1, 80), writers, engine)
    assert all(len(warm) > 0 for warm in writers)
    await _assert_consistent(engine)


async def test_a_failed_batch_leaves_no_half_changed_state_behind(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await bootstrap.migrate(engine)
    stream = _stream(2, 40)
    warm = WarmStates()
    await recording.record_batch(stream[:100], engine=engine, warm=warm)
    remembered = len(warm)
    saved = states.save

    async def fail_once(**kwargs: object) -> None:
        monkeypatch.setattr(states, "save", saved)
        raise ConnectionResetError("the database went away")

    monkeypatch.setattr(states, "save", fail_once)
    with pytest.raises(ConnectionResetError):
        await recording.record_batch(stream[100:], engine=engine, warm=warm)
    assert remembered > 0 and len(warm) == 0
    await recording.record_batch(stream[100:], engine=engine, warm=warm)
    await _assert_consistent(engine)
