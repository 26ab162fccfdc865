"""The three services with the demo community, a case for every command, and the callers."""

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from services.demo import integrator
from services.demo.processes import ServiceProcess
from tests.integration.security import callers, table
from tests.support import flow, tokens

CASES = 1 + sum(endpoint.own_case for endpoint in table.EVERY_ENDPOINT)


@pytest.fixture(scope="module")
def api_keys(services: dict[str, ServiceProcess], run_env: dict[str, str]) -> dict[str, str]:
    """Two integrators: the one who reported every case, and another."""
    return {
        "api_key": integrator.provision_key(run_env, integrator="city-platform")["api_key"],
        "api_key_other": integrator.provision_key(run_env, integrator="other-app")["api_key"],
    }


@pytest.fixture(scope="module")
def cases(services: dict[str, ServiceProcess], api_keys: dict[str, str]) -> list[callers.Case]:
    """Cases reported by the first integrator, each assigned and recorded in the ledger."""
    households = flow.distinct_households(CASES, seed=11)
    reported = asyncio.run(
        flow.report_all(services["intake"].url, households, api_key=api_keys["api_key"])
    )
    headers = tokens.committee(services["ledger"].env)
    found: dict[str, callers.Case] = {}

    async def all_assigned() -> bool:
        async with httpx.AsyncClient(base_url=services["ledger"].url, headers=headers) as ledger:
            for incident, household in reported.items():
                if str(incident) in found:
                    continue
                answer = await ledger.get(f"/v1/incidents/{incident}")
                if answer.status_code == 200 and answer.json()["assignee_id"]:
                    state = answer.json()
                    found[str(incident)] = callers.Case(
                        str(incident), household, state["grid_id"], state["assignee_id"]
                    )
        return len(found) == len(reported)

    asyncio.run(flow.wait_for(all_assigned, within_s=90, what="every case assigned and recorded"))
    return sorted(found.values(), key=lambda case: case.incident_id)


@pytest.fixture(scope="module")
def clients(services: dict[str, ServiceProcess]) -> Iterator[dict[str, httpx.Client]]:
    opened = {name: httpx.Client(base_url=p.url, timeout=30) for name, p in services.items()}
    yield opened
    for client in opened.values():
        client.close()
