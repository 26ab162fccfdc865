"""Keys verify only against their hash and only while valid; signatures only when fresh."""

from datetime import UTC, datetime, timedelta

import pytest

from services.common.events import Channel
from services.intake.integrators import keys, signatures
from services.intake.integrators.keys import Operation, Principal

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def test_an_issued_key_verifies_against_its_hash_and_names_its_id() -> None:
    issued = keys.issue()
    keys.verify(
        issued.api_key, secret_hash=issued.secret_hash, revoked_at=None, expires_at=None, now=NOW
    )
    assert keys.key_id_of(issued.api_key) == issued.key_id
    assert issued.api_key not in issued.secret_hash


@pytest.mark.parametrize(
    ("revoked_at", "expires_at", "says"),
    [(NOW - timedelta(seconds=1), None, "revoked"), (None, NOW, "expired")],
)
def test_revoked_and_expired_keys_are_refused(
    revoked_at: datetime | None, expires_at: datetime | None, says: str
) -> None:
    issued = keys.issue()
    with pytest.raises(keys.KeyRefused, match=says):
        keys.verify(
            issued.api_key,
            secret_hash=issued.secret_hash,
            revoked_at=revoked_at,
            expires_at=expires_at,
            now=NOW,
        )


def test_a_key_that_is_not_ours_or_altered_is_refused() -> None:
    issued = keys.issue()
    with pytest.raises(keys.KeyRefused):
        keys.key_id_of("Bearer something")
    with pytest.raises(keys.KeyRefused):
        keys.verify(
            issued.api_key + "x",
            secret_hash=issued.secret_hash,
            revoked_at=None,
            expires_at=None,
            now=NOW,
        )


def test_a_principal_acts_only_within_its_channels_and_operations() -> None:
    hotline = Principal(
        integrator_id="hotline",
        key_id="k",
        channels=frozenset({Channel.HOTLINE}),
        operations=frozenset({Operation.REPORT}),
    )
    hotline.require(Operation.REPORT)
    hotline.require_channel(Channel.HOTLINE)
    with pytest.raises(keys.OutOfScope):
        hotline.require(Operation.CALLBACKS)
    with pytest.raises(keys.OutOfScope):
        hotline.require_channel(Channel.CAMERA)


def test_derived_secrets_differ_by_purpose_subject_and_signing_key() -> None:
    base = keys.derived_secret(signing_key="s", purpose="request-signing", subject="k1")
    assert base == keys.derived_secret(signing_key="s", purpose="request-signing", subject="k1")
    assert base != keys.derived_secret(signing_key="s", purpose="callback-signing", subject="k1")
    assert base != keys.derived_secret(signing_key="s", purpose="request-signing", subject="k2")
    assert base != keys.derived_secret(signing_key="t", purpose="request-signing", subject="k1")


def sign_request(timestamp: str, body: bytes = b"{}") -> str:
    message = signatures.request_message(
        timestamp=timestamp, method="post", path="/v1/incidents", body=body
    )
    return signatures.sign(message, secret="secret")


def verify_request(timestamp: str, signature: str, *, now_s: float, body: bytes = b"{}") -> None:
    signatures.verify(
        message=signatures.request_message(
            timestamp=timestamp, method="POST", path="/v1/incidents", body=body
        ),
        timestamp=timestamp,
        signature=signature,
        secret="secret",
        now_s=now_s,
        window_s=300,
    )


def test_a_fresh_correct_signature_passes() -> None:
    verify_request("1000", sign_request("1000"), now_s=1100)


def test_a_signature_outside_the_window_is_refused_even_when_correct() -> None:
    with pytest.raises(signatures.SignatureRefused, match="window"):
        verify_request("1000", sign_request("1000"), now_s=1301)


def test_a_signature_over_another_body_is_refused() -> None:
    with pytest.raises(signatures.SignatureRefused, match="does not match"):
        verify_request("1000", sign_request("1000", b'{"a": 1}'), now_s=1000)


def test_a_missing_or_malformed_timestamp_is_refused() -> None:
    with pytest.raises(signatures.SignatureRefused):
        verify_request("", sign_request("1000"), now_s=1000)
    with pytest.raises(signatures.SignatureRefused, match="unix seconds"):
        verify_request("yesterday", sign_request("1000"), now_s=1000)
