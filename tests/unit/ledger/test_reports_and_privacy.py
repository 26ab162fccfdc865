"""The public report renders without personal data; officers never see a reporter token."""

import csv
import dataclasses
import io
from datetime import UTC, datetime

from services.ledger import kpis
from services.ledger.adapters import tables
from services.ledger.domain import chain, privacy
from services.ledger.domain.cohort import Period, Scope
from services.ledger.domain.indicators import Counts, Timings
from services.ledger.domain.state import STATE_FIELDS
from services.ledger.reports import monthly, render

WEIGHTS = {"response_rate": 0.2, "resolution_rate": 0.4, "satisfaction_rate": 0.4}
PERIOD = Period(
    start=datetime(2026, 11, 1, tzinfo=UTC),
    end=datetime(2026, 12, 1, tzinfo=UTC),
    as_of=datetime(2026, 12, 1, tzinfo=UTC),
)


def _figures(key: str, registered: int, handled: int) -> kpis.Figures:
    counts = Counts(registered=registered, due=registered, handled=handled)
    return dataclasses.replace(kpis.figures_of(counts, Timings(), WEIGHTS), key=key)


def _report() -> dict[str, object]:
    grids = [_figures("G01", 4, 3), _figures("<script>", 1, 1)]
    figures = kpis.KpiReport(
        period=PERIOD,
        scope=Scope(),
        timezone="Asia/Shanghai",
        weights=WEIGHTS,
        overall=_figures("all", 5, 4),
        by="grid",
        groups=grids,
    )
    categories = dataclasses.replace(figures, by="category", groups=[_figures("clutter", 5, 4)])
    report = monthly.MonthlyReport(
        month="2026-11",
        generated_at=PERIOD.end,
        figures=figures,
        categories=categories,
        ledger_head=chain.Head(42, "ab" * 32),
    )
    return report.as_dict()


def test_the_report_carries_counts_rates_grids_and_the_ledger_anchor() -> None:
    report = _report()
    assert report["counts"]["registered"] == 5  # type: ignore[index]
    assert report["indicators"]["handling_rate"]["value"] == 0.8  # type: ignore[index]
    assert [row["grid"] for row in report["grids"]] == ["G01", "<script>"]  # type: ignore[attr-defined]
    assert report["categories"][0]["title"].startswith("乱堆乱放")  # type: ignore[index]
    assert report["ledger_head"] == {"seq": 42, "hash": "ab" * 32}


def test_the_csv_is_the_grid_table_with_a_total_line() -> None:
    rows = list(csv.DictReader(io.StringIO(render.as_csv(_report()))))
    assert [row["grid"] for row in rows] == ["G01", "<script>", render.TOTAL]
    assert rows[0]["handled"] == "3" and rows[0]["handling_rate"] == "0.75"
    assert rows[-1]["registered"] == "5"


def test_the_html_page_fits_a_phone_and_escapes_what_it_shows() -> None:
    page = render.as_html(_report())
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "80.0 %" in page and "处置率" in page
    assert "overflow-x:auto" in page


def test_officers_see_the_masked_phone_but_never_the_reporter_token() -> None:
    payload = {"reporter_token": "pd1:abc", "reporter_phone_masked": "138****5678", "x": 1}
    assert privacy.officer_view(payload) == {"reporter_phone_masked": "138****5678", "x": 1}


def test_the_state_table_stores_every_field_of_the_case_state() -> None:
    columns = {column.name for column in tables.STATE.columns}
    assert columns == set(STATE_FIELDS) | {"member_ids", "sort_at"}
