"""Rebuild the projections (case states, anomalies) from the ledger entries alone."""

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.adapters import entries, indicator_cases, recurrence, states
from services.ledger.domain import projection, records, sequence
from services.ledger.domain.state import CaseState

logger = logging.getLogger(__name__)
FLUSH_EVERY = 2000  # states written per statement


@dataclass(frozen=True)
class Rebuilt:
    entries: int
    incidents: int
    anomalies: int


async def rebuild(*, engine: AsyncEngine) -> Rebuilt:
    """Re-fold every incident from its entries and replace the projections in one transaction.

    The chain lock keeps consumers from appending meanwhile; readers see the old projection
    until the commit, then the new one.
    """
    async with engine.begin() as connection:
        await entries.lock_chain(connection=connection)
        await states.clear(connection=connection)
        pending_states: list[CaseState] = []
        pending_anomalies: list[sequence.Anomaly] = []
        totals = {"entries": 0, "incidents": 0, "anomalies": 0}

        async def flush() -> None:
            await states.save(connection=connection, states=pending_states, fresh=True)
            await states.add_anomalies(connection=connection, anomalies=pending_anomalies)
            pending_states.clear()
            pending_anomalies.clear()

        def fold(incident_id: uuid.UUID, history: list[records.Record]) -> None:
            state, anomalies = projection.audit(incident_id, history)
            pending_states.append(state)
            pending_anomalies.extend(anomalies)
            totals["incidents"] += 1
            totals["anomalies"] += len(anomalies)

        current: uuid.UUID | None = None
        history: list[records.Record] = []
        async for entry in entries.stream(connection=connection, order_by_incident=True):
            totals["entries"] += 1
            if entry.incident_id != current and current is not None:
                fold(current, history)
                history = []
                if len(pending_states) >= FLUSH_EVERY:
                    await flush()
            current = entry.incident_id
            history.append(entries.record_of_entry(entry))
        if current is not None:
            fold(current, history)
        await flush()
        await recurrence.rebuild(connection=connection)
        await indicator_cases.clear(connection=connection)
    logger.info("replayed %(entries)d entries into %(incidents)d cases", totals)
    return Rebuilt(**totals)
