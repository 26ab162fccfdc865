"""Dispatch settings, from DISPATCH_* environment variables plus the shared infrastructure ones."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import InfraSettings

DEFAULT_CATALOGUE = Path(__file__).with_name("catalogue.toml")


class DispatchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISPATCH_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8002
    consumer_group: str = "gridloop-dispatch"
    run_consumer: bool = True
    run_timers: bool = True
    redis_namespace: str = ""
    catalogue_file: Path = DEFAULT_CATALOGUE
    heartbeat_ttl_s: float = 120.0
    household_cap: int = 10
    timer_poll_s: float = 0.2
    reconcile_interval_s: float = 2.0
    outbox_grace_s: float = 3.0
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 7 * 24 * 3600
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    gauges_interval_s: float = 15.0
    infra: InfraSettings = Field(default_factory=InfraSettings)


def get_settings() -> DispatchSettings:
    """Read the settings from the environment (never at import time)."""
    return DispatchSettings()
