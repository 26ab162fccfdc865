"""The hash chains: every entry carries the hash of the one before it, globally and per incident.

hash = SHA-256(canonical JSON of the entry's immutable fields + "\n" + the previous hash).
An edited, deleted, inserted or reordered entry breaks a link, and `Verifier` names the first
broken entry (verifier.py). Pure: no IO, no clock.
"""

import functools
import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

GENESIS = "0" * 64


@dataclass(frozen=True)
class Head:
    """The end of a chain: the position of its last entry and that entry's hash."""

    position: int = 0
    hash: str = GENESIS


class Unsealed(NamedTuple):
    """An event to append, before the ledger gives it a place in the chains.

    A tuple rather than a frozen dataclass: one is built per event, three times faster.
    """

    event_id: str
    incident_id: uuid.UUID
    type: str
    source: str
    occurred_at: datetime
    payload: dict[str, Any]
    # The payload's canonical JSON, when computed ahead (outside the chain lock).
    payload_json: str = ""


@dataclass(frozen=True)
class Entry:
    """A ledger entry as stored: immutable fields and the links of both chains."""

    seq: int
    event_id: str
    incident_id: uuid.UUID
    incident_index: int
    type: str
    source: str
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]
    prev_hash: str
    hash: str
    incident_prev_hash: str
    incident_hash: str
    # The payload's canonical JSON when the entry was sealed here (not a column: the
    # stored payload is JSONB, and verification re-canonicalises it).
    payload_json: str = field(default="", compare=False, repr=False)


STORED_FIELDS = tuple(name for name in Entry.__dataclass_fields__ if name != "payload_json")


# Built once: json.dumps with these options would build an encoder on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, ASCII escapes: the same value always gives the same bytes."""
    return _CANONICAL.encode(value).encode()


def as_utc(moment: datetime) -> datetime:
    """An aware UTC time; a naive one is taken to be UTC already (as PostgreSQL stores it)."""
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def _instant(moment: datetime) -> str:
    return as_utc(moment).isoformat(timespec="microseconds")


# An incident's events are sealed close together; its id's text is built once for them.
_uuid_text = functools.lru_cache(maxsize=8192)(str)


_PLAIN = re.compile(r"[A-Za-z0-9 ._:/@+-]*")


@functools.lru_cache(maxsize=4096)
def _quoted(text: str) -> str:
    """json.dumps(text), without the call for the plain ids, types and sources."""
    return f'"{text}"' if _PLAIN.fullmatch(text) else json.dumps(text)


def body(
    *,
    seq: int,
    event_id: str,
    incident_id: uuid.UUID,
    incident_index: int,
    type: str,
    source: str,
    occurred_at: datetime,
    recorded_at: datetime,
    payload: Mapping[str, Any],
) -> dict[str, Any]:
    """The immutable fields that the hashes cover."""
    return {
        "seq": seq,
        "event_id": event_id,
        "incident_id": str(incident_id),
        "incident_index": incident_index,
        "type": type,
        "source": source,
        "occurred_at": _instant(occurred_at),
        "recorded_at": _instant(recorded_at),
        "payload": payload,
    }


def content_of(
    *,
    seq: int,
    event_id: str,
    incident_id: uuid.UUID,
    incident_index: int,
    type: str,
    source: str,
    occurred_at: datetime,
    recorded_at: datetime,
    payload_json: str,
) -> bytes:
    """`canonical_json(body(...))`, built directly around the payload's canonical JSON.

    The keys are written in sorted order; a unit test checks it equals the slow form.
    """
    return (
        f'{{"event_id":{_quoted(event_id)},"incident_id":"{_uuid_text(incident_id)}",'
        f'"incident_index":{incident_index},"occurred_at":"{_instant(occurred_at)}",'
        f'"payload":{payload_json},"recorded_at":"{_instant(recorded_at)}",'
        f'"seq":{seq},"source":{_quoted(source)},"type":{_quoted(type)}}}'
    ).encode()


def link_hash(content: bytes, prev_hash: str) -> str:
    """Chain one entry's canonical content to the hash before it."""
    return hashlib.sha256(content + b"\n" + prev_hash.encode()).hexdigest()


def link_hashes(content: bytes, prev_hashes: tuple[str, str]) -> tuple[str, str]:
    """`link_hash` of one content to two previous hashes, hashing the content only once."""
    started = hashlib.sha256(content)
    started.update(b"\n")
    first, second = started.copy(), started
    first.update(prev_hashes[0].encode())
    second.update(prev_hashes[1].encode())
    return first.hexdigest(), second.hexdigest()


def seal(
    pending: Sequence[Unsealed],
    *,
    head: Head,
    incident_heads: Mapping[uuid.UUID, Head],
    recorded_at: datetime,
) -> list[Entry]:
    """Give each event the next place in the global chain and in its incident's chain."""
    sealed: list[Entry] = []
    # Positions and hashes as plain tuples inside the loop; Heads only at the edges.
    incidents = {key: (value.position, value.hash) for key, value in incident_heads.items()}
    seq, prev_hash = head.position, head.hash
    for event in pending:
        index, incident_prev = incidents.get(event.incident_id, _GENESIS_LINK)
        seq, index = seq + 1, index + 1
        payload_json = event.payload_json or canonical_json(event.payload).decode()
        content = content_of(
            seq=seq,
            event_id=event.event_id,
            incident_id=event.incident_id,
            incident_index=index,
            type=event.type,
            source=event.source,
            occurred_at=event.occurred_at,
            recorded_at=recorded_at,
            payload_json=payload_json,
        )
        entry_hash, incident_hash = link_hashes(content, (prev_hash, incident_prev))
        sealed.append(
            Entry(
                seq=seq,
                event_id=event.event_id,
                incident_id=event.incident_id,
                incident_index=index,
                type=event.type,
                source=event.source,
                occurred_at=event.occurred_at,
                recorded_at=recorded_at,
                payload=event.payload,
                prev_hash=prev_hash,
                hash=entry_hash,
                incident_prev_hash=incident_prev,
                incident_hash=incident_hash,
                payload_json=payload_json,
            )
        )
        prev_hash = entry_hash
        incidents[event.incident_id] = (index, incident_hash)
    return sealed


_GENESIS_LINK = (0, GENESIS)
