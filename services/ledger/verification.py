"""Check both hash chains over the whole ledger, streaming, and name the first broken entry."""

import asyncio
import logging
import time
from collections import Counter

from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import runtime
from services.ledger import metrics
from services.ledger.adapters import entries
from services.ledger.domain import chain, verifier

logger = logging.getLogger(__name__)


async def verify(*, engine: AsyncEngine, anchor: chain.Head | None = None) -> verifier.Verification:
    """Walk every entry in seq order; an anchor (a published head) also catches a cut tail."""
    walk = verifier.Verifier(anchor=anchor)
    async with engine.connect() as connection:
        async for entry in entries.stream(connection=connection):
            walk.check(entry)
    result = walk.result()
    publish(result)
    return result


def publish(result: verifier.Verification) -> None:
    """The chain status for Prometheus (and its alert on a broken chain)."""
    breaks = Counter(broken.chain for broken in result.breaks)
    metrics.record_verification(
        ok_by_chain={name: breaks[name] == 0 for name in metrics.CHAINS},
        breaks_by_chain=dict(breaks),
        entries=result.entries_checked,
        at=time.time(),
    )


async def watch(stop: asyncio.Event, *, engine: AsyncEngine, interval_s: float) -> None:
    """Verify both chains now and then, so a broken chain shows on the dashboards and alerts."""
    delay = min(interval_s, 10.0)
    while not stop.is_set():
        if await runtime.pause(stop, delay):
            return
        try:
            result = await verify(engine=engine)
            if not result.ok:
                logger.error("%s", describe(result))
        except Exception:
            logger.exception("chain verification failed; retrying later")
        delay = interval_s


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
