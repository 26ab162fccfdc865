"""Everyone who may knock: people of every role around one case, integrators, and forgeries."""

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt

from services.common import auth, keys
from services.dispatch import demo_community
from tests.support import tokens

COMMUNITY = demo_community.generate()
MEMBERS = {member.id: member for member in COMMUNITY.members}
LEADER_OF = {grid.id: grid.leader_id for grid in COMMUNITY.grids}
BAD_CREDENTIALS = ("anonymous", "expired", "forged", "alg_none")
INTEGRATORS = ("api_key", "api_key_other")
PEOPLE = (
    "member",
    "member_other",
    "leader",
    "leader_other",
    "committee",
    "operator",
    "viewer",
    "service",
)
EVERY_CALLER = BAD_CREDENTIALS + INTEGRATORS + PEOPLE


@dataclass(frozen=True)
class Case:
    """A case the callers are arranged around: its handler, grid and household."""

    incident_id: str
    household_id: str
    grid_id: str
    member_id: str

    @property
    def other_member(self) -> str:
        """A party member of the same grid who does not handle this case."""
        return next(
            m.id
            for m in COMMUNITY.members
            if m.grid_id == self.grid_id
            and m.id not in (self.member_id, LEADER_OF[self.grid_id])
            and m.role == "party_member"
        )

    @property
    def other_leader(self) -> str:
        """The leader of another grid."""
        return next(leader for grid, leader in LEADER_OF.items() if grid != self.grid_id)


def headers_of(
    case: Case,
    *,
    env: dict[str, str],
    api_keys: dict[str, str],
    service_token: str,
) -> dict[str, dict[str, str]]:
    """Request headers of every caller, as seen from `case`."""

    def person(member_id: str, role: auth.Role) -> dict[str, str]:
        grid = MEMBERS[member_id].grid_id
        return tokens.headers_for(env, member_id, role, member_id=member_id, grid_id=grid)

    return {
        "anonymous": {},
        "expired": tokens.headers_for(
            env,
            "C01",
            auth.Role.COMMITTEE,
            member_id="C01",
            now=datetime.now(UTC) - timedelta(hours=2),
        ),
        "forged": _forged(env),
        "alg_none": _unsigned(env),
        "api_key": {"X-API-Key": api_keys["api_key"]},
        "api_key_other": {"X-API-Key": api_keys["api_key_other"]},
        "member": person(case.member_id, auth.Role.MEMBER),
        "member_other": person(case.other_member, auth.Role.MEMBER),
        "leader": person(LEADER_OF[case.grid_id], auth.Role.GRID_LEADER),
        "leader_other": person(case.other_leader, auth.Role.GRID_LEADER),
        "committee": tokens.headers_for(env, "C01", auth.Role.COMMITTEE, member_id="C01"),
        "operator": tokens.headers_for(env, "operator", auth.Role.OPERATOR),
        "viewer": tokens.headers_for(env, "viewer", auth.Role.VIEWER),
        "service": {"Authorization": f"Bearer {service_token}"},
    }


def service_token(dispatch_url: str) -> str:
    """Intake's service account signs in with its client credentials."""
    form = {
        "grant_type": "client_credentials",
        "client_id": "intake",
        "client_secret": "demo-intake",
    }
    response = httpx.post(f"{dispatch_url}/v1/auth/token", data=form)
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json() or response.json()["refresh_token"] is None
    return str(response.json()["access_token"])


def _committee_claims() -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "iss": auth.ISSUER,
        "aud": auth.AUDIENCE,
        "sub": "C01",
        "role": auth.Role.COMMITTEE.value,
        "member_id": "C01",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=15)).timestamp()),
    }


def _forged(env: dict[str, str]) -> dict[str, str]:
    """A committee token carrying our key id but signed by a key we never published."""
    kid, _ = keys.load_signing_key(Path(env["AUTH_SIGNING_KEY_FILE"]))
    with tempfile.TemporaryDirectory(prefix="gridloop-stranger-") as directory:
        _, stranger_file = keys.new_key(Path(directory))
        _, stranger = keys.load_signing_key(stranger_file)
    token = jwt.encode(
        _committee_claims(), stranger, algorithm=auth.ALGORITHM, headers={"kid": kid}
    )
    return {"Authorization": f"Bearer {token}"}


def _unsigned(env: dict[str, str]) -> dict[str, str]:
    """A committee token with `alg: none` and no signature."""
    kid, _ = keys.load_signing_key(Path(env["AUTH_SIGNING_KEY_FILE"]))
    token = jwt.encode(_committee_claims(), None, algorithm="none", headers={"kid": kid})
    return {"Authorization": f"Bearer {token}"}
