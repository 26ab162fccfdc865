"""Indicator routes: GET /v1/kpis and the monthly public report."""

import re
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from services.common import auth, validation
from services.ledger import kpis
from services.ledger.api.access import IndicatorReach
from services.ledger.api.deps import Engine, Now, Settings
from services.ledger.domain.cohort import Scope
from services.ledger.reports import monthly, render

router = APIRouter(prefix="/v1", tags=["indicators"], responses=auth.GUARDED)
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class IndicatorValue(BaseModel):
    title: str
    formula: str
    value: float | None
    numerator: float
    denominator: int


class GroupKpis(BaseModel):
    key: str
    counts: dict[str, int]
    indicators: dict[str, IndicatorValue]
    composite: float | None
    cases_per_member: float | None
    timings_s: dict[str, float | None]

    @classmethod
    def of(cls, figures: kpis.Figures) -> "GroupKpis":
        values = {
            name: IndicatorValue(**{k: v for k, v in asdict(value).items() if k != "name"})
            for name, value in figures.values.items()
        }
        return cls(
            key=figures.key,
            counts=asdict(figures.counts),
            indicators=values,
            composite=figures.composite,
            cases_per_member=figures.cases_per_member,
            timings_s=asdict(figures.timings),
        )


class Breakdown(BaseModel):
    by: str
    groups: list[GroupKpis]


class KpiResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    period_from: datetime = Field(serialization_alias="from")
    period_to: datetime = Field(serialization_alias="to")
    as_of: datetime
    timezone: str
    filters: dict[str, str | None]
    weights: dict[str, float]
    overall: GroupKpis
    breakdown: Breakdown | None


@router.get("/kpis", response_model=KpiResponse, response_model_by_alias=True)
async def get_kpis(
    engine: Engine,
    settings: Settings,
    now: Now,
    reach: IndicatorReach,
    period_from: Annotated[validation.Instant | None, Query(alias="from")] = None,
    period_to: Annotated[validation.Instant | None, Query(alias="to")] = None,
    grid: str | None = None,
    member: str | None = None,
    category: str | None = None,
    by: Literal["grid", "member", "category", "month"] | None = None,
) -> KpiResponse:
    """The evaluation indicators of the cases reported in [from, to), as of min(to, now).

    Formulas: docs/indicators.md. Default period: the current month so far. Grid leaders
    read their grid's indicators, members their own.
    """
    grid, member = reach.confine(grid, member)
    try:
        period = kpis.period_between(period_from, period_to, now=now, timezone=settings.timezone)
    except ValueError as error:
        raise validation.invalid(("query", "from"), str(error)) from error
    scope = Scope(grid=grid, member=member, category=category)
    report = await kpis.compute(engine=engine, settings=settings, scope=scope, period=period, by=by)
    return KpiResponse(
        period_from=period.start,
        period_to=period.end,
        as_of=period.as_of,
        timezone=report.timezone,
        filters={"grid": grid, "member": member, "category": category},
        weights=report.weights,
        overall=GroupKpis.of(report.overall),
        breakdown=Breakdown(by=by, groups=[GroupKpis.of(g) for g in report.groups]) if by else None,
    )


@router.get("/reports/monthly", response_model=None)
async def monthly_report(
    engine: Engine,
    settings: Settings,
    now: Now,
    _: IndicatorReach,
    month: Annotated[str, Query(description="YYYY-MM, in the community's time zone")],
    format: Literal["json", "csv", "html"] = "json",
) -> dict[str, object] | PlainTextResponse | HTMLResponse:
    """三务公开: the month's counts, indicators and per-grid table, without personal data.

    The report is the community's public disclosure: every reader of indicators gets all of it.
    """
    if not MONTH.match(month):
        raise validation.invalid(("query", "month"), "month must be YYYY-MM")
    try:
        report = await monthly.build(engine=engine, settings=settings, month=month, now=now)
    except ValueError as error:
        raise validation.invalid(("query", "month"), str(error)) from error
    data = report.as_dict()
    if format == "csv":
        return PlainTextResponse(
            render.as_csv(data),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="report-{month}.csv"'},
        )
    if format == "html":
        return HTMLResponse(render.as_html(data))
    return data
