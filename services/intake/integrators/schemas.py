"""Admin API models for integrator keys; secrets appear once, in the answer that issues them."""

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.common.events import Channel
from services.intake.integrators.keys import Operation
from services.intake.reports.schemas import PRINTABLE

INTEGRATOR_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    integrator_id: str = Field(pattern=INTEGRATOR_PATTERN)
    channels: list[Channel] = Field(min_length=1)
    operations: list[Operation] = Field(min_length=1)
    label: str | None = Field(default=None, max_length=200, pattern=PRINTABLE)
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)
    require_signature: bool = False
    # With its offset: a bare local time is ambiguous, and extreme offsets overflow storage.
    expires_at: AwareDatetime | None = None


class KeyRotate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_s: int | None = Field(
        default=None,
        ge=0,
        le=90 * 86_400,
        description="the old key stays valid this long; unset: until it is revoked",
    )


class KeyPublic(BaseModel):
    key_id: str
    integrator_id: str
    label: str | None
    channels: list[Channel]
    operations: list[Operation]
    rate_limit_per_minute: int | None
    require_signature: bool
    rotated_from: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyIssued(KeyPublic):
    """Shown once: `api_key` and `signing_secret` are not stored and cannot be shown again."""

    api_key: str
    signing_secret: str
