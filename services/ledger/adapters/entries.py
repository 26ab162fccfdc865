"""The ledger entries in PostgreSQL: append under the chain lock, read back in order."""

import dataclasses
import json
import operator
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common import driver
from services.ledger.adapters.tables import ENTRY
from services.ledger.domain import chain, records

# One writer at a time extends the chains: every appending transaction holds this lock.
CHAIN_LOCK_ID = 0x6C656467  # "ledg"
STREAM_PARTITION = 2000


async def lock_chain(*, connection: AsyncConnection) -> None:
    """Take the chain lock until the transaction ends (see docs/adr/0005)."""
    await connection.execute(text("select pg_advisory_xact_lock(:id)"), {"id": CHAIN_LOCK_ID})


async def known_event_ids(*, connection: AsyncConnection, event_ids: Sequence[str]) -> set[str]:
    """Which of these events the ledger already holds."""
    rows = await (await driver.of(connection)).fetch(
        "select event_id from ledger_entry where event_id = any($1::text[])", list(event_ids)
    )
    return {row["event_id"] for row in rows}


async def global_head(*, connection: AsyncConnection) -> chain.Head:
    """The last entry of the global chain, or the genesis head of an empty ledger."""
    query = select(ENTRY.c.seq, ENTRY.c.hash).order_by(ENTRY.c.seq.desc()).limit(1)
    row = (await connection.execute(query)).first()
    return chain.Head(row.seq, row.hash) if row else chain.Head()


async def incident_heads(
    *, connection: AsyncConnection, incident_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, chain.Head]:
    """The last entry of each incident's chain (incidents without entries are left out)."""
    if not incident_ids:
        return {}
    rows = await (await driver.of(connection)).fetch(
        "select distinct on (incident_id) incident_id, incident_index, incident_hash"
        " from ledger_entry where incident_id = any($1::uuid[])"
        " order by incident_id, incident_index desc",
        list(incident_ids),
    )
    return {
        row["incident_id"]: chain.Head(row["incident_index"], row["incident_hash"]) for row in rows
    }


async def insert_entries(*, connection: AsyncConnection, entries: Sequence[chain.Entry]) -> None:
    """Append sealed entries with COPY (a duplicate event id or position aborts the batch)."""
    await (await driver.of(connection)).copy_records_to_table(
        "ledger_entry", records=[_record_tuple(entry) for entry in entries], columns=_ENTRY_FIELDS
    )


async def records_of(
    *, connection: AsyncConnection, incident_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[records.Record]]:
    """Every record of these incidents, in arrival (seq) order."""
    query = select(ENTRY).where(ENTRY.c.incident_id.in_(incident_ids)).order_by(ENTRY.c.seq)
    found: dict[uuid.UUID, list[records.Record]] = {}
    for row in (await connection.execute(query)).mappings():
        found.setdefault(row["incident_id"], []).append(record_of(row))
    return found


async def timeline(*, connection: AsyncConnection, incident_id: uuid.UUID) -> list[chain.Entry]:
    """One incident's entries in the order they happened (its report first)."""
    query = (
        select(ENTRY)
        .where(ENTRY.c.incident_id == incident_id)
        .order_by((ENTRY.c.type != records.REPORTED), ENTRY.c.occurred_at, ENTRY.c.seq)
    )
    return [entry_of(row) for row in (await connection.execute(query)).mappings()]


async def stream(
    *,
    connection: AsyncConnection,
    recorded_from: datetime | None = None,
    recorded_to: datetime | None = None,
    order_by_incident: bool = False,
) -> AsyncIterator[chain.Entry]:
    """Entries in seq order (or grouped by incident), read through a server-side cursor."""
    query = select(ENTRY)
    if recorded_from is not None:
        query = query.where(ENTRY.c.recorded_at >= recorded_from)
    if recorded_to is not None:
        query = query.where(ENTRY.c.recorded_at < recorded_to)
    ordering = (ENTRY.c.incident_id, ENTRY.c.seq) if order_by_incident else (ENTRY.c.seq,)
    result = await connection.stream(query.order_by(*ordering))
    async for partition in result.mappings().partitions(STREAM_PARTITION):
        for row in partition:
            yield entry_of(row)


async def count(*, connection: AsyncConnection) -> int:
    """How many entries the ledger holds."""
    return int((await connection.execute(select(func.count()).select_from(ENTRY))).scalar_one())


def entry_of(row: RowMapping) -> chain.Entry:
    """A stored row as a chain entry."""
    return chain.Entry(**{name: row[name] for name in _ENTRY_FIELDS})


def record_of(row: RowMapping) -> records.Record:
    """A stored row as a domain record, its payload parsed back into the event model."""
    return records.Record(
        seq=row["seq"],
        event_id=row["event_id"],
        incident_id=row["incident_id"],
        type=row["type"],
        source=row["source"],
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        data=records.payload_of(row["type"], row["payload"]),
    )


def record_of_entry(entry: chain.Entry) -> records.Record:
    """A sealed entry as a domain record."""
    return records.Record(
        seq=entry.seq,
        event_id=entry.event_id,
        incident_id=entry.incident_id,
        type=entry.type,
        source=entry.source,
        occurred_at=entry.occurred_at,
        recorded_at=entry.recorded_at,
        data=records.payload_of(entry.type, entry.payload),
    )


_ENTRY_FIELDS = chain.STORED_FIELDS


# The stored columns, the payload as the canonical JSON text that seal() kept.
_COPY_ROW = operator.attrgetter(
    *("payload_json" if name == "payload" else name for name in _ENTRY_FIELDS)
)


def _record_tuple(entry: chain.Entry) -> tuple[Any, ...]:
    if not entry.payload_json:
        entry = dataclasses.replace(entry, payload_json=json.dumps(entry.payload))
    return _COPY_ROW(entry)  # type: ignore[no-any-return]
