"""Indicators, the monthly report and replay on the real stack, from hand-made events.

The SQL behind /v1/kpis must give exactly the reference counts of domain/cohort.py, for the
whole community and for every breakdown; a few figures are also checked by hand.
"""

import csv
import dataclasses
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import events
from services.demo.processes import ServiceProcess
from services.ledger import kpis
from services.ledger.adapters import states
from services.ledger.domain import cohort
from services.ledger.domain.cohort import Scope
from services.ledger.domain.state import CaseState
from services.ledger.settings import LedgerSettings
from tests.integration.ledger.conftest import Publisher, run_cli, wait_for_entries
from tests.unit.ledger.stories import Story

pytestmark = pytest.mark.stack
MARCH = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 in the community
PERIOD = {"from": "2025-03-01T00:00:00+08:00", "to": "2025-04-01T00:00:00+08:00"}
S, B, U = events.Rating.SATISFIED, events.Rating.BASICALLY_SATISFIED, events.Rating.UNSATISFIED


def _stories() -> list[Story]:
    day = timedelta(days=1)
    g1 = [
        Story(start=MARCH, household="H1", grid="G1", category="neighbour_dispute").closed_loop(
            rating=S
        ),
        Story(start=MARCH + day, household="H2", grid="G1").closed_loop(rating=B),
        Story(start=MARCH + 2 * day, household="H1", grid="G1").closed_loop(rating=U),
        Story(start=MARCH + 3 * day, household="H3", grid="G1")
        .reported(0, reported_by="P003")
        .assigned(1, "P003", acknowledge_within=30, resolve_within=60)
        .accepted(90)
        .resolved(200),
    ]
    g2 = [
        Story(start=MARCH + 4 * day, household="H4", grid="G2", category="family_dispute")
        .reported(0)
        .transferred(1),
        Story(start=MARCH + 5 * day, household="H5", grid="G2")
        .reported(0)
        .assigned(1, "P005", rung=events.Rung.GRID_MEMBER, resolve_within=60)
        .accepted(2)
        .extended(30, until=24 * 60)
        .resolved(100)
        .verified(110, passed=False, method="feedback", rating=U)
        .reopened(111)
        .assigned(112, "P005", rung=events.Rung.GRID_MEMBER, attempt=2)
        .accepted(113)
        .resolved(200)
        .verified(210)
        .closed(220),
        Story(start=MARCH + 6 * day, household="H6", grid="G2").reported(0).cancelled(5),
        Story(start=MARCH + 7 * day, household="H6", grid="G2")
        .reported(0)
        .assigned(1, "P006", co_handlers=("LAW1",), resolve_within=60)
        .accepted(2),
    ]
    recurrence = Story(start=MARCH + 4 * day, household="H2", grid="G1").reported(0)
    february = Story(start=MARCH - 10 * day, household="H7", grid="G1").reported(0)
    february.assigned(1, "P007", resolve_within=60)
    return [*g1, *g2, recurrence, february]


@pytest.fixture(scope="module")
async def recorded(ledger: ServiceProcess, publish: Publisher, engine: AsyncEngine) -> None:
    stories = _stories()
    late_reports = [s.events[0] for s in stories[:2]]  # two reports arrive after their lifecycle
    await publish.events([e for s in stories for e in s.events if e not in late_reports])
    await publish.events(late_reports)
    await wait_for_entries(engine, sum(len(s.events) for s in stories))


def _kpis(api: httpx.Client, **params: str) -> dict:  # type: ignore[type-arg]
    response = api.get("/v1/kpis", params={**PERIOD, **params})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_the_figures_of_a_known_month(recorded: None, api: httpx.Client) -> None:
    figures = _kpis(api)
    counts, rates = figures["overall"]["counts"], figures["overall"]["indicators"]
    assert (counts["registered"], counts["cancelled"], counts["due"]) == (9, 1, 8)
    assert (counts["handled"], counts["handled_on_time"]) == (5, 4)
    assert rates["handling_rate"]["value"] == 0.625
    assert (counts["closed"], counts["reworked"]) == (4, 1)
    assert rates["closure_rate"]["value"] == 0.8 and rates["rework_rate"]["value"] == 0.2
    assert counts["rated"] == 4  # the reworked case keeps its unsatisfied rating
    assert rates["satisfaction_rate"]["value"] == round((1 + 0.9) / 4, 4)
    assert rates["local_resolution_rate"]["value"] == round(5 / 6, 4)
    assert rates["dispute_local_resolution_rate"]["value"] == 0.5
    assert counts["overdue_open"] == 2  # G2's open case and February's
    assert (counts["closed_in_period"], counts["recurred"]) == (4, 1)
    assert figures["from"] == "2025-03-01T00:00:00+08:00"
    assert figures["weights"] == {
        "response_rate": 0.2,
        "resolution_rate": 0.4,
        "satisfaction_rate": 0.4,
    }
    assert figures["overall"]["composite"] is not None


async def _states(engine: AsyncEngine) -> list[CaseState]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("select * from ledger_incident_state"))
        return [states.state_of(row) for row in rows.mappings()]


async def test_the_sql_counts_equal_the_reference_definition_everywhere(
    recorded: None, api: httpx.Client, engine: AsyncEngine
) -> None:
    cases = await _states(engine)
    period = kpis.period_between(
        datetime.fromisoformat(PERIOD["from"]),
        datetime.fromisoformat(PERIOD["to"]),
        now=datetime.now(UTC),
        timezone="Asia/Shanghai",
    )
    limits = kpis.limits_of(LedgerSettings())

    def reference(scope: Scope, *, coverage: bool = True) -> dict[str, object]:
        counts, timings = cohort.reference_counts(cases, scope=scope, period=period, limits=limits)
        if not coverage:
            counts = dataclasses.replace(counts, households_on_record=0, households_touched=0)
        return {"counts": dataclasses.asdict(counts), "timings_s": dataclasses.asdict(timings)}

    def served(group: dict) -> dict[str, object]:  # type: ignore[type-arg]
        return {"counts": group["counts"], "timings_s": group["timings_s"]}

    assert served(_kpis(api)["overall"]) == reference(Scope())
    for by, scope_of, coverage in (
        ("grid", lambda key: Scope(grid=key), True),
        ("member", lambda key: Scope(member=key), True),
        ("category", lambda key: Scope(category=key), False),
    ):
        broken_down = _kpis(api, by=by)
        # The whole scope's figures come with every breakdown, from the same scans or not.
        assert served(broken_down["overall"]) == reference(Scope())
        groups = broken_down["breakdown"]["groups"]
        assert len(groups) >= 2
        for group in groups:
            assert served(group) == reference(scope_of(group["key"]), coverage=coverage), (
                by,
                group["key"],
            )
    for params, scope in (
        ({"grid": "G2"}, Scope(grid="G2")),
        ({"member": "LAW1"}, Scope(member="LAW1")),
    ):
        assert served(_kpis(api, **params)["overall"]) == reference(scope)
    by_month = _kpis(api, by="month")
    assert served(by_month["overall"]) == reference(Scope())
    months = by_month["breakdown"]["groups"]
    assert [group["key"] for group in months] == ["2025-02", "2025-03"]  # February: overdue
    assert months[0]["counts"]["registered"] == 0 and months[0]["counts"]["overdue_open"] == 1


def test_a_bad_period_is_refused(recorded: None, api: httpx.Client) -> None:
    reversed_period = {"from": PERIOD["to"], "to": PERIOD["from"]}
    assert api.get("/v1/kpis", params=reversed_period).status_code == 422
    assert api.get("/v1/kpis", params={"by": "colour"}).status_code == 422
    # Before year 1 once in UTC, given with an offset or read in the community's time zone.
    for first_moment in ("0001-01-01T00:00:01+00:01", "0001-01-01T00:00:00"):
        refused = api.get("/v1/kpis", params={"from": first_moment})
        assert refused.status_code == 422, refused.text
        assert "out of range" in refused.text


def test_the_monthly_report_in_json_csv_and_html(recorded: None, api: httpx.Client) -> None:
    report = api.get("/v1/reports/monthly", params={"month": "2025-03"}).json()
    assert report["counts"]["registered"] == 9
    assert report["indicators"]["handling_rate"]["value"] == 0.625
    assert [grid["grid"] for grid in report["grids"]] == ["G1", "G2"]
    assert len(report["ledger_head"]["hash"]) == 64
    for personal in ("H1", "P003", "secret-token", "138****", "boxes", "LAW1"):
        assert personal not in str(report)
    table = api.get("/v1/reports/monthly", params={"month": "2025-03", "format": "csv"})
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [row["grid"] for row in rows] == ["G1", "G2", "全社区 all grids"]
    assert rows[-1]["registered"] == "9"
    page = api.get("/v1/reports/monthly", params={"month": "2025-03", "format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert 'name="viewport"' in page.text and "62.5 %" in page.text
    assert "H1" not in page.text and "P003" not in page.text
    assert api.get("/v1/reports/monthly", params={"month": "2025-13"}).status_code == 422
    assert api.get("/v1/reports/monthly", params={"month": "2999-01"}).status_code == 422


async def test_replay_rebuilds_exactly_the_live_projection(
    recorded: None, engine: AsyncEngine, run_env: dict[str, str]
) -> None:
    async def snapshot() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        async with engine.connect() as connection:
            cases = await connection.execute(
                text("select * from ledger_incident_state order by incident_id")
            )
            found = await connection.execute(
                text("select * from ledger_anomaly order by event_id, kind")
            )
            return [tuple(r) for r in cases.all()], [tuple(r) for r in found.all()]

    live = await snapshot()
    assert len(live[0]) == 10
    result = run_cli(run_env, "replay")
    assert result.returncode == 0, result.stderr
    assert "into 10 cases" in result.stdout
    assert await snapshot() == live
    # The replay derived the indicator rows itself (it cleared them): in step with the head,
    # so no indicator request has to derive them again.
    assert "indicator rows derived" in result.stdout
    async with engine.connect() as connection:
        synced = (await connection.execute(text("select seq from ledger_indicator_sync"))).all()
        head = (await connection.execute(text("select max(seq) from ledger_entry"))).scalar()
        rows = await connection.execute(text("select count(*) from ledger_indicator_case"))
    assert [tuple(row) for row in synced] == [(head,)]
    assert rows.scalar() == 10
