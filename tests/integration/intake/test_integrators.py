"""Integrator keys: hashed at rest, scoped, rotatable without downtime, signed, rate limited."""

import json
import time

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.demo import integrator as demo_integrator
from tests.integration.intake import helpers
from tests.integration.intake.conftest import Stack
from tests.integration.intake.helpers import Integrator, report_body


async def test_a_key_is_stored_only_as_a_hash(stack: Stack, engine: AsyncEngine) -> None:
    issued = helpers.issue_key(stack, integrator_id="hash-check")
    async with engine.connect() as connection:
        row = (
            (
                await connection.execute(
                    text("select * from intake_integrator_key where key_id = :id"),
                    {"id": issued.key_id},
                )
            )
            .mappings()
            .one()
        )
    stored = json.dumps({key: str(value) for key, value in row.items()})
    assert issued.api_key not in stored
    assert issued.api_key.split("_")[-1] not in stored
    assert issued.signing_secret not in stored
    listed = httpx.get(f"{stack.intake.url}/admin/v1/keys", headers=helpers.admin(stack.env)).text
    assert issued.key_id in listed and issued.api_key not in listed


def test_a_key_reports_only_through_its_channels_and_for_its_operations(stack: Stack) -> None:
    hotline_only = helpers.issue_key(
        stack, integrator_id="hotline", channels=["hotline"], operations=["report"]
    )
    url = f"{stack.intake.url}/v1/incidents"
    as_hotline = httpx.post(url, json=report_body(channel="hotline"), headers=hotline_only.headers)
    as_platform = httpx.post(url, json=report_body(), headers=hotline_only.headers)
    status = httpx.get(
        f"{url}/{as_hotline.json()['incident_id']}/status", headers=hotline_only.headers
    )
    assert as_hotline.status_code == 202
    assert as_platform.status_code == 403 and "platform channel" in as_platform.text
    assert status.status_code == 403 and "may not status" in status.text


def test_unknown_and_revoked_keys_are_refused(stack: Stack) -> None:
    issued = helpers.issue_key(stack, integrator_id="to-revoke")
    url = f"{stack.intake.url}/v1/incidents"
    assert httpx.post(url, json=report_body(), headers=issued.headers).status_code == 202
    revoked = httpx.delete(
        f"{stack.intake.url}/admin/v1/keys/{issued.key_id}", headers=helpers.admin(stack.env)
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = httpx.post(url, json=report_body(), headers=issued.headers)
    assert refused.status_code == 401 and "revoked" in refused.text
    forged = issued.api_key[:-4] + "AAAA"
    assert httpx.post(url, json=report_body(), headers={"X-API-Key": forged}).status_code == 401
    assert httpx.post(url, json=report_body(), headers={"X-API-Key": "nonsense"}).status_code == 401


def test_a_report_is_refused_for_its_key_before_its_body_is_read(stack: Stack) -> None:
    url = f"{stack.intake.url}/v1/incidents"
    not_json = {"content-type": "application/json"}
    assert httpx.post(url, content=b"{not json", headers=not_json).status_code == 401
    issued = helpers.issue_key(stack, integrator_id="bad-bodies")
    refused = httpx.post(url, content=b"{not json", headers={**issued.headers, **not_json})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", 1]


def test_a_rotated_key_and_its_predecessor_both_work_until_the_grace_ends(stack: Stack) -> None:
    old = helpers.issue_key(stack, integrator_id="rotating")
    rotated = httpx.post(
        f"{stack.intake.url}/admin/v1/keys/{old.key_id}/rotate",
        json={"grace_s": 2},
        headers=helpers.admin(stack.env),
    )
    assert rotated.status_code == 201
    new_key = {"X-API-Key": rotated.json()["api_key"]}
    assert rotated.json()["rotated_from"] == old.key_id
    url = f"{stack.intake.url}/v1/incidents"
    assert httpx.post(url, json=report_body(), headers=old.headers).status_code == 202
    assert httpx.post(url, json=report_body(), headers=new_key).status_code == 202
    time.sleep(2.5)
    expired = httpx.post(url, json=report_body(), headers=old.headers)
    assert expired.status_code == 401 and "expired" in expired.text
    assert httpx.post(url, json=report_body(), headers=new_key).status_code == 202


def test_a_key_that_requires_signatures_accepts_only_fresh_correct_ones(stack: Stack) -> None:
    signer = helpers.issue_key(stack, integrator_id="signer", require_signature=True)
    url, path = f"{stack.intake.url}/v1/incidents", "/v1/incidents"
    body = json.dumps(report_body()).encode()

    def post(headers: dict[str, str]) -> httpx.Response:
        return httpx.post(url, content=body, headers=headers)

    unsigned = post({**signer.headers, "content-type": "application/json"})
    signed = post(helpers.signed_headers(signer, method="POST", path=path, body=body))
    stale = post(
        helpers.signed_headers(signer, method="POST", path=path, body=body, at=time.time() - 900)
    )
    tampered = helpers.signed_headers(signer, method="POST", path=path, body=b"{}")
    assert unsigned.status_code == 401 and "requires" in unsigned.text
    assert signed.status_code == 202
    assert stale.status_code == 401 and "window" in stale.text
    assert post(tampered).status_code == 401


def test_a_wrong_signature_is_refused_even_where_signing_is_optional(
    stack: Stack, city: Integrator
) -> None:
    body = json.dumps(report_body()).encode()
    headers = helpers.signed_headers(city, method="POST", path="/v1/incidents", body=body)
    headers["X-Gridloop-Signature"] = "v1=" + "0" * 64
    answer = httpx.post(f"{stack.intake.url}/v1/incidents", content=body, headers=headers)
    assert answer.status_code == 401 and "does not match" in answer.text


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(stack: Stack) -> None:
    limited = helpers.issue_key(stack, integrator_id="chatty", rate_limit_per_minute=3)
    url = f"{stack.intake.url}/v1/incidents"
    answers = [httpx.post(url, json=report_body(), headers=limited.headers) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [202, 202, 202, 429]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    others = helpers.issue_key(stack, integrator_id="quiet")
    assert httpx.post(url, json=report_body(), headers=others.headers).status_code == 202


def test_the_admin_api_needs_the_operator_token(stack: Stack) -> None:
    body = {"integrator_id": "x", "channels": ["platform"], "operations": ["report"]}
    url = f"{stack.intake.url}/admin/v1/keys"
    assert httpx.post(url, json=body).status_code == 401
    wrong = {"Authorization": "Bearer guess"}
    assert httpx.post(url, json=body, headers=wrong).status_code == 401


def test_a_key_issued_with_the_cli_works_and_the_cli_never_stores_it(stack: Stack) -> None:
    issued = demo_integrator.provision_key(
        stack.env, integrator="cli-made", channels="patrol", operations="report"
    )
    patrol = report_body(channel="patrol", reported_by="P007")
    answer = httpx.post(
        f"{stack.intake.url}/v1/incidents", json=patrol, headers={"X-API-Key": issued["api_key"]}
    )
    assert answer.status_code == 202
    assert issued["channels"] == ["patrol"] and issued["operations"] == ["report"]
