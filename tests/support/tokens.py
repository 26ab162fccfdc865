"""Tokens for tests, signed with the run's own key (as dispatch would sign them)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.common import auth, keys


def headers_for(
    env: dict[str, str],
    username: str,
    role: auth.Role,
    *,
    member_id: str | None = None,
    grid_id: str | None = None,
    ttl: timedelta = timedelta(minutes=15),
    now: datetime | None = None,
) -> dict[str, str]:
    """Authorization headers carrying a token for this principal."""
    kid, key = keys.load_signing_key(Path(env["AUTH_SIGNING_KEY_FILE"]))
    token = auth.issue(
        auth.Principal(username, role, member_id, grid_id),
        signing_key=key,
        kid=kid,
        now=now or datetime.now(UTC),
        ttl=ttl,
    )
    return {"Authorization": f"Bearer {token}"}


def committee(env: dict[str, str]) -> dict[str, str]:
    """Headers of the community committee, who may read every case (an hour's token)."""
    return headers_for(env, "committee", auth.Role.COMMITTEE, ttl=timedelta(hours=1))
