"""Ledger tables: append-only hash-chained entries, the case projection and anomalies.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The entries are never updated, deleted or truncated: the database refuses it too. (A
# superuser can still disable the triggers; the hash chains are what detect that.)
APPEND_ONLY = (
    """
    create function ledger_entry_refuse_change() returns trigger language plpgsql as $$
    begin
        raise exception 'ledger_entry is append-only: % refused', tg_op
            using errcode = 'restrict_violation';
    end
    $$
    """,
    """
    create trigger ledger_entry_append_only before update or delete on ledger_entry
        for each row execute function ledger_entry_refuse_change()
    """,
    """
    create trigger ledger_entry_no_truncate before truncate on ledger_entry
        for each statement execute function ledger_entry_refuse_change()
    """,
)


# The case projection keeps few indexes, so that most updates are HOT (see tables.py).
STATE_INDEXES = {
    "ix_ledger_incident_state_sort": ["sort_at", "incident_id"],
    "ix_ledger_incident_state_external": ["source_system", "external_id"],
    "ix_ledger_incident_state_place": ["place_key", "category", "sort_at"],
    "ix_ledger_incident_state_household": ["household_id"],
    "ix_ledger_incident_state_closed": ["first_closed_at"],
}


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("ledger_entry"):
        raise RuntimeError(
            "ledger_entry exists without a ledger migration version: it was created by the "
            "walking skeleton (create_tables). Its entries carry no hashes; drop ledger_entry "
            "and ledger_incident_state (demo data) or point DATABASE_URL at a new database."
        )
    op.create_table(
        "ledger_anomaly",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("status_before", sa.Text(), nullable=False),
        sa.Column("expected", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "kind"),
    )
    op.create_index(
        op.f("ix_ledger_anomaly_incident_id"), "ledger_anomaly", ["incident_id"], unique=False
    )
    op.create_index(op.f("ix_ledger_anomaly_seq"), "ledger_anomaly", ["seq"], unique=False)
    op.create_table(
        "ledger_entry",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("incident_index", sa.Integer(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("incident_prev_hash", sa.String(length=64), nullable=False),
        sa.Column("incident_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
        sa.UniqueConstraint("incident_id", "incident_index", name="uq_ledger_entry_incident_index"),
    )
    op.create_index("ix_ledger_entry_recorded_at", "ledger_entry", ["recorded_at"], unique=False)
    op.create_table(
        "ledger_incident_state",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("status_note", sa.Text(), nullable=True),
        sa.Column("has_report", sa.Boolean(), nullable=False),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("channel", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("household_id", sa.Text(), nullable=True),
        sa.Column("camera_id", sa.Text(), nullable=True),
        sa.Column("grid_id", sa.Text(), nullable=True),
        sa.Column("place_key", sa.Text(), nullable=True),
        sa.Column("source_system", sa.Text(), nullable=True),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("reported_by", sa.Text(), nullable=True),
        sa.Column("reporter_phone_masked", sa.Text(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_reports", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Text(), nullable=True),
        sa.Column("co_handler_ids", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("member_ids", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("rung", sa.Text(), nullable=True),
        sa.Column("assignment_reason", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("linked_member_id", sa.Text(), nullable=True),
        sa.Column("first_assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_acknowledge_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledge_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolve_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handling_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transferred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalation_count", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Text(), nullable=True),
        sa.Column("extension_count", sa.Integer(), nullable=False),
        sa.Column("first_extended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("parked", sa.Boolean(), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("red_stage", sa.Text(), nullable=True),
        sa.Column("first_red_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verification_passed", sa.Boolean(), nullable=True),
        sa.Column("rating", sa.Text(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rework_count", sa.Integer(), nullable=False),
        sa.Column("first_reopened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopened_after_close_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("sort_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("incident_id"),
        postgresql_with={"fillfactor": "70"},
    )
    for name, columns in STATE_INDEXES.items():
        op.create_index(name, "ledger_incident_state", columns, unique=False)
    op.create_index(
        "ix_ledger_incident_state_members",
        "ledger_incident_state",
        ["member_ids"],
        unique=False,
        postgresql_using="gin",
    )
    for statement in APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    op.execute("drop table ledger_entry")  # triggers go with it; the function next
    op.execute("drop function ledger_entry_refuse_change()")
    op.drop_table("ledger_incident_state")
    op.drop_index(op.f("ix_ledger_anomaly_seq"), table_name="ledger_anomaly")
    op.drop_index(op.f("ix_ledger_anomaly_incident_id"), table_name="ledger_anomaly")
    op.drop_table("ledger_anomaly")
