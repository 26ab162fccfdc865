"""Status callbacks: what is sent, how it is signed, when a failed delivery is tried again. Pure."""

import ipaddress
import json
import uuid
from typing import Any
from urllib.parse import urlsplit

from services.common import envelope, events
from services.intake import statuses

DELIVERY_NAMESPACE = uuid.UUID("4f6c2b8e-9d1a-4c3e-8b7f-63616c6c6261")
SIGNING_PURPOSE = "callback-signing"


class UnacceptableUrl(ValueError):
    """A callback URL we will not call (422)."""


def check_url(url: str, *, allow_private: bool) -> str:
    """http(s) only; loopback, private and link-local addresses only when allowed (tests).

    Names are not resolved here, so a DNS name pointing inward is not caught: operators who
    need that protection put an egress proxy in front of intake.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnacceptableUrl("the callback URL must be http(s) with a host")
    if parts.username or parts.password:
        raise UnacceptableUrl("the callback URL must not carry credentials")
    host = parts.hostname
    if not allow_private:
        if host == "localhost" or host.endswith(".localhost"):
            raise UnacceptableUrl("the callback URL must not point at this machine")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return url
        if not address.is_global:
            raise UnacceptableUrl("the callback URL must be a public address")
    return url


def delivery_id(*, integrator_id: str, event_id: str) -> uuid.UUID:
    """One delivery per integrator and event, however often the event is consumed."""
    return uuid.uuid5(DELIVERY_NAMESPACE, f"{integrator_id}/{event_id}")


def payload(
    event: envelope.CloudEvent, *, delivery: uuid.UUID, reports: list[dict[str, Any]]
) -> dict[str, Any]:
    """The JSON body of one status callback; `reports` are the integrator's reports of the case."""
    status = events.status_after(event.data)
    assert status is not None
    return {
        "delivery_id": str(delivery),
        "event_id": event.id,
        "event_type": event.type,
        "incident_id": str(event.data.incident_id),
        "status": status.value,
        "open311_status": statuses.open311_status(status),
        "status_note": statuses.note_for_event(event.data),
        "occurred_at": event.data.occurred_at.isoformat(),
        "reports": reports,
    }


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def retry_delay_s(attempts: int, *, base_s: float, max_s: float) -> float:
    """Exponential backoff after the n-th failed attempt: base, 2·base, 4·base, … capped."""
    return min(max_s, base_s * 2 ** max(0, attempts - 1))


def is_delivered(status_code: int | None) -> bool:
    """Only a 2xx answer counts as delivered."""
    return status_code is not None and 200 <= status_code < 300


def outcome(*, attempts: int, status_code: int | None, max_attempts: int) -> str:
    """The delivery's state after an attempt."""
    if is_delivered(status_code):
        return "delivered"
    return "failed" if attempts >= max_attempts else "pending"
