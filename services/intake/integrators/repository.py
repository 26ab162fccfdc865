"""intake_integrator_key: keys by id, and their rotation and revocation."""

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake.adapters.tables import IntegratorKeyRow

T = IntegratorKeyRow.__table__  # type: ignore[attr-defined]


async def get(*, session: AsyncSession, key_id: str) -> IntegratorKeyRow | None:
    """One key record by its public id."""
    return await session.get(IntegratorKeyRow, key_id)


async def add(*, session: AsyncSession, key: IntegratorKeyRow) -> None:
    """Store a new key record."""
    session.add(key)


async def all_keys(*, session: AsyncSession, integrator_id: str | None) -> list[IntegratorKeyRow]:
    """Every key, or one integrator's, oldest first."""
    statement = select(IntegratorKeyRow).order_by(T.c.created_at)
    if integrator_id is not None:
        statement = statement.where(T.c.integrator_id == integrator_id)
    return list((await session.execute(statement)).scalars().all())


async def expire(*, session: AsyncSession, key_id: str, at: datetime) -> None:
    """Let a key run until `at` (a rotation's grace period), unless it ends sooner."""
    await session.execute(
        update(T)
        .where(T.c.key_id == key_id)
        .where((T.c.expires_at.is_(None)) | (T.c.expires_at > at))
        .values(expires_at=at)
    )


async def revoke(*, session: AsyncSession, key_id: str, at: datetime) -> IntegratorKeyRow | None:
    """Revoke a key now (once); None when there is no such key."""
    key = await get(session=session, key_id=key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = at
        session.add(key)
    return key
