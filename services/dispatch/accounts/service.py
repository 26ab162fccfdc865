"""Accounts and sign-in: argon2id password hashes, short access tokens, one-use refresh tokens."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.common import auth
from services.dispatch.adapters.tables import AccountRow, MemberRow, RefreshTokenRow


def make_hasher(*, time_cost: int, memory_kib: int) -> PasswordHasher:
    """argon2id with the configured cost (lighter only for demos and tests)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


ROLE_OF_MEMBER = {"grid_leader": auth.Role.GRID_LEADER, "committee": auth.Role.COMMITTEE}


class SignInRefused(Exception):
    """Wrong credentials, a disabled account, or a refresh token that is spent or expired."""


class RefreshTokenReused(SignInRefused):
    """A spent refresh token came back: someone may have stolen it."""

    def __init__(self, username: str) -> None:
        super().__init__("refresh token already used: every session of this account is revoked")
        self.username = username


@dataclass(frozen=True)
class Signer:
    kid: str
    key: Any
    access_ttl: timedelta
    refresh_ttl: timedelta


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_in: int


def role_for_member(member: MemberRow) -> auth.Role:
    """Grid leaders and committee members sign in with their role; everyone else as a member."""
    return ROLE_OF_MEMBER.get(member.role, auth.Role.MEMBER)


def new_account(
    *,
    username: str,
    password: str,
    role: auth.Role,
    member_id: str | None,
    now: datetime,
    hasher: PasswordHasher,
) -> AccountRow:
    """An account with its password hashed (argon2id)."""
    return AccountRow(
        username=username,
        password_hash=hasher.hash(password),
        role=role.value,
        member_id=member_id,
        created_at=now,
    )


async def sign_in(
    *,
    session: AsyncSession,
    username: str,
    password: str,
    signer: Signer,
    now: datetime,
    hasher: PasswordHasher,
) -> Tokens:
    """A person signs in with a password: an access token and a refresh token."""
    account = await _checked(session=session, username=username, password=password, hasher=hasher)
    if account.role == auth.Role.SERVICE:
        raise SignInRefused("service accounts use the client_credentials grant")
    return await _issue(session=session, account=account, signer=signer, now=now)


async def sign_in_service(
    *,
    session: AsyncSession,
    client_id: str,
    client_secret: str,
    signer: Signer,
    now: datetime,
    hasher: PasswordHasher,
) -> Tokens:
    """A service signs in with its client credentials: an access token only, no refresh."""
    account = await _checked(
        session=session, username=client_id, password=client_secret, hasher=hasher
    )
    if account.role != auth.Role.SERVICE:
        raise SignInRefused("wrong client id or secret")
    access = auth.issue(
        auth.Principal(username=account.username, role=auth.Role.SERVICE),
        signing_key=signer.key,
        kid=signer.kid,
        now=now,
        ttl=signer.access_ttl,
    )
    return Tokens(access, None, int(signer.access_ttl.total_seconds()))


async def _checked(
    *, session: AsyncSession, username: str, password: str, hasher: PasswordHasher
) -> AccountRow:
    """The enabled account whose password this is; SignInRefused otherwise."""
    account = await session.get(AccountRow, username)
    if account is None or account.disabled:
        hasher.hash(password)  # the same work either way, so timing does not reveal accounts
        raise SignInRefused("wrong username or password")
    try:
        hasher.verify(account.password_hash, password)
    except (VerifyMismatchError, InvalidHashError) as mismatch:
        raise SignInRefused("wrong username or password") from mismatch
    return account


async def refresh(
    *, session: AsyncSession, refresh_token: str, signer: Signer, now: datetime
) -> Tokens:
    """Trade a refresh token for new tokens; a token used twice revokes all of the account's."""
    stored = await session.get(RefreshTokenRow, _digest(refresh_token), with_for_update=True)
    if stored is None or stored.expires_at <= now:
        raise SignInRefused("refresh token unknown or expired")
    if stored.revoked_at is not None:
        raise RefreshTokenReused(stored.username)
    stored.revoked_at = now
    session.add(stored)
    account = await session.get(AccountRow, stored.username)
    if account is None or account.disabled:
        raise SignInRefused("account disabled")
    return await _issue(session=session, account=account, signer=signer, now=now)


async def revoke(*, session: AsyncSession, refresh_token: str, now: datetime) -> None:
    """Sign out: the refresh token can no longer be used."""
    await session.execute(
        update(RefreshTokenRow)
        .where(
            col(RefreshTokenRow.token_hash) == _digest(refresh_token),
            col(RefreshTokenRow.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )


async def revoke_all(*, session: AsyncSession, username: str, now: datetime) -> None:
    """Every refresh token of the account stops working."""
    await session.execute(
        update(RefreshTokenRow)
        .where(col(RefreshTokenRow.username) == username, col(RefreshTokenRow.revoked_at).is_(None))
        .values(revoked_at=now)
    )


async def _issue(
    *, session: AsyncSession, account: AccountRow, signer: Signer, now: datetime
) -> Tokens:
    grid_id = None
    if account.member_id:
        member = await session.get(MemberRow, account.member_id)
        grid_id = member.grid_id if member else None
    principal = auth.Principal(
        username=account.username,
        role=auth.Role(account.role),
        member_id=account.member_id,
        grid_id=grid_id,
    )
    access = auth.issue(
        principal, signing_key=signer.key, kid=signer.kid, now=now, ttl=signer.access_ttl
    )
    refresh_token = secrets.token_urlsafe(32)
    session.add(
        RefreshTokenRow(
            token_hash=_digest(refresh_token),
            username=account.username,
            expires_at=now + signer.refresh_ttl,
        )
    )
    return Tokens(access, refresh_token, int(signer.access_ttl.total_seconds()))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def demo_accounts(
    *, session: AsyncSession, now: datetime, hasher: PasswordHasher
) -> list[AccountRow]:
    """Accounts for the demo community: every member, an operator, a viewer, and intake's
    service account (client id `intake`), with which intake reads the ledger.

    Passwords are `demo-<username>`: for demonstrations only, never for a real community.
    """
    members = (await session.execute(select(MemberRow))).scalars().all()
    people = [(m.id, role_for_member(m), m.id) for m in members]
    people += [("operator", auth.Role.OPERATOR, None), ("viewer", auth.Role.VIEWER, None)]
    people += [("intake", auth.Role.SERVICE, None)]
    return [
        new_account(
            username=username,
            password=f"demo-{username}",
            role=role,
            member_id=member_id,
            now=now,
            hasher=hasher,
        )
        for username, role, member_id in people
    ]
