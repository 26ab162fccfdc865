"""People sign in at dispatch, refresh once per token, sign out, and survive key rotation."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.common import keys
from services.demo.processes import ServiceProcess


@pytest.fixture(scope="module")
def dispatch(run_env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    env = {**run_env, "DISPATCH_RUN_CONSUMER": "false", "DISPATCH_RUN_TIMERS": "false"}
    ServiceProcess("dispatch", env, log_dir, command="load-demo").run_to_completion()
    process = ServiceProcess("dispatch", env, log_dir).start()
    yield process
    process.stop()


def sign_in(url: str, username: str, password: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/auth/token", data={"username": username, "password": password})


def test_an_officer_signs_in_and_sees_only_their_tasks(dispatch: ServiceProcess) -> None:
    answer = sign_in(dispatch.url, "P002", "demo-P002")
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert httpx.get(f"{dispatch.url}/v1/me/tasks", headers=headers).json() == []


@pytest.mark.parametrize(("username", "password"), [("P002", "wrong"), ("nobody", "demo-x")])
def test_wrong_credentials_are_refused_alike(
    dispatch: ServiceProcess, username: str, password: str
) -> None:
    answer = sign_in(dispatch.url, username, password)
    assert answer.status_code == 401
    assert answer.json()["detail"] == "wrong username or password"


def test_a_refresh_token_works_once_and_its_reuse_revokes_the_session(
    dispatch: ServiceProcess,
) -> None:
    first = sign_in(dispatch.url, "P003", "demo-P003").json()["refresh_token"]

    def refresh(token: str) -> httpx.Response:
        return httpx.post(
            f"{dispatch.url}/v1/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": token},
        )

    second = refresh(first)
    assert second.status_code == 200
    assert refresh(first).status_code == 401  # reused: every session of the account revoked
    assert refresh(second.json()["refresh_token"]).status_code == 401


def test_sign_out_revokes_the_refresh_token(dispatch: ServiceProcess) -> None:
    token = sign_in(dispatch.url, "P004", "demo-P004").json()["refresh_token"]
    assert (
        httpx.post(f"{dispatch.url}/v1/auth/revoke", data={"refresh_token": token}).status_code
        == 204
    )
    again = httpx.post(
        f"{dispatch.url}/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
    )
    assert again.status_code == 401


def test_operators_create_accounts_and_officers_cannot(dispatch: ServiceProcess) -> None:
    def headers(username: str) -> dict[str, str]:
        token = sign_in(dispatch.url, username, f"demo-{username}").json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    account = {"username": "new-clerk", "password": "a long passphrase", "role": "viewer"}
    url = f"{dispatch.url}/v1/auth/accounts"
    assert httpx.post(url, json=account, headers=headers("P002")).status_code == 403
    assert httpx.post(url, json=account, headers=headers("operator")).status_code == 201
    assert httpx.post(url, json=account, headers=headers("operator")).status_code == 409
    assert sign_in(dispatch.url, "new-clerk", "a long passphrase").status_code == 200


def test_tokens_signed_before_a_key_rotation_stay_valid(
    dispatch: ServiceProcess, run_env: dict[str, str]
) -> None:
    old = sign_in(dispatch.url, "P005", "demo-P005").json()["access_token"]
    keys.new_key(Path(run_env["AUTH_JWKS_FILE"]).parent)  # a new public key is published
    published = httpx.get(f"{dispatch.url}/.well-known/jwks.json").json()["keys"]
    assert len(published) == 2
    tasks = httpx.get(f"{dispatch.url}/v1/me/tasks", headers={"Authorization": f"Bearer {old}"})
    assert tasks.status_code == 200
