"""Schemathesis over dispatch's and the ledger's OpenAPI, with valid credentials and without.

With a token: no 5xx, only documented statuses, content types and bodies. Without one: no 5xx,
and no 2xx except from the operations that are public on purpose. The officers' event stream
never ends, so it is left out (its refusals are in test_authorization).
"""

import pytest
import schemathesis

from services.common import auth
from services.demo.processes import ServiceProcess
from tests.support import fuzz, tokens

PUBLIC = {
    "dispatch": {
        "POST /v1/auth/token",
        "POST /v1/auth/revoke",
        "GET /.well-known/jwks.json",
        "GET /healthz",
        "GET /readyz",
    },
    "ledger": {"GET /v1/stats", "GET /healthz", "GET /readyz"},
}
SIGNED_IN = {
    "dispatch": {
        "operator": (auth.Role.OPERATOR, None),
        "committee": (auth.Role.COMMITTEE, "C01"),
    },
    "ledger": {"committee": (auth.Role.COMMITTEE, "C01")},
}


def openapi(process: ServiceProcess) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_url(f"{process.url}/openapi.json")
    return loaded.exclude(path="/v1/me/stream")


@pytest.mark.parametrize(
    ("service", "who"),
    [("dispatch", "operator"), ("dispatch", "committee"), ("ledger", "committee")],
)
def test_signed_in_callers_get_only_documented_answers(
    services: dict[str, ServiceProcess], service: str, who: str
) -> None:
    role, member_id = SIGNED_IN[service][who]
    process = services[service]
    headers = tokens.headers_for(process.env, who, role, member_id=member_id)
    tried, failures = fuzz.fuzz(openapi(process), base_url=process.url, headers=headers)
    assert len(tried) >= (40 if service == "dispatch" else 12), tried
    assert not failures, fuzz.report(failures)


@pytest.mark.parametrize("service", ["dispatch", "ledger"])
def test_without_credentials_only_public_operations_answer_2xx(
    services: dict[str, ServiceProcess], service: str
) -> None:
    process = services[service]

    def public_or_refused(case: schemathesis.Case, status: int) -> None:
        label = f"{case.method.upper()} {case.path}"
        assert status < 200 or status >= 300 or label in PUBLIC[service], (
            f"{label} answered {status} without credentials"
        )

    tried, failures = fuzz.fuzz(
        openapi(process),
        base_url=process.url,
        headers={},
        modes=fuzz.MODES[:1],
        checks=[fuzz.not_a_server_error, fuzz.status_code_conformance],
        also=public_or_refused,
    )
    assert len(tried) >= 12, tried
    assert not failures, fuzz.report(failures)
