"""Ledger settings, from LEDGER_* environment variables plus the shared infrastructure ones."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import InfraSettings


class LedgerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8003
    consumer_group: str = "gridloop-ledger"
    run_consumer: bool = True
    infra: InfraSettings = Field(default_factory=InfraSettings)


def get_settings() -> LedgerSettings:
    """Read the settings from the environment (never at import time)."""
    return LedgerSettings()
