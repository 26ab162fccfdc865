"""The projection tables: current case states and anomalies, written in bulk."""

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import RowMapping, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger.adapters.tables import ANOMALY, STATE
from services.ledger.domain.sequence import Anomaly
from services.ledger.domain.state import STATE_FIELDS, CaseState


def row_of(state: CaseState) -> dict[str, Any]:
    """A state as a table row, with the derived columns the queries use."""
    row = {name: getattr(state, name) for name in STATE_FIELDS}
    row["co_handler_ids"] = list(state.co_handler_ids)
    row["member_ids"] = list(state.member_ids)
    row["sort_at"] = state.sort_at
    return row


def state_of(row: RowMapping) -> CaseState:
    """A table row as a state."""
    values = {name: row[name] for name in STATE_FIELDS}
    values["co_handler_ids"] = tuple(values["co_handler_ids"] or ())
    return CaseState(**values)


async def load(
    *, connection: AsyncConnection, incident_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CaseState]:
    """The stored states of these incidents (missing ones are left out)."""
    query = select(STATE).where(STATE.c.incident_id.in_(incident_ids))
    rows = (await connection.execute(query)).mappings()
    return {row["incident_id"]: state_of(row) for row in rows}


async def save(*, connection: AsyncConnection, states: Sequence[CaseState]) -> None:
    """Insert or replace these states."""
    if not states:
        return
    statement = insert(STATE)
    columns = [column.name for column in STATE.columns if column.name != "incident_id"]
    statement = statement.on_conflict_do_update(
        index_elements=[STATE.c.incident_id],
        set_={name: statement.excluded[name] for name in columns},
    )
    await connection.execute(statement, [row_of(state) for state in states])


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
    await connection.execute(delete(ANOMALY))
    await connection.execute(delete(STATE))
