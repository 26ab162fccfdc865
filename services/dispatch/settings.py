"""Dispatch settings, from DISPATCH_* environment variables plus the shared infrastructure ones."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import InfraSettings


class DispatchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISPATCH_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8002
    consumer_group: str = "gridloop-dispatch"
    run_consumer: bool = True
    redis_namespace: str = ""
    infra: InfraSettings = Field(default_factory=InfraSettings)


def get_settings() -> DispatchSettings:
    """Read the settings from the environment (never at import time)."""
    return DispatchSettings()
