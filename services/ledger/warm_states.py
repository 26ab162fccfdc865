"""The case states and chain heads this process last committed, kept for its next batch.

A consumer's next batch mostly extends incidents it has just written. Their states and
incident heads are then known without reading them back, as long as nobody else has
appended since: every writer holds the chain lock and moves the global head, so the head
this process left behind, found unchanged under the lock, proves its copies are current.
Any other head (another instance appended) forgets them all. See docs/adr/0044.
"""

import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.ledger.domain.chain import Head
from services.ledger.domain.state import CaseState


@dataclass
class WarmStates:
    """Up to `capacity` incidents, least recently written forgotten first."""

    capacity: int = 20_000
    # The global head after this process's last commit; None when nothing is known.
    head: Head | None = None
    _cases: OrderedDict[uuid.UUID, tuple[CaseState, Head]] = field(default_factory=OrderedDict)

    def recall(
        self, head: Head, incident_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[CaseState, Head]]:
        """The known incidents among these, if `head` is still the one this process left."""
        if head != self.head:
            self.forget()
            return {}
        cases = self._cases
        return {key: cases[key] for key in incident_ids if key in cases}

    def remember(self, head: Head, cases: Iterable[tuple[CaseState, Head]]) -> None:
        """After a commit: the new global head, and each written incident's state and head."""
        known = self._cases
        for state, incident_head in cases:
            known[state.incident_id] = (state, incident_head)
            known.move_to_end(state.incident_id)
        while len(known) > self.capacity:
            known.popitem(last=False)
        self.head = head

    def forget(self) -> None:
        """Drop everything (another writer appended, or a batch failed half-way)."""
        self._cases.clear()
        self.head = None

    def __len__(self) -> int:
        return len(self._cases)
