"""Integrator use cases: authenticate a request's key (and signature), and manage keys.

Key records, with the principal each one makes, are cached for a few seconds per process, so
the database is not asked on every request; a revocation reaches every replica within that
time, and this one at once.
"""

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common.events import Channel
from services.intake.adapters.tables import IntegratorKeyRow
from services.intake.integrators import keys, repository, signatures
from services.intake.integrators.keys import Operation, Principal
from services.intake.integrators.rate_limit import RateLimiter
from services.intake.integrators.schemas import KeyCreate, KeyIssued, KeyPublic, KeyRotate

SIGNING_PURPOSE = "request-signing"


class KeyNotFound(Exception):
    """No key with that id (404)."""


@dataclass(frozen=True)
class KnownKey:
    """What authenticating a key needs of its record, and the principal the key makes."""

    secret_hash: str
    revoked_at: datetime | None
    expires_at: datetime | None
    principal: Principal


@dataclass
class KeyCache:
    """Known keys for `ttl_s`; concurrent misses of one key share a single database read."""

    ttl_s: float
    _entries: dict[str, tuple[KnownKey | None, float]] = field(default_factory=dict)
    _loading: dict[str, asyncio.Future[KnownKey | None]] = field(default_factory=dict)

    async def fetch(
        self, key_id: str, *, load: Callable[[str], Awaitable[KnownKey | None]]
    ) -> KnownKey | None:
        entry = self._entries.get(key_id)
        if entry is not None and entry[1] >= time.monotonic():
            return entry[0]
        pending = self._loading.get(key_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[KnownKey | None] = asyncio.get_running_loop().create_future()
        self._loading[key_id] = future
        try:
            row = await load(key_id)
        except Exception as error:
            future.set_exception(error)
            future.exception()  # retrieved here, so waiters alone see it
            raise
        finally:
            self._loading.pop(key_id, None)
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[key_id] = (row, time.monotonic() + self.ttl_s)
        future.set_result(row)
        return row

    def drop(self, key_id: str) -> None:
        self._entries.pop(key_id, None)


@dataclass(frozen=True)
class Dependencies:
    sessions: async_sessionmaker[AsyncSession]
    rate_limiter: RateLimiter
    cache: KeyCache
    signing_key: str
    signature_window_s: int
    default_rate_limit: int


async def authenticate(api_key: str, *, now: datetime, deps: Dependencies) -> Principal:
    """The principal behind a presented key; KeyRefused when it is not a valid one."""
    key_id = keys.key_id_of(api_key)
    known = await deps.cache.fetch(key_id, load=functools.partial(_load_key, deps=deps))
    if known is None:
        raise keys.KeyRefused("unknown API key")
    keys.verify(
        api_key,
        secret_hash=known.secret_hash,
        revoked_at=known.revoked_at,
        expires_at=known.expires_at,
        now=now,
    )
    return known.principal


async def admit(principal: Principal, *, operation: Operation, deps: Dependencies) -> None:
    """Scope first, then the key's rate limit."""
    principal.require(operation)
    if principal.unrestricted:
        return
    await deps.rate_limiter.hit(
        principal.key_id,
        limit_per_minute=principal.rate_limit_per_minute or deps.default_rate_limit,
        now_s=time.time(),
    )


def check_signature(
    principal: Principal,
    *,
    method: str,
    path: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    deps: Dependencies,
) -> None:
    """Verify a signed request; unsigned requests pass only for keys that do not require it."""
    if signature is None and timestamp is None and not principal.require_signature:
        return
    signatures.verify(
        message=signatures.request_message(
            timestamp=timestamp or "", method=method, path=path, body=body
        ),
        timestamp=timestamp,
        signature=signature,
        secret=signing_secret(principal.key_id, deps=deps),
        now_s=time.time(),
        window_s=deps.signature_window_s,
    )


def signing_secret(key_id: str, *, deps: Dependencies) -> str:
    """The request-signing secret of a key (derived, never stored)."""
    return keys.derived_secret(
        signing_key=deps.signing_key, purpose=SIGNING_PURPOSE, subject=key_id
    )


async def create_key(
    request: KeyCreate, *, now: datetime, deps: Dependencies, rotated_from: str | None = None
) -> KeyIssued:
    """Issue a key; the clear key and its signing secret are in this answer only."""
    issued = keys.issue()
    row = IntegratorKeyRow(
        key_id=issued.key_id,
        integrator_id=request.integrator_id,
        secret_hash=issued.secret_hash,
        label=request.label,
        channels=[channel.value for channel in request.channels],
        operations=[operation.value for operation in request.operations],
        rate_limit_per_minute=request.rate_limit_per_minute,
        require_signature=request.require_signature,
        rotated_from=rotated_from,
        created_at=now,
        expires_at=request.expires_at,
    )
    async with deps.sessions() as session, session.begin():
        await repository.add(session=session, key=row)
    return KeyIssued(
        **public(row).model_dump(),
        api_key=issued.api_key,
        signing_secret=signing_secret(issued.key_id, deps=deps),
    )


async def rotate_key(
    key_id: str, request: KeyRotate, *, now: datetime, deps: Dependencies
) -> KeyIssued:
    """A new key with the same integrator and scopes; the old one lives on for the grace time."""
    async with deps.sessions() as session:
        old = await repository.get(session=session, key_id=key_id)
    if old is None or old.revoked_at is not None:
        raise KeyNotFound(key_id)
    issued = await create_key(
        KeyCreate(
            integrator_id=old.integrator_id,
            channels=[Channel(channel) for channel in old.channels],
            operations=[Operation(operation) for operation in old.operations],
            label=old.label,
            rate_limit_per_minute=old.rate_limit_per_minute,
            require_signature=old.require_signature,
        ),
        now=now,
        deps=deps,
        rotated_from=key_id,
    )
    if request.grace_s is not None:
        async with deps.sessions() as session, session.begin():
            await repository.expire(
                session=session, key_id=key_id, at=now + timedelta(seconds=request.grace_s)
            )
        deps.cache.drop(key_id)
    return issued


async def revoke_key(key_id: str, *, now: datetime, deps: Dependencies) -> KeyPublic:
    """Revoke a key at once."""
    async with deps.sessions() as session, session.begin():
        row = await repository.revoke(session=session, key_id=key_id, at=now)
    if row is None:
        raise KeyNotFound(key_id)
    deps.cache.drop(key_id)
    return public(row)


async def list_keys(*, integrator_id: str | None, deps: Dependencies) -> list[KeyPublic]:
    """Every key (never its secret)."""
    async with deps.sessions() as session:
        rows = await repository.all_keys(session=session, integrator_id=integrator_id)
    return [public(row) for row in rows]


def public(row: IntegratorKeyRow) -> KeyPublic:
    """A key record without anything secret."""
    return KeyPublic.model_validate(row.model_dump(exclude={"secret_hash"}))


async def _load_key(key_id: str, *, deps: Dependencies) -> KnownKey | None:
    async with deps.sessions() as session:
        row = await repository.get(session=session, key_id=key_id)
    if row is None:
        return None
    return KnownKey(
        secret_hash=row.secret_hash,
        revoked_at=row.revoked_at,
        expires_at=row.expires_at,
        principal=_principal(row),
    )


def _principal(row: IntegratorKeyRow) -> Principal:
    return Principal(
        integrator_id=row.integrator_id,
        key_id=row.key_id,
        channels=frozenset(Channel(channel) for channel in row.channels),
        operations=frozenset(Operation(operation) for operation in row.operations),
        rate_limit_per_minute=row.rate_limit_per_minute,
        require_signature=row.require_signature,
    )
