"""Intake's own tables: integrator keys, reports (idempotency and ownership) and callbacks."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, text
from sqlmodel import Field, SQLModel


def _timestamp(nullable: bool = True) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable)


class IntegratorKeyRow(SQLModel, table=True):
    """An API key: only its SHA-256 verifier is stored, never the key."""

    __tablename__ = "intake_integrator_key"

    key_id: str = Field(primary_key=True)
    integrator_id: str = Field(index=True)
    secret_hash: str
    label: str | None = None
    channels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    operations: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rate_limit_per_minute: int | None = None
    require_signature: bool = False
    rotated_from: str | None = None
    created_at: datetime = Field(sa_column=_timestamp(nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=_timestamp())
    revoked_at: datetime | None = Field(default=None, sa_column=_timestamp())


class ReportRow(SQLModel, table=True):
    """One accepted report: its idempotency identity, the case it opened or joined, its owner.

    `pending` while the event is on its way to the broker (the lease lets a retry take over
    after a crash); `accepted` once the broker has it. No personal data.
    """

    __tablename__ = "intake_report"
    __table_args__ = (
        Index(
            "intake_report_idempotency_key",
            "integrator_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key is not null"),
        ),
        Index(
            "intake_report_external_id",
            "integrator_id",
            "source_system",
            "external_id",
            unique=True,
            postgresql_where=text("external_id is not null"),
        ),
    )

    report_id: uuid.UUID = Field(primary_key=True)
    incident_id: uuid.UUID = Field(index=True)
    merged: bool = False
    integrator_id: str = Field(index=True)
    key_id: str
    channel: str
    category: str
    source_system: str | None = None
    external_id: str | None = None
    idempotency_key: str | None = None
    fingerprint: str
    state: str = "pending"
    lat: float | None = None
    lon: float | None = None
    created_at: datetime = Field(sa_column=_timestamp(nullable=False))
    lease_until: datetime = Field(sa_column=_timestamp(nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=_timestamp())


class CallbackSubscriptionRow(SQLModel, table=True):
    """An integrator's callback URL; its signing secret is derived, not stored."""

    __tablename__ = "intake_callback_subscription"

    integrator_id: str = Field(primary_key=True)
    subscription_id: str
    url: str
    created_at: datetime = Field(sa_column=_timestamp(nullable=False))


class CallbackDeliveryRow(SQLModel, table=True):
    """One status change to deliver to one integrator: the outbox and the delivery log."""

    __tablename__ = "intake_callback_delivery"
    __table_args__ = (Index("intake_callback_due", "state", "next_attempt_at"),)

    delivery_id: uuid.UUID = Field(primary_key=True)
    integrator_id: str = Field(index=True)
    subscription_id: str
    url: str
    incident_id: uuid.UUID = Field(index=True)
    event_id: str
    status: str
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    state: str = "pending"
    attempts: int = 0
    created_at: datetime = Field(sa_column=_timestamp(nullable=False))
    next_attempt_at: datetime = Field(sa_column=_timestamp(nullable=False))
    delivered_at: datetime | None = Field(default=None, sa_column=_timestamp())
    last_status_code: int | None = None
    last_error: str | None = None


class CallbackAttemptRow(SQLModel, table=True):
    """Each try of a delivery, kept for the integrator's delivery log."""

    __tablename__ = "intake_callback_attempt"

    delivery_id: uuid.UUID = Field(primary_key=True)
    attempt: int = Field(primary_key=True)
    attempted_at: datetime = Field(sa_column=_timestamp(nullable=False))
    status_code: int | None = None
    error: str | None = None
    duration_ms: float


ALL_TABLES: list[type[SQLModel]] = [
    IntegratorKeyRow,
    ReportRow,
    CallbackSubscriptionRow,
    CallbackDeliveryRow,
    CallbackAttemptRow,
]
