"""Intake's own identity towards the ledger: an OAuth2 client-credentials token from dispatch.

The token is fetched when first needed, reused until shortly before it expires, and fetched
again once when the ledger answers 401 (after a key rotation, for instance).
"""

import logging
import time
from collections.abc import Generator

import httpx

logger = logging.getLogger(__name__)
EARLY_RENEWAL_S = 30.0


class ClientCredentials(httpx.Auth):
    """An httpx auth flow that signs requests with a service token (grant client_credentials)."""

    requires_response_body = True

    def __init__(self, *, token_url: str, client_id: str, client_secret: str) -> None:
        self._token_url = token_url
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self._token: str | None = None
        self._renew_at = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None or time.monotonic() >= self._renew_at:
            self._store((yield self._token_request()))
        self._sign(request)
        response = yield request
        if response.status_code == 401:
            self._store((yield self._token_request()))
            self._sign(request)
            yield request

    def _token_request(self) -> httpx.Request:
        return httpx.Request("POST", self._token_url, data=self._form)

    def _store(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            logger.warning("dispatch refused intake's service sign-in: %s", response.status_code)
            self._token = None
            return
        answer = response.json()
        self._token = str(answer["access_token"])
        self._renew_at = time.monotonic() + float(answer["expires_in"]) - EARLY_RENEWAL_S

    def _sign(self, request: httpx.Request) -> None:
        if self._token is not None:
            request.headers["Authorization"] = f"Bearer {self._token}"
