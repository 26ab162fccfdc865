"""Dispatch tables: the roster, cases, timers, processed events, the outbox and accounts.

Every table and index is created only if missing, so that a database made by `create_tables`
before dispatch had migrations is adopted as it stands and then stamped (ADR 46).

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common import migrations

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Indexes on one column (`Field(index=True)` in the models): named ix_<table>_<column>.
COLUMN_INDEXES = (
    ("dispatch_account", "member_id"),
    ("dispatch_camera", "grid_id"),
    ("dispatch_case", "assignee_id"),
    ("dispatch_case", "grid_id"),
    ("dispatch_case", "status"),
    ("dispatch_household", "grid_id"),
    ("dispatch_household", "linked_member_id"),
    ("dispatch_member", "grid_id"),
    ("dispatch_member", "role"),
    ("dispatch_refresh_token", "username"),
    ("dispatch_resident", "household_id"),
    ("dispatch_timer", "incident_id"),
)


def _timestamp(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    tables = [
        op.create_table(
            "dispatch_account",
            sa.Column("username", sa.String(), nullable=False),
            sa.Column("password_hash", sa.String(), nullable=False),
            sa.Column("role", sa.String(), nullable=False),
            sa.Column("member_id", sa.String(), nullable=True),
            sa.Column("disabled", sa.Boolean(), nullable=False),
            _timestamp("created_at", nullable=False),
            sa.PrimaryKeyConstraint("username"),
            if_not_exists=True,
        ),
        op.create_table(
            "dispatch_camera",
            sa.Column("id", sa.String(), nullable=False),
            sa.Column("grid_id", sa.String(), nullable=False),
            sa.Column("place", sa.String(), nullable=False),
            sa.Column("lat", sa.Float(), nullable=False),
            sa.Column("lon", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            if_not_exists=True,
        ),
        op.create_table(
            "dispatch_case",
            sa.Column("incident_id", sa.Uuid(), nullable=False),
            sa.Column("category", sa.String(), nullable=False),
            sa.Column("channel", sa.String(), nullable=False),
            sa.Column("description", sa.String(), nullable=False),
            sa.Column("address", sa.String(), nullable=True),
            sa.Column("lat", sa.Float(), nullable=True),
            sa.Column("lon", sa.Float(), nullable=True),
            sa.Column("reporter_phone_masked", sa.String(), nullable=True),
            sa.Column("household_id", sa.String(), nullable=True),
            sa.Column("grid_id", sa.String(), nullable=True),
            sa.Column("status", sa.String(), nullable=False),
            sa.Column("assignee_id", sa.String(), nullable=True),
            sa.Column("co_handler_ids", sa.JSON(), nullable=False),
            sa.Column("declined_by", sa.JSON(), nullable=False),
            sa.Column("missed_by", sa.JSON(), nullable=False),
            sa.Column("rung", sa.String(), nullable=False),
            sa.Column("reason", sa.String(), nullable=False),
            sa.Column("attempt", sa.Integer(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("rework_count", sa.Integer(), nullable=False),
            sa.Column("merged_reports", sa.Integer(), nullable=False),
            sa.Column("parked", sa.Boolean(), nullable=False),
            sa.Column("extension_pending", sa.Boolean(), nullable=False),
            sa.Column("extension_reason", sa.String(), nullable=True),
            sa.Column("extension_seconds", sa.Float(), nullable=True),
            sa.Column("paused_left_seconds", sa.Float(), nullable=True),
            _timestamp("reported_at", nullable=False),
            _timestamp("assigned_at", nullable=False),
            _timestamp("acknowledge_due_at"),
            _timestamp("resolve_due_at"),
            _timestamp("accepted_at"),
            _timestamp("started_at"),
            _timestamp("resolved_at"),
            _timestamp("closed_at"),
            sa.Column("result", sa.String(), nullable=True),
            sa.PrimaryKeyConstraint("incident_id"),
            if_not_exists=True,
        ),
        op.create_table(
            "dispatch_grid",
            sa.Column("id", sa.String(), nullable=False),
            sa.Column("name", sa.String(), nullable=False),
            sa.Column("leader_id", sa.String(), nullable=True),
            sa.Column("committee_member_id", sa.String(), nullable=True),
            sa.Column("min_lat", sa.Float(), nullable=True),
            sa.Column("min_lon", sa.Float(), nullable=True),
            sa.Column("max_lat", sa.Float(), nullable=True),
            sa.Column("max_lon", sa.Float(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
            if_not_exists=True,
        ),
        op.create_table(
            "dispatch_grid_boundary",
            sa.Column("grid_id", sa.String(), nullable=False),
            sa.Column("geometry", sa.JSON(), nullable=False),
            sa.PrimaryKeyConstraint("grid_id"),
            if_not_exists=True,
        ),
        op.create_table(
            "dispatch_household",
            sa.Column("id", sa.String(), nullable=False),
            sa.Column("grid_id", sa.String(), nullable=False),
            sa.Column("address", sa.String(), nullable=False),
            sa.Column("village", sa.String(), nullable=False),
            sa.Column("village_group", sa.String(), nullable=False),
            sa.Column("linked_member_id", sa.String(), nullable=False),
            sa.Column("lat", sa.Float(), nullable=True),
            sa.Column("lon", sa.Float(), nullable=True),
            sa.Column("elderly_alone", sa.Boolean(), nullable=False),
            sa.Column("disabled", sa.Boolean(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            if_not_exists=True,
        ),
        op.create_table(
            "dispatch_member",
            sa.Column("id", sa.String(), nullable=False),
            sa.Column("name", sa.String(), nullable=False),
            sa.Column("role", sa.String(), nullable=False),
            sa.Column("grid_id", sa.String(), nullable=True),
            sa.Column("skills", sa.JSON(), nullable=False),
            sa.Column("case_capacity", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            if_not_exists=True,
        ),
        op.create_table(
            "dispatch_outbox",
            sa.Column("seq", sa.BigInteger(), autoincrement=True, nullable=False),
            sa.Column("event_id", sa.String(), nullable=False),
            sa.Column("incident_id", sa.Uuid(), nullable=False),
            sa.Column("topic", sa.String(), nullable=False),
            sa.Column("event_type", sa.String(), nullable=False),
            sa.Column("key", sa.LargeBinary(), nullable=False),
            sa.Column("value", sa.LargeBinary(), nullable=False),
            sa.Column("headers", sa.JSON(), nullable=False),
            _timestamp("created_at", nullable=False),
            _timestamp("sent_at"),
            sa.PrimaryKeyConstraint("seq"),
            sa.UniqueConstraint("event_id"),
            if_not_exists=True,
        ),
        op.create_table(
            "dispatch_processed_event",
            sa.Column("event_id", sa.String(), nullable=False),
            sa.Column("incident_id", sa.Uuid(), nullable=False),
            _timestamp("processed_at", nullable=False),
            sa.PrimaryKeyConstraint("event_id"),
            if_not_exists=True,
        ),
        op.create_table(
            "dispatch_refresh_token",
            sa.Column("token_hash", sa.String(), nullable=False),
            sa.Column("username", sa.String(), nullable=False),
            _timestamp("expires_at", nullable=False),
            _timestamp("revoked_at"),
            sa.PrimaryKeyConstraint("token_hash"),
            if_not_exists=True,
        ),
        op.create_table(
            "dispatch_resident",
            sa.Column("id", sa.String(), nullable=False),
            sa.Column("household_id", sa.String(), nullable=False),
            sa.Column("name", sa.String(), nullable=False),
            sa.Column("birth_year", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            if_not_exists=True,
        ),
        op.create_table(
            "dispatch_timer",
            sa.Column("id", sa.String(), nullable=False),
            sa.Column("incident_id", sa.Uuid(), nullable=False),
            sa.Column("kind", sa.String(), nullable=False),
            sa.Column("attempt", sa.Integer(), nullable=False),
            _timestamp("due_at", nullable=False),
            _timestamp("fired_at"),
            sa.Column("cancelled", sa.Boolean(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            if_not_exists=True,
        ),
    ]
    migrations.require_columns(tables)
    for table, column in COLUMN_INDEXES:
        op.create_index(f"ix_{table}_{column}", table, [column], if_not_exists=True)
    # Also on a dispatch_grid made before this index existed (it used to be added by hand).
    op.create_index(
        "ix_dispatch_grid_box",
        "dispatch_grid",
        [sa.text("box(point(min_lon, min_lat), point(max_lon, max_lat))")],
        postgresql_using="gist",
        if_not_exists=True,
    )
    op.create_index(
        "ix_dispatch_outbox_unsent",
        "dispatch_outbox",
        ["seq"],
        postgresql_where=sa.text("sent_at is null"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_dispatch_timer_pending",
        "dispatch_timer",
        ["due_at"],
        postgresql_where=sa.text("fired_at is null"),
        if_not_exists=True,
    )


def downgrade() -> None:
    for table in (
        "dispatch_timer",
        "dispatch_resident",
        "dispatch_refresh_token",
        "dispatch_processed_event",
        "dispatch_outbox",
        "dispatch_member",
        "dispatch_household",
        "dispatch_grid_boundary",
        "dispatch_grid",
        "dispatch_case",
        "dispatch_camera",
        "dispatch_account",
    ):
        op.drop_table(table)  # its indexes go with it
