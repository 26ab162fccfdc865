"""Callback API models: registration and the delivery log."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.intake.reports.schemas import PRINTABLE


class CallbackRegister(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, pattern=PRINTABLE)


class CallbackPublic(BaseModel):
    subscription_id: str
    url: str
    created_at: datetime


class CallbackRegistered(CallbackPublic):
    """Shown once: the secret that signs every callback to this URL."""

    signing_secret: str


class AttemptPublic(BaseModel):
    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


class DeliveryPublic(BaseModel):
    delivery_id: uuid.UUID
    incident_id: uuid.UUID
    event_id: str
    status: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    payload: dict[str, Any]
    attempt_log: list[AttemptPublic]
