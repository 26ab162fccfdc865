"""Recurrence links: each closed case's next report at the same place and category.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same statement as `adapters/recurrence.rebuild`, so that an existing ledger gets its
# links at upgrade time.
FILL = """
insert into ledger_recurrence (incident_id, place_key, category, closed_at, next_report_at)
select c.incident_id, c.place_key, c.category, c.first_closed_at,
    (select min(n.sort_at) from ledger_incident_state n
     where n.place_key = c.place_key and n.category = c.category
       and n.sort_at > c.first_closed_at and n.incident_id <> c.incident_id)
from ledger_incident_state c
where c.first_closed_at is not null and c.place_key is not null and c.category is not null
"""


def upgrade() -> None:
    op.create_table(
        "ledger_recurrence",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("place_key", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_report_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    op.create_index(
        "ix_ledger_recurrence_next",
        "ledger_recurrence",
        ["place_key", "category", "next_report_at"],
        unique=False,
    )
    op.execute(FILL)


def downgrade() -> None:
    op.drop_index("ix_ledger_recurrence_next", table_name="ledger_recurrence")
    op.drop_table("ledger_recurrence")
