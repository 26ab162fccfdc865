"""Tampering directly in PostgreSQL is detected: verify names the first broken entry.

The append-only triggers are disabled for the tampering (as a database superuser could);
the hash chains are what must catch it. Each test undoes its change afterwards.
"""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.demo.processes import ServiceProcess
from tests.integration.ledger.conftest import Publisher, run_cli, wait_for_entries
from tests.unit.ledger.stories import Story

pytestmark = pytest.mark.stack
ENTRIES = 18


@pytest.fixture(scope="module")
async def recorded(ledger: ServiceProcess, publish: Publisher, engine: AsyncEngine) -> None:
    await publish.stories(Story().closed_loop(), Story().closed_loop(), Story().closed_loop())
    await wait_for_entries(engine, ENTRIES)


async def _tamper(engine: AsyncEngine, *statements: str, **binds: Any) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("alter table ledger_entry disable trigger user"))
        for statement in statements:
            await connection.execute(text(statement), binds)
        await connection.execute(text("alter table ledger_entry enable trigger user"))


async def _row(engine: AsyncEngine, seq: int) -> dict[str, Any]:
    async with engine.connect() as connection:
        found = await connection.execute(
            text("select * from ledger_entry where seq = :s"), {"s": seq}
        )
        return dict(found.mappings().one())


async def _reinsert(engine: AsyncEngine, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    values = ", ".join(
        f"cast(:{name} as jsonb)" if name == "payload" else f":{name}" for name in row
    )
    await _tamper(
        engine,
        f"insert into ledger_entry ({columns}) values ({values})",
        **{**row, "payload": json.dumps(row["payload"])},
    )


@pytest.fixture
async def intact(recorded: None, api: httpx.Client) -> AsyncIterator[None]:
    assert api.get("/v1/ledger/verify").json()["ok"] is True
    yield
    assert api.get("/v1/ledger/verify").json()["ok"] is True, "the test did not undo its change"


async def test_an_edited_payload_is_named_as_altered(
    intact: None, engine: AsyncEngine, api: httpx.Client, run_env: dict[str, str]
) -> None:
    original = await _row(engine, 7)
    await _tamper(
        engine,
        """update ledger_entry set payload = payload || '{"occurred_at": "2020-01-01T00:00:00Z"}'
           where seq = 7""",
    )
    try:
        result = api.get("/v1/ledger/verify").json()
        assert result["ok"] is False
        first = result["first_break"]
        assert (first["seq"], first["event_id"], first["chain"]) == (
            7,
            original["event_id"],
            "global",
        )
        assert "altered" in first["reason"]
        assert {(b["seq"], b["chain"]) for b in result["breaks"]} == {
            (7, "global"),
            (7, "incident"),
        }
        cli = run_cli(run_env, "verify")
        assert cli.returncode == 1
        assert f"seq 7 event {original['event_id']}" in cli.stdout and "altered" in cli.stdout
    finally:
        await _tamper(
            engine,
            "update ledger_entry set payload = cast(:p as jsonb) where seq = 7",
            p=json.dumps(original["payload"]),
        )


async def test_a_deleted_entry_is_named_by_the_entry_after_it(
    intact: None, engine: AsyncEngine, api: httpx.Client
) -> None:
    removed = await _row(engine, 9)
    following = await _row(engine, 10)
    await _tamper(engine, "delete from ledger_entry where seq = 9")
    try:
        first = api.get("/v1/ledger/verify").json()["first_break"]
        assert (first["seq"], first["event_id"], first["chain"]) == (
            10,
            following["event_id"],
            "global",
        )
        assert "seq 9 missing" in first["reason"]
    finally:
        await _reinsert(engine, removed)


async def test_two_swapped_entries_are_named_at_the_first_place(
    intact: None, engine: AsyncEngine, api: httpx.Client
) -> None:
    moved_up = await _row(engine, 12)
    swap = (
        "update ledger_entry set seq = -3 where seq = 3",
        "update ledger_entry set seq = 3 where seq = 12",
        "update ledger_entry set seq = 12 where seq = -3",
    )
    await _tamper(engine, *swap)
    try:
        first = api.get("/v1/ledger/verify").json()["first_break"]
        assert (first["seq"], first["event_id"]) == (3, moved_up["event_id"])
        assert "reordered" in first["reason"]
    finally:
        await _tamper(engine, *swap)


async def test_a_cut_tail_is_caught_against_the_published_head(
    intact: None, engine: AsyncEngine, api: httpx.Client, run_env: dict[str, str]
) -> None:
    head = api.get("/v1/ledger/verify").json()["head"]
    assert head["seq"] == ENTRIES
    anchor = {"anchor_seq": head["seq"], "anchor_hash": head["hash"]}
    assert api.get("/v1/ledger/verify", params=anchor).json()["ok"] is True
    last = await _row(engine, ENTRIES)
    await _tamper(engine, f"delete from ledger_entry where seq = {ENTRIES}")
    try:
        assert api.get("/v1/ledger/verify").json()["ok"] is True  # alone, a cut tail looks fine
        result = api.get("/v1/ledger/verify", params=anchor).json()
        assert result["ok"] is False and "end were deleted" in result["first_break"]["reason"]
        cli = run_cli(
            run_env, "verify", "--anchor-seq", str(head["seq"]), "--anchor-hash", head["hash"]
        )
        assert cli.returncode == 1 and "end were deleted" in cli.stdout
    finally:
        await _reinsert(engine, last)


def test_the_verify_command_exits_zero_on_an_intact_ledger(
    intact: None, run_env: dict[str, str]
) -> None:
    cli = run_cli(run_env, "verify")
    assert cli.returncode == 0, cli.stderr
    assert f"ledger OK: {ENTRIES} entries" in cli.stdout
    as_json = json.loads(run_cli(run_env, "verify", "--json").stdout)
    assert as_json["ok"] is True and as_json["entries_checked"] == ENTRIES
