"""Lost and duplicated incidents, counted from the ledger once everything has settled."""

import uuid
from typing import Any


def census(
    accepted: set[uuid.UUID],
    recorded: dict[uuid.UUID, tuple[int, int]],
    *,
    answered_elsewhere: set[uuid.UUID],
) -> dict[str, Any]:
    """Lost: accepted (202) but never assigned in the ledger. Duplicated: reported or first
    assigned more than once. Without answer: in the ledger though no 202 named it."""
    assigned = {incident for incident, (_, first) in recorded.items() if first >= 1}
    return {
        "accepted": len(accepted),
        "recorded": len(accepted & assigned),
        "lost": len(accepted - assigned),
        "duplicated": sum(1 for reported, first in recorded.values() if reported > 1 or first > 1),
        "recorded_without_answer": len(recorded.keys() - accepted - answered_elsewhere),
    }
