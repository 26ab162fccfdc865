"""Settings shared by every service: where the infrastructure is and what the topics are called."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class InfraSettings(BaseSettings):
    """Connection and topic settings, read from unprefixed environment variables."""

    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    redis_url: str = "redis://127.0.0.1:16379/0"
    database_url: str = "postgresql://postgres@127.0.0.1:15432/gridloop"
    topic_reports: str = "gridloop.incidents.reported"
    topic_lifecycle: str = "gridloop.incidents.lifecycle"
    topic_dead_letters: str = "gridloop.deadletters"
    topic_partitions: int = 6
    topic_replication_factor: int = 1
    log_level: str = "INFO"
    personal_data_key: str = "gridloop-local-development-key"
    auth_jwks_file: Path | None = None
    auth_signing_key_file: Path | None = None
