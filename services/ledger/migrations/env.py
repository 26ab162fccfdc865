"""Alembic environment of the ledger: its own tables (ledger_*), its own version table."""

from sqlmodel import SQLModel

from services.common import migrations
from services.ledger.adapters import tables  # noqa: F401  (registers the ledger's tables)

migrations.run_env(target_metadata=SQLModel.metadata)
