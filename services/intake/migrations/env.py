"""Alembic environment of intake: its own tables (intake_*), its own version table."""

from sqlmodel import SQLModel

from services.common import migrations
from services.intake.adapters import tables  # noqa: F401  (registers intake's tables)

migrations.run_env(target_metadata=SQLModel.metadata)
