"""Intake settings, from INTAKE_* environment variables plus the shared infrastructure ones."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import InfraSettings


class IntakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8001
    publish_timeout_s: float = 5.0
    retry_after_s: int = 5
    max_body_bytes: int = 65_536
    infra: InfraSettings = Field(default_factory=InfraSettings)


def get_settings() -> IntakeSettings:
    """Read the settings from the environment (never at import time)."""
    return IntakeSettings()
