"""Verification of the chains: walk the entries in seq order and name every broken link. Pure."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.ledger.domain.chain import Entry, Head, canonical_json, content_of, link_hash

GLOBAL = "global"
INCIDENT = "incident"
_CUT_TAIL = "the published anchor is beyond the last entry: entries at the end were deleted"


@dataclass(frozen=True)
class Break:
    """A broken link: which entry, in which chain, and why."""

    seq: int
    event_id: str
    incident_id: uuid.UUID
    chain: str
    reason: str


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries_checked: int
    head: Head
    breaks_found: int
    breaks: tuple[Break, ...]

    @property
    def first_break(self) -> Break | None:
        return self.breaks[0] if self.breaks else None


@dataclass
class Verifier:
    """Walk the entries in seq order and record every broken link (the first `keep` of them)."""

    keep: int = 100
    anchor: Head | None = None
    checked: int = 0
    breaks_found: int = 0
    _head: Head = field(default_factory=Head)
    _incidents: dict[uuid.UUID, Head] = field(default_factory=dict)
    _breaks: list[Break] = field(default_factory=list)

    def check(self, entry: Entry) -> None:
        """Check one entry against the previous one of each chain."""
        content = content_of(
            seq=entry.seq,
            event_id=entry.event_id,
            incident_id=entry.incident_id,
            incident_index=entry.incident_index,
            type=entry.type,
            source=entry.source,
            occurred_at=entry.occurred_at,
            recorded_at=entry.recorded_at,
            payload_json=canonical_json(entry.payload).decode(),  # never trust a cached form
        )
        self._judge(entry, GLOBAL, self._head, entry.seq, entry.prev_hash, entry.hash, content)
        incident_head = self._incidents.get(entry.incident_id, Head())
        self._judge(
            entry,
            INCIDENT,
            incident_head,
            entry.incident_index,
            entry.incident_prev_hash,
            entry.incident_hash,
            content,
        )
        if self.anchor and entry.seq == self.anchor.position and entry.hash != self.anchor.hash:
            self._record(entry, GLOBAL, "hash differs from the published anchor: rewritten")
        self._head = Head(entry.seq, entry.hash)
        self._incidents[entry.incident_id] = Head(entry.incident_index, entry.incident_hash)
        self.checked += 1

    def check_all(self, entries: Iterable[Entry]) -> "Verification":
        """Check a whole run of entries and give the result."""
        for entry in entries:
            self.check(entry)
        return self.result()

    def result(self) -> Verification:
        """What the walk found so far; a published anchor beyond the end means a cut tail."""
        breaks, found = list(self._breaks), self.breaks_found
        if self.anchor and self.anchor.position > self._head.position:
            found += 1
            breaks.append(Break(self.anchor.position, "", uuid.UUID(int=0), GLOBAL, _CUT_TAIL))
        return Verification(
            ok=found == 0,
            entries_checked=self.checked,
            head=self._head,
            breaks_found=found,
            breaks=tuple(breaks),
        )

    def _judge(
        self,
        entry: Entry,
        chain: str,
        previous: Head,
        position: int,
        prev_hash: str,
        stored_hash: str,
        content: bytes,
    ) -> None:
        reason = _why_broken(chain, previous, position, prev_hash, stored_hash, content)
        if reason is not None:
            self._record(entry, chain, reason)

    def _record(self, entry: Entry, chain: str, reason: str) -> None:
        self.breaks_found += 1
        if len(self._breaks) < self.keep:
            self._breaks.append(Break(entry.seq, entry.event_id, entry.incident_id, chain, reason))


def _why_broken(
    chain: str,
    previous: Head,
    position: int,
    prev_hash: str,
    stored_hash: str,
    content: bytes,
) -> str | None:
    name = "seq" if chain == GLOBAL else "incident index"
    if position > previous.position + 1:
        first, last = previous.position + 1, position - 1
        missing = f"{first}" if first == last else f"{first}..{last}"
        return f"{name} {missing} missing before this entry: entries were deleted"
    if position != previous.position + 1:
        return f"{name} {position} follows {previous.position}: entries were reordered or copied"
    if prev_hash != previous.hash:
        return f"does not link to the {name} {previous.position} before it: entries were reordered"
    if link_hash(content, prev_hash) != stored_hash:
        return "hash does not match the content: the entry was altered"
    return None
