"""Ledger settings, from LEDGER_* environment variables plus the shared infrastructure ones."""

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import InfraSettings
from services.ledger.domain import indicators

# 12345-style composite: response 20 %, resolution 40 %, satisfaction 40 % (configurable).
DEFAULT_KPI_WEIGHTS = {"response_rate": 0.2, "resolution_rate": 0.4, "satisfaction_rate": 0.4}


class LedgerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8003
    consumer_group: str = "gridloop-ledger"
    run_consumer: bool = True
    batch_size: int = Field(default=5000, ge=1, le=10_000)
    # Case states kept in memory between batches (warm_states.py); 0 reads every one back.
    warm_cases: int = Field(default=20_000, ge=0)
    verify_interval_s: float = Field(default=3600.0, gt=0)
    indicator_gauges_interval_s: float = Field(default=300.0, gt=0)
    # Indicators: LEDGER_KPI_WEIGHTS is JSON, e.g. {"response_rate": 0.2, "resolution_rate": 0.8}
    kpi_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_KPI_WEIGHTS))
    timezone: str = "Asia/Shanghai"
    ack_limit_minutes: int = Field(default=60, ge=1)
    resolve_limit_hours: int = Field(default=72, ge=1)
    close_grace_hours: int = Field(default=24, ge=0)
    recurrence_days: int = Field(default=30, ge=1, le=366)
    infra: InfraSettings = Field(default_factory=InfraSettings)

    @field_validator("kpi_weights")
    @classmethod
    def _known_indicators(cls, weights: dict[str, float]) -> dict[str, float]:
        return indicators.check_weights(weights)


def get_settings() -> LedgerSettings:
    """Read the settings from the environment (never at import time)."""
    return LedgerSettings()
