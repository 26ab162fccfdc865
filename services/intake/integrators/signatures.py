"""HMAC-SHA256 signatures with a timestamp, for integrators' requests and our callbacks to them.

The signed text is `<unix seconds>.<method>.<path and query>.<body>` for requests and
`<unix seconds>.<body>` for callbacks; the signature header reads `v1=<hex digest>`. A timestamp
outside the window is refused, so a captured request cannot be replayed later.
"""

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Gridloop-Timestamp"
SIGNATURE_HEADER = "X-Gridloop-Signature"
VERSION = "v1"


class SignatureRefused(Exception):
    """A missing, stale or wrong signature (401)."""


def request_message(*, timestamp: str, method: str, path: str, body: bytes) -> bytes:
    """The bytes a request signature covers."""
    return f"{timestamp}.{method.upper()}.{path}.".encode() + body


def callback_message(*, timestamp: str, body: bytes) -> bytes:
    """The bytes a callback signature covers."""
    return f"{timestamp}.".encode() + body


def sign(message: bytes, *, secret: str) -> str:
    """The signature header value for a message."""
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def verify(
    *,
    message: bytes,
    timestamp: str | None,
    signature: str | None,
    secret: str,
    now_s: float,
    window_s: int,
) -> None:
    """Refuse unless the signature matches and the timestamp is within the window of now."""
    if not timestamp or not signature:
        raise SignatureRefused(f"this key requires {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}")
    try:
        signed_at = int(timestamp)
    except ValueError as error:
        raise SignatureRefused(f"{TIMESTAMP_HEADER} must be unix seconds") from error
    if abs(now_s - signed_at) > window_s:
        raise SignatureRefused(f"the signature timestamp is outside the {window_s} s window")
    if not hmac.compare_digest(sign(message, secret=secret), signature.strip()):
        raise SignatureRefused("the request signature does not match")
