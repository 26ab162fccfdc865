"""Check both hash chains over the whole ledger, streaming, and name the first broken entry."""

from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.adapters import entries
from services.ledger.domain import chain, verifier


async def verify(*, engine: AsyncEngine, anchor: chain.Head | None = None) -> verifier.Verification:
    """Walk every entry in seq order; an anchor (a published head) also catches a cut tail."""
    walk = verifier.Verifier(anchor=anchor)
    async with engine.connect() as connection:
        async for entry in entries.stream(connection=connection):
            walk.check(entry)
    return walk.result()


def describe(result: verifier.Verification) -> str:
    """The result as lines for people: OK with the head, or the first broken entry and why."""
    head = f"head seq {result.head.position} hash {result.head.hash}"
    if result.ok:
        return f"ledger OK: {result.entries_checked} entries, both chains intact; {head}"
    lines = [
        f"ledger BROKEN: {result.breaks_found} broken links in {result.entries_checked} entries"
    ]
    for broken in result.breaks:
        lines.append(
            f"  seq {broken.seq} event {broken.event_id or '-'} "
            f"({broken.chain} chain, incident {broken.incident_id}): {broken.reason}"
        )
    return "\n".join(lines)
