"""Dispatch exports what the dashboards and alerts read, and its case log lines carry ids.

Runs the real services with the fast catalogue (acknowledge within 2 s), so a case that
nobody accepts breaches its deadline and climbs the ladder within the test.
"""

import json

import httpx
import pytest

from services.demo.processes import ServiceProcess
from tests.support import flow, metrics_page


@pytest.fixture(scope="module")
def run_env(run_env: dict[str, str]) -> dict[str, str]:
    """The fast-catalogue settings, with the case gauges refreshed every second."""
    return {**run_env, "DISPATCH_GAUGES_INTERVAL_S": "1"}


async def metrics_of(service: ServiceProcess) -> str:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{service.url}/metrics")).text


async def test_an_unhandled_case_shows_in_the_metrics_and_the_logs(
    services: dict[str, ServiceProcess],
) -> None:
    household = flow.distinct_households(1, seed=77)[0]
    grid = next(h.grid_id for h in flow.COMMUNITY.households if h.id == household)
    incident = str(next(iter(await flow.report_all(services["intake"].url, [household]))))
    dispatch = services["dispatch"]
    page = ""

    async def escalated() -> bool:
        nonlocal page
        page = await metrics_of(dispatch)
        return (
            metrics_page.value(page, "gridloop_dispatch_escalations_total", to_rung="grid_member")
            >= 1
        )

    await flow.wait_for(escalated, within_s=40, what="an escalation to be counted")
    assert metrics_page.value(page, "gridloop_dispatch_decision_seconds_count", kind="assign") >= 1
    assert (
        metrics_page.value(page, "gridloop_dispatch_decision_seconds_count", kind="escalate") >= 1
    )
    assert metrics_page.value(page, "gridloop_dispatch_report_to_assignment_seconds_count") >= 1
    assert (
        metrics_page.value(page, "gridloop_dispatch_assignments_total", rung="linked_member") >= 1
    )
    assert (
        metrics_page.value(
            page, "gridloop_dispatch_deadline_breaches_total", stage="acknowledge", level="red"
        )
        >= 1
    )
    assert metrics_page.value(page, "gridloop_events_consumed_total") >= 1
    assert metrics_page.value(page, "gridloop_events_produced_total") >= 1

    async def gauges_show_the_case() -> bool:
        nonlocal page
        page = await metrics_of(dispatch)
        open_here = sum(
            v
            for labels, v in metrics_page.samples(page, "gridloop_dispatch_open_cases")
            if labels["grid"] == grid
        )
        loaded = sum(
            v for _, v in metrics_page.samples(page, "gridloop_dispatch_member_open_cases")
        )
        return open_here >= 1 and loaded >= 1

    await flow.wait_for(gauges_show_the_case, within_s=20, what="the case in the gauges")
    grids = {
        labels["grid"] for labels, _ in metrics_page.samples(page, "gridloop_dispatch_open_cases")
    }
    assert {g.id for g in flow.COMMUNITY.grids} | {"unlocated"} <= grids, "every grid has series"
    members = {
        labels["member"]
        for labels, _ in metrics_page.samples(page, "gridloop_dispatch_member_capacity")
    }
    assert {m.id for m in flow.COMMUNITY.members} <= members
    assert metrics_page.samples(page, "gridloop_dispatch_member_on_duty"), (
        "duty is exported per member"
    )
    lags = metrics_page.samples(page, "gridloop_consumer_lag")
    assert lags and all(labels["group"].endswith(".dispatch") for labels, _ in lags)
    assert metrics_page.value(page, "gridloop_consumer_stalled") == 0

    case_lines = [
        json.loads(line)
        for line in dispatch.log_tail(5000).splitlines()
        if line.startswith("{") and incident in line
    ]
    committed = [line for line in case_lines if line["message"].startswith("committed ")]
    kinds = {line["message"].split()[1].rsplit(".", 2)[-2] for line in committed}
    assert {"assigned", "deadline_warned", "escalated"} <= kinds, kinds
    for line in case_lines:
        assert line.get("incident_id") == incident, f"a line about the case lacks its id: {line}"
    for line in committed:
        assert line.get("event_id"), f"a committed event's line lacks its event id: {line}"
    assigned = [line for line in case_lines if line["message"].startswith("assigned to ")]
    assert assigned and all(line.get("event_id") for line in assigned), (
        "the consumed report's event id is on the assignment line"
    )
