"""Record a batch of consumed events: exactly once, chained, projected, checked. One transaction."""

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common import envelope
from services.ledger import metrics
from services.ledger.adapters import entries, recurrence, states
from services.ledger.domain import chain, projection, records, sequence
from services.ledger.domain.state import CaseState
from services.ledger.warm_states import WarmStates

logger = logging.getLogger(__name__)


async def record_batch(
    batch: Sequence[envelope.CloudEvent],
    *,
    engine: AsyncEngine,
    warm: WarmStates | None = None,
) -> int:
    """Append the events not yet recorded and project them; how many were new.

    The ConsumerLoop commits the batch's offsets only after this returns, so a crash
    before the commit redelivers events whose ids are then found and skipped. `warm` keeps
    the states this process wrote for its next batch (warm_states.py).
    """
    unique = list({event.id: event for event in batch}.values())
    # Serialising payloads needs no lock: done before, it overlaps another writer's turn.
    pending = {event.id: _unsealed(event) for event in unique}
    warm = warm if warm is not None else WarmStates(capacity=0)
    with metrics.BATCH_SECONDS.time():
        try:
            fresh, found, refolded = await _record_new(unique, pending, engine=engine, warm=warm)
        except BaseException:
            # States of the cache may have been changed in place by the rolled-back batch.
            warm.forget()
            raise
    # Counted and logged once the transaction has committed, so a retried batch counts once.
    metrics.REFOLDS.inc(refolded)
    for anomaly in found:
        _report(anomaly)
    metrics.ENTRIES_APPENDED.inc(len(fresh))
    metrics.DUPLICATES_SKIPPED.inc(len(batch) - len(fresh))
    logger.debug("recorded %d of %d events", len(fresh), len(batch))
    return len(fresh)


async def _record_new(
    unique: list[envelope.CloudEvent],
    pending: dict[str, chain.Unsealed],
    *,
    engine: AsyncEngine,
    warm: WarmStates,
) -> tuple[list[envelope.CloudEvent], list[sequence.Anomaly], int]:
    async with engine.begin() as connection:
        await entries.lock_chain(connection=connection)
        known = await entries.known_event_ids(
            connection=connection, event_ids=[event.id for event in unique]
        )
        fresh = [event for event in unique if event.id not in known]
        if not fresh:
            return [], [], 0
        head = await entries.global_head(connection=connection)
        incident_ids = list(dict.fromkeys(event.data.incident_id for event in fresh))
        recalled = warm.recall(head, incident_ids)
        missing = [incident_id for incident_id in incident_ids if incident_id not in recalled]
        incident_heads = {key: case[1] for key, case in recalled.items()}
        incident_heads.update(
            await entries.incident_heads(connection=connection, incident_ids=missing)
        )
        sealed = chain.seal(
            [pending[event.id] for event in fresh],
            head=head,
            incident_heads=incident_heads,
            recorded_at=datetime.now(UTC),
        )
        await entries.insert_entries(connection=connection, entries=sealed)
        stored = {key: case[0] for key, case in recalled.items()}
        stored.update(await states.load(connection=connection, incident_ids=missing))
        changed, found, refolded = await _project(
            [_record(entry, event) for entry, event in zip(sealed, fresh, strict=True)],
            stored,
            connection=connection,
        )
    last = sealed[-1]
    heads = {
        entry.incident_id: chain.Head(entry.incident_index, entry.incident_hash) for entry in sealed
    }
    warm.remember(
        chain.Head(last.seq, last.hash),
        ((state, heads[state.incident_id]) for state in changed),
    )
    return fresh, found, refolded


async def _project(
    fresh: list[records.Record],
    stored: dict[uuid.UUID, CaseState],
    *,
    connection: AsyncConnection,
) -> tuple[list[CaseState], list[sequence.Anomaly], int]:
    """Apply new records in place when they extend the fold; re-fold the incident otherwise.

    `stored`: the current states of the incidents that have one. Returns the states written,
    the anomalies found in place and how many incidents were re-folded.
    """
    by_incident: dict[uuid.UUID, list[records.Record]] = {}
    for record in fresh:
        by_incident.setdefault(record.incident_id, []).append(record)
    # The states are changed in place below; the recurrence links need what they were.
    before = {incident_id: recurrence.facts_of(state) for incident_id, state in stored.items()}
    changed: list[CaseState] = []
    found: list[sequence.Anomaly] = []
    refold: list[uuid.UUID] = []
    for incident_id, new_records in by_incident.items():
        state = stored.get(incident_id) or CaseState(incident_id=incident_id)
        if not projection.extends(state, new_records):
            refold.append(incident_id)
            continue
        for record in new_records:
            found.extend(projection.apply(state, record))
        changed.append(state)
    refound: list[sequence.Anomaly] = []
    if refold:
        history = await entries.records_of(connection=connection, incident_ids=refold)
        for incident_id in refold:
            state, anomalies = projection.audit(incident_id, history[incident_id])
            changed.append(state)
            refound.extend(anomalies)
        await states.replace_anomalies(
            connection=connection, incident_ids=refold, anomalies=refound
        )
    await states.save(connection=connection, states=changed)
    await recurrence.follow(connection=connection, before=before, after=changed)
    await states.add_anomalies(connection=connection, anomalies=found)
    return changed, found, len(refold)


def _report(anomaly: sequence.Anomaly) -> None:
    metrics.ANOMALIES_FOUND.labels(anomaly.kind).inc()
    logger.warning(
        "%s: %s %s (expected %s)",
        anomaly.kind,
        anomaly.event_type,
        anomaly.detail,
        anomaly.expected,
        extra={"incident_id": anomaly.incident_id, "event_id": anomaly.event_id},
    )


def _unsealed(event: envelope.CloudEvent) -> chain.Unsealed:
    payload = event.data.model_dump(mode="json")
    return chain.Unsealed(
        event_id=event.id,
        incident_id=event.data.incident_id,
        type=event.type,
        source=event.source,
        occurred_at=chain.as_utc(event.data.occurred_at),
        payload=payload,
        payload_json=chain.canonical_json(payload).decode(),
    )


def _record(entry: chain.Entry, event: envelope.CloudEvent) -> records.Record:
    return records.Record(
        seq=entry.seq,
        event_id=entry.event_id,
        incident_id=entry.incident_id,
        type=entry.type,
        source=entry.source,
        occurred_at=entry.occurred_at,
        recorded_at=entry.recorded_at,
        data=event.data,
    )
