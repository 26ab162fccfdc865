"""People's tokens: only ours, only unexpired, only EdDSA with a known key id."""

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from services.common import auth, keys

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
LEADER = auth.Principal("P001", auth.Role.GRID_LEADER, "P001", "G01")


def signed(directory: Path, *, ttl: timedelta = timedelta(minutes=15), now: datetime = NOW) -> str:
    kid, key_file = keys.new_key(directory)
    _, key = keys.load_signing_key(key_file)
    return auth.issue(LEADER, signing_key=key, kid=kid, now=now, ttl=ttl)


def test_a_token_we_signed_names_its_principal(tmp_path: Path) -> None:
    token = signed(tmp_path, now=datetime.now(UTC))
    assert auth.verify(token, keys=auth.KeySet(tmp_path / keys.JWKS_NAME)) == LEADER


def test_an_expired_token_is_refused(tmp_path: Path) -> None:
    token = signed(tmp_path, now=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(auth.InvalidToken, match="expired"):
        auth.verify(token, keys=auth.KeySet(tmp_path / keys.JWKS_NAME))


def test_a_token_signed_by_another_key_is_refused(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    keys.new_key(ours)
    token = signed(theirs, now=datetime.now(UTC))
    with pytest.raises(auth.InvalidToken, match="unknown key"):
        auth.verify(token, keys=auth.KeySet(ours / keys.JWKS_NAME))


def test_alg_none_is_refused(tmp_path: Path) -> None:
    keys.new_key(tmp_path)
    kid = json.loads((tmp_path / keys.JWKS_NAME).read_text())["keys"][0]["kid"]

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    claims = {
        "sub": "P001",
        "role": "committee",
        "iss": "gridloop",
        "aud": "gridloop",
        "iat": int(datetime.now(UTC).timestamp()),
        "exp": 2_000_000_000,
    }
    unsigned = f"{part({'alg': 'none', 'kid': kid})}.{part(claims)}."
    with pytest.raises(auth.InvalidToken, match="accepted algorithm"):
        auth.verify(unsigned, keys=auth.KeySet(tmp_path / keys.JWKS_NAME))


def test_a_forged_role_breaks_the_signature(tmp_path: Path) -> None:
    token = signed(tmp_path, now=datetime.now(UTC))
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "committee"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(auth.InvalidToken, match="Signature"):
        auth.verify(
            f"{header}.{forged_payload}.{signature}", keys=auth.KeySet(tmp_path / keys.JWKS_NAME)
        )


def test_after_rotation_old_and_new_tokens_both_verify_until_the_old_key_is_dropped(
    tmp_path: Path,
) -> None:
    old = signed(tmp_path, now=datetime.now(UTC))
    new = signed(tmp_path, now=datetime.now(UTC))
    key_set = auth.KeySet(tmp_path / keys.JWKS_NAME)
    assert auth.verify(old, keys=key_set) == auth.verify(new, keys=key_set)
    keys.drop_key(tmp_path, jwt.get_unverified_header(old)["kid"])
    with pytest.raises(auth.InvalidToken, match="unknown key"):
        auth.verify(old, keys=key_set)
    assert auth.verify(new, keys=key_set) == LEADER
