"""Integrator API keys: issued once, stored only as a hash, scoped to channels and operations.

A key reads `glk_<key id>_<secret>`. The key id is public and finds the stored record; the
secret has 256 bits of entropy, so one SHA-256 of it is a safe verifier (slow hashes exist for
guessable passwords, not for random keys). Signing secrets are never stored: each is derived
from the service's signing key and the key id, so only a holder of both can compute it.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.common.events import Channel

PREFIX = "glk"


class Operation(StrEnum):
    REPORT = "report"
    FEEDBACK = "feedback"
    STATUS = "status"
    OPEN311 = "open311"
    CALLBACKS = "callbacks"


class KeyRefused(Exception):
    """The presented key is unknown, malformed, revoked or expired (401)."""


class OutOfScope(Exception):
    """The key is valid but not for this operation or channel (403)."""


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    api_key: str
    secret_hash: str


@dataclass(frozen=True)
class Principal:
    """Who is calling: an integrator, through one of its keys, with that key's scopes."""

    integrator_id: str
    key_id: str
    channels: frozenset[Channel]
    operations: frozenset[Operation]
    rate_limit_per_minute: int | None = None
    require_signature: bool = False
    unrestricted: bool = False

    def require(self, operation: Operation) -> None:
        """Refuse an operation outside the key's scope."""
        if operation not in self.operations:
            raise OutOfScope(f"this key may not {operation.value}")

    def require_channel(self, channel: Channel) -> None:
        """Refuse a report through a channel the key is not allowed to speak for."""
        if channel not in self.channels:
            raise OutOfScope(f"this key may not report through the {channel.value} channel")


ANONYMOUS = Principal(
    integrator_id="anonymous",
    key_id="anonymous",
    channels=frozenset(Channel),
    operations=frozenset(Operation),
    unrestricted=True,
)


def issue() -> IssuedKey:
    """A new random key; the clear key is returned to be shown once, never stored."""
    key_id = secrets.token_hex(8)
    api_key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return IssuedKey(key_id=key_id, api_key=api_key, secret_hash=hash_key(api_key))


def hash_key(api_key: str) -> str:
    """The stored verifier of a key."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def key_id_of(api_key: str) -> str:
    """The public key id inside a presented key, or KeyRefused when it is not one of ours."""
    prefix, _, rest = api_key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or len(key_id) != 16 or not secret:
        raise KeyRefused("not a gridloop API key")
    return key_id


def verify(
    api_key: str,
    *,
    secret_hash: str,
    revoked_at: datetime | None,
    expires_at: datetime | None,
    now: datetime,
) -> None:
    """Accept the key only if it matches its hash and is neither revoked nor expired."""
    if not hmac.compare_digest(hash_key(api_key), secret_hash):
        raise KeyRefused("unknown API key")
    if revoked_at is not None and revoked_at <= now:
        raise KeyRefused("this API key has been revoked")
    if expires_at is not None and expires_at <= now:
        raise KeyRefused("this API key has expired")


def derived_secret(*, signing_key: str, purpose: str, subject: str) -> str:
    """A secret for `purpose` (request signing, callbacks) bound to one key or subscription."""
    message = f"{purpose}/{subject}".encode()
    return hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()
