"""The monthly public report (三务公开): counts, indicators and per-grid figures, no personal data.

Only aggregates leave here: no incident, household, member or reporter is named, and no
free text (descriptions, addresses, results) is included.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.categories import CATALOGUE
from services.ledger import kpis
from services.ledger.adapters import entries
from services.ledger.domain import chain
from services.ledger.domain.cohort import Scope
from services.ledger.settings import LedgerSettings

HEADLINE_COUNTS = (
    "registered",
    "handled",
    "closed",
    "cancelled",
    "transferred_out",
    "reworked",
    "extended",
    "overdue_open",
    "rated",
)
PUBLIC_INDICATORS = (
    "handling_rate",
    "on_time_handling_rate",
    "closure_rate",
    "on_time_closure_rate",
    "rework_rate",
    "extension_rate",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "local_resolution_rate",
    "dispute_local_resolution_rate",
    "linked_household_coverage",
    "recurrence_rate",
)
GRID_COLUMNS = ("registered", "handled", "closed", "overdue_open")
GRID_RATES = ("handling_rate", "closure_rate", "satisfaction_rate", "local_resolution_rate")


@dataclass(frozen=True)
class MonthlyReport:
    month: str
    generated_at: datetime
    figures: kpis.KpiReport
    categories: kpis.KpiReport
    ledger_head: chain.Head

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        overall = self.figures.overall
        period = self.figures.period
        return {
            "title": f"{self.month} 社区事务公开月报 (monthly public report)",
            "month": self.month,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "as_of": period.as_of.isoformat(),
            "timezone": self.figures.timezone,
            "generated_at": self.generated_at.isoformat(),
            "ledger_head": {"seq": self.ledger_head.position, "hash": self.ledger_head.hash},
            "counts": {name: getattr(overall.counts, name) for name in HEADLINE_COUNTS},
            "indicators": {
                name: {
                    "title": overall.values[name].title,
                    "formula": overall.values[name].formula,
                    "value": overall.values[name].value,
                }
                for name in PUBLIC_INDICATORS
            },
            "composite": {"value": overall.composite, "weights": self.figures.weights},
            "timings_s": vars(overall.timings),
            "grids": [grid_row(group) for group in self.figures.groups],
            "categories": [category_row(group) for group in self.categories.groups],
        }


def grid_row(group: kpis.Figures) -> dict[str, Any]:
    """One line of the per-grid table."""
    row: dict[str, Any] = {"grid": group.key}
    row.update({name: getattr(group.counts, name) for name in GRID_COLUMNS})
    row.update({name: group.values[name].value for name in GRID_RATES})
    return row


def category_row(group: kpis.Figures) -> dict[str, Any]:
    """One line of the per-category table, with the category's title."""
    known = CATALOGUE.get(group.key)
    return {
        "category": group.key,
        "title": known.title if known else group.key,
        "registered": group.counts.registered,
        "handled": group.counts.handled,
    }


async def build(
    *, engine: AsyncEngine, settings: LedgerSettings, month: str, now: datetime
) -> MonthlyReport:
    """Compute the report of one calendar month (community time zone)."""
    period = kpis.month_period(month, now=now, timezone=settings.timezone)
    figures = await kpis.compute(
        engine=engine, settings=settings, scope=Scope(), period=period, by="grid"
    )
    categories = await kpis.compute(
        engine=engine, settings=settings, scope=Scope(), period=period, by="category"
    )
    async with engine.connect() as connection:
        head = await entries.global_head(connection=connection)
    return MonthlyReport(
        month=month, generated_at=now, figures=figures, categories=categories, ledger_head=head
    )
