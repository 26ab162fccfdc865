"""Alembic environment of dispatch: its own tables (dispatch_*), its own version table."""

from sqlmodel import SQLModel

from services.common import migrations
from services.dispatch.adapters import tables  # noqa: F401  (registers dispatch's tables)

migrations.run_env(target_metadata=SQLModel.metadata)
