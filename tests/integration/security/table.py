"""Every endpoint of the three services, and what each caller must get from it.

Statuses are exact, except `AUTHORISED`: the request got past identity and authorization and
was then judged on its merits (a command illegal in the case's state is 409, an empty body 422).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.integration.security.callers import BAD_CREDENTIALS, EVERY_CALLER, INTEGRATORS, PEOPLE

AUTHORISED = frozenset({200, 201, 202, 204, 400, 409, 413, 415, 422})
Expected = int | frozenset[int]


def public(status: int) -> dict[str, Expected]:
    """Open to everyone, whatever they carry."""
    return dict.fromkeys(EVERY_CALLER, status)


def people(**allowed: Expected) -> dict[str, Expected]:
    """A people's endpoint: no valid token 401 (API keys included), roles not named 403."""
    expected: dict[str, Expected] = dict.fromkeys(BAD_CREDENTIALS + INTEGRATORS, 401)
    expected |= dict.fromkeys(PEOPLE, 403)
    return expected | allowed


def integrators(mine: Expected, others: Expected | None = None) -> dict[str, Expected]:
    """An integrator endpoint: people's tokens never open it (401); another integrator's
    case is 404."""
    expected: dict[str, Expected] = dict.fromkeys(EVERY_CALLER, 401)
    return expected | {"api_key": mine, "api_key_other": mine if others is None else others}


CASE_HANDLERS = {"member": 200, "leader": 200, "committee": 200}
HIDDEN = {"member_other": 404, "leader_other": 404}
ROSTER_READERS = {"operator": 200, "committee": 200}
OPERATOR_ONLY = {"operator": AUTHORISED}
ON_ME = dict.fromkeys(("member", "member_other", "leader", "leader_other", "committee"), 200)
DUTY = dict.fromkeys(ON_ME, 204)
CASE_LIST = {"member": 200, "member_other": 403, "leader": 200, "leader_other": 403}


@dataclass(frozen=True)
class Endpoint:
    service: str
    method: str
    path: str  # placeholders: {incident} {household} {grid} {member} {key_id} {kind}
    expected: Mapping[str, Expected]
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    form: dict[str, str] | None = None
    own_case: bool = False  # a command that changes the case: it gets a case of its own

    @property
    def route(self) -> tuple[str, str, str]:
        return self.service, self.method, self.path


def command(action: str, body: Any = None) -> Endpoint:
    """A dispatch command on a case: handlers pass, others' cases are 404."""
    allowed = dict.fromkeys(CASE_HANDLERS, AUTHORISED) | HIDDEN
    return Endpoint(
        "dispatch",
        "POST",
        f"/v1/cases/{{incident_id}}/{action}",
        people(**allowed),
        json=body,
        own_case=True,
    )


REPORT = {
    "channel": "officer_app",
    "category": "clutter",
    "description": "杂物堆放 things on the stairs",
    "household_id": "{household}",
}

DISPATCH = [
    Endpoint(
        "dispatch",
        "POST",
        "/v1/auth/token",
        public(401),
        form={"username": "nobody", "password": "not-a-password"},
    ),
    Endpoint("dispatch", "POST", "/v1/auth/revoke", public(204), form={"refresh_token": "x"}),
    Endpoint("dispatch", "GET", "/.well-known/jwks.json", public(200)),
    Endpoint("dispatch", "POST", "/v1/auth/accounts", people(**OPERATOR_ONLY), json={}),
    Endpoint(
        "dispatch",
        "GET",
        "/v1/cases",
        people(**CASE_LIST, committee=200),
        params={"grid_id": "{grid}", "assignee_id": "{member}"},
    ),
    Endpoint("dispatch", "GET", "/v1/cases/{incident_id}", people(**CASE_HANDLERS, **HIDDEN)),
    command("accept"),
    command("decline", {"reason": "on leave today"}),
    command("start"),
    command("notes", {"note": "visited"}),
    command("resolve", {"result": "cleared"}),
    command("help", {}),
    command("reassign", {"member_id": "{member}", "reason": "closer to home"}),
    command("extension", {"reason": "waiting for the owner", "extra_hours": 4}),
    command("extension/decision", {"approve": True}),
    command("park", {"reason": "waiting for the town"}),
    command("unpark"),
    command("inspect", {"passed": True}),
    command("cancel", {"reason": "reported twice"}),
    Endpoint("dispatch", "GET", "/v1/me/tasks", people(**ON_ME)),
    Endpoint("dispatch", "POST", "/v1/me/duty", people(**DUTY), json={"on_duty": True}),
    Endpoint("dispatch", "POST", "/v1/me/heartbeat", people(**DUTY)),
    Endpoint("dispatch", "GET", "/v1/me/stream", people(**ON_ME)),
    *(
        Endpoint("dispatch", "GET", f"/v1/roster/{kind}", people(**ROSTER_READERS))
        for kind in ("grids", "members", "households", "cameras")
    ),
    *(
        Endpoint("dispatch", "POST", f"/v1/roster/{kind}", people(**OPERATOR_ONLY), json={})
        for kind in ("grids", "members", "households", "cameras")
    ),
    *(
        Endpoint("dispatch", "GET", f"/v1/roster/{kind}/{{{name}}}", people(**ROSTER_READERS))
        for kind, name in (
            ("grids", "grid_id"),
            ("members", "member_id"),
            ("households", "household_id"),
            ("cameras", "camera_id"),
        )
    ),
    *(
        Endpoint(
            "dispatch", "PATCH", f"/v1/roster/{kind}/{{{name}}}", people(**OPERATOR_ONLY), json=[]
        )
        for kind, name in (
            ("grids", "grid_id"),
            ("members", "member_id"),
            ("households", "household_id"),
            ("cameras", "camera_id"),
        )
    ),
    Endpoint(
        "dispatch",
        "PUT",
        "/v1/roster/households/{household_id}/link",
        people(**OPERATOR_ONLY),
        json=[],
    ),
    Endpoint("dispatch", "POST", "/v1/roster/import", people(**OPERATOR_ONLY), json=[]),
    Endpoint("dispatch", "POST", "/v1/roster/import/{kind}", people(**OPERATOR_ONLY), json=[]),
    Endpoint("dispatch", "GET", "/v1/roster/export/{kind}", people(**ROSTER_READERS)),
    Endpoint(
        "dispatch",
        "GET",
        "/v1/roster/locate",
        people(**ROSTER_READERS),
        params={"household_id": "{household}"},
    ),
]

LEDGER = [
    Endpoint(
        "ledger",
        "GET",
        "/v1/incidents",
        people(**CASE_LIST, committee=200, service=200),
        params={"grid": "{grid}", "member": "{member}"},
    ),
    Endpoint(
        "ledger",
        "GET",
        "/v1/incidents/{incident_id}",
        people(**CASE_HANDLERS, **HIDDEN, service=200),
    ),
    Endpoint(
        "ledger",
        "GET",
        "/v1/households/{household_id}/ledger",
        people(**ON_ME),  # confined to what each may see: see test_confinement
    ),
    Endpoint("ledger", "GET", "/v1/stats", public(200)),
    Endpoint("ledger", "GET", "/v1/ledger/verify", people(committee=200)),
    Endpoint("ledger", "GET", "/v1/ledger/anomalies", people(committee=200)),
    Endpoint(
        "ledger",
        "GET",
        "/v1/exports/cases.csv",
        people(leader=200, leader_other=200, committee=200),
    ),
    Endpoint("ledger", "GET", "/v1/exports/ledger.csv", people(committee=200)),
    Endpoint(
        "ledger",
        "GET",
        "/v1/kpis",
        people(**CASE_LIST, committee=200, viewer=200),
        params={"grid": "{grid}", "member": "{member}"},
    ),
    Endpoint(
        "ledger",
        "GET",
        "/v1/reports/monthly",
        people(**ON_ME, viewer=200),
        params={"month": "{month}"},
    ),
]

# GeoReport v2: every operation in both formats, with the same answers.
GEOREPORT = [
    endpoint
    for fmt in ("json", "xml")
    for endpoint in (
        Endpoint("intake", "GET", f"/open311/v2/services.{fmt}", public(200)),
        Endpoint(
            "intake",
            "POST",
            f"/open311/v2/requests.{fmt}",
            integrators(AUTHORISED),
            json={"service_code": "clutter", "description": "杂物 clutter", "lat": 1, "long": 1},
        ),
        Endpoint("intake", "GET", f"/open311/v2/requests.{fmt}", integrators(200)),
        Endpoint(
            "intake",
            "GET",
            f"/open311/v2/requests/{{service_request_id}}.{fmt}",
            integrators(200, 404),
        ),
    )
]

INTAKE = [
    Endpoint("intake", "POST", "/v1/incidents", integrators(202), json=REPORT),
    Endpoint(
        "intake", "POST", "/v1/incidents:batch", integrators(202), json={"incidents": [REPORT]}
    ),
    Endpoint(
        "intake",
        "POST",
        "/v1/incidents/{incident_id}/feedback",
        integrators(AUTHORISED, 404),
        json={"rating": "satisfied"},
    ),
    Endpoint("intake", "GET", "/v1/incidents/{incident_id}/status", integrators(200, 404)),
    *GEOREPORT,
    Endpoint("intake", "GET", "/v1/callbacks", integrators(404)),
    Endpoint("intake", "PUT", "/v1/callbacks", integrators(AUTHORISED), json={}),
    Endpoint("intake", "DELETE", "/v1/callbacks", integrators(404)),
    Endpoint("intake", "GET", "/v1/callbacks/deliveries", integrators(200)),
    Endpoint("intake", "POST", "/admin/v1/keys", people(**OPERATOR_ONLY), json={}),
    Endpoint("intake", "GET", "/admin/v1/keys", people(operator=200)),
    Endpoint("intake", "POST", "/admin/v1/keys/{key_id}/rotate", people(operator=404), json={}),
    Endpoint("intake", "DELETE", "/admin/v1/keys/{key_id}", people(operator=404)),
]

HEALTH = [
    Endpoint(service, "GET", path, public(200))
    for service in ("dispatch", "ledger", "intake")
    for path in ("/healthz", "/readyz", "/metrics")
]

EVERY_ENDPOINT = DISPATCH + LEDGER + INTAKE + HEALTH
