"""Every endpoint of intake, dispatch and the ledger against every kind of caller.

Callers: no token, an expired token, a token under our key id signed by another key, an
unsigned `alg: none` token, two integrators' API keys, and people of every role placed around
one case: its member, another member of its grid, its grid leader, another grid's leader, the
committee, an operator, a viewer, and intake's service account.
"""

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.demo.processes import ServiceProcess
from tests.integration.security import callers, table
from tests.integration.security.table import Endpoint, Expected

UNKNOWN_KEY_ID = "0" * 16
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_the_table_names_every_endpoint_of_the_three_services(
    clients: dict[str, httpx.Client],
) -> None:
    documented = {
        (service, method.upper(), path)
        for service, client in clients.items()
        for path, operations in client.get("/openapi.json").json()["paths"].items()
        for method in operations
    }
    tabled = {endpoint.route for endpoint in table.EVERY_ENDPOINT}
    undocumented = {(service, "GET", "/metrics") for service in clients}
    assert documented == tabled - undocumented
    assert len(tabled) == len(table.EVERY_ENDPOINT), "an endpoint is in the table twice"


def test_every_caller_gets_what_its_role_allows(
    services: dict[str, ServiceProcess],
    clients: dict[str, httpx.Client],
    cases: list[callers.Case],
    api_keys: dict[str, str],
) -> None:
    token = callers.service_token(services["dispatch"].url)
    own_cases = iter(cases[1:])
    wrong: list[str] = []
    asked = 0
    for endpoint in table.EVERY_ENDPOINT:
        case = next(own_cases) if endpoint.own_case else cases[0]
        headers = callers.headers_of(
            case, env=services["dispatch"].env, api_keys=api_keys, service_token=token
        )
        for caller in _refusals_first(endpoint.expected):
            status, answer = _call(clients[endpoint.service], endpoint, case, headers[caller])
            asked += 1
            if not _matches(status, endpoint.expected[caller]):
                wrong.append(
                    f"{endpoint.method} {endpoint.service}{endpoint.path} as {caller}: "
                    f"{status}, expected {_shown(endpoint.expected[caller])}: {answer[:300]}"
                )
    assert asked == len(table.EVERY_ENDPOINT) * len(callers.EVERY_CALLER)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("service", "path", "insider", "outsiders"),
    [
        ("ledger", "/v1/households/{household}/ledger", "leader", ("member_other", "leader_other")),
        ("ledger", "/v1/incidents", "member", ("member_other", "leader_other")),
        ("ledger", "/v1/exports/cases.csv", "leader", ("leader_other",)),
        ("dispatch", "/v1/cases", "leader", ("member_other", "leader_other")),
        ("dispatch", "/v1/me/tasks", "member", ("member_other", "leader_other")),
    ],
)
def test_lists_confined_to_a_caller_never_show_another_grid_or_members_case(
    services: dict[str, ServiceProcess],
    clients: dict[str, httpx.Client],
    cases: list[callers.Case],
    api_keys: dict[str, str],
    service: str,
    path: str,
    insider: str,
    outsiders: tuple[str, ...],
) -> None:
    case = cases[0]
    headers = callers.headers_of(
        case, env=services["dispatch"].env, api_keys=api_keys, service_token=""
    )
    url = path.replace("{household}", case.household_id)
    seen = clients[service].get(url, headers=headers[insider]).text
    assert case.incident_id in seen, f"{insider} must see the case"
    for outsider in outsiders:
        answer = clients[service].get(url, headers=headers[outsider])
        assert answer.status_code == 200, answer.text
        assert case.incident_id not in answer.text, f"{outsider} saw the case"


def _refusals_first(expected: Mapping[str, Expected]) -> list[str]:
    """Callers who must be refused ask first, so an allowed command cannot hide a refusal."""
    refused = (401, 403, 404)
    return sorted(callers.EVERY_CALLER, key=lambda caller: expected[caller] not in refused)


def _call(
    client: httpx.Client, endpoint: Endpoint, case: callers.Case, headers: dict[str, str]
) -> tuple[int, str]:
    """The status of one request (and the start of its answer, to explain a mismatch)."""
    values = {
        "incident_id": case.incident_id,
        "service_request_id": case.incident_id,
        "grid_id": case.grid_id,
        "grid": case.grid_id,
        "member_id": case.member_id,
        "member": case.member_id,
        "household_id": case.household_id,
        "household": case.household_id,
        "camera_id": "CAM01",
        "kind": "members",
        "key_id": UNKNOWN_KEY_ID,
        "month": datetime.now(UTC).strftime("%Y-%m"),
    }

    def filled(value: Any) -> Any:
        return json.loads(PLACEHOLDER.sub(lambda m: values[m.group(1)], json.dumps(value)))

    request = client.build_request(
        endpoint.method,
        filled(endpoint.path),
        params=filled(endpoint.params),
        json=filled(endpoint.json) if endpoint.json is not None else None,
        data=endpoint.form,
        headers=headers,
    )
    response = client.send(request, stream=True)
    try:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            return response.status_code, ""  # the officers' stream never ends: status is enough
        return response.status_code, response.read().decode(errors="replace")
    finally:
        response.close()


def _matches(status: int, expected: Expected) -> bool:
    return status in expected if isinstance(expected, frozenset) else status == expected


def _shown(expected: Expected) -> str:
    return (
        "/".join(map(str, sorted(expected))) if isinstance(expected, frozenset) else str(expected)
    )
