"""What makes two reports the same request, and which open case a new report belongs to. Pure."""

import hashlib
import hmac
import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.intake.reports.schemas import IncidentCreate

REPORT_ID_NAMESPACE = uuid.UUID("0c1d7a52-31f4-4b8e-9a4e-696e74616b65")


class IdempotencyConflict(Exception):
    """The same idempotency key or external id came with a different request (409)."""


@dataclass(frozen=True)
class Identity:
    """What names one report for its integrator: an Idempotency-Key and/or an external id."""

    integrator_id: str
    idempotency_key: str | None
    source_system: str | None
    external_id: str | None

    def report_id(self) -> uuid.UUID:
        """Deterministic, so a retried request after a crash republishes the same event id."""
        name = "\x1f".join(
            (
                self.integrator_id,
                self.idempotency_key or "",
                self.source_system or "",
                self.external_id or "",
            )
        )
        return uuid.uuid5(REPORT_ID_NAMESPACE, name)


def identity_of(
    report: IncidentCreate, *, integrator_id: str, idempotency_key: str | None
) -> Identity | None:
    """None when nothing identifies the report: then every request is a new report."""
    if idempotency_key is None and report.external_id is None:
        return None
    return Identity(
        integrator_id=integrator_id,
        idempotency_key=idempotency_key,
        source_system=report.source_system if report.external_id else None,
        external_id=report.external_id,
    )


def fingerprint(report: IncidentCreate, *, key: str) -> str:
    """A keyed digest of the request's content: equal requests, equal fingerprints.

    Keyed, because the content holds a phone number that a plain hash would let anyone
    with the rest of the request recover by trying every number.
    """
    canonical = json.dumps(
        report.model_dump(mode="json", exclude_none=True), sort_keys=True, ensure_ascii=False
    )
    return hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def check_same_request(*, stored: str, presented: str) -> None:
    """A replay must carry the same content as the request that used the key first."""
    if not hmac.compare_digest(stored, presented):
        raise IdempotencyConflict(
            "this idempotency key or external id was already used for a different report"
        )


@dataclass(slots=True)
class Claim:
    """A report as intake records it: its owner, identity, the case it opens or joins, a lease.

    A plain value (not a table model): it is built on every request, so it must be cheap. Not
    frozen for that reason too: a frozen dataclass sets each of its 15 fields through
    `object.__setattr__`, four times the cost of the plain constructor. Nothing changes it.
    """

    report_id: uuid.UUID
    incident_id: uuid.UUID
    merged: bool
    integrator_id: str
    key_id: str
    channel: str
    category: str
    source_system: str | None
    external_id: str | None
    idempotency_key: str | None
    fingerprint: str
    lat: float | None
    lon: float | None
    created_at: datetime
    lease_until: datetime


@dataclass(frozen=True)
class OpenCase:
    """An open case near a new report, as the geo index knows it."""

    incident_id: uuid.UUID
    distance_m: float
    reported_at: datetime


def case_to_join(
    candidates: Sequence[OpenCase], *, now: datetime, radius_m: float, window: timedelta
) -> uuid.UUID | None:
    """The nearest open case within the radius that was reported within the window, if any."""
    eligible = [
        case
        for case in candidates
        if case.distance_m <= radius_m and now - window <= case.reported_at <= now + window
    ]
    if not eligible:
        return None
    return min(eligible, key=lambda case: (case.distance_m, case.reported_at)).incident_id


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine), as Redis computes it."""
    radius = 6_372_797.560856  # the Earth radius Redis uses for GEO commands
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))
