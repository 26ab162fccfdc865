"""People's identities: short-lived JWTs signed by dispatch (Ed25519), verified everywhere with
the public keys alone.

The key set (JWKS) may hold several public keys: when the signing key is rotated, the old
public key stays in the set until the tokens it signed have expired.
"""

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

logger = logging.getLogger(__name__)
ALGORITHM = "EdDSA"
ISSUER = "gridloop"
AUDIENCE = "gridloop"


class Role(StrEnum):
    MEMBER = "member"
    GRID_LEADER = "grid_leader"
    COMMITTEE = "committee"
    OPERATOR = "operator"
    VIEWER = "viewer"
    SERVICE = "service"  # another gridloop service (intake reading the ledger), never a person


GUARDED: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid token: sign in at dispatch (POST /v1/auth/token)"},
    403: {"description": "your role may not do this"},
}


class InvalidToken(Exception):
    """The bearer token is missing, malformed, expired, or not signed by one of our keys."""


@dataclass(frozen=True)
class Principal:
    """The person behind a request, as their token says."""

    username: str
    role: Role
    member_id: str | None = None
    grid_id: str | None = None


class KeySet:
    """Public keys by key id, reloaded when the JWKS file changes (rotation without restart)."""

    def __init__(self, jwks_file: Path) -> None:
        self._file = jwks_file
        self._loaded_at: tuple[int, int] | None = None
        self._keys: dict[str, Any] = {}

    def key(self, kid: str) -> Any:
        """The public key with this id; InvalidToken when there is none."""
        self._reload_if_changed()
        try:
            return self._keys[kid]
        except KeyError as missing:
            raise InvalidToken("token signed by an unknown key") from missing

    def _reload_if_changed(self) -> None:
        status = self._file.stat()
        stamp = (status.st_mtime_ns, status.st_size)
        if stamp == self._loaded_at:
            return
        document = json.loads(self._file.read_text())
        self._keys = {
            jwk.key_id: jwk.key for jwk in jwt.PyJWKSet.from_dict(document).keys if jwk.key_id
        }
        self._loaded_at = stamp
        logger.info("loaded %d public keys", len(self._keys))


def key_set(jwks_file: Path | None) -> KeySet:
    """The public keys every service verifies tokens with; AUTH_JWKS_FILE must be set."""
    if jwks_file is None:
        raise RuntimeError(
            "set AUTH_JWKS_FILE (create it with: python -m services.common.keys new --dir DIR)"
        )
    return KeySet(jwks_file)


def verify(token: str, *, keys: KeySet, now: datetime | None = None) -> Principal:
    """Check signature, algorithm, issuer, audience and expiry; return who the token names."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidToken(f"malformed token: {error}") from error
    if header.get("alg") != ALGORITHM or not header.get("kid"):
        raise InvalidToken("token not signed with an accepted algorithm and key id")
    try:
        claims = jwt.decode(
            token,
            key=keys.key(header["kid"]),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "role"]},
        )
        return Principal(
            username=claims["sub"],
            role=Role(claims["role"]),
            member_id=claims.get("member_id"),
            grid_id=claims.get("grid_id"),
        )
    except (jwt.PyJWTError, ValueError) as error:
        raise InvalidToken(str(error)) from error


def issue(
    principal: Principal, *, signing_key: Any, kid: str, now: datetime, ttl: timedelta
) -> str:
    """A signed access token for `principal`, valid for `ttl`."""
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": principal.username,
        "role": principal.role.value,
        "member_id": principal.member_id,
        "grid_id": principal.grid_id,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(claims, signing_key, algorithm=ALGORITHM, headers={"kid": kid})


def bearer(keys_of: Callable[[Request], KeySet]) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency: the verified principal of the request's bearer token, or 401."""
    scheme = HTTPBearer(auto_error=False)

    async def principal(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(scheme)],
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
        try:
            return verify(credentials.credentials, keys=keys_of(request))
        except InvalidToken as refusal:
            raise HTTPException(
                401, f"invalid token: {refusal}", headers={"WWW-Authenticate": "Bearer"}
            ) from refusal

    return principal


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A check that the principal has one of `roles` (403 otherwise)."""

    def check(principal: Principal) -> Principal:
        if principal.role not in roles:
            raise HTTPException(403, "your role may not do this")
        return principal

    return check
