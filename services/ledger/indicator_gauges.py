"""The current month's indicators as Prometheus gauges, for the community dashboard."""

import asyncio
import logging
import time
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import runtime
from services.ledger import kpis, metrics
from services.ledger.domain.cohort import Scope
from services.ledger.settings import LedgerSettings

logger = logging.getLogger(__name__)


async def refresh(*, engine: AsyncEngine, settings: LedgerSettings, now: datetime) -> None:
    """Compute this month's indicators for the community and per grid, and publish them."""
    month = kpis.local_time(now, settings.timezone).strftime("%Y-%m")
    period = kpis.month_period(month, now=now, timezone=settings.timezone)
    report = await kpis.compute(
        engine=engine, settings=settings, scope=Scope(), period=period, by="grid"
    )
    values = {metrics.WHOLE_COMMUNITY: _values(report.overall)}
    values.update({group.key: _values(group) for group in report.groups})
    metrics.record_indicators(values, at=time.time())


def _values(figures: kpis.Figures) -> dict[str, float | None]:
    published = {name: value.value for name, value in figures.values.items()}
    published["composite"] = figures.composite
    return published


async def watch(
    stop: asyncio.Event, *, engine: AsyncEngine, settings: LedgerSettings, interval_s: float
) -> None:
    """Refresh the indicator gauges every `interval_s` until `stop` is set."""
    while not stop.is_set():
        try:
            await refresh(engine=engine, settings=settings, now=datetime.now(UTC))
        except Exception:
            logger.exception("refreshing the indicator gauges failed; retrying later")
        await runtime.pause(stop, interval_s)
