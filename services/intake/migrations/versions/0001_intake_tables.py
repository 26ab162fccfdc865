"""Intake tables: integrator keys, reports (idempotency and ownership) and callbacks.

Every table and index is created only if missing, so that a database made by `create_tables`
before intake had migrations is adopted as it stands and then stamped (ADR 46).

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
    ("intake_callback_delivery", "incident_id"),
    ("intake_callback_delivery", "integrator_id"),
    ("intake_integrator_key", "integrator_id"),
    ("intake_report", "incident_id"),
    ("intake_report", "integrator_id"),
)


def _timestamp(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    tables = [
        op.create_table(
            "intake_callback_attempt",
            sa.Column("delivery_id", sa.Uuid(), nullable=False),
            sa.Column("attempt", sa.Integer(), nullable=False),
            _timestamp("attempted_at", nullable=False),
            sa.Column("status_code", sa.Integer(), nullable=True),
            sa.Column("error", sa.String(), nullable=True),
            sa.Column("duration_ms", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("delivery_id", "attempt"),
            if_not_exists=True,
        ),
        op.create_table(
            "intake_callback_delivery",
            sa.Column("delivery_id", sa.Uuid(), nullable=False),
            sa.Column("integrator_id", sa.String(), nullable=False),
            sa.Column("subscription_id", sa.String(), nullable=False),
            sa.Column("url", sa.String(), nullable=False),
            sa.Column("incident_id", sa.Uuid(), nullable=False),
            sa.Column("event_id", sa.String(), nullable=False),
            sa.Column("status", sa.String(), nullable=False),
            sa.Column("payload", sa.JSON(), nullable=False),
            sa.Column("state", sa.String(), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            _timestamp("created_at", nullable=False),
            _timestamp("next_attempt_at", nullable=False),
            _timestamp("delivered_at"),
            sa.Column("last_status_code", sa.Integer(), nullable=True),
            sa.Column("last_error", sa.String(), nullable=True),
            sa.PrimaryKeyConstraint("delivery_id"),
            if_not_exists=True,
        ),
        op.create_table(
            "intake_callback_subscription",
            sa.Column("integrator_id", sa.String(), nullable=False),
            sa.Column("subscription_id", sa.String(), nullable=False),
            sa.Column("url", sa.String(), nullable=False),
            _timestamp("created_at", nullable=False),
            sa.PrimaryKeyConstraint("integrator_id"),
            if_not_exists=True,
        ),
        op.create_table(
            "intake_integrator_key",
            sa.Column("key_id", sa.String(), nullable=False),
            sa.Column("integrator_id", sa.String(), nullable=False),
            sa.Column("secret_hash", sa.String(), nullable=False),
            sa.Column("label", sa.String(), nullable=True),
            sa.Column("channels", sa.JSON(), nullable=False),
            sa.Column("operations", sa.JSON(), nullable=False),
            sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True),
            sa.Column("require_signature", sa.Boolean(), nullable=False),
            sa.Column("rotated_from", sa.String(), nullable=True),
            _timestamp("created_at", nullable=False),
            _timestamp("expires_at"),
            _timestamp("revoked_at"),
            sa.PrimaryKeyConstraint("key_id"),
            if_not_exists=True,
        ),
        op.create_table(
            "intake_report",
            sa.Column("report_id", sa.Uuid(), nullable=False),
            sa.Column("incident_id", sa.Uuid(), nullable=False),
            sa.Column("merged", sa.Boolean(), nullable=False),
            sa.Column("integrator_id", sa.String(), nullable=False),
            sa.Column("key_id", sa.String(), nullable=False),
            sa.Column("channel", sa.String(), nullable=False),
            sa.Column("category", sa.String(), nullable=False),
            sa.Column("source_system", sa.String(), nullable=True),
            sa.Column("external_id", sa.String(), nullable=True),
            sa.Column("idempotency_key", sa.String(), nullable=True),
            sa.Column("fingerprint", sa.String(), nullable=False),
            sa.Column("state", sa.String(), nullable=False),
            sa.Column("lat", sa.Float(), nullable=True),
            sa.Column("lon", sa.Float(), nullable=True),
            _timestamp("created_at", nullable=False),
            _timestamp("lease_until", nullable=False),
            _timestamp("ended_at"),
            sa.PrimaryKeyConstraint("report_id"),
            if_not_exists=True,
        ),
    ]
    migrations.require_columns(tables)
    for table, column in COLUMN_INDEXES:
        op.create_index(f"ix_{table}_{column}", table, [column], if_not_exists=True)
    op.create_index(
        "intake_callback_due",
        "intake_callback_delivery",
        ["state", "next_attempt_at"],
        if_not_exists=True,
    )
    # Idempotency: one report per key, and one per external id, for each integrator.
    op.create_index(
        "intake_report_idempotency_key",
        "intake_report",
        ["integrator_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key is not null"),
        if_not_exists=True,
    )
    op.create_index(
        "intake_report_external_id",
        "intake_report",
        ["integrator_id", "source_system", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id is not null"),
        if_not_exists=True,
    )


def downgrade() -> None:
    for table in (
        "intake_report",
        "intake_integrator_key",
        "intake_callback_subscription",
        "intake_callback_delivery",
        "intake_callback_attempt",
    ):
        op.drop_table(table)  # its indexes go with it
