"""Every service answers its probes, exposes metrics and documents its API."""

import httpx
import pytest

from services.demo.processes import ServiceProcess
from tests.support import flow


@pytest.mark.parametrize("name", ["intake", "dispatch", "ledger"])
def test_probes_metrics_and_docs(services: dict[str, ServiceProcess], name: str) -> None:
    url = services[name].url
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "kafka": "ok",
        "redis": "ok",
        "database": "ok",
        "workers": "ok",
    }
    metrics = httpx.get(f"{url}/metrics").text
    assert "gridloop_http_requests_total" in metrics
    assert httpx.get(f"{url}/docs").status_code == 200
    assert httpx.get(f"{url}/openapi.json").json()["info"]["title"] == f"gridloop {name}"


async def test_dispatch_refuses_an_illegal_transition_with_409(
    services: dict[str, ServiceProcess], intake_key: str
) -> None:
    households = flow.distinct_households(1, seed=4)
    incident = next(
        iter(await flow.report_all(services["intake"].url, households, api_key=intake_key))
    )
    async with httpx.AsyncClient(
        base_url=services["dispatch"].url,
        headers=await flow.signed_in(services["dispatch"].url, "C01"),
    ) as dispatch:

        async def assigned() -> bool:
            return (await dispatch.get(f"/v1/cases/{incident}")).status_code == 200

        await flow.wait_for(assigned, within_s=30, what="the case to be assigned")
        assignee = (await dispatch.get(f"/v1/cases/{incident}")).json()["assignee_id"]
        me = await flow.signed_in(services["dispatch"].url, assignee)
        early = await dispatch.post(
            f"/v1/cases/{incident}/resolve", json={"result": "done"}, headers=me
        )
        assert early.status_code == 409
        assert "cannot resolve a case that is assigned" in early.text
        stranger = await dispatch.post(
            f"/v1/cases/{incident}/accept",
            headers=await flow.signed_in(services["dispatch"].url, "P060"),
        )
        assert stranger.status_code == 404, "another grid's member may not even see the case"
        forged = {"Authorization": "Bearer not.a.token"}
        nobody = await dispatch.post(f"/v1/cases/{incident}/accept", headers=forged)
        assert nobody.status_code == 401
        accepted = await dispatch.post(f"/v1/cases/{incident}/accept", headers=me)
        assert accepted.status_code == 200
        assert accepted.json()["status"] == "accepted"
        resolved = await dispatch.post(
            f"/v1/cases/{incident}/resolve", json={"result": "cleared"}, headers=me
        )
        assert resolved.json()["status"] == "resolved"
        missing = await dispatch.post(
            "/v1/cases/00000000-0000-0000-0000-000000000000/accept", headers=me
        )
        assert missing.status_code == 404


async def test_the_ledger_publishes_its_chain_status_and_this_months_indicators(
    services: dict[str, ServiceProcess], intake_key: str
) -> None:
    await flow.report_all(
        services["intake"].url, flow.distinct_households(3, seed=5), api_key=intake_key
    )
    async with httpx.AsyncClient(base_url=services["ledger"].url) as ledger:

        async def published() -> bool:
            text = (await ledger.get("/metrics")).text
            return (
                'gridloop_ledger_chain_ok{chain="global"} 1.0' in text
                and 'gridloop_ledger_chain_ok{chain="incident"} 1.0' in text
                and 'grid="all",indicator="response_rate"' in text
            )

        await flow.wait_for(published, within_s=30, what="chain status and indicator gauges")
