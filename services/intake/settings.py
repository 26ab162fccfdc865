"""Intake settings, from INTAKE_* environment variables plus the shared infrastructure ones."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import InfraSettings


class IntakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8001
    publish_timeout_s: float = 5.0
    retry_after_s: int = 5
    max_body_bytes: int = 65_536
    batch_max_items: int = 100
    consumer_group: str = "gridloop-intake"
    run_consumer: bool = True
    run_callback_worker: bool = True
    redis_namespace: str = ""
    # Integrators: keys, signatures, rate limits; operators (people's tokens) manage the keys.
    require_api_key: bool = True
    signing_key: str = "gridloop-local-signing-key"
    signature_window_s: int = 300
    key_cache_s: float = 5.0
    rate_limit_per_minute: int = 600
    # Cross-channel duplicates: an open case of the same category this near and this recent.
    duplicate_radius_m: float = 50.0
    duplicate_window_s: int = 86_400
    # Status look-ups are answered from the ledger's read API, as the service account `intake`
    # (OAuth2 client credentials at dispatch's token endpoint).
    ledger_url: str = "http://127.0.0.1:8003"
    ledger_timeout_s: float = 5.0
    token_url: str = "http://127.0.0.1:8002/v1/auth/token"
    client_id: str = "intake"
    client_secret: SecretStr = SecretStr("")
    # Status callbacks to integrators, delivered from an outbox with retries.
    callback_timeout_s: float = 5.0
    callback_max_attempts: int = 8
    callback_backoff_base_s: float = 1.0
    callback_backoff_max_s: float = 600.0
    callback_poll_interval_s: float = 0.5
    callback_concurrency: int = 16
    callback_allow_private: bool = False
    open311_jurisdiction_id: str = "gridloop"
    infra: InfraSettings = Field(default_factory=InfraSettings)


def get_settings() -> IntakeSettings:
    """Read the settings from the environment (never at import time)."""
    return IntakeSettings()
