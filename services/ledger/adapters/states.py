"""The projection tables: current case states and anomalies, written in bulk."""

import operator
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common import driver
from services.ledger.adapters.tables import ANOMALY, RECURRENCE, STATE
from services.ledger.domain.sequence import Anomaly
from services.ledger.domain.state import STATE_FIELDS, CaseState

COLUMNS = tuple(column.name for column in STATE.columns)
_UPSERT = (
    "insert into ledger_incident_state select * from ledger_state_batch"
    " on conflict (incident_id) do update set "
    + ", ".join(f"{name} = excluded.{name}" for name in COLUMNS if name != "incident_id")
)


# CaseState has every column, the derived ones (member_ids, sort_at) as properties.
_ROW_OF_STATE = operator.attrgetter(*COLUMNS)
_FIELDS_OF_ROW = operator.itemgetter(*STATE_FIELDS)


def row_of(state: CaseState) -> tuple[Any, ...]:
    """A state as a table row, in column order."""
    return _ROW_OF_STATE(state)  # type: ignore[no-any-return]


def state_of(row: Mapping[Any, Any]) -> CaseState:
    """A table row as a state."""
    state = CaseState(*_FIELDS_OF_ROW(row))
    state.co_handler_ids = tuple(state.co_handler_ids or ())
    return state


async def load(
    *, connection: AsyncConnection, incident_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CaseState]:
    """The stored states of these incidents (missing ones are left out)."""
    if not incident_ids:
        return {}
    rows = await (await driver.of(connection)).fetch(
        "select * from ledger_incident_state where incident_id = any($1::uuid[])",
        list(incident_ids),
    )
    return {row["incident_id"]: state_of(row) for row in rows}


async def save(
    *, connection: AsyncConnection, states: Sequence[CaseState], fresh: bool = False
) -> None:
    """Insert or replace these states: COPY into a scratch table, then one upsert.

    `fresh` (replay into an emptied table) copies straight into the table.
    """
    if not states:
        return
    database = await driver.of(connection)
    rows = [row_of(state) for state in states]
    if fresh:
        await database.copy_records_to_table("ledger_incident_state", records=rows, columns=COLUMNS)
        return
    # Created in this transaction when missing (a flag kept outside it would outlive a
    # rollback that dropped the table again).
    await database.execute(
        "create temp table if not exists ledger_state_batch"
        " (like ledger_incident_state) on commit delete rows"
    )
    await database.copy_records_to_table("ledger_state_batch", records=rows, columns=COLUMNS)
    # Emptied for a second save in this transaction. DELETE, not TRUNCATE: on a table that
    # outlives the transaction, TRUNCATE makes a new file each time (about 2 ms a batch).
    await database.execute(f"{_UPSERT}; delete from ledger_state_batch")


async def add_anomalies(*, connection: AsyncConnection, anomalies: Sequence[Anomaly]) -> None:
    """Store newly found anomalies (a re-found one is kept once)."""
    if not anomalies:
        return
    statement = insert(ANOMALY).on_conflict_do_nothing(index_elements=["event_id", "kind"])
    await connection.execute(statement, [asdict(anomaly) for anomaly in anomalies])


async def replace_anomalies(
    *,
    connection: AsyncConnection,
    incident_ids: Sequence[uuid.UUID],
    anomalies: Sequence[Anomaly],
) -> None:
    """The anomalies of these incidents become exactly `anomalies` (after a re-fold)."""
    await connection.execute(delete(ANOMALY).where(ANOMALY.c.incident_id.in_(incident_ids)))
    await add_anomalies(connection=connection, anomalies=anomalies)


async def clear(*, connection: AsyncConnection) -> None:
    """Empty the projections before a replay (readers keep the old rows until commit)."""
    await connection.execute(delete(RECURRENCE))
    await connection.execute(delete(ANOMALY))
    await connection.execute(delete(STATE))
