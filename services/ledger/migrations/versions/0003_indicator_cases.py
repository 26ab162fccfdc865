"""Indicator rows: what the indicators read of each case and household, kept before queries.

The rows depend on the ledger's settings, so they are not derived here: with no sync row, the
first indicator query derives them all (see adapters/indicator_cases.py).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
TIMES = (
    "cancelled_at",
    "first_resolved_at",
    "handling_deadline",
    "first_assigned_at",
    "first_reopened_at",
    "first_extended_at",
    "acknowledged_at",
    "first_acknowledge_due_at",
    "first_verified_at",
)


def upgrade() -> None:
    op.create_table(
        "ledger_indicator_case",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("sort_at", TIMESTAMP, nullable=False),
        sa.Column("settled_at", TIMESTAMP, nullable=False),
        sa.Column("open_until", TIMESTAMP, nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Text(), nullable=True),
        sa.Column("grid_id", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("member_ids", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("first_member", sa.Text(), nullable=True),
        sa.Column("acknowledge_s", sa.Float(), nullable=True),
        sa.Column("resolve_s", sa.Float(), nullable=True),
        sa.Column("first_closed_at", TIMESTAMP, nullable=True),
        sa.Column("came_back_at", TIMESTAMP, nullable=True),
        sa.Column("reopened_after_close_at", TIMESTAMP, nullable=True),
        *(sa.Column(name, TIMESTAMP, nullable=True) for name in TIMES),
        sa.Column("verification_passed", sa.Boolean(), nullable=True),
        sa.Column("rating", sa.Text(), nullable=True),
        sa.Column("rated_at", TIMESTAMP, nullable=True),
        sa.Column("transferred_at", TIMESTAMP, nullable=True),
        sa.Column("parked", sa.Boolean(), nullable=False),
        sa.Column("parked_at", TIMESTAMP, nullable=True),
        sa.Column("first_red_at", TIMESTAMP, nullable=True),
        sa.Column("resolve_due_at", TIMESTAMP, nullable=True),
        sa.Column("household_id", sa.Text(), nullable=True),
        sa.Column("place_key", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    op.create_index("ix_ledger_indicator_case_sort", "ledger_indicator_case", ["sort_at"])
    op.create_index(
        "ix_ledger_indicator_case_settled", "ledger_indicator_case", ["settled_at", "sort_at"]
    )
    op.create_index("ix_ledger_indicator_case_closed", "ledger_indicator_case", ["first_closed_at"])
    op.create_index(
        "ix_ledger_indicator_case_members",
        "ledger_indicator_case",
        ["member_ids"],
        postgresql_using="gin",
    )
    op.create_index(
        "ix_ledger_indicator_case_shared",
        "ledger_indicator_case",
        ["sort_at"],
        postgresql_where=sa.text("cardinality(member_ids) > 1"),
    )
    op.create_table(
        "ledger_indicator_household",
        sa.Column("household_id", sa.Text(), nullable=False),
        sa.Column("first_reported_at", TIMESTAMP, nullable=False),
        sa.Column("grid_ids", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("grid_since", postgresql.ARRAY(TIMESTAMP), nullable=False),
        sa.PrimaryKeyConstraint("household_id"),
    )
    op.create_table(
        "ledger_indicator_link",
        sa.Column("household_id", sa.Text(), nullable=False),
        sa.Column("member_id", sa.Text(), nullable=False),
        sa.Column("visited_at", postgresql.ARRAY(TIMESTAMP), nullable=False),
        sa.PrimaryKeyConstraint("household_id", "member_id"),
    )
    op.create_table(
        "ledger_indicator_sync",
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("basis"),
    )


def downgrade() -> None:
    op.drop_table("ledger_indicator_sync")
    op.drop_table("ledger_indicator_link")
    op.drop_table("ledger_indicator_household")
    op.drop_index("ix_ledger_indicator_case_shared", table_name="ledger_indicator_case")
    op.drop_index("ix_ledger_indicator_case_members", table_name="ledger_indicator_case")
    op.drop_index("ix_ledger_indicator_case_closed", table_name="ledger_indicator_case")
    op.drop_index("ix_ledger_indicator_case_settled", table_name="ledger_indicator_case")
    op.drop_index("ix_ledger_indicator_case_sort", table_name="ledger_indicator_case")
    op.drop_table("ledger_indicator_case")
