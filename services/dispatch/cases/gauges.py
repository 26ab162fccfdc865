"""Keep the case and member gauges equal to the database: open and overdue cases, member loads.

Every known grid and member gets a series (zero when it has nothing), so a dashboard shows an
empty grid as 0 instead of no data; grids or members that leave the roster drop out.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from prometheus_client import Gauge

from services.common import runtime
from services.dispatch import metrics
from services.dispatch.adapters import case_repo, case_stats
from services.dispatch.cases.work import Dependencies

logger = logging.getLogger(__name__)
UNLOCATED = "unlocated"
NO_GRID = "none"
COUNTED_STATUSES = tuple(status.value for status in case_stats.NOT_CLOSED)
STAGES = ("acknowledge", "resolve")


async def refresh(*, deps: Dependencies, now: datetime) -> None:
    """Read the counts and replace every case and member gauge with them."""
    async with deps.sessions() as session:
        grids = await case_stats.grid_ids(session=session)
        not_closed = await case_stats.not_closed_by_grid_and_status(session=session)
        overdue = await case_stats.overdue_by_grid(session=session, now=now)
        members = await case_stats.members(session=session)
        loads = await case_repo.open_case_counts(session=session)
    off_duty = await deps.live.off_duty([member.id for member in members], now=now)
    grid_labels = [*grids, UNLOCATED]
    _replace(
        metrics.OPEN_CASES,
        _zero_filled(grid_labels, COUNTED_STATUSES, _by_grid_label(not_closed)),
    )
    _replace(metrics.OVERDUE_CASES, _zero_filled(grid_labels, STAGES, _by_grid_label(overdue)))
    member_labels = {m.id: (m.id, m.grid_id or NO_GRID, m.role) for m in members}
    _replace(
        metrics.MEMBER_OPEN_CASES,
        {labels: float(loads.get(member, 0)) for member, labels in member_labels.items()},
    )
    _replace(
        metrics.MEMBER_CAPACITY, {member_labels[m.id]: float(m.case_capacity) for m in members}
    )
    _replace(
        metrics.MEMBER_ON_DUTY,
        {labels: float(member not in off_duty) for member, labels in member_labels.items()},
    )
    metrics.GAUGES_REFRESHED.set(now.timestamp())


async def keep_fresh(
    stop: asyncio.Event,
    *,
    deps: Dependencies,
    interval_s: float = 15.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Refresh the gauges every `interval_s` until `stop` is set; a failed pass is logged."""
    while not stop.is_set():
        try:
            await refresh(deps=deps, now=clock())
        except Exception:
            logger.exception("refreshing the case gauges failed; trying again")
        await runtime.pause(stop, interval_s)


def _by_grid_label(counts: Mapping[tuple[str | None, str], int]) -> dict[tuple[str, str], int]:
    return {(grid or UNLOCATED, second): count for (grid, second), count in counts.items()}


def _zero_filled(
    grids: list[str], seconds: tuple[str, ...], counts: Mapping[tuple[str, str], int]
) -> dict[tuple[str, ...], float]:
    values: dict[tuple[str, ...], float] = {(g, s): 0.0 for g in grids for s in seconds}
    values.update({key: float(count) for key, count in counts.items()})
    return values


def _replace(gauge: Gauge, values: Mapping[tuple[str, ...], float]) -> None:
    """Swap in the new series in one step (no await in between, so no scrape sees a gap)."""
    gauge.clear()
    for labels, value in values.items():
        gauge.labels(*labels).set(value)
